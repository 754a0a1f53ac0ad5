"""The NumPy colour layer agrees with the torch one and holds the one definition of each step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p.colour import convert as colour
from m2p.colour import convert_np as colour_np
from m2p.colour import emotion as emotion


def test_numpy_and_torch_layers_agree():
    rng = np.random.default_rng(0)
    rgb = rng.random((200, 3))
    lch = np.column_stack([rng.random(200) * 100, rng.random(200) * 90, rng.random(200) * 360])
    t = torch.from_numpy
    assert np.allclose(colour_np.srgb_to_linear(rgb), colour.srgb_to_linear(t(rgb)).numpy(),
                       rtol=0, atol=1e-14)
    assert np.allclose(colour_np.linear_to_srgb(rgb), colour.linear_to_srgb(t(rgb)).numpy(),
                       rtol=0, atol=1e-14)
    assert np.allclose(colour_np.lch_to_lab(lch), colour.lch_to_lab(t(lch)).numpy(), atol=1e-12)
    lab = colour_np.lch_to_lab(lch)
    assert np.allclose(colour_np.lab_to_lch(lab), colour.lab_to_lch(t(lab)).numpy(), atol=1e-9)
    assert colour_np.lch_to_lab(lch.reshape(4, 50, 3)).shape == (4, 50, 3)


def test_luminance_and_hex():
    assert colour_np.relative_luminance([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert colour_np.relative_luminance([0.0, 0.0, 0.0]) == 0.0
    # WCAG: white on black is 21:1.
    assert (1.0 + 0.05) / (0.0 + 0.05) == pytest.approx(21.0)
    assert colour_np.rgb_to_hex([[1.0, 0.5, 0.0], [2.0, -1.0, 0.2]]) == ["#ff8000", "#ff0033"]
    assert colour_np.rgb8_to_hex([16, 32, 48]) == ["#102030"]
    assert colour.lch_to_hex([[50.0, 0.0, 0.0]]) == colour_np.rgb8_to_hex(
        colour.lch_to_rgb8([[50.0, 0.0, 0.0]]))


def test_one_safe_sqrt_with_one_nan_rule():
    x = torch.tensor([float("nan"), -1.0, 0.0, 4.0], requires_grad=True)
    y = colour.safe_sqrt(x)
    assert torch.isnan(y[0]) and y[1:].tolist() == [0.0, 0.0, 2.0]
    y[1:].sum().backward()
    assert x.grad[1:].tolist() == [0.0, 0.0, 0.25]  # no inf/NaN gradient at 0
    assert emotion.safe_sqrt is colour.safe_sqrt and emotion.as_float is colour.as_float


def test_one_sample_rate_and_one_emotion_count():
    import m2p.audio.decode
    import m2p.features.frames
    from m2p.palette_types import Palette

    assert m2p.features.frames.SAMPLE_RATE is m2p.audio.decode.SAMPLE_RATE
    assert emotion.N_EMOTIONS == len(emotion.EMOTIONS) == 8
    assert Palette([[50.0, 10.0, 0.0]]).emotion.shape == (emotion.N_EMOTIONS,)


def test_pad_palettes_batches_variable_lengths_with_a_mask():
    from m2p.colour.convert_np import pad_palettes

    short, long_ = np.full((3, 3), 1.0), np.full((5, 3), 2.0)
    colours, mask = pad_palettes([short, long_])
    assert colours.shape == (2, 5, 3) and mask.tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert (colours[0, 3:] == 0).all() and (colours[1] == 2.0).all()
    wide, _ = pad_palettes([short], width=8)
    assert wide.shape == (1, 8, 3)
