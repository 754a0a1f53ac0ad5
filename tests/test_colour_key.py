"""Music-keyed pairing (training.corpus.colour_key) and post-training calibration helpers."""

from __future__ import annotations

import numpy as np
import pytest

from training.calibrate import length_distribution
from training.corpus.colour_key import POOL, choose, hue_mass, key_hues


def _cues(mode, register, bright, onsets, loud):
    return {"mode_major": mode, "register_midi": register, "brightness_hz": bright,
            "onset_rate": onsets, "loudness_db": loud}


def test_key_hues_follow_the_published_directions():
    cues = [
        _cues(0.5, 80, 3000, 2.0, -20),   # major, high, bright, average energy -> yellow
        _cues(-0.5, 45, 300, 2.0, -20),   # minor, low, dark -> blue
        _cues(0.0, 62, 1200, 9.0, -5),    # many onsets, loud -> red
        _cues(0.0, 62, 1200, 0.2, -40),   # few onsets, soft -> cyan-green
    ]
    keys = key_hues(cues)

    def near(a, b, tol=40.0):
        return abs((a - b + 180) % 360 - 180) < tol

    assert near(keys[0], 90) and near(keys[1], 270) and near(keys[2], 0) and near(keys[3], 180)


def test_choose_prefers_key_coloured_palettes_among_the_emotion_matched():
    rng = np.random.default_rng(0)
    blue = np.array([[40, 50, 260], [60, 40, 250], [70, 30, 240]], float)
    yellow = np.array([[70, 60, 95], [80, 70, 90], [60, 50, 100]], float)
    grey = np.array([[30, 2, 0], [60, 3, 0], [90, 1, 0]], float)
    palettes = [blue, yellow, grey] * 20
    similarity = rng.uniform(0.9, 1.0, len(palettes))
    similarity[:3] = 0.0  # the first of each kind is outside the emotion-matched pool
    picked = choose(similarity, palettes, 260.0, 5)
    assert all(palettes[i] is blue for i in picked)
    assert 0 not in picked and len(set(picked)) == 5
    assert all(similarity[i] >= np.sort(similarity)[-POOL] for i in picked)
    assert hue_mass(blue, 260) > 0.8 > 0.01 > hue_mass(grey, 260)


def test_length_distribution_counts_lengths_three_to_eight():
    shares = length_distribution([[5, 5, 3], [8, 5, 4]])
    np.testing.assert_allclose(shares, [1 / 6, 1 / 6, 3 / 6, 0, 0, 1 / 6])
    assert shares.sum() == pytest.approx(1.0)
