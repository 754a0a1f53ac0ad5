"""Tests for the colour maths: conversions (m2p.colour.convert, the torch face of
m2p.colour.convert_np), CIEDE2000 (m2p.colour.difference), gamut mapping (m2p.colour.gamut),
hex codes."""

from __future__ import annotations

import colour as colour_science
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ciede2000_reference import AMBIGUOUS_PAIR, SHARMA_2005
from m2p.colour.convert import (
    MATRIX_SRGB_TO_XYZ,
    WHITE_D65_XYZ,
    lab_to_lch,
    lab_to_srgb,
    lab_to_xyz,
    lch_to_lab,
    lch_to_srgb,
    linear_to_srgb,
    srgb_to_lab,
    srgb_to_lch,
    srgb_to_linear,
    srgb_to_xyz,
    xyz_to_lab,
    xyz_to_srgb,
)
from m2p.colour.convert_np import hex_to_lch
from m2p.colour.difference import ciede2000, ciede2000_fast
from m2p.colour.gamut import gamut_map_lch, in_srgb_gamut, lch_to_hex, lch_to_rgb8

# --------------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------------

def _srgb_colourspace_derived():
    # colour-science's sRGB space with the matrix derived from primaries and white point, which
    # is what m2p uses (see docs/science.md); the IEC 4-decimal matrix differs by < 5e-5.
    cs = colour_science.RGB_COLOURSPACES["sRGB"].copy()
    cs.use_derived_matrix_RGB_to_XYZ = True
    cs.use_derived_matrix_XYZ_to_RGB = True
    return cs


def _random_rgb(n: int = 500, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rgb = rng.random((n, 3))
    rgb[:8] = np.array([[0, 0, 0], [1, 1, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0],
                        [0, 1, 1], [1, 0, 1]])
    return rgb


# --------------------------------------------------------------------------------------------
# CIEDE2000
# --------------------------------------------------------------------------------------------


def test_ciede2000_sharma_pairs():
    lab1 = torch.tensor(SHARMA_2005[:, 0:3])
    lab2 = torch.tensor(SHARMA_2005[:, 3:6])
    got = ciede2000(lab1, lab2).numpy()
    keep = np.arange(len(SHARMA_2005)) != AMBIGUOUS_PAIR
    np.testing.assert_allclose(got[keep], SHARMA_2005[keep, 6], atol=1e-4)
    # The ambiguous pair must land on one of the two published branch values.
    assert min(abs(got[AMBIGUOUS_PAIR] - 4.8045), abs(got[AMBIGUOUS_PAIR] - 4.7461)) < 1e-4


def test_ciede2000_symmetric_and_batched_shapes():
    lab1 = torch.tensor(SHARMA_2005[:, 0:3])
    lab2 = torch.tensor(SHARMA_2005[:, 3:6])
    forward = ciede2000(lab1, lab2)
    backward = ciede2000(lab2, lab1)
    keep = torch.arange(len(SHARMA_2005)) != AMBIGUOUS_PAIR
    torch.testing.assert_close(forward[keep], backward[keep], atol=1e-10, rtol=0)
    # Broadcasting: (34, 1, 3) against (1, 34, 3) gives a (34, 34) matrix with zero diagonal.
    matrix = ciede2000(lab1[:, None], lab1[None, :])
    assert matrix.shape == (34, 34)
    assert torch.all(matrix.diagonal() == 0)


def test_ciede2000_hue_wrap_and_achromatic_pairs():
    # Pairs 9-16 straddle the 0/360 degree hue boundary; 7-8 have a neutral colour.
    for i in [6, 7, *range(8, 16)]:
        if i == AMBIGUOUS_PAIR:
            continue
        d = ciede2000(torch.tensor(SHARMA_2005[i, 0:3]), torch.tensor(SHARMA_2005[i, 3:6]))
        assert abs(d.item() - SHARMA_2005[i, 6]) < 1e-4, i
    # Two neutral colours: Delta E00 is a function of the lightness difference only.
    d = ciede2000(torch.tensor([50.0, 0.0, 0.0], dtype=torch.float64),
                  torch.tensor([60.0, 0.0, 0.0], dtype=torch.float64))
    S_L = 1 + 0.015 * 25 / np.sqrt(20 + 25)
    assert d.item() == pytest.approx(10 / S_L, abs=1e-10)


def test_ciede2000_matches_colour_science_on_random_pairs():
    rng = np.random.default_rng(1)
    lab1 = np.column_stack([rng.uniform(0, 100, 2000), rng.uniform(-110, 110, (2000, 2))])
    lab2 = np.column_stack([rng.uniform(0, 100, 2000), rng.uniform(-110, 110, (2000, 2))])
    # Include near pairs, where the hue terms matter most.
    lab2[:1000] = lab1[:1000] + rng.normal(0, 2, (1000, 3))
    expected = colour_science.delta_E(lab1, lab2, method="CIE 2000")
    got = ciede2000(torch.tensor(lab1), torch.tensor(lab2)).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-8)
    got_k = ciede2000(torch.tensor(lab1), torch.tensor(lab2), k_L=2.0).numpy()
    np.testing.assert_allclose(got_k, colour_science.delta_E(lab1, lab2, method="CIE 2000",
                                                             textiles=True), atol=1e-8)


