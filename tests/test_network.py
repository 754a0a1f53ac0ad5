"""Tests of the Music2Palette architecture (tiny random models only)."""

from __future__ import annotations

import pytest
import torch

from m2p.errors import ModelFormatError
from m2p.model.config import ModelConfig
from m2p.model.decoder import LCH_SCALE
from m2p.model.layers import sinusoidal_encoding
from m2p.model.network import Music2Palette


def _features(batch: int, frames: int, seed: int = 0, dim: int = 539) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, frames, dim, generator=g)


def _seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_config_round_trip_and_tolerance(tiny_config: ModelConfig) -> None:
    data = tiny_config.to_dict()
    assert ModelConfig.from_dict(data) == tiny_config
    assert ModelConfig.from_dict({**data, "future_option": 1}) == tiny_config
    partial = {k: v for k, v in data.items() if k not in ("dropout", "noise_scale")}
    assert ModelConfig.from_dict(partial).dropout == ModelConfig().dropout
    missing = {k: v for k, v in data.items() if k != "d_model"}
    with pytest.raises(ModelFormatError, match="d_model"):
        ModelConfig.from_dict(missing, source="config.json")
    with pytest.raises(ModelFormatError):
        ModelConfig.from_dict({**data, "d_model": 33})
    with pytest.raises(ValueError):
        ModelConfig(min_colors=5, max_colors=4)


def test_default_config_matches_paper_decoder() -> None:
    config = ModelConfig()
    assert (config.feature_dim, config.decoder_layers, config.decoder_heads) == (539, 4, 8)
    assert (config.min_colors, config.max_colors) == (3, 8)


