"""One-to-many training (model v2): the noise chooses among candidates instead of averaging."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from m2p.model.config import ModelConfig
from m2p.model.network import Music2Palette
from training.losses import LossWeights, teacher_tag_loss
from training.one_to_many import one_to_many_loss, palette_colour_costs

BLUES = [[30.0, 45.0, 265.0], [45.0, 50.0, 255.0], [60.0, 40.0, 275.0], [75.0, 30.0, 260.0]]
YELLOWS = [[60.0, 60.0, 95.0], [70.0, 70.0, 90.0], [80.0, 75.0, 100.0], [90.0, 60.0, 95.0]]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(**over) -> Music2Palette:
    torch.manual_seed(0)
    cfg = {**ModelConfig.tiny().to_dict(), "decoder_conditioning": "embedding", "dropout": 0.0,
           **over}
    return Music2Palette(ModelConfig.from_dict(cfg))


def _batch(n_windows: int = 2) -> dict:
    targets = torch.tensor([BLUES, YELLOWS]).unsqueeze(0).repeat(n_windows, 1, 1, 1)
    return {
        "features": torch.randn(1, 24, 539, generator=torch.Generator().manual_seed(1)).repeat(n_windows, 1, 1),
        "frame_mask": None,
        "targets_lch": targets,
        "targets_lengths": torch.full((n_windows, 2), 4),
        "valence_arousal": torch.zeros(n_windows, 2),
        "emotion": torch.full((n_windows, 8), 1 / 8),
        "teacher_tags": torch.full((n_windows, 0), float("nan")),
    }


def _fit(model: Music2Palette, batch: dict, *, steps: int, draws: int, noise_scale: float,
         free_running: float) -> None:
    """Train on the colour and stop terms alone (the candidates carry no emotion here)."""
    weights = LossWeights(colour=0.1, hue=0.0, emotion_music=0.0, emotion_truth=0.0, va=0.0,
                          emotion_head=0.0, stop=0.5, free_running=free_running)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(steps):
        loss, _ = one_to_many_loss(model, batch, weights, draws=draws, noise_scale=noise_scale,
                                   generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_palette_colour_costs_are_per_palette_and_order_free():
    a = torch.tensor([BLUES, YELLOWS])
    lengths = torch.tensor([4, 4])
    assert palette_colour_costs(a, a, lengths).abs().max() < 1e-6
    shuffled = a[:, [2, 0, 3, 1]]
    assert palette_colour_costs(shuffled, a, lengths).abs().max() < 1e-6
    crossed = palette_colour_costs(a, a.flip(0), lengths)
    assert crossed.shape == (2,) and bool((crossed > 30).all())


def test_noise_draws_cover_both_candidates_instead_of_their_mean():
    model = _model()
    batch = _batch()
    _fit(model, batch, steps=250, draws=4, noise_scale=1.0, free_running=0.0)
    model.eval()
    with torch.no_grad():
        enc = model.encode(batch["features"][:1].repeat(32, 1, 1))
        noise = torch.randn(enc.embedding.shape, generator=torch.Generator().manual_seed(7))
        lch, _ = model.generate(dataclasses.replace(enc, embedding=enc.embedding + noise),
                                num_colors=4)
    to_blue = palette_colour_costs(lch, torch.tensor([BLUES] * 32), torch.full((32,), 4))
    to_yellow = palette_colour_costs(lch, torch.tensor([YELLOWS] * 32), torch.full((32,), 4))
    near_blue = int((to_blue < to_yellow).sum())
    # Both candidates are produced by some draws, and each draw is one of them, not the mean.
    assert 4 <= near_blue <= 28
    assert float(torch.minimum(to_blue, to_yellow).mean()) < 12.0


def test_teacher_tag_loss_skips_windows_without_teachers():
    logits = torch.zeros(3, 4, requires_grad=True)
    target = torch.tensor([[1.0, 0, 1, 0], [float("nan")] * 4, [0.5] * 4])
    loss = teacher_tag_loss(logits, target)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits[[0, 2]], target[[0, 2]])
    torch.testing.assert_close(loss, expected)
    loss.backward()
    assert logits.grad[1].abs().sum() == 0
    assert teacher_tag_loss(logits, torch.full((3, 4), float("nan"))).item() == 0.0


def test_one_to_many_loss_trains_the_teacher_tag_head():
    model = _model(teacher_tags=5)
    batch = _batch()
    batch["teacher_tags"] = torch.tensor([[0.9, 0.1, 0.5, 0.2, 0.8]] * 2)
    weights = LossWeights(colour=0.1, tags=1.0, free_running=1.0)
    loss, parts = one_to_many_loss(model, batch, weights, draws=2, noise_scale=1.0,
                                   generator=torch.Generator().manual_seed(0))
    loss.backward()
    assert np.isfinite(parts["total"]) and "tags" in parts and "spread" in parts
    assert model.heads.tag_head[-1].weight.grad is not None
    assert model.heads.tag_head[-1].weight.grad.abs().sum() > 0


def test_mixture_components_reach_different_candidates():
    model = _model(noise_components=2)
    batch = _batch()
    _fit(model, batch, steps=150, draws=2, noise_scale=0.3, free_running=1.0)
    model.eval()
    with torch.no_grad():
        enc = model.encode(batch["features"][:1].repeat(2, 1, 1))
        noise = model.noise_for([0, 1], 0.3)
        lch, _ = model.generate(dataclasses.replace(enc, embedding=enc.embedding + noise), num_colors=4)
    to_blue = palette_colour_costs(lch, torch.tensor([BLUES] * 2), torch.full((2,), 4))
    to_yellow = palette_colour_costs(lch, torch.tensor([YELLOWS] * 2), torch.full((2,), 4))
    # seed 0 and seed 1 (centres 0 and 1) give the two different candidates
    assert bool((to_blue < to_yellow)[0]) != bool((to_blue < to_yellow)[1])
    assert float(torch.minimum(to_blue, to_yellow).max()) < 12.0
    # the same seed always gives the same noise; noise 0 ignores the seed
    torch.testing.assert_close(model.noise_for([1], 0.3), model.noise_for([1], 0.3))
    torch.testing.assert_close(model.noise_for([0], 0.0), model.noise_for([5], 0.0))


def test_family_head_lets_the_music_choose_the_palette():
    """Two songs whose candidates come mostly from different families: the head learns which,
    seed 0 decodes each song's own family and seed 1 the other (the v1 / run 11 failure was
    one template for every song)."""
    model = _model(noise_components=2, component_head=True)
    feats = torch.randn(2, 24, 539, generator=torch.Generator().manual_seed(3))
    batch = _batch()
    batch["features"] = feats
    batch["targets_lch"] = torch.tensor([[BLUES, BLUES, YELLOWS], [YELLOWS, YELLOWS, BLUES]])
    batch["targets_lengths"] = torch.full((2, 3), 4)
    batch["targets_family"] = torch.tensor([[0, 0, 1], [1, 1, 0]])
    weights = LossWeights(colour=0.1, hue=0.0, emotion_music=0.0, emotion_truth=0.0, va=0.0,
                          emotion_head=0.0, stop=0.5, free_running=1.0, component=1.0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(150):
        loss, parts = one_to_many_loss(model, batch, weights, draws=1, noise_scale=0.3,
                                       generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    # The cross-entropy floor of a 2:1 target is its entropy, 0.64; a head that learnt nothing
    # stays at ln 2 = 0.69.
    assert "component" in parts and parts["component"] < 0.67
    model.eval()
    with torch.no_grad():
        enc = model.encode(feats)
        scores = model.component_scores(enc.embedding)
        offsets = model.music_offsets(scores, [0, 1])  # (2 songs, 2 seeds, d)
        emb = (enc.embedding.unsqueeze(1) + offsets).reshape(4, -1)
        lch, _ = model.generate(dataclasses.replace(enc.select(torch.tensor([0, 0, 1, 1])),
                                                    embedding=emb), num_colors=4)
    assert scores.argmax(-1).tolist() == [0, 1]
    blue = palette_colour_costs(lch, torch.tensor([BLUES] * 4), torch.full((4,), 4))
    yellow = palette_colour_costs(lch, torch.tensor([YELLOWS] * 4), torch.full((4,), 4))
    # song 0: seed 0 blue, seed 1 yellow; song 1: the reverse
    assert (blue < yellow).tolist() == [True, False, False, True]
    assert float(torch.minimum(blue, yellow).max()) < 12.0


def test_music_offsets_rank_the_families_and_cycle_through_the_alternatives():
    from m2p.model.heads import ALTERNATIVES

    model = _model(noise_components=7, component_head=True)
    scores = torch.tensor([[0.1, 0.9, -0.5, 0.3, 0.0, -1.0, 0.2]])
    picks = model.music_offsets(scores, [0, 1, 2, ALTERNATIVES])[0]
    centres = model.heads.noise_centres.detach()
    torch.testing.assert_close(picks[0], centres[1])
    torch.testing.assert_close(picks[1], centres[3])
    torch.testing.assert_close(picks[2], centres[6])
    torch.testing.assert_close(picks[3], centres[1])  # seed ALTERNATIVES is seed 0's family again
    # models without the head add nothing; their seeds keep choosing the centre
    plain = _model(noise_components=2)
    assert plain.component_scores(torch.zeros(1, 32)) is None
    assert float(plain.music_offsets(None, [0, 1]).abs().sum()) == 0.0


def test_component_head_needs_mixture_components():
    from m2p.errors import ModelFormatError

    with pytest.raises(ModelFormatError, match="noise_components"):
        _model(component_head=True)