def test_ciede2000_fast_is_the_same_formula():
    # The vector form used by the distinct-colour search: Sharma's pairs (the one at exactly
    # opposite hues included: it takes the same branch), random pairs with neutral, identical
    # and near colours against colour-science, and single precision.
    fast = ciede2000_fast(SHARMA_2005[:, 0:3], SHARMA_2005[:, 3:6])
    np.testing.assert_allclose(fast, ciede2000(SHARMA_2005[:, 0:3], SHARMA_2005[:, 3:6]),
                               atol=1e-9)
    keep = np.arange(len(SHARMA_2005)) != AMBIGUOUS_PAIR
    np.testing.assert_allclose(fast[keep], SHARMA_2005[keep, 6], atol=1e-4)
    rng = np.random.default_rng(3)
    lab1 = np.column_stack([rng.uniform(0, 100, 3000), rng.uniform(-110, 110, (3000, 2))])
    lab2 = np.column_stack([rng.uniform(0, 100, 3000), rng.uniform(-110, 110, (3000, 2))])
    lab2[:1000] = lab1[:1000] + rng.normal(0, 2, (1000, 3))
    lab1[1000:1100, 1:] = 0.0
    lab2[1050:1150, 1:] = 0.0
    lab2[1200:1300] = lab1[1200:1300]
    got = ciede2000_fast(lab1, lab2)
    np.testing.assert_allclose(got, colour_science.delta_E(lab1, lab2, method="CIE 2000"),
                               atol=1e-8)
    np.testing.assert_allclose(ciede2000_fast(lab2, lab1), got, atol=1e-12)
    single = ciede2000_fast(lab1.astype(np.float32), lab2.astype(np.float32))
    assert single.dtype == np.float32
    # Where the search compares (20 to ~31 CIEDE2000) single precision is far within its
    # 0.02 margin; far pairs with near-opposite hues lose more (their mean hue cancels).
    near = got < 35.0
    np.testing.assert_allclose(single[near], got[near], atol=1e-3)
    np.testing.assert_allclose(single, got, rtol=1e-3)


def test_ciede2000_float32():
    lab1 = torch.tensor(SHARMA_2005[:, 0:3], dtype=torch.float32)
    lab2 = torch.tensor(SHARMA_2005[:, 3:6], dtype=torch.float32)
    got = ciede2000(lab1, lab2)
    assert got.dtype == torch.float32
    # Pairs 9-15 are 0.001 apart in hue-defining components, beyond float32's resolution at
    # this magnitude; compare the rest.
    keep = np.r_[0:8, 15:34]
    np.testing.assert_allclose(got.numpy()[keep], SHARMA_2005[keep, 6], atol=2e-3)


def test_ciede2000_gradients_finite_at_identity_and_neutral():
    points = torch.tensor([[50.0, 0.0, 0.0], [0.0, 0.0, 0.0], [100.0, 0.0, 0.0],
                           [50.0, 20.0, -10.0], [50.0, 0.0, 5.0]], dtype=torch.float64)
    for other in (points.clone(), torch.tensor([[50.0, 0.0, 0.0]] * 5, dtype=torch.float64)):
        a = points.clone().requires_grad_(True)
        b = other.clone().requires_grad_(True)
        ciede2000(a, b).sum().backward()
        assert torch.isfinite(a.grad).all() and torch.isfinite(b.grad).all()
    # Gradient matches finite differences away from the singular points.
    a = torch.tensor([[60.0, 10.0, 30.0]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[55.0, 15.0, 20.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: ciede2000(x, b), (a,))


# --------------------------------------------------------------------------------------------
# Conversions against colour-science
# --------------------------------------------------------------------------------------------


def test_matrix_matches_iec_rounded_values():
    iec = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]])
    np.testing.assert_allclose(MATRIX_SRGB_TO_XYZ, iec, atol=5e-5)
    np.testing.assert_allclose(MATRIX_SRGB_TO_XYZ.sum(axis=1), WHITE_D65_XYZ, atol=1e-12)


