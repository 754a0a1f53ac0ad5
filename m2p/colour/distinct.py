"""Distinct colours grown from a palette, also for colour-vision deficiencies.

:func:`distinct_colors` is the search behind the legibility rule of
:mod:`m2p.colour.legibility` (and so behind :meth:`m2p.palette_types.Palette.take`, the chart
colours of every plotting adapter and the bars of a race): ``n`` colours that start with the
palette's own and add new ones of the same mood (hues, lightness and chroma around the
palette's), so that every pair is at least a stated CIEDE2000 apart in normal vision *and*
under simulated deuteranopia and protanopia (Machado et al. 2009, severity 1.0;
:mod:`m2p.colour.vision`), every colour lies in a lightness band (the one that keeps a contrast
against a background) and at most a stated number of them are near-black (or near-white).
Distances are measured on the 8-bit sRGB colours that are finally displayed (the hex codes),
so the guarantee is about what a user sees, not about unrounded numbers.

How far ``n`` colours can be kept apart is bounded: within the lightness band of a white or a
dark chart background at 3:1, the best placement over the whole sRGB gamut reaches about 26
CIEDE2000 for 6 colours, 22 for 8, 20 for 9 and 18 for 10 in the worst of the three visions
(``docs/science.md``). When the palette's neighbourhood cannot give ``n`` colours far enough
apart, the search widens hue (a grid over the whole hue circle at the gamut's chroma) and
improves the set by exchanges; only when that cannot reach the distance either does it say so,
once (:class:`m2p.errors.DistinctColorsWarning`), returning the most distant set it found.

Everything is deterministic: fixed candidate grids, greedy choices with index tie-breaks.

Examples
--------
>>> from m2p.colour.convert_np import hex_to_lch
>>> found = distinct_colors(hex_to_lch(["#1d3557", "#e63946"]), 4)
>>> len(found.lch), found.min_distance >= DEFAULT_MIN_DISTANCE
(4, True)

References
----------
Machado, G. M., Oliveira, M. M. and Fernandes, L. A. F. (2009). A physiologically-based model
    for simulation of color vision deficiency. IEEE Transactions on Visualization and Computer
    Graphics 15(6), 1291-1298.
Sharma, G., Wu, W. and Dalal, E. N. (2005). The CIEDE2000 color-difference formula.
    Color Research & Application 30(1), 21-30.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from m2p._internal.warn import warn as warn_user  # `warn` is a parameter here
from m2p.colour.convert_np import lch_to_lab, rgb8_to_lch, srgb_to_lab
from m2p.colour.difference import ciede2000
from m2p.colour.gamut import lch_to_rgb8
from m2p.colour.vision import VISIONS, min_pairwise_distance, simulate_cvd
from m2p.errors import DistinctColorsWarning, InvalidArgumentError

__all__ = [
    "DEFAULT_MIN_DISTANCE",
    "MAX_DISTINCT",
    "Distinct",
    "Extremes",
    "distinct_colors",
]

DEFAULT_MIN_DISTANCE = 20.0
"""CIEDE2000 every pair of :func:`distinct_colors` keeps by default, in all
:data:`~m2p.colour.vision.VISIONS`. Categorical colours closer than about 20 units are matched
to the wrong legend entry as thin lines and small markers (ten units, the former default, let
muted palettes through that could not be told apart); three just-noticeable differences are
only about 1-3 units."""

MAX_DISTINCT = 64
"""Most colours :func:`distinct_colors` grows (a Palette holds at most as many)."""


class Extremes(NamedTuple):
    """A cap on near-black and near-white colours: at most ``most`` colours with L* below
    ``below`` or above ``above`` (``None``: no bound on that side)."""

    below: float | None = None
    above: float | None = None
    most: int = MAX_DISTINCT

    def of(self, lightness: np.ndarray) -> np.ndarray:
        """Which of the L* values (any shape) are extreme."""
        out = np.zeros(np.shape(lightness), dtype=bool)
        if self.below is not None:
            out |= np.asarray(lightness) < self.below
        if self.above is not None:
            out |= np.asarray(lightness) > self.above
        return out


NO_EXTREMES = Extremes()

# Own colours: ladders of 1 L* steps; a colour may move this far beyond the band's edge to stay
# distinct, keeping this share of its displayed chroma (a yellow taken to L* 98 is white).
_MAX_OWN_SHIFT = 30.0
_KEEP_CHROMA = 0.6
# The mood grid around each palette colour: hue steps (degrees), L* steps, chroma factors.
_HUE_STEPS = (0.0, -20.0, 20.0, -40.0, 40.0, -60.0, 60.0, -90.0, 90.0, -120.0, 120.0, 180.0)
_LIGHTNESS_STEPS = tuple(float(v) for v in range(-48, 49, 6))
_CHROMA_FACTORS = (1.0, 0.6, 1.4)
_GREY_CHROMA = 15.0
# The wide grid (hue widened): every 15 degrees, 9 lightness levels across the band, chroma at
# these shares of the most the gamut holds there. Its colours count as this much farther from
# the palette than they are, so the palette's neighbourhood wins whenever it can.
_WIDE_HUES = tuple(float(h) for h in range(0, 360, 15))
_WIDE_LEVELS = 9
_WIDE_CHROMA = (1.0, 0.7, 0.45)
_WIDE_PENALTY = 15.0
# Selection: extra distance beyond ``_CAP * min_distance`` earns nothing; each unit of departure
# from the palette colour a candidate grew from costs ``_DEPARTURE_WEIGHT``.
_CAP = 1.5
_DEPARTURE_WEIGHT = 0.3
# Exchanges tried to push the smallest distance up when the greedy pass falls short.
_EXCHANGES = 400
_TABU = 6
_KICKS = 24
_STARTS = 4
# Inward margin on lightness bounds (float error).
_L_MARGIN = 0.05
# Margin on the distance: other implementations (colour-science's rounded sRGB matrix) measure
# up to about 0.01 CIEDE2000 less, and the stated distance should hold for them too.
_DISTANCE_MARGIN = 0.02


class Distinct(NamedTuple):
    """Result of :func:`distinct_colors`."""

    lch: np.ndarray
    """(n, 3) CIELCh of the chosen colours (exactly their 8-bit sRGB values)."""
    rgb8: np.ndarray
    """(n, 3) uint8 sRGB of the chosen colours."""
    min_distance: float
    """Smallest pairwise CIEDE2000 over all :data:`~m2p.colour.vision.VISIONS` (inf for one colour)."""


def distinct_colors(lch: np.ndarray, n: int, *, min_distance: float = DEFAULT_MIN_DISTANCE,
                    lightness: tuple[float, float] = (0.0, 100.0),
                    extremes: Extremes = NO_EXTREMES, warn: bool = True) -> Distinct:
    """``n`` colours grown from a palette, every pair ``min_distance`` apart in all visions.

    The palette's own colours come first, in their order, each moved in lightness only (hue
    and chroma kept as far as the sRGB gamut allows) into the ``lightness`` range and, where it
    must, up to 30 L* further to keep ``min_distance`` from the colours before it; a colour
    that cannot, or that would lose more than 40 % of its chroma to the gamut on the way, is
    replaced. New colours are then added one at a time from a grid around the palette colours
    (hue up to 180 degrees away, L* +-48, chroma x0.6 to x1.4), each the candidate that best
    combines distance from the colours chosen so far (counted up to 1.5 x ``min_distance``)
    with closeness to the palette colour it grew from, so near hues win whenever they are
    distinct enough. When that gives fewer than ``n``, hue is widened: a grid over the whole
    hue circle joins the candidates, and colours are exchanged one at a time (the one of the
    closest pair for the candidate farthest from the rest) until the distance is reached or no
    exchange helps. Near-black and near-white colours are capped by ``extremes`` throughout.

    Parameters
    ----------
    lch
        (k, 3) CIELCh palette (k >= 1).
    n
        Number of colours wanted, 1 to 64.
    min_distance
        Smallest CIEDE2000 between any two results, in normal vision and under simulated
        deuteranopia and protanopia (:func:`m2p.colour.vision.simulate_cvd`), on the 8-bit
        sRGB results. 0 keeps the palette's colours (only the lightness range applies).
    lightness
        ``(low, high)`` CIELAB L* every result lies in (see
        :func:`m2p.colour.legibility.legible_band`).
    extremes
        At most ``extremes.most`` results may be near-black / near-white (:class:`Extremes`).
    warn
        Warn when ``min_distance`` cannot be kept (see below).

    Returns
    -------
    Distinct
        The colours, and the smallest pairwise distance they achieve.

    Warns
    -----
    m2p.errors.DistinctColorsWarning
        ``n`` colours cannot keep ``min_distance`` within the range: the result is the ``n``
        colours with the largest distance this search finds, and the warning says how large
        it is.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        ``n`` not a whole number in [1, 64], ``min_distance`` negative or not finite, or a
        lightness range outside [0, 100] or empty.
    """
    found, achieved = grow(lch, n, min_distance, lightness, extremes)
    if warn and achieved < min_distance:
        warn_user(shortfall_message(n, min_distance, found.min_distance, lightness),
                  DistinctColorsWarning)
    return found


def shortfall_message(n: int, wanted: float, reached: float,
                      lightness: tuple[float, float]) -> str:
    """The one warning text for ``n`` colours that cannot be ``wanted`` CIEDE2000 apart."""
    lo, hi = lightness
    return (f"{n} colours cannot all be {wanted:g} CIEDE2000 apart in normal vision and under "
            f"deuteranopia and protanopia within L* {lo:.0f}-{hi:.0f} (what keeps them legible "
            f"on the background); hue was widened and they are at least "
            f"{math.floor(reached * 10.0) / 10.0:.1f} apart. "
            "Ask for fewer colours (8 is the most that keep 20 on a chart background) or a "
            "smaller min_distance.")


def grow(lch: np.ndarray, n: int, min_distance: float, lightness: tuple[float, float],
         extremes: Extremes = NO_EXTREMES) -> tuple[Distinct, float]:
    """:func:`distinct_colors` without the warning: the colours and the distance the search
    kept (below ``min_distance`` when ``n`` colours cannot keep it)."""
    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= MAX_DISTINCT:
        raise InvalidArgumentError(f"n must be a whole number from 1 to {MAX_DISTINCT}, got {n!r}")
    wanted = float(min_distance)
    if not (math.isfinite(wanted) and wanted >= 0.0):
        raise InvalidArgumentError(f"min_distance must be a CIEDE2000 >= 0, got {min_distance!r}")
    lo, hi = (float(v) for v in lightness)
    if not (0.0 <= lo < hi <= 100.0):
        raise InvalidArgumentError(f"lightness must be (low, high) with 0 <= low < high <= 100, "
                                   f"got {lightness!r}")
    if len(lch) == 0:
        raise InvalidArgumentError("a palette needs at least one colour")
    pool = _Pool(lch, int(n), lo, hi, extremes)
    chosen = pool.greedy(wanted)
    if len(chosen) < n and wanted > 0.0:
        # Local search from a few deterministic starts: the greedy set, then with fewer of the
        # palette's own colours kept (they pin the search where the palette is crowded).
        # Of the sets that keep the distance, the one keeping most of the palette's colours.
        target = wanted + _DISTANCE_MARGIN
        own_first = len([c for c in chosen if c < pool.n_ladder])
        best, best_key = chosen, (False, -1, -math.inf)
        for attempt in range(_STARTS):
            start = chosen[:max(0, len(chosen) - 2 * attempt)]
            found = pool.improve(start, wanted, seed=attempt)
            reached = pool.smallest(found)
            key = (reached >= target, pool.own_kept(found), reached)
            if key > best_key:
                best, best_key = found, key
            if best_key[0] and best_key[1] >= own_first:
                break
        chosen = best
    rgb8 = pool.rgb8[chosen]
    reached = min_pairwise_distance(rgb8 / 255.0)
    achieved = wanted if reached >= wanted else reached
    return Distinct(rgb8_to_lch(rgb8), rgb8, reached), achieved


# ----------------------------------------------------------------------------------------------
# The search
# ----------------------------------------------------------------------------------------------


class _Pool:
    """Every candidate colour (8-bit sRGB), its CIELAB in each vision and its departure cost.

    Candidates are, in this order: the lightness ladders of the palette's first ``n`` colours
    (``own``), the mood grid around every palette colour, the wide grid over the hue circle.
    """

    def __init__(self, lch: np.ndarray, n: int, lo: float, hi: float, extremes: Extremes) -> None:
        self.n, self.extremes = n, extremes
        own = lch[:n].copy()
        own[:, 0] = np.clip(own[:, 0], lo + _L_MARGIN, hi - _L_MARGIN)
        # Ladders: the colour entering the band, then 1 L* steps away from there, nearest first.
        steps = np.arange(0.0, _MAX_OWN_SHIFT + 0.5, 1.0)
        shifts = np.stack([steps, -steps], axis=1).reshape(-1)[1:]  # 0, +1, -1, +2, ...
        ladders = np.repeat(own[:, None, :], len(shifts), axis=1)
        ladders[..., 0] = own[:, None, 0] + shifts[None, :]
        # The mood grid: around every palette colour (not only the first n).
        base = lch.copy()
        base[:, 0] = np.clip(base[:, 0], lo, hi)
        base[:, 1] = np.maximum(base[:, 1], _GREY_CHROMA)
        dh, dl, cf = np.meshgrid(_HUE_STEPS, _LIGHTNESS_STEPS, _CHROMA_FACTORS, indexing="ij")
        grid = np.stack([base[:, None, 0] + dl.reshape(1, -1),
                         base[:, None, 1] * cf.reshape(1, -1),
                         base[:, None, 2] + dh.reshape(1, -1)], axis=-1).reshape(-1, 3)
        wide = _wide_grid(lo, hi)
        rgb8 = lch_to_rgb8(np.concatenate([ladders.reshape(-1, 3), grid, wide]))
        shown = rgb8_to_lch(rgb8)
        inside = (shown[:, 0] >= lo) & (shown[:, 0] <= hi)
        n_ladder = ladders.shape[0] * ladders.shape[1]
        # A rung that the gamut bleaches is not the same colour any more: keep rungs with at
        # least 60 % of the colour's displayed chroma where it enters the band.
        rung_chroma = shown[:n_ladder, 1].reshape(len(own), len(shifts))
        kept = rung_chroma >= _KEEP_CHROMA * rung_chroma[:, :1]
        self.ladder_ok = inside[:n_ladder].reshape(len(own), len(shifts)) & kept
        self.n_ladder, self.rungs = n_ladder, len(shifts)
        self.ok = inside.copy()
        self.ok[:n_ladder] = self.ladder_ok.reshape(-1)
        self.extreme = extremes.of(shown[:, 0])
        self.rgb8 = rgb8
        self.lab = np.stack([srgb_to_lab(simulate_cvd(rgb8 / 255.0, v)) for v in VISIONS])
        # Departure: rungs cost their shift; grid colours their CIEDE2000 from the palette
        # colour they grew from; wide colours that from the nearest palette colour, plus a toll.
        palette_lab = lch_to_lab(base)
        mood = ciede2000(self.lab[0, n_ladder:n_ladder + len(grid)],
                         np.repeat(palette_lab, len(grid) // len(base), axis=0))
        near = ciede2000(self.lab[0, n_ladder + len(grid):, None, :],
                         palette_lab[None, :, :]).min(axis=1)
        self.departure = np.concatenate([np.abs(np.tile(shifts, len(own))) * 0.1, mood,
                                         near + _WIDE_PENALTY])
        self.wide_start = n_ladder + len(grid)
        self._rows: dict[int, np.ndarray] = {}

    def row(self, index: int) -> np.ndarray:
        """CIEDE2000 (worst vision) from candidate ``index`` to every candidate (cached)."""
        found = self._rows.get(index)
        if found is None:
            found = ciede2000(self.lab, self.lab[:, index][:, None, :]).min(axis=0)
            self._rows[index] = found
        return found

    def allowed(self, chosen: list[int]) -> np.ndarray:
        """Candidates that may join ``chosen``: in range, and not one extreme too many."""
        ok = self.ok.copy()
        if int(self.extreme[chosen].sum()) >= self.extremes.most:
            ok &= ~self.extreme
        return ok

    def nearest(self, chosen: list[int]) -> np.ndarray:
        """Smallest distance from every candidate to ``chosen`` (inf when empty)."""
        out = np.full(len(self.rgb8), np.inf)
        for index in chosen:
            np.minimum(out, self.row(index), out=out)
        return out

    def greedy(self, min_distance: float) -> list[int]:
        """Own colours first (first rung that keeps the distance), then the grids, greedily."""
        cap = _CAP * max(min_distance, 5.0)
        target = min_distance + _DISTANCE_MARGIN if min_distance > 0.0 else 0.0
        chosen: list[int] = []
        nearest = np.full(len(self.rgb8), np.inf)
        for k in range(self.ladder_ok.shape[0]):
            if len(chosen) == self.n:
                break
            idx = k * self.rungs + np.arange(self.rungs)
            ok = self.allowed(chosen)[idx] & (nearest[idx] >= target)
            if ok.any():
                chosen.append(int(idx[np.argmax(ok)]))
                np.minimum(nearest, self.row(chosen[-1]), out=nearest)
        grids = np.arange(len(self.rgb8)) >= self.n_ladder
        while len(chosen) < self.n:
            ok = grids & self.allowed(chosen) & (nearest >= target) & (nearest > 0.0)
            if not ok.any():
                break
            score = np.minimum(nearest, cap) - _DEPARTURE_WEIGHT * self.departure
            chosen.append(int(np.argmax(np.where(ok, score, -np.inf))))
            np.minimum(nearest, self.row(chosen[-1]), out=nearest)
        return chosen

    def improve(self, chosen: list[int], min_distance: float, *, seed: int = 0) -> list[int]:
        """Widen hue: fill to ``n`` with the farthest candidates, then exchange members until
        every pair keeps ``min_distance`` or no exchange helps.

        An exchange takes a member of a pair closer than the distance out and puts in the
        candidate farthest from the others (among those far enough, the one of least
        departure); it is kept when it improves, in this order, the smallest distance, the
        number of pairs closer than the distance, and their summed shortfall. Members taken
        out are not put back for a while (a tabu list), so the search does not circle.
        """
        chosen = list(chosen)
        target = min_distance + _DISTANCE_MARGIN
        if not chosen:  # no palette colour kept: start from the most chromatic candidate
            chosen = [int(np.argmax(np.where(self.ok, rgb8_to_lch(self.rgb8)[:, 1], -1.0)))]
        while len(chosen) < self.n:  # farthest-point fill, whatever the distance
            nearest = np.where(self.allowed(chosen), self.nearest(chosen), -np.inf)
            nearest[chosen] = -np.inf
            chosen.append(int(np.argmax(nearest)))
        if self.n < 2:
            return chosen
        best = current = list(chosen)
        best_score = score = self._score(current, target)
        tabu: list[int] = []
        rng = np.random.default_rng(seed)  # deterministic kicks
        kicks = 0
        for _ in range(_EXCHANGES):
            if best_score[0] >= target:
                break
            pairs = self._pairs(current)
            short = pairs < target
            # New colours before the palette's own (kept while anything else helps), then
            # members in the most short pairs, later members on ties.
            counts = short.sum(axis=1)
            order = sorted(np.flatnonzero(counts),
                           key=lambda k: (bool(current[k] < self.n_ladder), -counts[k], -k))
            moved = False
            for k in order:
                rest = current[:k] + current[k + 1:]
                reach = np.where(self.allowed(rest), self.nearest(rest), -np.inf)
                reach[rest] = -np.inf
                reach[tabu] = -np.inf
                good = reach >= target
                if good.any():
                    pick = int(np.argmin(np.where(good, self.departure, np.inf)))
                else:
                    pick = int(np.argmax(reach))
                trial = current[:k] + [pick] + current[k + 1:]
                value = self._score(trial, target)
                if value > score:
                    tabu = (tabu + [current[k]])[-_TABU:]
                    current, score, moved = trial, value, True
                    break
            if score > best_score:
                best, best_score = list(current), score
            if not moved:  # a local optimum: kick the members of short pairs elsewhere
                if kicks == _KICKS:
                    break
                kicks += 1
                short_members = np.flatnonzero((self._pairs(current) < target).any(axis=1))
                allowed = np.flatnonzero(self.allowed([]))
                current = list(current)
                for k in short_members[-2:]:
                    current[k] = int(rng.choice(allowed))
                score = self._score(current, target)
        return best

    def own_kept(self, chosen: list[int]) -> int:
        """How many of the palette's own colours (any rung of their ladders) ``chosen`` has."""
        return len({c // self.rungs for c in chosen if c < self.n_ladder})

    def smallest(self, chosen: list[int]) -> float:
        """Smallest distance among ``chosen`` (inf for fewer than two)."""
        return float(self._pairs(chosen).min()) if len(chosen) > 1 else math.inf

    def _pairs(self, chosen: list[int]) -> np.ndarray:
        """(n, n) distances among ``chosen`` (inf on the diagonal)."""
        out = np.stack([self.row(a)[chosen] for a in chosen])
        np.fill_diagonal(out, np.inf)
        return out

    def _score(self, chosen: list[int], target: float) -> tuple[float, int, float]:
        """What an exchange must improve: smallest distance, then fewer short pairs, then
        less summed shortfall (larger is better in every part)."""
        pairs = self._pairs(chosen)
        upper = pairs[np.triu_indices(len(chosen), 1)]
        shortfall = np.maximum(target - upper, 0.0)
        return (round(float(upper.min()), 6), -int((shortfall > 0).sum()),
                -round(float(shortfall.sum()), 6))


def _wide_grid(lo: float, hi: float) -> np.ndarray:
    """(m, 3) CIELCh over the whole hue circle and the lightness band, at shares of the most
    chroma the sRGB gamut holds there (found by gamut-mapping a chroma of 200)."""
    from m2p.colour.gamut import gamut_map_lch

    levels = np.linspace(lo + 0.5, hi - 0.5, _WIDE_LEVELS)
    ll, hh = np.meshgrid(levels, _WIDE_HUES, indexing="ij")
    most = gamut_map_lch(np.stack([ll.ravel(), np.full(ll.size, 200.0), hh.ravel()], axis=-1))
    return np.concatenate([most * np.array([1.0, f, 1.0]) for f in _WIDE_CHROMA])
