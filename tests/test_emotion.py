"""Tests for m2p.colour.emotion: circumplex categories, palette emotion model, Ou & Luo harmony."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from m2p.colour.convert import srgb_to_lch
from m2p.colour.emotion import (
    EMOTION_ANGLES_DEGREES,
    EMOTIONS,
    REFERENCE_C_MEAN,
    REFERENCE_C_STD,
    REFERENCE_HEAT_MEAN,
    REFERENCE_HEAT_STD,
    REFERENCE_L_MEAN,
    REFERENCE_L_STD,
    REFERENCE_YELLOW_MEAN,
    REFERENCE_YELLOW_STD,
    color_valence_arousal_raw,
    emotion_similarity,
    emotion_to_va,
    ou_color_heat,
    ou_luo_harmony,
    palette_emotion,
    palette_harmony,
    palette_valence_arousal,
    va_to_emotion,
)

F64 = torch.float64


def _point(deg: float, r: float = 1.0) -> torch.Tensor:
    return torch.tensor([r * math.cos(math.radians(deg)), r * math.sin(math.radians(deg))],
                        dtype=F64)


def _angle(va: torch.Tensor) -> float:
    return math.degrees(math.atan2(va[1].item(), va[0].item())) % 360.0


def _angle_diff(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


# --------------------------------------------------------------------------------------------
# Categories
# --------------------------------------------------------------------------------------------


def test_category_table_matches_contract():
    assert EMOTIONS == ("excited", "happy", "content", "calm", "depressed", "sad", "afraid",
                        "angry")
    angles = dict(zip(EMOTIONS, EMOTION_ANGLES_DEGREES))
    assert angles == {"happy": 22.5, "excited": 67.5, "angry": 112.5, "afraid": 157.5,
                      "sad": 202.5, "depressed": 247.5, "calm": 292.5, "content": 337.5}
    # Quadrant sanity: positive valence and arousal is happy/excited, negative both is sad/
    # depressed (Russell 1980).
    for name in ("happy", "excited"):
        assert 0 < angles[name] < 90
    for name in ("sad", "depressed"):
        assert 180 < angles[name] < 270


@pytest.mark.parametrize("k", range(8))
def test_octant_points_map_to_their_category(k):
    for r in (0.2, 1.0, 1.4):
        e = va_to_emotion(_point(EMOTION_ANGLES_DEGREES[k], r))
        assert e.shape == (8,)
        assert int(e.argmax()) == k
        assert (e >= 0).all()
        assert e.sum().item() == pytest.approx(min(r, 1.0), abs=1e-12)
    # Points anywhere inside an octant (not only its centre) go to that category.
    for offset in (-20.0, 20.0):
        e = va_to_emotion(_point(EMOTION_ANGLES_DEGREES[k] + offset, 0.8))
        assert int(e.argmax()) == k


def test_origin_is_neutral_and_differentiable():
    va = torch.zeros(2, dtype=F64, requires_grad=True)
    e = va_to_emotion(va)
    assert torch.all(e == 0)
    e.sum().backward()
    assert torch.isfinite(va.grad).all()
    va2 = torch.tensor([[1e-14, -1e-14], [0.3, 0.2]], dtype=F64, requires_grad=True)
    (va_to_emotion(va2) * torch.arange(8, dtype=F64)).sum().backward()
    assert torch.isfinite(va2.grad).all()


def test_sharpness_concentrates_mass():
    p = _point(22.5)
    soft = va_to_emotion(p, sharpness=1.0)
    sharp = va_to_emotion(p, sharpness=10.0)
    assert sharp[1] > soft[1]
    assert va_to_emotion(p)[1].item() == pytest.approx(0.60, abs=0.01)  # documented value


@settings(max_examples=60, deadline=None)
@given(st.floats(0.0, 360.0), st.floats(0.05, 1.0))
def test_va_emotion_va_round_trip(deg, r):
    va = _point(deg, r)
    back = emotion_to_va(va_to_emotion(va))
    assert _angle_diff(_angle(back), deg) < 0.3
    assert back.norm().item() == pytest.approx(r, rel=0.006)


def test_emotion_to_va_one_hot_and_range():
    for k in range(8):
        one_hot = torch.zeros(8, dtype=F64)
        one_hot[k] = 1.0
        va = emotion_to_va(one_hot)
        assert va.norm().item() == pytest.approx(1.0, abs=1e-12)
        assert _angle_diff(_angle(va), EMOTION_ANGLES_DEGREES[k]) < 1e-9
    rng = torch.Generator().manual_seed(0)
    e = torch.rand(100, 8, generator=rng, dtype=F64) * 3
    va = emotion_to_va(e)
    assert va.shape == (100, 2)
    assert (va.abs() <= 1).all() and (va.norm(dim=-1) <= 1 + 1e-12).all()
    assert torch.all(emotion_to_va(torch.zeros(3, 8)) == 0)
    # Uniform weights carry no direction.
    assert emotion_to_va(torch.ones(8, dtype=F64)).abs().max() < 1e-12


def test_emotion_similarity_properties():
    rng = torch.Generator().manual_seed(1)
    a = torch.rand(50, 8, generator=rng, dtype=F64)
    b = torch.rand(50, 8, generator=rng, dtype=F64)
    s = emotion_similarity(a, b)
    assert s.shape == (50,)
    torch.testing.assert_close(s, emotion_similarity(b, a))
    torch.testing.assert_close(emotion_similarity(a, 3.0 * a), torch.ones(50, dtype=F64))
    torch.testing.assert_close(emotion_similarity(a, 2.0 * b), s)
    assert ((s >= 0) & (s <= 1 + 1e-12)).all()  # non-negative vectors
    e_happy = va_to_emotion(_point(22.5))
    e_excited = va_to_emotion(_point(67.5))
    e_sad = va_to_emotion(_point(202.5))
    assert emotion_similarity(e_happy, e_excited) > emotion_similarity(e_happy, e_sad)
    # Zero vectors: similarity 0 and finite gradients.
    z = torch.zeros(8, dtype=F64, requires_grad=True)
    val = emotion_similarity(z, e_happy)
    assert val.item() == 0.0
    val.backward()
    assert torch.isfinite(z.grad).all()


# --------------------------------------------------------------------------------------------
# Palette emotion model
# --------------------------------------------------------------------------------------------


def _palette(L, C, h):
    return torch.tensor(np.column_stack([L, C, h]), dtype=F64)


def test_reference_statistics_match_srgb_grid():
    g = np.linspace(0.0, 1.0, 33)
    rgb = np.stack(np.meshgrid(g, g, g, indexing="ij"), axis=-1).reshape(-1, 3)
    lch = srgb_to_lch(torch.tensor(rgb))
    heat = ou_color_heat(lch).numpy()
    L, C = lch[:, 0].numpy(), lch[:, 1].numpy()
    assert L.mean() == pytest.approx(REFERENCE_L_MEAN, abs=0.01)
    assert L.std() == pytest.approx(REFERENCE_L_STD, abs=0.01)
    assert C.mean() == pytest.approx(REFERENCE_C_MEAN, abs=0.01)
    assert C.std() == pytest.approx(REFERENCE_C_STD, abs=0.01)
    assert heat.mean() == pytest.approx(REFERENCE_HEAT_MEAN, abs=1e-3)
    assert heat.std() == pytest.approx(REFERENCE_HEAT_STD, abs=1e-3)
    yellow = lch[:, 1].numpy() * np.sin(np.deg2rad(lch[:, 2].numpy()))
    assert yellow.mean() == pytest.approx(REFERENCE_YELLOW_MEAN, abs=1e-2)
    assert yellow.std() == pytest.approx(REFERENCE_YELLOW_STD, abs=1e-2)


def test_hue_carries_valence_yellow_above_blue_at_equal_l_and_c():
    # Palmer et al. (2013), Lindborg & Friberg (2015): happy music <-> yellow, sad <-> blue.
    for L in (35.0, 60.0, 85.0):
        yellow = _palette([L], [50], [95])
        blue = _palette([L], [50], [265])
        v_yellow, v_blue = palette_valence_arousal(yellow)[0], palette_valence_arousal(blue)[0]
        assert v_yellow > v_blue + 0.2
    # ... and hue sends otherwise equal palettes to different categories.
    sad_blues = _palette([35, 45, 40], [40, 45, 35], [250, 265, 280])
    assert EMOTIONS[int(palette_emotion(sad_blues).argmax())] in ("sad", "depressed")


def test_brighter_palette_has_higher_valence():
    h = [20.0, 140.0, 260.0]
    dark = _palette([30, 35, 25], [30, 30, 30], h)
    bright = _palette([80, 85, 75], [30, 30, 30], h)
    assert palette_valence_arousal(bright)[0] > palette_valence_arousal(dark)[0] + 0.3
    # Monotone in L for every hue (lightness drives valence).
    L = torch.linspace(5, 95, 19, dtype=F64)
    for hue in range(0, 360, 30):
        lch = torch.stack([L, torch.full_like(L, 20.0), torch.full_like(L, float(hue))], -1)
        v = palette_valence_arousal(lch[:, None, :])[:, 0]
        assert torch.all(v.diff() > 0)


def test_more_chromatic_palette_has_higher_arousal_at_every_hue():
    C = torch.linspace(0, 130, 27, dtype=F64)
    for hue in range(0, 360, 15):
        for L in (30.0, 60.0, 90.0):
            lch = torch.stack([torch.full_like(C, L), C, torch.full_like(C, float(hue))], -1)
            a = palette_valence_arousal(lch[:, None, :])[:, 1]
            assert torch.all(a.diff() > 0), (hue, L)
    muted = _palette([50, 60, 40], [5, 10, 8], [30, 200, 300])
    vivid = _palette([50, 60, 40], [70, 80, 60], [30, 200, 300])
    assert palette_valence_arousal(vivid)[1] > palette_valence_arousal(muted)[1] + 0.5


def test_warm_hues_more_arousing_than_cool_at_equal_l_and_c():
    red = _palette([50], [60], [40])
    blue = _palette([50], [60], [250])
    assert palette_valence_arousal(red)[1] > palette_valence_arousal(blue)[1]


def test_known_palettes_land_in_plausible_quadrants():
    # Bright saturated yellows/oranges: positive valence and arousal (Palmer et al. 2013's
    # "fast major" colours). Dark greyish blues: negative valence and arousal.
    sunny = srgb_to_lch(torch.tensor([[1.0, 0.85, 0.1], [1.0, 0.6, 0.1], [0.95, 0.95, 0.3]],
                                     dtype=F64))
    gloomy = srgb_to_lch(torch.tensor([[0.15, 0.18, 0.25], [0.25, 0.28, 0.35],
                                       [0.1, 0.1, 0.15]], dtype=F64))
    v, a = palette_valence_arousal(sunny)
    assert v > 0 and a > 0
    v, a = palette_valence_arousal(gloomy)
    assert v < 0 and a < 0
    assert EMOTIONS[int(palette_emotion(gloomy).argmax())] in ("sad", "depressed")
    assert EMOTIONS[int(palette_emotion(sunny).argmax())] in ("happy", "excited")


def test_palette_mean_and_range():
    rng = np.random.default_rng(5)
    lch = torch.tensor(np.stack([rng.uniform(0, 100, (64, 6)), rng.uniform(0, 130, (64, 6)),
                                 rng.uniform(0, 360, (64, 6))], -1))
    va = palette_valence_arousal(lch)
    assert va.shape == (64, 2)
    assert (va.abs() < 1).all()
    torch.testing.assert_close(va, torch.tanh(color_valence_arousal_raw(lch).mean(-2)))
    # Permutation invariance.
    torch.testing.assert_close(palette_valence_arousal(lch.flip(-2)), va)
    e = palette_emotion(lch)
    assert e.shape == (64, 8)
    torch.testing.assert_close(e, va_to_emotion(va))


def test_mask_ignores_padding_including_nan():
    lch = _palette([70, 40, 55, 0], [40, 20, 60, 0], [30, 200, 100, 0])
    mask = torch.tensor([True, True, True, False])
    padded = lch.clone()
    padded[3] = torch.tensor([float("nan"), 1e6, float("inf")])
    padded.requires_grad_(True)
    va_masked = palette_valence_arousal(padded, mask)
    torch.testing.assert_close(va_masked, palette_valence_arousal(lch[:3]))
    (va_masked.sum() + palette_harmony(padded, mask)).backward()
    assert torch.isfinite(padded.grad).all()
    assert torch.all(padded.grad[3] == 0)
    torch.testing.assert_close(palette_harmony(padded.detach(), mask), palette_harmony(lch[:3]))
    # Batched masks, all-invalid palettes are neutral.
    batch = torch.stack([lch, lch])
    masks = torch.tensor([[True, True, True, False], [False] * 4])
    va = palette_valence_arousal(batch, masks)
    torch.testing.assert_close(va[0], palette_valence_arousal(lch[:3]))
    assert torch.all(va[1] == 0)
    assert torch.all(palette_emotion(batch, masks)[1] == 0)


def test_palette_model_gradients_finite_at_neutral_black_white():
    lch = _palette([0, 100, 50, 50], [0, 0, 0, 80], [0, 0, 0, 359.9]).requires_grad_(True)
    (palette_valence_arousal(lch).sum() + palette_emotion(lch).pow(2).sum()
     + palette_harmony(lch)).backward()
    assert torch.isfinite(lch.grad).all()
    lch2 = torch.tensor([[40.0, 30.0, 120.0], [70.0, 50.0, 10.0]], dtype=F64,
                        requires_grad=True)
    assert torch.autograd.gradcheck(palette_valence_arousal, (lch2,))
    assert torch.autograd.gradcheck(palette_harmony, (lch2,))


# --------------------------------------------------------------------------------------------
# Harmony
# --------------------------------------------------------------------------------------------


def test_ou_luo_harmony_symmetric_and_broadcast():
    rng = np.random.default_rng(6)
    a = torch.tensor(np.column_stack([rng.uniform(0, 100, 50), rng.uniform(0, 100, 50),
                                      rng.uniform(0, 360, 50)]))
    b = torch.tensor(np.column_stack([rng.uniform(0, 100, 50), rng.uniform(0, 100, 50),
                                      rng.uniform(0, 360, 50)]))
    torch.testing.assert_close(ou_luo_harmony(a, b), ou_luo_harmony(b, a))
    assert ou_luo_harmony(a[:, None], b[None]).shape == (50, 50)
    scores = ou_luo_harmony(a, b)
    assert scores.min() > -2 and scores.max() < 2  # about +-1.3 over sRGB pairs


def test_ou_luo_harmony_hand_computed_value():
    # Two neutral greys, L 50 and 70: dC = 0, H_C = 0.04 + 0.53 tanh(0.8); hue effect with
    # C = 0: E_C = 0.5 + 0.5 tanh(-2), h = 0 (E_Y negligible there).
    got = ou_luo_harmony(torch.tensor([50.0, 0.0, 0.0], dtype=F64),
                         torch.tensor([70.0, 0.0, 0.0], dtype=F64)).item()
    H_C = 0.04 + 0.53 * math.tanh(0.8)
    H_L = 0.28 + 0.54 * math.tanh(-3.88 + 0.029 * 120) + 0.14 + 0.15 * math.tanh(-2 + 0.2 * 20)
    E_C = 0.5 + 0.5 * math.tanh(-2.0)
    H_S = -0.08 - 0.14 * math.sin(math.radians(50)) - 0.07 * math.sin(math.radians(90))
    assert got == pytest.approx(H_C + H_L + 2 * E_C * H_S, abs=1e-9)


def test_ou_luo_harmony_directions():
    def h(x, y):
        return ou_luo_harmony(torch.tensor(x, dtype=F64), torch.tensor(y, dtype=F64)).item()

    # Similar hue and chroma is more harmonious than a big chromatic difference (H_C).
    assert h([60, 40, 240], [45, 40, 250]) > h([60, 40, 240], [45, 40, 60])
    # Lighter pairs are more harmonious than darker ones (H_Lsum).
    assert h([85, 20, 200], [75, 20, 220]) > h([25, 20, 200], [15, 20, 220])
    # A larger lightness difference helps (H_dL).
    assert h([80, 10, 200], [30, 10, 200]) > h([55, 10, 200], [55, 10, 200])
    # Hue effect: chromatic blues are more harmonious than oranges (H_S), and a light yellow
    # beats a dark yellow (E_Y).
    assert h([60, 50, 260], [60, 50, 260]) > h([60, 50, 40], [60, 50, 40])
    assert h([90, 60, 95], [85, 10, 95]) > h([40, 60, 95], [35, 10, 95])


def test_ou_luo_harmony_hue_periodic():
    a = torch.tensor([60.0, 40.0, 10.0], dtype=F64)
    b = torch.tensor([50.0, 30.0, 350.0], dtype=F64)
    b_wrapped = torch.tensor([50.0, 30.0, -10.0], dtype=F64)
    assert ou_luo_harmony(a, b).item() == pytest.approx(ou_luo_harmony(a, b_wrapped).item(),
                                                         abs=1e-10)


def test_palette_harmony_is_mean_over_pairs():
    lch = _palette([70, 40, 55, 85], [40, 20, 60, 10], [30, 200, 100, 260])
    expected = np.mean([ou_luo_harmony(lch[i], lch[j]).item()
                        for i in range(4) for j in range(i + 1, 4)])
    assert palette_harmony(lch).item() == pytest.approx(expected, abs=1e-12)
    # One valid colour: scored against itself.
    mask = torch.tensor([False, True, False, False])
    assert palette_harmony(lch, mask).item() == pytest.approx(
        ou_luo_harmony(lch[1], lch[1]).item(), abs=1e-12)
    assert palette_harmony(lch, torch.zeros(4, dtype=torch.bool)).item() == 0.0
    assert palette_harmony(torch.stack([lch, lch, lch])).shape == (3,)
