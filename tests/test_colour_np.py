"""The NumPy face of the colour maths: the same formulas as the torch face, checked against it,
against published reference values (Sharma et al. 2005) and against colour-science."""

from __future__ import annotations

import colour as colour_science
import numpy as np
import pytest
import torch
from ciede2000_reference import AMBIGUOUS_PAIR, SHARMA_2005

from m2p.colour import convert as colour
from m2p.colour import convert_np as colour_np
from m2p.colour import difference, emotion, gamut, vision


def _lch(n: int = 300, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    lch = np.column_stack([rng.random(n) * 100, rng.random(n) * 150, rng.random(n) * 720 - 180])
    lch[:4] = [[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [50.0, 0.0, 0.0], [50.0, 200.0, 10.0]]
    return lch


def test_numpy_and_torch_layers_agree():
    rng = np.random.default_rng(0)
    rgb = rng.random((200, 3))
    lch = _lch(200)
    lab = colour_np.lch_to_lab(lch)
    t = torch.from_numpy
    for name, x in [("srgb_to_linear", rgb), ("linear_to_srgb", rgb), ("srgb_to_xyz", rgb),
                    ("srgb_to_lab", rgb), ("srgb_to_lch", rgb), ("lab_to_srgb", lab),
                    ("lab_to_xyz", lab), ("lch_to_lab", lch), ("lch_to_srgb", lch)]:
        got = getattr(colour_np, name)(x)
        assert isinstance(got, np.ndarray) and got.dtype == np.float64, name
        np.testing.assert_allclose(got, getattr(colour, name)(t(x)).numpy(), rtol=0, atol=1e-11,
                                   err_msg=name)
    back = colour_np.lab_to_lch(lab)
    np.testing.assert_allclose(back[:, :2], colour.lab_to_lch(t(lab)).numpy()[:, :2], atol=1e-11)
    assert colour_np.lch_to_lab(lch.reshape(4, 50, 3)).shape == (4, 50, 3)


def test_numpy_ciede2000_on_sharma_2005_and_equal_to_torch():
    lab1, lab2 = SHARMA_2005[:, 0:3], SHARMA_2005[:, 3:6]
    got = difference.ciede2000(lab1, lab2)
    assert isinstance(got, np.ndarray)
    keep = np.arange(len(SHARMA_2005)) != AMBIGUOUS_PAIR
    np.testing.assert_allclose(got[keep], SHARMA_2005[keep, 6], atol=1e-4)
    np.testing.assert_allclose(got, difference.ciede2000(torch.tensor(lab1), torch.tensor(lab2)).numpy(),
                               rtol=0, atol=1e-12)
    # Many pairs, near and far, against the torch face and colour-science.
    lab_a, lab_b = colour_np.lch_to_lab(_lch(500, 1)), colour_np.lch_to_lab(_lch(500, 2))
    lab_b[:250] = lab_a[:250] + np.random.default_rng(3).normal(0, 2, (250, 3))
    mine = difference.ciede2000(lab_a, lab_b)
    np.testing.assert_allclose(mine, difference.ciede2000(torch.tensor(lab_a), torch.tensor(lab_b)).numpy(),
                               rtol=0, atol=1e-11)
    np.testing.assert_allclose(mine, colour_science.delta_E(lab_a, lab_b, method="CIE 2000"), atol=1e-8)


def test_ciede2000_matrix_is_numpy_and_matches_pairs():
    lch_a, lch_b = _lch(7, 4), _lch(5, 5)
    matrix = difference.ciede2000_matrix(lch_a, lch_b)
    assert isinstance(matrix, np.ndarray) and matrix.shape == (7, 5)
    pairs = difference.ciede2000(colour_np.lch_to_lab(lch_a)[:, None], colour_np.lch_to_lab(lch_b)[None])
    np.testing.assert_array_equal(matrix, pairs)
    square = difference.ciede2000_matrix(lch_a)
    np.testing.assert_allclose(square, square.T, atol=1e-12)
    assert np.all(np.diag(square) == 0.0)


def test_numpy_gamut_mapping_equals_torch():
    lch = _lch(400, 6)
    mapped = gamut.gamut_map_lch(lch)
    assert isinstance(mapped, np.ndarray)
    np.testing.assert_allclose(mapped, gamut.gamut_map_lch(torch.from_numpy(lch)).numpy(),
                               rtol=0, atol=1e-9)
    assert gamut.in_srgb_gamut(mapped).all()
    assert np.array_equal(gamut.in_srgb_gamut(lch), gamut.in_srgb_gamut(torch.from_numpy(lch)).numpy())
    # One colour, and the display colours of a large sample, as the torch face gives them.
    assert gamut.gamut_map_lch(lch[3]).shape == (3,)
    big = _lch(20000, 7)
    with torch.no_grad():
        rgb = colour.lch_to_srgb(gamut.gamut_map_lch(torch.from_numpy(big))).numpy()
    np.testing.assert_array_equal(gamut.lch_to_rgb8(big),
                                  np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8))


def test_numpy_emotion_equals_torch():
    lch = _lch(64, 8).reshape(8, 8, 3)
    lch[..., 0] = np.clip(lch[..., 0], 0, 100)
    mask = np.random.default_rng(9).random((8, 8)) > 0.3
    t = torch.from_numpy
    for name, args in [("palette_valence_arousal", (lch, mask)), ("palette_emotion", (lch,)),
                       ("palette_harmony", (lch, mask)), ("ou_color_heat", (lch,)),
                       ("color_valence_arousal_raw", (lch,))]:
        got = getattr(emotion, name)(*args)
        assert isinstance(got, np.ndarray), name
        want = getattr(emotion, name)(*(t(np.asarray(a)) for a in args)).numpy()
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12, err_msg=name)
    va = np.random.default_rng(10).uniform(-1.2, 1.2, (50, 2))
    np.testing.assert_allclose(emotion.va_to_emotion(va), emotion.va_to_emotion(t(va)).numpy(),
                               atol=1e-12)
    e8 = np.random.default_rng(11).random((50, 8))
    np.testing.assert_allclose(emotion.emotion_to_va(e8), emotion.emotion_to_va(t(e8)).numpy(),
                               atol=1e-12)


