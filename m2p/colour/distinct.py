"""Distinct colours grown from a palette, also for colour-vision deficiencies.

:func:`distinct_colors` is the search behind the legibility rule of
:mod:`m2p.colour.legibility` (and so behind :meth:`m2p.palette_types.Palette.take`, the chart
colours of every plotting adapter and the bars of a race): ``n`` colours that start with the
palette's own, each at its own hue and chroma and moved in lightness only, and add new ones of
the same mood (hues, lightness and chroma around the palette's, or any hue when those cannot),
so that every pair is at least a stated CIEDE2000 apart in normal vision *and*
under simulated deuteranopia and protanopia (Machado et al. 2009, severity 1.0;
:mod:`m2p.colour.vision`), every colour lies in a lightness band (the one that keeps a contrast
against a background) and at most a stated number of them are near-black (or near-white).
Distances are measured on the 8-bit sRGB colours that are finally displayed (the hex codes),
so the guarantee is about what a user sees, not about unrounded numbers.

How far ``n`` colours can be kept apart is bounded: within the lightness band of a white or a
dark chart background at 3:1, the best placement over the whole sRGB gamut reaches about 26
CIEDE2000 for 6 colours, 22 for 8, 20 for 9 and 18 for 10 in the worst of the three visions
(``docs/science.md``). The search runs in two stages. First the palette's own colours keep
their hue: each may take any lightness of the band (then other chroma, x0.7 to x2), the added
colours any candidate, and exchanges improve the set. Only when that cannot keep the distance
may own colours leave their hue: first all of them (the search as free as it gets); when that
keeps the distance, own colours are let go one at a time (greys, then those crowding other own
colours, the later first) and the first set that keeps the distance wins, each freed colour
then taking the least hue move that keeps it. Own colours that kept their hue come first, then
those that moved, then the added ones. Only when the distance cannot be kept at all does it
say so, once (:class:`m2p.errors.DistinctColorsWarning`), returning the most distant set found.

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

import functools
import math
import threading
from typing import NamedTuple

import numpy as np

from m2p._internal.warn import warn as warn_user  # `warn` is a parameter here
from m2p.colour.convert_np import lch_to_lab, rgb8_to_lch, srgb_to_lab
from m2p.colour.difference import ciede2000, ciede2000_fast
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

# Own colours: ladders of 1 L* steps across the band, keeping this share of the displayed
# chroma where the colour enters the band (a yellow taken to L* 98 is white).
_KEEP_CHROMA = 0.6
# When lightness alone cannot keep an own colour apart: near hues (degrees) at these L* steps,
# and the toll that makes any rung cheaper than any hue move.
_NEAR_HUES = (-3.0, 3.0, -6.0, 6.0, -10.0, 10.0, -15.0, 15.0)
_NEAR_LEVEL_STEP = 3.0
_HUE_TOLL = 100.0
# Side ladders (chroma factors) and what leaving the colour's own chroma costs.
_SIDE_CHROMA = (0.7, 1.4, 2.0)
_SIDE_COST = 20.0
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
_PARTIAL_STARTS = 1
# Within this much of the distance, stage 2 tries further starts.
_CLOSE = 3.0
_KEEP_ALL: frozenset[int] = frozenset()
# CIEDE2000's branch guard: hues within this many degrees of opposite are also measured with
# the candidate turned by +-_TURN degrees.
_OPPOSITE = 2.0
_TURN = 0.5
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

    The palette's first ``n`` colours come first, in their order, each at its own hue and
    chroma (as far as the sRGB gamut allows) and moved in lightness only, anywhere in the
    ``lightness`` range, to keep ``min_distance`` from each other; where lightness cannot,
    chroma changes too (x0.7 to x2). New colours are added from a grid around the palette
    colours (hue up to 180 degrees away, L* +-48, chroma x0.6 to x1.4) and a grid over the whole
    hue circle (hue widened), each the candidate that best combines distance from the colours
    chosen so far (counted up to 1.5 x ``min_distance``) with closeness to the palette, and the
    set is improved by exchanges (a member of the closest pair for the candidate farthest from
    the rest). Only when no such set keeps the distance may own colours leave their hue: as few
    as can (greys first, then those crowding other own colours, the later first), each by the
    least hue move that keeps the distance; they follow the own colours that kept their hue.
    Near-black and near-white colours are capped by ``extremes`` throughout.

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
    pool = _Pool(lch, int(n), lo, hi, extremes, wanted)
    chosen = pool.greedy(wanted)
    target = wanted + _DISTANCE_MARGIN
    if wanted > 0.0 and (len(chosen) < n or pool.smallest(chosen) < target):
        # Stage 1: every own colour keeps its hue (lightness moves, then chroma).
        chosen = pool.polish(pool.search(chosen, wanted, _KEEP_ALL), wanted, _KEEP_ALL)
        if pool.smallest(chosen) < target and pool.k:
            chosen = _give_way(pool, chosen, wanted)
    chosen = pool.ordered(chosen)
    rgb8 = pool.rgb8[chosen]
    reached = min_pairwise_distance(rgb8 / 255.0)
    achieved = wanted if reached >= wanted else reached
    return Distinct(rgb8_to_lch(rgb8), rgb8, reached), achieved


def _give_way(pool: "_Pool", kept: list[int], wanted: float) -> list[int]:
    """Stage 2, where lightness and chroma alone cannot keep the distance: own colours may
    leave their hue, as few as the search finds and each by the least hue move that keeps it.

    First every own colour may move (the search as free as it gets); when even that cannot
    keep the distance, the farther apart of that set and the hue-kept one is the answer (the
    warning says how far). When it can, two ways look for fewer moved colours: letting own
    colours go one at a time from the hue-kept set, in :meth:`_Pool.give_way_order` (greys,
    then the colours crowding other own colours, the later first), until a set keeps the
    distance; and bringing them back one at a time from the free set (:func:`_bring_back`).
    The set with more own colours on their ladder wins (then the smaller hue moves).
    """
    target = wanted + _DISTANCE_MARGIN
    everyone = frozenset(range(pool.k))
    greedy = pool.greedy(wanted, free=everyone)
    loose = _attempt(pool, [greedy, kept], wanted, everyone)
    if pool.smallest(loose) < target:
        return loose if pool.smallest(loose) > pool.smallest(kept) else kept
    # Two ways to as few moved colours as can be (the search is local: either may find
    # fewer): let own colours go one at a time from the hue-kept set, and bring them back one
    # at a time from the free set. The set with more own colours at their hue wins.
    cumulative: frozenset[int] = frozenset()
    let_go = loose
    for slot in pool.give_way_order(kept, target)[:-1]:
        cumulative = cumulative | {slot}
        trial = _attempt(pool, [kept], wanted, cumulative)
        if pool.smallest(trial) >= target:
            let_go = trial
            break
    brought_back = _bring_back(pool, loose, kept, wanted)
    return max(brought_back, let_go, key=pool.hues_kept)


def _bring_back(pool: "_Pool", loose: list[int], kept: list[int], wanted: float) -> list[int]:
    """From a set with every own colour free: back to their hue, one at a time (the colours
    that give way last first), each put on its ladder (the rung farthest from the others) and
    kept there when the search from that set still keeps the distance."""
    target = wanted + _DISTANCE_MARGIN
    current, free = loose, set(range(pool.k))
    for slot in reversed(pool.give_way_order(kept, target)):
        fixed = frozenset(free - {slot})
        if pool.kind[current[slot]] == _RUNG:
            free = set(fixed)
            continue
        rest = current[:slot] + current[slot + 1:]
        rungs = pool.slot_mask(slot, fixed) & pool.allowed(rest)
        if not rungs.any():
            continue
        start = list(current)
        start[slot] = int(np.argmax(np.where(rungs, pool.nearest(rest), -np.inf)))
        found = pool.improve(start, wanted, fixed)
        if pool.smallest(found) >= target:
            current, free = found, set(fixed)
    return pool.polish(current, wanted, frozenset(free))


def _attempt(pool: "_Pool", starts: list[list[int]], wanted: float,
             free: frozenset[int]) -> list[int]:
    """The search with own slots ``free`` to leave their hue, from ``starts``; when it ends
    close to the distance (the search is local, the landscape rugged), from further starts
    (each start's own colours, then fewer of them), until one keeps it; then :meth:`_Pool.polish`."""
    target = wanted + _DISTANCE_MARGIN
    best = pool.search(starts[0], wanted, free, starts=_PARTIAL_STARTS)
    others = starts[1:] + [start[:j] for start in starts for j in range(pool.k, -1, -1)]
    for start in others:
        if not target - _CLOSE <= pool.smallest(best) < target:
            break
        best = max(best, pool.improve(start, wanted, free), key=pool.smallest)
    return pool.polish(best, wanted, free)


# ----------------------------------------------------------------------------------------------
# The search
# ----------------------------------------------------------------------------------------------

# Kinds of candidate.
_RUNG, _NEAR, _MOOD, _WIDE = 0, 1, 2, 3


class _Pool:
    """Every candidate colour (8-bit sRGB), its CIELAB in each vision and what choosing it costs.

    A result has ``n`` slots: the first ``k = min(n, len(palette))`` belong to the palette's own
    colours, the rest are added colours. Candidates are, in this order: the lightness ladders of
    the own colours (``_RUNG``: the colour's hue and chroma at every L* of the band, one L*
    apart, then the same at other chroma, which costs more), near hues of each own colour
    (``_NEAR``: hue moved by 3 to 15 degrees), the mood grid around every palette colour
    (``_MOOD``) and the wide grid over the hue circle (``_WIDE``). Own slot ``i`` takes a rung of
    ladder ``i``; once it is free to leave its hue (stage 2), any colour but another's ladder,
    at a cost of a toll plus its hue move. Added slots take any colour.
    """

    def __init__(self, lch: np.ndarray, n: int, lo: float, hi: float, extremes: Extremes,
                 min_distance: float = DEFAULT_MIN_DISTANCE) -> None:
        self.n, self.extremes = n, extremes
        # Distances beyond this count only as "far enough" (the greedy caps them at
        # _CAP x the distance): CIEDE2000's branch guard (:meth:`_colour_row`) skips them.
        self.guard_below = _CAP * max(min_distance, 5.0) + 1.0
        own = lch[:n].copy()
        self.k = len(own)
        entry = np.clip(own[:, 0], lo + _L_MARGIN, hi - _L_MARGIN)
        # Ladders: the colour where it enters the band, then 1 L* steps away, nearest first.
        steps = np.arange(0.0, hi - lo + 1.0, 1.0)
        shifts = np.stack([steps, -steps], axis=1).reshape(-1)[1:]  # 0, +1, -1, +2, ...
        rung_l = entry[:, None] + shifts[None, :]
        inside_l = (rung_l >= lo + _L_MARGIN) & (rung_l <= hi - _L_MARGIN)
        owner_r, rank = np.nonzero(inside_l)  # row-major: own colour, then nearest first
        rungs = own[owner_r].copy()
        rungs[:, 0] = rung_l[owner_r, rank]
        rung_shift = shifts[rank]
        # Side ladders: the same hue at other chroma, used only where lightness alone fails.
        side = np.concatenate([rungs * np.array([1.0, f, 1.0]) for f in _SIDE_CHROMA])
        rung_cost = np.concatenate([np.abs(rung_shift) * 0.1]
                                   + [np.abs(rung_shift) * 0.1 + _SIDE_COST] * len(_SIDE_CHROMA))
        owner_r = np.tile(owner_r, 1 + len(_SIDE_CHROMA))
        rungs = np.concatenate([rungs, side])
        # Near hues of each own colour, across the band.
        levels = np.arange(lo + 1.0, hi - 0.5, _NEAR_LEVEL_STEP)
        dh, ll = np.meshgrid(_NEAR_HUES, levels, indexing="ij")
        near = np.stack([np.broadcast_to(ll.ravel(), (self.k, ll.size)),
                         np.broadcast_to(own[:, 1:2], (self.k, ll.size)),
                         own[:, 2:3] + dh.ravel()[None, :]], axis=-1).reshape(-1, 3)
        near_owner = np.repeat(np.arange(self.k), ll.size)
        # The mood grid: around every palette colour (not only the first n).
        base = lch.copy()
        base[:, 0] = np.clip(base[:, 0], lo, hi)
        base[:, 1] = np.maximum(base[:, 1], _GREY_CHROMA)
        mh, ml, mc = np.meshgrid(_HUE_STEPS, _LIGHTNESS_STEPS, _CHROMA_FACTORS, indexing="ij")
        per = mh.size
        grid = np.stack([base[:, None, 0] + ml.reshape(1, -1),
                         base[:, None, 1] * mc.reshape(1, -1),
                         base[:, None, 2] + mh.reshape(1, -1)], axis=-1).reshape(-1, 3)
        grid_owner = np.repeat(np.arange(len(base)), per)
        wide = _wide_grid(lo, hi)
        rgb8 = lch_to_rgb8(np.concatenate([rungs, near, grid, wide]))
        shown = rgb8_to_lch(rgb8)
        inside = (shown[:, 0] >= lo) & (shown[:, 0] <= hi)
        sizes = (len(rungs), len(near), len(grid), len(wide))
        self.kind = np.repeat(np.array([_RUNG, _NEAR, _MOOD, _WIDE]), sizes)
        self.owner = np.concatenate([owner_r, near_owner, grid_owner, np.full(len(wide), -1)])
        # A rung that the gamut bleaches is not the same colour any more: keep rungs with at
        # least 60 % of the colour's displayed chroma where it enters the band.
        rung_chroma = shown[:len(rungs), 1]
        at_entry = rung_chroma[np.searchsorted(owner_r[:len(rung_shift)], owner_r)]
        ok = inside.copy()
        ok[:len(rungs)] &= rung_chroma >= _KEEP_CHROMA * at_entry
        lab = np.stack([srgb_to_lab(simulate_cvd(rgb8 / 255.0, v)) for v in VISIONS])
        # Departure of an added colour: near-hue and mood colours their CIEDE2000 from the
        # palette colour they grew from; wide colours that from the nearest palette colour,
        # plus a toll, so the palette's neighbourhood wins whenever it can.
        palette_lab = lch_to_lab(base)
        start, stop = len(rungs), len(rungs) + len(near) + len(grid)
        grown_from = np.concatenate([near_owner, grid_owner])
        mood = ciede2000(lab[0, start:stop], palette_lab[grown_from])
        nearest = ciede2000(lab[0, stop:, None, :], palette_lab[None, :, :]).min(axis=1)
        departure = np.concatenate([rung_cost, mood, nearest + _WIDE_PENALTY])
        # Only candidates that may be chosen stay (about a third of the grids lies outside the
        # band): every distance row is computed over the pool, so its size is the search's
        # cost. A colour without any usable rung keeps its ladder for the greedy fallback.
        rung = self.kind == _RUNG
        unusable = np.setdiff1d(np.arange(self.k), self.owner[rung & ok])
        keep = ok | (rung & np.isin(self.owner, unusable))
        self.kind, self.owner, self.ok = self.kind[keep], self.owner[keep], ok[keep]
        self.extreme = extremes.of(shown[keep, 0])
        self._ok_not_extreme = self.ok & ~self.extreme
        self.ok.flags.writeable = self._ok_not_extreme.flags.writeable = False
        self.rgb8, self.departure = rgb8[keep], departure[keep]
        self.hue, self.chroma = shown[keep, 2], shown[keep, 1]
        # Distances depend on the displayed colour only, and the grids and ladders hold many
        # equal 8-bit colours: rows are computed once per distinct colour (``self.colour``
        # maps a candidate to it), on its CIELAB in every vision.
        packed = (self.rgb8.astype(np.int64) * np.array([65536, 256, 1])).sum(axis=1)
        _, first, self.colour = np.unique(packed, return_index=True, return_inverse=True)
        self.colour = self.colour.reshape(-1)
        # Single precision: rows twice as fast, at most ~1e-4 CIEDE2000 of error below 35
        # (where the search compares) against a margin of 0.02; the final distance is
        # measured again in double precision.
        self.lab = lab[:, keep][:, first].astype(np.float32)
        # Hue in every vision (degrees) and the colours turned by -+_TURN degrees, for the
        # CIEDE2000 branch guard of :meth:`_colour_row`.
        self.hue_all = np.degrees(np.arctan2(self.lab[..., 2], self.lab[..., 1])) % 360.0
        self.turned = np.stack([_turn(self.lab, angle) for angle in (_TURN, -_TURN)])
        self.own_hue = own[:, 2]
        self.own_chroma = own[:, 1]
        # Which own colours give way first when lightness cannot keep them apart: greys (no
        # hue to lose), then the later in the palette's order.
        self.give_way = {slot: (bool(own[slot, 1] >= _GREY_CHROMA), -slot)
                         for slot in range(self.k)}
        self._costs: dict[int, np.ndarray] = {}
        # Distance rows depend only on the candidates, which are the same for every n >= the
        # palette's length (``take(6)``, ``take(7)``, ``take(8)`` of a 5-colour palette): the
        # last few pools' rows are shared (:func:`_shared_rows`).
        self._rows = _shared_rows((lch.tobytes(), self.k, lo, hi, extremes, min_distance))
        self._pair_cache: dict[tuple[int, ...], np.ndarray] = {}
        self._improved: dict[tuple, list[int]] = {}

    # -- which candidates a slot may take -----------------------------------------------------

    def slot_mask(self, slot: int, free: frozenset[int]) -> np.ndarray:
        """Candidates slot ``slot`` may take: an own slot its ladder (and, when in ``free``, any
        colour but another's ladder); an added slot anything but a ladder."""
        if slot >= self.k:
            return np.ones(len(self.kind), dtype=bool)
        mine = (self.owner == slot) & (self.kind == _RUNG)
        return (mine | (self.kind != _RUNG)) if slot in free else mine

    def give_way_order(self, chosen: list[int], target: float) -> list[int]:
        """Own slots in the order they leave their hue: greys (no hue to lose), then those in
        most pairs closer than ``target`` with other own colours, then with any, the later
        first."""
        short = self._pairs(chosen) < target
        with_own = short[:, :self.k].sum(axis=1)
        return sorted(range(self.k), key=lambda s: (self.give_way[s][0], -int(with_own[s]),
                                                    -int(short[s].sum()), -s))

    def cost(self, slot: int) -> np.ndarray:
        """What choosing each candidate costs in slot ``slot`` (least wins among good ones):
        for an added colour its departure; for an own colour a rung its L* shift, any other
        colour a toll (so that every rung is cheaper) plus its hue move in degrees."""
        if slot >= self.k:
            return self.departure
        found = self._costs.get(slot)
        if found is None:
            moved = np.abs((self.hue - self.own_hue[slot] + 180.0) % 360.0 - 180.0)
            # A grey candidate has no hue to keep (a vivid colour turned grey lost all of it);
            # a grey own colour has none to lose: its moves cost in proportion to its chroma.
            moved = np.where(self.chroma < _GREY_CHROMA, 180.0, moved)
            moved *= min(1.0, self.own_chroma[slot] / _GREY_CHROMA)
            lost = np.abs(self.chroma - self.own_chroma[slot])
            found = np.where(self.kind == _RUNG, self.departure,
                             _HUE_TOLL + moved + 0.1 * lost)
            self._costs[slot] = found
        return found

    def ordered(self, chosen: list[int]) -> list[int]:
        """Own colours kept at their hue first (in palette order), then own colours that had
        to move hue, then the added colours."""
        chosen = list(chosen)
        for slot in range(self.k):  # an added colour on this own colour's ladder: it is the own
            if self.kind[chosen[slot]] == _RUNG and self.owner[chosen[slot]] == slot:
                continue
            for other in range(self.k, len(chosen)):
                if self.kind[chosen[other]] == _RUNG and self.owner[chosen[other]] == slot:
                    chosen[slot], chosen[other] = chosen[other], chosen[slot]
                    break
        kept = [c for s, c in enumerate(chosen) if s < self.k and self.kind[c] == _RUNG]
        moved = [c for s, c in enumerate(chosen) if s < self.k and self.kind[c] != _RUNG]
        return kept + moved + list(chosen[self.k:])

    # -- distances ----------------------------------------------------------------------------

    def row(self, index: int) -> np.ndarray:
        """CIEDE2000 (worst vision) from candidate ``index`` to every candidate (cached per
        displayed colour)."""
        colour = int(self.colour[index])
        found = self._rows.get(colour)
        if found is None:
            found = self._colour_row(colour)[self.colour]
            self._rows[colour] = found
        return found

    def _colour_row(self, colour: int) -> np.ndarray:
        """CIEDE2000 (worst vision) from distinct colour ``colour`` to every distinct colour."""
        lab = self.lab
        found = ciede2000_fast(lab, lab[:, colour][:, None, :])
        # CIEDE2000 jumps where two hues are 180 degrees apart (the mean hue changes branch): a
        # second implementation, a hair off in a* and b*, can land on the other side and
        # measure up to ~0.2 less. Counting the lower side keeps the distance for every
        # implementation: such pairs are also measured with their hues turned +-_TURN degrees
        # apart (the one colour one way, the other the other way, and vice versa, so that a
        # pair measures the same from either colour: :meth:`_pairs` reads either row).
        gap = np.abs(np.abs(self.hue_all - self.hue_all[:, colour:colour + 1]) - 180.0)
        vision, other = np.nonzero((gap < _OPPOSITE) & (found < self.guard_below))
        if len(other):
            plus, minus = self.turned[0], self.turned[1]
            turned = ciede2000_fast(np.concatenate([plus[vision, other], minus[vision, other]]),
                                    np.concatenate([minus[vision, colour], plus[vision, colour]]))
            lower = np.minimum(turned[:len(other)], turned[len(other):])
            found[vision, other] = np.minimum(found[vision, other], lower)
        return found.min(axis=0)

    def allowed(self, chosen: list[int]) -> np.ndarray:
        """Candidates that may join ``chosen``: in range, and not one extreme too many
        (read-only)."""
        if int(self.extreme[chosen].sum()) >= self.extremes.most:
            return self._ok_not_extreme
        return self.ok

    def nearest(self, chosen: list[int]) -> np.ndarray:
        """Smallest distance from every candidate to ``chosen`` (inf when empty)."""
        out = np.full(len(self.rgb8), np.inf)
        for index in chosen:
            np.minimum(out, self.row(index), out=out)
        return out

    def hues_kept(self, chosen: list[int]) -> tuple[int, float]:
        """How many own colours are on their ladder, then less total cost of the others."""
        own = chosen[:self.k]
        on = sum(1 for s, c in enumerate(own) if self.kind[c] == _RUNG and self.owner[c] == s)
        return on, -sum(float(self.cost(s)[c]) for s, c in enumerate(own))

    def smallest(self, chosen: list[int]) -> float:
        """Smallest distance among ``chosen`` (inf for fewer than two)."""
        return float(self._pairs(chosen).min()) if len(chosen) > 1 else math.inf

    # -- the search ---------------------------------------------------------------------------

    def greedy(self, min_distance: float, *, free: frozenset[int] = frozenset()) -> list[int]:
        """Own colours first (the cheapest candidate of their slot that keeps the distance from
        those before: the rung nearest their own L*, for ``free`` slots else the least hue
        move; failing that the farthest), then added colours greedily from the grids."""
        cap = _CAP * max(min_distance, 5.0)
        target = min_distance + _DISTANCE_MARGIN if min_distance > 0.0 else 0.0
        chosen: list[int] = []
        nearest = np.full(len(self.rgb8), np.inf)
        # Slots that keep their hue first, then the free ones.
        slots = sorted(range(self.k), key=lambda s: (s in free, s))
        picks: dict[int, int] = {}
        for slot in slots:
            idx = np.flatnonzero(self.slot_mask(slot, free))
            fits = self.allowed(chosen)[idx]
            if not fits.any():  # no rung in range: the nearest rung all the same
                fits = np.ones(len(idx), dtype=bool)
            good = fits & (nearest[idx] >= target)
            if good.any():
                pick = np.argmin(np.where(good, self.cost(slot)[idx], np.inf))
            else:
                pick = np.argmax(np.where(fits, nearest[idx], -np.inf))
            picks[slot] = int(idx[pick])
            chosen.append(picks[slot])
            np.minimum(nearest, self.row(chosen[-1]), out=nearest)
        chosen = [picks[slot] for slot in range(self.k)]
        grids = self.slot_mask(self.k, free)
        while len(chosen) < self.n:
            ok = grids & self.allowed(chosen) & (nearest >= target) & (nearest > 0.0)
            if not ok.any():
                break
            score = np.minimum(nearest, cap) - _DEPARTURE_WEIGHT * self.departure
            chosen.append(int(np.argmax(np.where(ok, score, -np.inf))))
            np.minimum(nearest, self.row(chosen[-1]), out=nearest)
        return chosen

    def search(self, chosen: list[int], min_distance: float, free: frozenset[int], *,
               starts: int = _STARTS) -> list[int]:
        """:meth:`improve` from a few deterministic starts (``chosen``, then with fewer added
        colours); the first set that keeps the distance, else the farthest apart. Further
        starts are tried only while the best set ends within ``_CLOSE`` of the distance: a
        search that ends farther off ends there from the other starts too (measured on the
        test palettes), and each start is a full search."""
        target = min_distance + _DISTANCE_MARGIN
        best, reached = list(chosen), -math.inf
        for attempt in range(starts):
            start = chosen[:max(self.k, len(chosen) - 2 * attempt)]
            found = self.improve(start, min_distance, free, seed=attempt)
            if self.smallest(found) > reached:
                best, reached = found, self.smallest(found)
            if reached >= target or reached < target - _CLOSE:
                break
        return best

    def polish(self, chosen: list[int], min_distance: float, free: frozenset[int]) -> list[int]:
        """Each own colour, vivid ones first and the earlier first, to the cheapest colour of
        its slot that keeps the distance from the others, where that is cheaper: the rung
        nearest its own L* at its own chroma if it can, else the least hue move."""
        chosen = list(chosen)
        target = min_distance + _DISTANCE_MARGIN
        for slot in sorted(range(self.k), key=lambda s: self.give_way[s], reverse=True):
            rest = chosen[:slot] + chosen[slot + 1:]
            good = (self.slot_mask(slot, free) & self.allowed(rest)
                    & (self.nearest(rest) >= target))
            good[rest] = False
            cost = self.cost(slot)
            if good.any():
                pick = int(np.argmin(np.where(good, cost, np.inf)))
                if cost[pick] < cost[chosen[slot]]:
                    chosen[slot] = pick
        return chosen

    def improve(self, chosen: list[int], min_distance: float, free: frozenset[int], *,
                seed: int = 0) -> list[int]:
        """Fill to ``n`` with the farthest candidates, then exchange members until every pair
        keeps ``min_distance`` or no exchange helps.

        An exchange takes a member of a pair closer than the distance out and puts in the
        candidate of its slot farthest from the others (among those far enough, the cheapest:
        the least departure, for an own colour the least lightness move, then the least hue
        move); it is kept when it improves, in this order, the smallest distance, the number of
        pairs closer than the distance, and their summed shortfall. Added colours are moved
        before own ones, and later own colours before earlier ones. Members taken out are not
        put back for a while (a tabu list), so the search does not circle.

        The search is deterministic, so a search asked for again (the further starts of
        :func:`_attempt` repeat some: every start's empty prefix, a set's own colours when
        it has no added ones) returns its first answer.
        """
        key = (tuple(chosen), free, min_distance, seed)
        found = self._improved.get(key)
        if found is None:
            found = self._improve(list(chosen), min_distance, free, seed)
            self._improved[key] = found
        return list(found)

    def _improve(self, chosen: list[int], min_distance: float, free: frozenset[int],
                 seed: int) -> list[int]:
        """:meth:`improve`, not memoised."""
        target = min_distance + _DISTANCE_MARGIN
        masks = [self.slot_mask(s, free) for s in range(self.k + 1)]

        def mask(slot: int) -> np.ndarray:
            return masks[min(slot, self.k)]

        while len(chosen) < self.n:  # farthest-point fill, whatever the distance
            nearest = np.where(mask(len(chosen)) & self.allowed(chosen), self.nearest(chosen),
                               -np.inf)
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
            counts = (pairs < target).sum(axis=1)
            order = sorted(np.flatnonzero(counts),
                           key=lambda s: (bool(s < self.k), self.give_way.get(s, (False, 0)),
                                          -counts[s], -s))
            moved = False
            rows = np.stack([self.row(c) for c in current])
            for slot in order:
                rest = current[:slot] + current[slot + 1:]
                others = np.minimum(rows[:slot].min(axis=0, initial=np.inf),
                                    rows[slot + 1:].min(axis=0, initial=np.inf))
                reach = np.where(mask(slot) & self.allowed(rest), others, -np.inf)
                reach[rest] = -np.inf
                reach[tabu] = -np.inf
                good = reach >= target
                if good.any():
                    pick = int(np.argmin(np.where(good, self.cost(slot), np.inf)))
                else:
                    pick = int(np.argmax(reach))
                if not np.isfinite(reach[pick]):
                    continue
                trial = current[:slot] + [pick] + current[slot + 1:]
                value = self._score(trial, target)
                if value > score:
                    tabu = (tabu + [current[slot]])[-_TABU:]
                    current, score, moved = trial, value, True
                    break
            if score > best_score:
                best, best_score = list(current), score
            if not moved:  # a local optimum: kick the members of short pairs elsewhere
                if kicks == _KICKS:
                    break
                kicks += 1
                short_slots = np.flatnonzero((self._pairs(current) < target).any(axis=1))
                current = list(current)
                for slot in short_slots[-2:]:
                    options = np.flatnonzero(mask(int(slot)) & self.allowed([]))
                    if len(options):
                        current[slot] = int(rng.choice(options))
                score = self._score(current, target)
        return best

    def _pairs(self, chosen: list[int]) -> np.ndarray:
        """(n, n) distances among ``chosen`` (inf on the diagonal).

        Distances are symmetric, so a member whose row is not computed yet (the candidate an
        exchange tries) is read from the others' rows: most tried candidates are never
        taken, and a row costs a CIEDE2000 over the whole pool."""
        key = tuple(chosen)
        found = self._pair_cache.get(key)
        if found is not None:  # the exchange search asks for the same set several times
            return found
        if len(self._pair_cache) > 64:
            self._pair_cache.clear()
        size = len(chosen)
        out = np.empty((size, size), dtype=np.float32)
        missing = [i for i, c in enumerate(chosen) if int(self.colour[c]) not in self._rows]
        for i, index in enumerate(chosen):
            if i != (missing[-1] if missing else -1):
                out[i] = self.row(index)[chosen]
        if missing:
            out[missing[-1]] = out[:, missing[-1]]
        np.fill_diagonal(out, np.inf)
        out.flags.writeable = False
        self._pair_cache[key] = out
        return out

    def _score(self, chosen: list[int], target: float) -> tuple[float, int, float]:
        """What an exchange must improve: smallest distance, then fewer short pairs, then
        less summed shortfall (larger is better in every part)."""
        pairs = self._pairs(chosen)
        upper = pairs[_upper(len(chosen))]
        shortfall = np.maximum(target - upper, 0.0)
        return (round(float(upper.min()), 6), -int((shortfall > 0).sum()),
                -round(float(shortfall.sum()), 6))


_ROW_POOLS: dict[tuple, dict[int, np.ndarray]] = {}
_ROW_POOLS_KEPT = 2
_ROW_POOLS_LOCK = threading.Lock()


def _shared_rows(key: tuple) -> dict[int, np.ndarray]:
    """The distance-row cache of the pool built from ``key`` (palette, own colours, band,
    extremes, distance), shared with earlier pools built from the same key; the last
    ``_ROW_POOLS_KEPT`` are kept (a row cache can hold tens of megabytes)."""
    with _ROW_POOLS_LOCK:  # charts may be drawn from several threads
        found = _ROW_POOLS.pop(key, None)
        if found is None:
            found = {}
        _ROW_POOLS[key] = found  # the most recent last
        while len(_ROW_POOLS) > _ROW_POOLS_KEPT:
            del _ROW_POOLS[next(iter(_ROW_POOLS))]
        return found


@functools.cache
def _upper(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the upper triangle of a (size, size) matrix (without the diagonal)."""
    return np.triu_indices(size, 1)


def _turn(lab: np.ndarray, degrees: float) -> np.ndarray:
    """CIELAB colours (..., 3) turned by ``degrees`` in hue (L* and chroma unchanged)."""
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    out = lab.copy()
    out[..., 1:] = lab[..., 1:] @ np.array([[cos, sin], [-sin, cos]])
    return out


def _wide_grid(lo: float, hi: float) -> np.ndarray:
    """(m, 3) CIELCh over the whole hue circle and the lightness band, at shares of the most
    chroma the sRGB gamut holds there (found by gamut-mapping a chroma of 200)."""
    from m2p.colour.gamut import gamut_map_lch

    levels = np.linspace(lo + 0.5, hi - 0.5, _WIDE_LEVELS)
    ll, hh = np.meshgrid(levels, _WIDE_HUES, indexing="ij")
    most = gamut_map_lch(np.stack([ll.ravel(), np.full(ll.size, 200.0), hh.ravel()], axis=-1))
    return np.concatenate([most * np.array([1.0, f, 1.0]) for f in _WIDE_CHROMA])
