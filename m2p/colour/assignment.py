"""Minimum-cost assignment for the small matrices of palette matching (pure Python), and the
slot alignment of palettes over time built on it (:func:`align_palettes`).

>>> from m2p.colour.assignment import linear_sum_assignment
>>> rows, cols = linear_sum_assignment([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
>>> rows.tolist(), cols.tolist()
([0, 1, 2], [1, 0, 2])

The same contract as ``scipy.optimize.linear_sum_assignment`` (rectangular matrices, rows
sorted), for palettes of a few colours: importing ``scipy.optimize`` costs about 0.3 s, a
10th of a whole ``m2p track`` run, while an 8 x 8 problem takes about 0.2 ms here. The
algorithm is the shortest augmenting path method with dual variables (Jonker and Volgenant
1987) in the rectangular form given by Crouse (2016); ties between equally short paths
prefer a free column, and columns are scanned from the last, so that the result on tied costs
(a constant matrix gives the identity) is the one SciPy gives, which implements the same
pseudocode. Tested against SciPy on random and on tie-heavy integer matrices.

References
----------
Jonker, R. and Volgenant, A. (1987). A shortest augmenting path algorithm for dense and sparse
linear assignment problems. *Computing* 38(4), 325-340.
Crouse, D. F. (2016). On implementing 2D rectangular assignment algorithms. *IEEE
Transactions on Aerospace and Electronic Systems* 52(4), 1679-1696.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["linear_sum_assignment", "align_palettes", "SlotAligner"]


def linear_sum_assignment(cost: Any) -> tuple[np.ndarray, np.ndarray]:
    """Assign rows to columns (one each) at the least total cost.

    Parameters
    ----------
    cost
        Matrix ``(n_rows, n_cols)`` of finite costs.

    Returns
    -------
    (rows, cols)
        int arrays of length ``min(n_rows, n_cols)``: row ``rows[k]`` takes column
        ``cols[k]``; ``rows`` is increasing.

    Raises
    ------
    ValueError
        The matrix is not 2-D or holds NaN or infinity.
    """
    matrix = np.asarray(cost, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"expected a 2-D cost matrix, got shape {matrix.shape}")
    if not np.isfinite(matrix).all():
        raise ValueError("cost matrix holds NaN or infinity")
    if matrix.size == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    transposed = matrix.shape[0] > matrix.shape[1]
    if transposed:
        matrix = matrix.T
    col_of_row = _solve((matrix - matrix.min()).tolist())
    if transposed:  # rows of the transposed problem are the original columns
        order = np.argsort(col_of_row)
        return np.asarray(col_of_row, dtype=np.intp)[order], order.astype(np.intp)
    return np.arange(len(col_of_row), dtype=np.intp), np.asarray(col_of_row, dtype=np.intp)


def _solve(cost: list[list[float]]) -> list[int]:
    """Column of each row, for a non-negative cost matrix with rows <= columns."""
    n_rows, n_cols = len(cost), len(cost[0])
    u, v = [0.0] * n_rows, [0.0] * n_cols  # dual variables (row and column potentials)
    col_of_row, row_of_col = [-1] * n_rows, [-1] * n_cols
    for start in range(n_rows):
        # Dijkstra over reduced costs from the free row `start` to the nearest free column.
        dist, came_from = [math.inf] * n_cols, [-1] * n_cols
        unscanned = list(range(n_cols - 1, -1, -1))
        rows_seen, cols_seen = [start], []
        row, reach, sink = start, 0.0, -1
        while sink < 0:
            best, best_at = math.inf, -1
            for at, col in enumerate(unscanned):
                length = reach + cost[row][col] - u[row] - v[col]
                if length < dist[col]:
                    dist[col], came_from[col] = length, row
                if dist[col] < best or (dist[col] == best and row_of_col[col] < 0):
                    best, best_at = dist[col], at
            reach = best
            col = unscanned[best_at]
            unscanned[best_at] = unscanned[-1]
            unscanned.pop()
            cols_seen.append(col)
            if row_of_col[col] < 0:
                sink = col
            else:
                row = row_of_col[col]
                rows_seen.append(row)
        # Keep reduced costs non-negative and tight on the new matching.
        u[start] += reach
        for row in rows_seen[1:]:
            u[row] += reach - dist[col_of_row[row]]
        for col in cols_seen:
            v[col] -= reach - dist[col]
        # Flip the path: every column on it changes row.
        col = sink
        while True:
            row = came_from[col]
            row_of_col[col] = row
            col_of_row[row], col = col, col_of_row[row]
            if row == start:
                break
    return col_of_row


def align_palettes(palettes: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Reorder each palette so that a colour keeps its slot (position) over time.

    Parameters
    ----------
    palettes
        CIELCh arrays (n_i, 3), in time order.

    Returns
    -------
    list of numpy.ndarray
        The same colours, reordered. The first palette keeps the decoder's order. For each
        later palette, every slot ``k`` it can fill is compared with the *reference* colour of
        that slot (the colour slot ``k`` had in the latest palette that had a slot ``k``),
        and colours are assigned to slots by the Hungarian algorithm on CIEDE2000
        differences; colours left over (a palette longer than any before) go last.

    Notes
    -----
    Slots are positions, because :meth:`PaletteTrack.at` interpolates slot ``k`` with slot
    ``k``. While neighbouring palettes have the same length this is plain neighbour matching.
    When a palette is shorter, its colours fill the first slots, matched against the previous
    palette's first slots; when the palette grows again, the reappearing slots are matched
    against the colours they last had, so a colour that disappears for a few windows comes
    back in its old place instead of wherever the decoder happened to emit it.
    """
    aligner = SlotAligner()
    return [aligner.align(lch) for lch in palettes]


class SlotAligner:
    """The state of :func:`align_palettes` between palettes, one palette at a time (the palette
    engine aligns each window's palette as it is decoded)."""

    def __init__(self) -> None:
        self.reference = np.zeros((0, 3))

    def align(self, lch: np.ndarray) -> np.ndarray:
        """The colours of the next palette (n, 3), reordered into the slots."""
        colours = np.asarray(lch, dtype=np.float64)
        reference = self.reference
        slots = min(len(colours), len(reference))
        if slots:
            rows, cols = linear_sum_assignment(_alignment_cost(reference[:slots], colours))
            order = list(cols[np.argsort(rows)])
            taken = set(order)
            order += [j for j in range(len(colours)) if j not in taken]
            colours = colours[order]
        if len(colours) >= len(reference):
            self.reference = colours.copy()
        else:
            self.reference = np.concatenate([colours, reference[len(colours):]])
        return colours


def _alignment_cost(a_lch: np.ndarray, b_lch: np.ndarray) -> np.ndarray:
    """(n_a, n_b) CIEDE2000 costs for the Hungarian alignment, never NaN (scipy rejects it)."""
    from m2p.colour.difference import ciede2000_matrix

    return np.nan_to_num(ciede2000_matrix(a_lch, b_lch), nan=1e6, posinf=1e6)
