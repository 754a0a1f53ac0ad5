"""Palette metrics (training/metrics.py) against hand-computable cases."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from m2p.colour.difference import ciede2000_matrix
from training import metrics as M

PALETTE = np.array([[30.0, 40.0, 20.0], [70.0, 60.0, 100.0], [50.0, 30.0, 250.0],
                    [85.0, 10.0, 300.0]])


def test_ciede2000_matrix_zero_diagonal_and_symmetric():
    d = ciede2000_matrix(PALETTE, PALETTE)
    assert d.shape == (4, 4)
    np.testing.assert_allclose(np.diag(d), 0.0, atol=1e-6)
    np.testing.assert_allclose(d, d.T, atol=1e-9)


def test_ciede2000_matrix_lightness_only_pair():
    # Two neutrals differing only in L: CIEDE2000 = dL / S_L with L_bar = 50 -> S_L = 1.
    d = ciede2000_matrix(np.array([[45.0, 0.0, 0.0]]), np.array([[55.0, 0.0, 0.0]]))
    assert d[0, 0] == pytest.approx(10.0, abs=1e-6)


def test_diversity_hand_values():
    assert M.diversity(PALETTE[:1]) == 0.0
    assert M.diversity(np.array([[50.0, 20.0, 40.0]] * 3)) == pytest.approx(0.0, abs=1e-6)
    pair = np.array([[45.0, 0.0, 0.0], [55.0, 0.0, 0.0]])
    assert M.diversity(pair) == pytest.approx(10.0, abs=1e-6)
    d = ciede2000_matrix(PALETTE, PALETTE)
    expected = np.mean([d[i, j] for i, j in itertools.combinations(range(4), 2)])
    assert M.diversity(PALETTE) == pytest.approx(expected)


def test_palette_distance_is_order_free_and_zero_for_identical():
    perm = PALETTE[[2, 0, 3, 1]]
    assert M.palette_distance(PALETTE, perm) == pytest.approx(0.0, abs=1e-6)
    a = np.array([[45.0, 0.0, 0.0], [80.0, 0.0, 0.0]])
    b = np.array([[81.0, 0.0, 0.0], [55.0, 0.0, 0.0]])  # matched: 45-55 and 80-81
    expected = np.mean([ciede2000_matrix(a[:1], b[1:])[0, 0], ciede2000_matrix(a[1:], b[:1])[0, 0]])
    assert M.palette_distance(a, b) == pytest.approx(expected)
    assert M.palette_distance(a, b) == pytest.approx(M.palette_distance(b, a))


def test_multimodality_zero_for_identical_draws_positive_otherwise():
    assert M.multimodality([PALETTE, PALETTE, PALETTE[::-1]]) == pytest.approx(0.0, abs=1e-6)
    other = PALETTE + np.array([5.0, 0.0, 0.0])
    assert M.multimodality([PALETTE, other]) > 0
    with pytest.raises(ValueError):
        M.multimodality([PALETTE])


def _cube(offset=(0.0, 0.0, 0.0), size=1.0):
    return np.array(list(itertools.product([0.0, size], repeat=3))) + np.asarray(offset)


def test_convex_hull_overlap_cubes():
    assert M.convex_hull_overlap(_cube(), _cube(), lch=False) == pytest.approx(1.0, abs=1e-9)
    # Shifted by half a side: intersection 0.5, union 1.5 -> 1/3.
    assert M.convex_hull_overlap(_cube(), _cube((0.5, 0, 0)), lch=False) == pytest.approx(1 / 3, abs=1e-9)
    # Nested: small cube of volume 1/8 inside the unit cube -> 1/8.
    assert M.convex_hull_overlap(_cube(), _cube((0.25, 0.25, 0.25), 0.5), lch=False) == pytest.approx(0.125, abs=1e-9)
    # Disjoint.
    assert M.convex_hull_overlap(_cube(), _cube((3.0, 0, 0)), lch=False) == 0.0


def test_convex_hull_overlap_symmetric_and_degenerate():
    rng = np.random.default_rng(0)
    a = np.column_stack([rng.uniform(20, 80, 30), rng.uniform(0, 60, 30), rng.uniform(0, 360, 30)])
    b = np.column_stack([rng.uniform(40, 90, 30), rng.uniform(10, 80, 30), rng.uniform(0, 360, 30)])
    ab, ba = M.convex_hull_overlap(a, b), M.convex_hull_overlap(b, a)
    assert 0.0 < ab < 1.0
    assert ab == pytest.approx(ba, abs=1e-9)
    assert M.convex_hull_overlap(a, a) == pytest.approx(1.0, abs=1e-9)
    # Three colours span a triangle (zero volume): overlap defined as 0.
    assert M.convex_hull_overlap(a[:3], b) == 0.0


def test_convex_hull_overlap_hue_wraps():
    # The same colours written with hue h and h - 360 are the same points.
    rng = np.random.default_rng(1)
    a = np.column_stack([rng.uniform(20, 80, 20), rng.uniform(10, 60, 20), rng.uniform(0, 40, 20)])
    b = a.copy()
    b[:, 2] = b[:, 2] + 360.0
    assert M.convex_hull_overlap(a, b) == pytest.approx(1.0, abs=1e-9)


def test_histogram_and_bhattacharyya_known_values():
    a = np.array([[10.0, 10.0, 10.0], [10.0, 10.0, 10.0], [90.0, 100.0, 200.0], [90.0, 100.0, 200.0]])
    h = M.lch_histogram(a)
    assert h.sum() == pytest.approx(1.0)
    assert np.count_nonzero(h) == 2 and h.max() == pytest.approx(0.5)
    assert M.bhattacharyya_coefficient(a, a) == pytest.approx(1.0)
    # p = (1/2, 1/2) on bins {x, y}; q = all mass on x -> BC = sqrt(1/2).
    b = np.array([[10.0, 10.0, 10.0]])
    assert M.bhattacharyya_coefficient(a, b) == pytest.approx(np.sqrt(0.5))
    assert M.bhattacharyya_coefficient(a, b) == pytest.approx(M.bhattacharyya_coefficient(b, a))
    # Disjoint support.
    c = np.array([[50.0, 50.0, 100.0]])
    assert M.bhattacharyya_coefficient(a, c) == 0.0
    # Hue 360 falls in the first bin like hue 0.
    assert M.bhattacharyya_coefficient(np.array([[50.0, 50.0, 0.0]]),
                                       np.array([[50.0, 50.0, 360.0]])) == pytest.approx(1.0)


def test_emotion_similarity_cases():
    e = np.array([[1.0, 0, 0, 0, 0, 0, 0, 0], [0, 0.5, 0.5, 0, 0, 0, 0, 0]])
    assert M.emotion_similarity(e, e) == pytest.approx(1.0)
    assert M.emotion_similarity(e, 3.0 * e) == pytest.approx(1.0)  # scale-free
    assert M.emotion_similarity(e[:1], e[1:]) == pytest.approx(0.0)  # orthogonal
    assert M.emotion_similarity(e, np.zeros_like(e)) == 0.0
    assert M.emotion_similarity([1.0, 1.0], [1.0, 0.0]) == pytest.approx(1 / np.sqrt(2))
    with pytest.raises(ValueError):
        M.emotion_similarity(e, e[:, :4])


def test_js_divergence_cases():
    p = np.array([[0.2, 0.3, 0.5, 0, 0, 0, 0, 0]])
    assert M.js_divergence(p, p) == pytest.approx(0.0, abs=1e-12)
    assert M.js_divergence(p, 2 * p) == pytest.approx(0.0, abs=1e-12)  # normalised first
    a = np.array([[1.0, 0.0]])
    b = np.array([[0.0, 1.0]])
    assert M.js_divergence(a, b) == pytest.approx(1.0)  # disjoint: 1 bit
    # Hand value: p = (1, 0), q = (1/2, 1/2): m = (3/4, 1/4).
    q = np.array([[0.5, 0.5]])
    kl_pm = np.log2(1 / 0.75)
    kl_qm = 0.5 * np.log2(0.5 / 0.75) + 0.5 * np.log2(0.5 / 0.25)
    assert M.js_divergence(a, q) == pytest.approx(0.5 * (kl_pm + kl_qm))
    rng = np.random.default_rng(0)
    x, y = rng.dirichlet(np.ones(8), 5), rng.dirichlet(np.ones(8), 5)
    assert M.js_divergence(x, y) == pytest.approx(M.js_divergence(y, x))
    assert 0.0 < M.js_divergence(x, y) < 1.0
    # All-zero row counts as uniform.
    assert M.js_divergence(np.zeros((1, 4)), np.full((1, 4), 0.25)) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError):
        M.js_divergence(-p, p)