def test_hex_greys_are_exactly_neutral():
    greys = [f"#{v:02x}{v:02x}{v:02x}" for v in range(256)]
    lch = colour_np.hex_to_lch(greys)
    assert np.all(lch[:, 1:] == 0.0)
    assert lch[0, 0] == 0.0 and lch[-1, 0] == 100.0
    assert np.all(np.diff(lch[:, 0]) > 0)
    np.testing.assert_array_equal(colour_np.rgb8_to_lch([[7, 7, 7], [7, 7, 8]])[:, 1] > 0, [False, True])
    assert gamut.lch_to_hex(lch) == greys


def test_luminance_contrast_and_hex():
    assert vision.relative_luminance([1.0, 1.0, 1.0]) == pytest.approx(1.0)
    assert vision.relative_luminance([0.0, 0.0, 0.0]) == 0.0
    # WCAG: white on black is 21:1; hex strings and sRGB triples are the same colours.
    assert vision.contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert vision.contrast_ratio([1.0, 1.0, 1.0], "#000") == pytest.approx(21.0)
    ratios = vision.contrast_ratio(["#ffffff", "#767676"], "#ffffff")
    assert ratios.shape == (2,) and ratios[0] == 1.0 and ratios[1] == pytest.approx(4.54, abs=0.01)
    assert colour_np.rgb_to_hex([[1.0, 0.5, 0.0], [2.0, -1.0, 0.2]]) == ["#ff8000", "#ff0033"]
    assert colour_np.rgb8_to_hex([16, 32, 48]) == ["#102030"]
    assert gamut.lch_to_hex([[50.0, 0.0, 0.0]]) == colour_np.rgb8_to_hex(
        gamut.lch_to_rgb8([[50.0, 0.0, 0.0]]))


def test_one_safe_sqrt_with_one_nan_rule():
    x = torch.tensor([float("nan"), -1.0, 0.0, 4.0], requires_grad=True)
    y = colour.safe_sqrt(x)
    assert torch.isnan(y[0]) and y[1:].tolist() == [0.0, 0.0, 2.0]
    y[1:].sum().backward()
    assert x.grad[1:].tolist() == [0.0, 0.0, 0.25]  # no inf/NaN gradient at 0
    assert emotion.safe_sqrt is colour.safe_sqrt is colour_np.safe_sqrt
    assert np.isnan(colour_np.safe_sqrt(np.array([np.nan, 4.0]))).tolist() == [True, False]


def test_one_sample_rate_and_one_emotion_count():
    import m2p.audio.decode
    import m2p.features.frames
    from m2p.palette_types import Palette

    assert m2p.features.frames.SAMPLE_RATE is m2p.audio.decode.SAMPLE_RATE
    assert emotion.N_EMOTIONS == len(emotion.EMOTIONS) == 8
    assert Palette([[50.0, 10.0, 0.0]]).emotion.shape == (emotion.N_EMOTIONS,)


def test_pad_palettes_batches_variable_lengths_with_a_mask():
    short, long_ = np.full((3, 3), 1.0), np.full((5, 3), 2.0)
    colours, mask = emotion.pad_palettes([short, long_])
    assert colours.shape == (2, 5, 3) and mask.tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert (colours[0, 3:] == 0).all() and (colours[1] == 2.0).all()
    wide, _ = emotion.pad_palettes([short], width=8)
    assert wide.shape == (1, 8, 3)