def test_conversions_match_colour_science():
    rgb = _random_rgb()
    cs = _srgb_colourspace_derived()
    t = torch.tensor(rgb)

    linear = colour_science.models.eotf_sRGB(rgb)
    np.testing.assert_allclose(srgb_to_linear(t).numpy(), linear, atol=1e-12)
    np.testing.assert_allclose(linear_to_srgb(torch.tensor(linear)).numpy(), rgb, atol=1e-12)

    xyz = colour_science.RGB_to_XYZ(rgb, cs, apply_cctf_decoding=True)
    np.testing.assert_allclose(srgb_to_xyz(t).numpy(), xyz, atol=1e-12)
    np.testing.assert_allclose(xyz_to_srgb(torch.tensor(xyz)).numpy(), rgb, atol=1e-10)

    lab = colour_science.XYZ_to_Lab(xyz)
    np.testing.assert_allclose(xyz_to_lab(torch.tensor(xyz)).numpy(), lab, atol=1e-10)
    np.testing.assert_allclose(lab_to_xyz(torch.tensor(lab)).numpy(), xyz, atol=1e-12)
    np.testing.assert_allclose(srgb_to_lab(t).numpy(), lab, atol=1e-10)

    lch = colour_science.Lab_to_LCHab(lab)
    got = srgb_to_lch(t).numpy()
    np.testing.assert_allclose(got[:, :2], lch[:, :2], atol=1e-10)
    hue_diff = (got[:, 2] - lch[:, 2] + 180.0) % 360.0 - 180.0
    chromatic = lch[:, 1] > 1e-6  # hue of neutral colours is a convention
    assert np.abs(hue_diff[chromatic]).max() < 1e-8
    np.testing.assert_allclose(lch_to_lab(torch.tensor(lch)).numpy(), lab, atol=1e-10)


def test_lab_beyond_unit_range_matches_colour_science():
    # Dark colours (linear segment of f) and out-of-gamut Lab (negative XYZ) still agree.
    rng = np.random.default_rng(2)
    lab = np.column_stack([rng.uniform(0, 100, 300), rng.uniform(-150, 150, (300, 2))])
    lab[:20, 0] = rng.uniform(0, 8, 20)
    xyz = colour_science.Lab_to_XYZ(lab)
    np.testing.assert_allclose(lab_to_xyz(torch.tensor(lab)).numpy(), xyz, atol=1e-12)
    np.testing.assert_allclose(xyz_to_lab(torch.tensor(xyz)).numpy(), lab, atol=1e-9)


def test_white_black_and_primaries():
    lab = srgb_to_lab(torch.tensor([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]], dtype=torch.float64))
    torch.testing.assert_close(lab, torch.tensor([[100.0, 0, 0], [0.0, 0, 0]],
                                                 dtype=torch.float64), atol=1e-10, rtol=0)
    lch = srgb_to_lch(torch.tensor([0.5, 0.5, 0.5]))
    assert lch[1].item() < 1e-10 and lch[2].item() == 0.0
    # Well-known value: sRGB red is about L 53.24, a 80.09, b 67.20.
    red = srgb_to_lab(torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(red, torch.tensor([53.24, 80.09, 67.20], dtype=torch.float64),
                               atol=0.01, rtol=0)


def test_integer_and_numpy_inputs_accepted():
    out = srgb_to_lab(np.array([255, 0, 0]) / 255.0)
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    out = srgb_to_linear(torch.tensor([0, 1]))
    assert out.dtype == torch.float64


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=3, max_size=3))
def test_round_trip_srgb_lab_srgb(values):
    # 1e-7, not 1e-12: the IEC 61966-2-1 thresholds (0.04045 and 0.0031308) do not meet exactly
    # (0.04045 / 12.92 = 0.00313080495...), so values at the junction come back 3e-8 off.
    rgb = torch.tensor(values, dtype=torch.float64)
    back = lab_to_srgb(srgb_to_lab(rgb))
    torch.testing.assert_close(back, rgb, atol=1e-7, rtol=0)
    back_lch = lch_to_srgb(srgb_to_lch(rgb))
    torch.testing.assert_close(back_lch, rgb, atol=1e-7, rtol=0)


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 100.0), st.floats(0.0, 150.0), st.floats(0.0, 359.999))
def test_round_trip_lch_lab_lch(L, C, h):
    lch = torch.tensor([L, C, h], dtype=torch.float64)
    back = lab_to_lch(lch_to_lab(lch))
    assert back[0].item() == pytest.approx(L, abs=1e-9)
    assert back[1].item() == pytest.approx(C, abs=1e-9)
    if C > 1e-6:
        dh = (back[2].item() - h + 180.0) % 360.0 - 180.0
        assert abs(dh) < 1e-6
    assert 0.0 <= back[2].item() < 360.0


