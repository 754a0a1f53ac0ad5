"""Model v3 training targets (training/targets.py): continuous in the music, on the colour-emotion
model's directions."""

import numpy as np
import pytest

from training import targets as T


@pytest.fixture(scope="module")
def gamut():
    return T.GamutTable()


@pytest.fixture(scope="module")
def library():
    rng = np.random.default_rng(1)
    out = []
    for _ in range(300):
        n = int(rng.integers(3, 9))
        out.append(np.stack([rng.uniform(20, 90, n), rng.uniform(5, 60, n), rng.uniform(0, 360, n)], 1))
    return out


def _means(lch, lengths):
    mask = np.arange(lch.shape[-2]) < lengths[..., None]
    m = mask[..., None]
    return (lch * m).sum(-2) / m.sum(-2), mask


def test_numpy_colour_emotion_equals_runtime_model_constants():
    from m2p.colour import emotion

    assert (T._L_MEAN, T._L_STD) == (emotion.REFERENCE_L_MEAN, emotion.REFERENCE_L_STD)
    assert (T._C_MEAN, T._C_STD) == (emotion.REFERENCE_C_MEAN, emotion.REFERENCE_C_STD)
    assert (T._HEAT_MEAN, T._HEAT_STD) == (emotion.REFERENCE_HEAT_MEAN, emotion.REFERENCE_HEAT_STD)
    assert (T._YELLOW_MEAN, T._YELLOW_STD) == (emotion.REFERENCE_YELLOW_MEAN, emotion.REFERENCE_YELLOW_STD)


def test_gamut_table_matches_gamut_mapping(gamut):
    from m2p.colour.gamut import gamut_map_lch

    rng = np.random.default_rng(2)
    lch = np.stack([rng.uniform(5, 95, 500), np.full(500, 150.0), rng.uniform(0, 360, 500)], 1)
    exact = gamut_map_lch(lch)[:, 1]
    assert np.abs(gamut.max_chroma(lch[:, 0], lch[:, 2]) - exact).max() < 1.5


def test_targets_reach_their_colour_emotion(library, gamut):
    rng = np.random.default_rng(3)
    va = rng.uniform(-0.9, 0.9, (400, 2))
    key = rng.normal(size=(400, 2))
    lch, lengths, cal = T.build_targets(va, key, library, phis=(0.0,), gamut=gamut)
    _, mask = _means(lch[:, 0], lengths[:, 0])
    err = T.colour_emotion_raw(lch[:, 0], mask) - cal.raw(va)
    assert np.median(np.abs(err), axis=0).max() < 0.01
    # inside the sRGB gamut
    assert (lch[:, 0, :, 1][mask] <= gamut.max_chroma(lch[:, 0, :, 0], lch[:, 0, :, 2])[mask] + 1e-6).all()


def test_happier_is_lighter_and_yellower_more_aroused_is_more_saturated(library, gamut):
    key = np.zeros((2, 2))
    (lo, hi), lengths, _ = (lambda r: ((r[0][0, 0], r[0][1, 0]), r[1], r[2]))(
        T.build_targets(np.array([[-0.6, 0.0], [0.6, 0.0]]), key, library, phis=(0.0,), gamut=gamut))
    m_lo, _ = _means(lo[None], lengths[:1, 0])
    m_hi, _ = _means(hi[None], lengths[1:, 0])
    assert m_hi[0, 0] > m_lo[0, 0] + 10  # lighter
    b = lambda p, n: float((p[:n, 1] * np.sin(np.deg2rad(p[:n, 2]))).mean())
    assert b(hi, lengths[1, 0]) > b(lo, lengths[0, 0])  # yellower (b*)
    (calm, excited), lengths, _ = (lambda r: ((r[0][0, 0], r[0][1, 0]), r[1], r[2]))(
        T.build_targets(np.array([[0.2, -0.6], [0.2, 0.6]]), key, library, phis=(0.0,), gamut=gamut))
    assert excited[:lengths[1, 0], 1].mean() > calm[:lengths[0, 0], 1].mean() + 10


def test_hue_follows_the_timbre_key_and_the_alternative(library, gamut):
    va = np.zeros((1, 2))
    for angle in (0.0, 90.0, 200.0, 300.0):
        key = np.array([[np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))]])
        assert T.hue_directions(va, key, 0.0)[0] == pytest.approx(angle, abs=1e-6)
        assert T.hue_directions(va, key, 60.0)[0] == pytest.approx((angle + 60) % 360, abs=1e-6)


def test_sad_turns_blue_and_anger_turns_red():
    key = np.zeros((2, 2))
    sad, angry = T.hue_directions(np.array([[-0.8, -0.5], [-0.8, 0.9]]), key, 0.0)
    assert 250 < sad < 290
    assert angry < 90 or angry > 330  # between the red and the blue pushes, toward red


def test_nearby_music_gets_nearby_targets(library, gamut):
    rng = np.random.default_rng(4)
    va = rng.uniform(-0.8, 0.8, (300, 2))
    key = rng.normal(size=(300, 2))
    a, la, _ = T.build_targets(va, key, library, phis=(0.0,), gamut=gamut)
    b, lb, _ = T.build_targets(va + 0.01, key + 0.01, library, phis=(0.0,), gamut=gamut)
    same = la[:, 0] == lb[:, 0]
    ma, _ = _means(a[:, 0], la[:, 0])
    mb, _ = _means(b[:, 0], lb[:, 0])
    # the palette's mean lightness and chroma move by little, whatever the base palette
    assert np.median(np.abs(ma - mb)[:, :2]) < 1.0
    assert same.mean() > 0.8
