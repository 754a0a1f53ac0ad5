"""One-to-many training (model v2): the noise chooses among candidates instead of averaging."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from m2p.network import ModelConfig, Music2Palette
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
    assert model.tag_head[-1].weight.grad is not None
    assert model.tag_head[-1].weight.grad.abs().sum() > 0


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