def test_hue_range_half_open():
    lab = torch.tensor([[50.0, 1.0, -1e-300], [50.0, 1.0, -1e-17], [50.0, -1.0, 0.0]],
                       dtype=torch.float64)
    h = lab_to_lch(lab)[:, 2]
    assert torch.all((h >= 0) & (h < 360))


def test_float32_dtype_preserved():
    rgb = torch.rand(10, 3, generator=torch.Generator().manual_seed(0))
    for fn in (srgb_to_lab, srgb_to_lch, srgb_to_xyz):
        assert fn(rgb).dtype == torch.float32
    torch.testing.assert_close(lab_to_srgb(srgb_to_lab(rgb)), rgb, atol=1e-4, rtol=0)


# --------------------------------------------------------------------------------------------
# Gradients and NaN
# --------------------------------------------------------------------------------------------


def test_gradients_finite_at_neutral_black_and_white():
    rgb = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.5, 0.5, 0.5], [0.04045, 0, 1]],
                       dtype=torch.float64, requires_grad=True)
    srgb_to_lch(rgb).sum().backward()
    assert torch.isfinite(rgb.grad).all()

    lab = torch.tensor([[50.0, 0.0, 0.0], [0.0, 0.0, 0.0], [100.0, 0.0, 0.0]],
                       dtype=torch.float64, requires_grad=True)
    lch = lab_to_lch(lab)
    (lch[:, 1] + lch[:, 2]).sum().backward()
    assert torch.isfinite(lab.grad).all()

    lch_in = torch.tensor([[50.0, 0.0, 0.0], [0.0, 0.0, 123.0], [100.0, 0.0, 250.0],
                           [0.0, 40.0, 30.0]], dtype=torch.float64, requires_grad=True)
    lch_to_srgb(lch_in).sum().backward()
    assert torch.isfinite(lch_in.grad).all()

    # Negative and > 1 inputs (unclipped network outputs) also keep finite gradients.
    rgb2 = torch.tensor([[-0.2, 1.3, 0.5]], dtype=torch.float64, requires_grad=True)
    srgb_to_lab(rgb2).sum().backward()
    assert torch.isfinite(rgb2.grad).all()