def test_encode_shapes(tiny_model: Music2Palette, tiny_config: ModelConfig) -> None:
    enc = tiny_model.encode(_features(3, 37))
    d = tiny_config.d_model
    s = -(-37 // tiny_config.patch_frames)
    assert enc.embedding.shape == (3, d)
    assert enc.memory.shape == (3, s, d)
    assert enc.memory_mask is None
    assert enc.valence_arousal.shape == (3, 2)
    assert enc.emotion.shape == (3, 8)
    assert bool((enc.valence_arousal.abs() <= 1).all())
    torch.testing.assert_close(enc.emotion.sum(-1), torch.ones(3))


def test_forward_shapes(tiny_model: Music2Palette) -> None:
    target = torch.rand(2, 5, 3) * torch.tensor(LCH_SCALE)
    lch, stop, enc = tiny_model(_features(2, 20), None, target)
    assert lch.shape == (2, 6, 3)
    assert stop.shape == (2, 6)
    assert enc.embedding.shape[0] == 2


def test_padding_mask_gives_same_encoding(tiny_model: Music2Palette) -> None:
    # Window lengths 13 and 30 frames (13 ends mid-patch), padded into one batch of 41 frames.
    short, long_ = _features(1, 13, seed=1), _features(1, 30, seed=2)
    batch = torch.full((2, 41, 539), 7.5)  # garbage in the padding must not matter
    batch[0, :13] = short[0]
    batch[1, :30] = long_[0]
    mask = torch.zeros(2, 41, dtype=torch.bool)
    mask[0, :13] = True
    mask[1, :30] = True
    with torch.no_grad():
        padded = tiny_model.encode(batch, mask)
        alone = [tiny_model.encode(short), tiny_model.encode(long_)]
    for i, ref in enumerate(alone):
        torch.testing.assert_close(padded.embedding[i], ref.embedding[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(padded.emotion[i], ref.emotion[0], atol=1e-5, rtol=1e-5)
        s = ref.memory.shape[1]
        torch.testing.assert_close(padded.memory[i, :s], ref.memory[0], atol=1e-5, rtol=1e-5)
        assert bool(padded.memory_mask[i, :s].all()) and not bool(padded.memory_mask[i, s:].any())
    # ... and therefore the same palettes.
    with torch.no_grad():
        lch_b, len_b = tiny_model.generate(padded)
        for i, ref in enumerate(alone):
            lch_1, len_1 = tiny_model.generate(ref)
            assert int(len_b[i]) == int(len_1[0])
            torch.testing.assert_close(lch_b[i], lch_1[0], atol=1e-4, rtol=1e-4)


@pytest.fixture
def summary_model(tiny_config: ModelConfig) -> Music2Palette:
    torch.manual_seed(0)
    config = ModelConfig.from_dict({**tiny_config.to_dict(), "summary_features": True})
    return Music2Palette(config).eval()


def test_summary_branch_respects_padding(summary_model: Music2Palette) -> None:
    short = _features(1, 13, seed=1).abs()
    batch = torch.full((1, 41, 539), 7.5)
    batch[0, :13] = short[0]
    mask = torch.zeros(1, 41, dtype=torch.bool)
    mask[0, :13] = True
    with torch.no_grad():
        padded = summary_model.encode(batch, mask)
        alone = summary_model.encode(short)
    torch.testing.assert_close(padded.embedding, alone.embedding, atol=1e-5, rtol=1e-5)


def test_summary_branch_changes_the_embedding(summary_model: Music2Palette) -> None:
    feats = _features(2, 20, seed=3).abs()
    with torch.no_grad():
        with_branch = summary_model.encode(feats).embedding
        summary_model.encoder.summary_proj[1].weight.zero_()
        summary_model.encoder.summary_proj[1].bias.zero_()
        without = summary_model.encode(feats).embedding
    assert not torch.allclose(with_branch, without)
    assert {"cue_mean", "cue_std"} <= set(summary_model.state_dict())


def test_summary_features_flag_is_validated(tiny_config: ModelConfig) -> None:
    with pytest.raises(ModelFormatError, match="summary_features"):
        ModelConfig.from_dict({**tiny_config.to_dict(), "summary_features": "yes"})


def test_any_length_without_max(tiny_model: Music2Palette) -> None:
    with torch.no_grad():
        for frames in (1, 4, 5, 600):
            enc = tiny_model.encode(_features(1, frames))
            assert torch.isfinite(enc.embedding).all()
    pos = sinusoidal_encoding(torch.arange(5000), 32)
    assert pos.shape == (5000, 32) and torch.isfinite(pos).all()


def test_generate_shapes_and_ranges(tiny_model: Music2Palette, tiny_config: ModelConfig) -> None:
    with torch.no_grad():
        enc = tiny_model.encode(_features(4, 24))
        lch, lengths = tiny_model.generate(enc, noise_scale=1.0, generator=_seeded(0))
    assert lch.shape == (4, tiny_config.max_colors, 3)
    assert lengths.shape == (4,) and lengths.dtype == torch.long
    assert bool(((lengths >= tiny_config.min_colors) & (lengths <= tiny_config.max_colors)).all())
    for b in range(4):
        n = int(lengths[b])
        colours = lch[b, :n]
        assert bool((colours[:, 0] >= 0).all() and (colours[:, 0] <= 100).all())
        assert bool((colours[:, 1] >= 0).all() and (colours[:, 1] <= 150).all())
        assert bool((colours[:, 2] >= 0).all() and (colours[:, 2] <= 360).all())
        assert bool((lch[b, n:] == 0).all())


def _set_stop_bias(model: Music2Palette, bias: float) -> None:
    linear = model.decoder.stop_head[-1]
    with torch.no_grad():
        linear.weight.zero_()
        linear.bias.fill_(bias)


def test_stop_token_high_stops_at_min(tiny_model: Music2Palette, tiny_config: ModelConfig) -> None:
    _set_stop_bias(tiny_model, 20.0)
    with torch.no_grad():
        _, lengths = tiny_model.generate(tiny_model.encode(_features(3, 16)))
    assert lengths.tolist() == [tiny_config.min_colors] * 3


def test_stop_token_low_runs_to_max(tiny_model: Music2Palette, tiny_config: ModelConfig) -> None:
    _set_stop_bias(tiny_model, -20.0)
    with torch.no_grad():
        _, lengths = tiny_model.generate(tiny_model.encode(_features(3, 16)))
    assert lengths.tolist() == [tiny_config.max_colors] * 3


def test_stop_token_depends_on_input(tiny_model: Music2Palette) -> None:
    """Fit only the stop head (teacher forcing) so two inputs want 3 and 6 colours."""
    want = torch.tensor([3, 6])
    features = _features(2, 16, seed=5)
    _set_stop_bias(tiny_model, -20.0)
    with torch.no_grad():
        full, _ = tiny_model.generate(tiny_model.encode(features))  # the model's own colours
    steps = torch.arange(full.shape[1] + 1)
    target = (steps.unsqueeze(0) >= want.unsqueeze(1)).float()  # 1 once the palette is done
    for p in tiny_model.parameters():
        p.requires_grad_(False)
    head = list(tiny_model.decoder.stop_head.parameters())
    for p in head:
        p.requires_grad_(True)
    optimiser = torch.optim.Adam(head, lr=0.05)
    for _ in range(300):
        _, stop_logits, _ = tiny_model(features, None, full)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(stop_logits, target)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    with torch.no_grad():
        lch, lengths = tiny_model.generate(tiny_model.encode(features))
    assert lengths.tolist() == want.tolist()
    # The stop head does not change the colours themselves.
    for b, n in enumerate(want.tolist()):
        torch.testing.assert_close(lch[b, :n], full[b, :n])


def test_generate_returns_the_stop_logits_it_used(tiny_model: Music2Palette) -> None:
    enc = tiny_model.encode(_features(6, 20, seed=4))
    with torch.no_grad():
        lch, lengths = tiny_model.generate(enc)
        lch2, lengths2, logits = tiny_model.generate(enc, return_stop_logits=True)
    torch.testing.assert_close(lch, lch2)
    assert torch.equal(lengths, lengths2)
    assert logits.shape[0] == 6 and logits.shape[1] <= tiny_model.config.max_colors
    for b in range(6):
        n = int(lengths[b])
        if n < tiny_model.config.max_colors:
            assert float(torch.sigmoid(logits[b, n])) > 0.5
        later = logits[b, tiny_model.config.min_colors: n]
        assert bool((torch.sigmoid(later) <= 0.5).all())


def test_num_colors_forces_length(tiny_model: Music2Palette) -> None:
    with torch.no_grad():
        lch, lengths = tiny_model.generate(tiny_model.encode(_features(2, 8)), num_colors=5)
    assert lengths.tolist() == [5, 5]
    assert bool((lch[:, 5:] == 0).all())


def test_determinism_and_noise(tiny_model: Music2Palette) -> None:
    with torch.no_grad():
        enc = tiny_model.encode(_features(2, 20))
        a = tiny_model.generate(enc, noise_scale=2.0, generator=_seeded(7))
        b = tiny_model.generate(enc, noise_scale=2.0, generator=_seeded(7))
        c = tiny_model.generate(enc, noise_scale=2.0, generator=_seeded(8))
        z1 = tiny_model.generate(enc, noise_scale=0.0, generator=_seeded(1))
        z2 = tiny_model.generate(enc, noise_scale=0.0, generator=_seeded(2))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    assert torch.equal(z1[0], z2[0]) and torch.equal(z1[1], z2[1])


def test_gradients_flow(tiny_config: ModelConfig) -> None:
    torch.manual_seed(0)
    model = Music2Palette(tiny_config).train()
    target = torch.rand(2, 4, 3) * torch.tensor(LCH_SCALE)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 7:] = False
    lch, stop, enc = model(_features(2, 12), mask, target, noise_scale=0.1, generator=_seeded(0))
    loss = (
        ((lch[:, :4] - target) / torch.tensor(LCH_SCALE)).pow(2).mean()
        + stop.sigmoid().mean()
        + enc.valence_arousal.pow(2).mean()
        + enc.emotion_logits.logsumexp(-1).mean()
    )
    loss.backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    assert all(g is not None and torch.isfinite(g).all() for g in grads.values()), [
        n for n, g in grads.items() if g is None
    ]
    for name in ("encoder.patch_embed.weight", "encoder.cls_token", "decoder.start_token",
                 "decoder.colour_embed.weight"):
        assert grads[name].abs().sum() > 0, name


def test_feature_statistics_are_applied(tiny_model: Music2Palette) -> None:
    x = _features(1, 10)
    with torch.no_grad():
        ref = tiny_model.encode(x).embedding
        tiny_model.encoder.feature_mean.fill_(3.0)
        tiny_model.encoder.feature_std.fill_(2.0)
        shifted = tiny_model.encode(x * 2.0 + 3.0).embedding
    torch.testing.assert_close(shifted, ref, atol=1e-5, rtol=1e-5)
    assert "feature_mean" in tiny_model.state_dict() and "feature_std" in tiny_model.state_dict()


def test_bad_input_shapes(tiny_model: Music2Palette) -> None:
    with pytest.raises(ValueError):
        tiny_model.encode(torch.zeros(1, 10, 12))
    with pytest.raises(ValueError):
        tiny_model.encode(torch.zeros(1, 10, 539), torch.ones(1, 9, dtype=torch.bool))


def test_stop_quantile_draws_lengths_from_the_stop_distribution(tiny_model: Music2Palette) -> None:
    tiny_model.eval()
    with torch.no_grad():
        enc = tiny_model.encode(_features(4, 37))
        tiny_model.decoder.stop_head[1].bias.fill_(0.0)  # stop probability 0.5 at every step
        tiny_model.decoder.stop_head[1].weight.zero_()
        _, short = tiny_model.generate(enc, stop_quantile=torch.full((4,), 0.1))
        _, long_ = tiny_model.generate(enc, stop_quantile=torch.full((4,), 0.9))
        _, median = tiny_model.generate(enc, stop_quantile=torch.full((4,), 0.5))
    c = tiny_model.config
    # P(ended by min_colors) = 0.5: a low quantile stops there, a high one runs 3 steps more
    assert torch.all(short == c.min_colors) and torch.all(median == c.min_colors)
    assert torch.all(long_ == min(c.min_colors + 3, c.max_colors))
    q = Music2Palette.stop_quantiles([0, 1, 2], 1.0)
    assert torch.equal(q, Music2Palette.stop_quantiles([0, 1, 2], 1.0))
    assert bool(((q > 0.05) & (q < 0.95)).all()) and len(set(q.tolist())) == 3
    assert torch.equal(Music2Palette.stop_quantiles([3, 4], 0.0), torch.full((2,), 0.5))


@pytest.mark.parametrize("conditioning", ["memory", "embedding"])
def test_incremental_decoding_equals_the_full_pass(tiny_config: ModelConfig, conditioning: str) -> None:
    """generate() in eval mode decodes one token per step with cached layer inputs; the
    palettes are those of the full causal pass (what training runs)."""
    import dataclasses

    torch.manual_seed(3)
    model = Music2Palette(dataclasses.replace(tiny_config, decoder_conditioning=conditioning,
                                              dropout=0.0)).eval()
    features = torch.randn(5, 40, tiny_config.feature_dim)
    mask = torch.ones(5, 40, dtype=torch.bool)
    mask[1, 25:] = False  # a padded window: the memory mask must be honoured by both paths
    with torch.no_grad():
        enc = model.encode(features, mask)
        quantile = torch.linspace(0.1, 0.9, 5)
        cached = model.generate(enc, stop_quantile=quantile, return_stop_logits=True)
        model.train()  # the full pass (dropout is 0, so only the decoding path differs)
        full = model.generate(enc, stop_quantile=quantile, return_stop_logits=True)
    torch.testing.assert_close(cached[0], full[0], atol=1e-3, rtol=1e-4)
    assert torch.equal(cached[1], full[1])
    torch.testing.assert_close(cached[2], full[2], atol=1e-4, rtol=1e-4)


def test_timbre_term_and_stop_temperature(tiny_config: ModelConfig) -> None:
    import dataclasses

    from m2p.errors import ModelFormatError

    cfg = dataclasses.replace(tiny_config, noise_components=4, component_head=True,
                              teacher_tags=6, family_timbre_weight=0.5)
    torch.manual_seed(0)
    model = Music2Palette(cfg).eval()
    plain = Music2Palette(dataclasses.replace(cfg, family_timbre_weight=0.0)).eval()
    plain.load_state_dict(model.state_dict(), strict=False)
    emb = torch.randn(3, cfg.d_model)
    with torch.no_grad():
        diff = model.component_scores(emb) - plain.component_scores(emb)
    # the timbre term is lambda * cos(.): it moves each family's score by at most lambda
    assert float(diff.abs().max()) <= 0.5 + 1e-6 and float(diff.abs().max()) > 0.01
    for bad in ({"family_timbre_weight": -1.0}, {"stop_temperature": 0.0}):
        with pytest.raises(ModelFormatError):
            ModelConfig.from_dict({**cfg.to_dict(), **bad})


def test_length_keys_move_the_stop_quantile_with_the_music(tiny_config: ModelConfig) -> None:
    """With length_keying the stop quantile depends on the music as well as the seed: the
    same music gives the same quantile, different music different ones, and uniform seed
    quantiles with standard normal keys stay uniform (so lengths keep the decoder's
    distribution over songs)."""
    import dataclasses

    from m2p.errors import ModelFormatError

    model = Music2Palette(dataclasses.replace(tiny_config, length_keying=True)).eval()
    assert Music2Palette(tiny_config).length_keys(torch.randn(2, tiny_config.d_model)) is None
    base = torch.full((3,), 0.5)
    assert torch.equal(Music2Palette.keyed_quantiles(base, None), base)
    emb = torch.randn(3, tiny_config.d_model)
    keys = model.length_keys(emb)
    assert torch.equal(keys, model.length_keys(emb.clone()))
    moved = Music2Palette.keyed_quantiles(base, keys)
    assert len(set(moved.tolist())) == 3
    # a key above the training mean asks for a later stop than one below it
    order = torch.argsort(keys)
    assert bool((moved[order].diff() > 0).all())
    # uniform in, uniform out: Phi((Phi^-1(U) + Z) / sqrt 2) for U uniform, Z standard normal
    gen = torch.Generator().manual_seed(0)
    u = torch.rand(20000, generator=gen)
    z = torch.randn(20000, generator=gen)
    out = Music2Palette.keyed_quantiles(u, z)
    deciles = torch.quantile(out, torch.linspace(0.1, 0.9, 9))
    torch.testing.assert_close(deciles, torch.linspace(0.1, 0.9, 9), atol=0.02, rtol=0)
    # the statistics travel with the weights; the direction is fixed by its seed
    state = model.state_dict()
    assert "length_key_mean" in state and "length_direction" not in state
    with pytest.raises(ModelFormatError):
        ModelConfig.from_dict({**tiny_config.to_dict(), "length_keying": "yes"})
