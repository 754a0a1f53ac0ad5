"""Palette families (training.families): hue-content descriptors and their clusters."""

from __future__ import annotations

import numpy as np
import pytest

from training.families import assign_families, family_shares, fit_families, palette_descriptor


def _palettes(hue: float, chroma: float, n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.column_stack([rng.uniform(20, 80, 4), np.full(4, chroma) + rng.uniform(-3, 3, 4),
                             (hue + rng.uniform(-15, 15, 4)) % 360]) for _ in range(n)]


def test_descriptor_peaks_at_the_hue_and_counts_grey():
    blue = palette_descriptor(np.array([[40.0, 50.0, 250.0], [60.0, 45.0, 245.0]]))
    assert int(np.argmax(blue[:12])) == 8  # the 240-degree bin
    assert blue[12] == pytest.approx(0.0)
    grey = palette_descriptor(np.array([[30.0, 0.0, 0.0], [70.0, 2.0, 120.0]]))
    assert grey[:12].max() < 0.05 and grey[12] > 0.45
    # the same colours in another order describe the same palette
    np.testing.assert_allclose(palette_descriptor(np.array([[60.0, 45.0, 245.0], [40.0, 50.0, 250.0]])), blue)


def test_families_separate_blue_red_and_grey_palettes():
    blues, reds, greys = _palettes(250, 50, 30, 0), _palettes(25, 55, 30, 1), _palettes(90, 3, 30, 2)
    centroids = fit_families(blues + reds + greys, 3, seed=0)
    labels = assign_families(blues + reds + greys, centroids)
    groups = [set(labels[:30]), set(labels[30:60]), set(labels[60:])]
    assert all(len(g) == 1 for g in groups) and len(set().union(*groups)) == 3
    # same seed, same families
    np.testing.assert_array_equal(fit_families(blues + reds + greys, 3, seed=0), centroids)


def test_family_shares_never_give_an_empty_family_zero():
    shares = family_shares(np.array([0, 0, 1, 1, 1, 1]), 3)
    assert shares.sum() == pytest.approx(1.0)
    assert shares[2] > 0 and shares[1] == pytest.approx(2 * shares[0], rel=1e-2)
    with pytest.raises(ValueError, match="at least 3"):
        fit_families(_palettes(0, 40, 2, 0), 3)