def test_gradcheck_conversions():
    rgb = torch.tensor([[0.2, 0.5, 0.8], [0.9, 0.1, 0.3]], dtype=torch.float64,
                       requires_grad=True)
    assert torch.autograd.gradcheck(srgb_to_lch, (rgb,))
    lch = torch.tensor([[60.0, 30.0, 200.0]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lch_to_srgb, (lch,))


def test_nan_propagates_elementwise():
    rgb = torch.tensor([[0.2, float("nan"), 0.5], [0.1, 0.2, 0.3]], dtype=torch.float64)
    lab = srgb_to_lab(rgb)
    assert torch.isnan(lab[0]).any()
    assert torch.isfinite(lab[1]).all()
    lch = lab_to_lch(torch.tensor([[50.0, float("nan"), 0.0], [50.0, 1.0, 1.0]]))
    assert torch.isnan(lch[0, 1]) and torch.isnan(lch[0, 2]) and torch.isfinite(lch[1]).all()
    d = ciede2000(torch.tensor([[float("nan"), 0, 0], [50.0, 0, 0]]),
                  torch.tensor([[50.0, 0, 0], [50.0, 0, 0]]))
    assert torch.isnan(d[0]) and d[1].item() == 0.0
    mapped = gamut_map_lch(torch.tensor([[50.0, float("nan"), 10.0], [50.0, 200.0, 10.0]],
                                        dtype=torch.float64))
    assert torch.isnan(mapped[0]).all() and torch.isfinite(mapped[1]).all()


# --------------------------------------------------------------------------------------------
# Gamut mapping
# --------------------------------------------------------------------------------------------


def test_gamut_map_keeps_lightness_and_hue_and_lands_in_gamut():
    rng = np.random.default_rng(3)
    lch = torch.tensor(np.column_stack([rng.uniform(0, 100, 400), rng.uniform(0, 200, 400),
                                        rng.uniform(0, 360, 400)]))
    mapped = gamut_map_lch(lch)
    torch.testing.assert_close(mapped[:, 0], lch[:, 0], atol=0, rtol=0)
    torch.testing.assert_close(mapped[:, 2], lch[:, 2], atol=0, rtol=0)
    assert torch.all(mapped[:, 1] <= lch[:, 1])
    assert in_srgb_gamut(mapped).all()
    rgb = lch_to_srgb(mapped)
    assert rgb.min() >= -1e-7 and rgb.max() <= 1 + 1e-7
    # Out-of-gamut colours land on the boundary: 1e-6 more chroma leaves the gamut
    # (except at L = 0 and L = 100, where only chroma 0 exists anyway).
    out = ~in_srgb_gamut(lch)
    assert out.sum() > 100
    pushed = mapped[out].clone()
    pushed[:, 1] += 1e-4
    assert not in_srgb_gamut(pushed).any()


def test_gamut_map_leaves_in_gamut_colours_unchanged():
    lch = srgb_to_lch(torch.tensor(_random_rgb(200, seed=4) * 0.98 + 0.01))
    mapped = gamut_map_lch(lch)
    torch.testing.assert_close(mapped, lch, atol=0, rtol=0)


def test_gamut_map_clips_lightness_and_wraps_hue():
    mapped = gamut_map_lch(torch.tensor([[120.0, 50.0, 370.0], [-5.0, 10.0, -30.0]],
                                        dtype=torch.float64))
    torch.testing.assert_close(mapped[:, 0], torch.tensor([100.0, 0.0], dtype=torch.float64))
    torch.testing.assert_close(mapped[:, 2], torch.tensor([10.0, 330.0], dtype=torch.float64))
    # Only the neutral axis exists at L 0 and 100; the 1e-7 sRGB tolerance allows ~1e-5 chroma.
    assert mapped[:, 1].abs().max() < 1e-3


def test_gamut_map_is_not_channel_clipping():
    # A saturated out-of-gamut cyan-ish colour: channel clipping shifts its hue, ours does not.
    lch = torch.tensor([70.0, 120.0, 200.0], dtype=torch.float64)
    mapped = gamut_map_lch(lch)
    clipped_hue = srgb_to_lch(lch_to_srgb(lch).clamp(0, 1))[2]
    assert abs(clipped_hue.item() - 200.0) > 1.0
    assert mapped[2].item() == 200.0


def test_gamut_map_float32_and_gradients():
    lch = torch.tensor([[50.0, 20.0, 30.0], [50.0, 200.0, 30.0]], dtype=torch.float32,
                       requires_grad=True)
    mapped = gamut_map_lch(lch)
    assert mapped.dtype == torch.float32
    mapped.sum().backward()
    assert torch.isfinite(lch.grad).all()
    torch.testing.assert_close(lch.grad[0], torch.ones(3))  # in gamut: identity
    assert lch.grad[1, 1].item() == 0.0  # clipped chroma: no gradient


# --------------------------------------------------------------------------------------------
# numpy helpers
# --------------------------------------------------------------------------------------------


def test_hex_round_trip_and_format():
    hexes = ["#000000", "#ffffff", "#ff0000", "#1f77b4", "#808080", "#00ff00", "#0000ff"]
    lch = hex_to_lch(hexes)
    assert lch.shape == (7, 3) and lch.dtype == np.float64
    assert lch_to_hex(lch) == hexes
    assert hex_to_lch("#FFF").shape == (1, 3)
    np.testing.assert_allclose(hex_to_lch("FFFFFF"), hex_to_lch("#fff"))
    # Every 8-bit colour of a coarse grid survives hex -> LCh -> hex.
    grid = [f"#{r:02x}{g:02x}{b:02x}" for r in range(0, 256, 51) for g in range(0, 256, 51)
            for b in range(0, 256, 51)]
    assert lch_to_hex(hex_to_lch(grid)) == grid


def test_lch_to_rgb8_gamut_maps_and_rejects_bad_input():
    rgb8 = lch_to_rgb8(np.array([[50.0, 300.0, 140.0], [100.0, 0.0, 0.0]]))
    assert rgb8.dtype == np.uint8 and rgb8.shape == (2, 3)
    assert rgb8[1].tolist() == [255, 255, 255]
    assert lch_to_rgb8([50.0, 0.0, 0.0]).shape == (3,)
    assert len(lch_to_hex([50.0, 0.0, 0.0])) == 1
    with pytest.raises(ValueError):
        lch_to_hex(np.array([[50.0, np.nan, 0.0]]))
    with pytest.raises(ValueError):
        lch_to_rgb8(np.zeros((2, 4)))
    for bad in (["#12345"], ["red"], [None], ["#gggggg"]):
        with pytest.raises(ValueError):
            hex_to_lch(bad)
