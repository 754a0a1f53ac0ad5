"""m2p.colour.assignment against SciPy's linear_sum_assignment, the reference it replaces."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment as scipy_assignment

from m2p.colour.assignment import linear_sum_assignment


@pytest.mark.parametrize("ties", [False, True])
def test_equals_scipy_on_random_matrices(ties):
    rng = np.random.default_rng(int(ties))
    for _ in range(2000):
        shape = rng.integers(1, 10, 2)
        cost = rng.integers(0, 4, shape).astype(float) if ties else rng.standard_normal(shape)
        ours, theirs = linear_sum_assignment(cost), scipy_assignment(cost)
        np.testing.assert_array_equal(ours[0], theirs[0])
        np.testing.assert_array_equal(ours[1], theirs[1])


def test_constant_matrix_gives_identity_and_empty_gives_empty():
    rows, cols = linear_sum_assignment(np.ones((4, 4)))
    assert rows.tolist() == cols.tolist() == [0, 1, 2, 3]
    assert [a.size for a in linear_sum_assignment(np.zeros((0, 3)))] == [0, 0]


def test_bad_matrices_are_refused():
    with pytest.raises(ValueError, match="2-D"):
        linear_sum_assignment(np.ones(3))
    with pytest.raises(ValueError, match="NaN"):
        linear_sum_assignment([[0.0, np.nan], [1.0, 2.0]])
