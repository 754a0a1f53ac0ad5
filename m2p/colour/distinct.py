"""Distinct colours grown from a palette, also for colour-vision deficiencies.

:func:`distinct_colors` is the science behind :meth:`m2p.palette_types.Palette.take`: ``n``
colours that start with the palette's own and add new ones of the same mood (hues, lightness
and chroma around the palette's), so that every pair is at least a stated CIEDE2000 apart in
normal vision *and* under simulated deuteranopia and protanopia (Machado et al. 2009, severity
1.0; :mod:`m2p.colour.vision`). Distances are measured on the 8-bit sRGB colours that are
finally displayed (the hex codes), so the guarantee is about what a user sees, not about
unrounded numbers. :func:`distinct_track` and :class:`EntityColors` do the same for every
window of a palette track (one colour per entity of a chart, e.g. the bars of a race).

Everything is deterministic: a fixed candidate grid and a greedy choice with index tie-breaks.

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

import dataclasses
import math
import warnings
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from m2p.colour.convert_np import lch_to_lab, rgb8_to_lch, srgb_to_lab
from m2p.colour.difference import ciede2000
from m2p.colour.gamut import lch_to_rgb8
from m2p.colour.vision import VISIONS, min_pairwise_distance, simulate_cvd
from m2p.errors import DistinctColorsWarning, InvalidArgumentError

if TYPE_CHECKING:
    from m2p.palette_types import PaletteTrack

__all__ = [
    "DEFAULT_MIN_DISTANCE",
    "MAX_DISTINCT",
    "Distinct",
    "EntityColors",
    "distinct_colors",
    "distinct_track",
]

DEFAULT_MIN_DISTANCE = 10.0
"""CIEDE2000 every pair of :func:`distinct_colors` keeps by default, in all :data:`~m2p.colour.vision.VISIONS`.
About ten units is where categorical colours stop being mistaken for one another at a glance
(two or three "just noticeable differences" are about 1-3 units)."""

MAX_DISTINCT = 64
"""Most colours :func:`distinct_colors` grows: its candidate grid holds at least this many
distinct 8-bit colours around any palette (and a Palette holds at most as many)."""

# Candidate grid around each palette colour: hue steps in degrees, lightness steps in L*, chroma
# factors. Far hues are there for many colours or one-hue palettes; the departure cost below
# makes near ones win whenever they are distinct enough. Greys get a little chroma to grow.
_HUE_STEPS = (0.0, -20.0, 20.0, -40.0, 40.0, -60.0, 60.0, -90.0, 90.0, -120.0, 120.0, 180.0)
_LIGHTNESS_STEPS = tuple(float(v) for v in range(-48, 49, 8))
_CHROMA_FACTORS = (1.0, 0.6, 1.4)
_GREY_CHROMA = 15.0
# How far a palette colour may move in lightness to stay distinct before it is replaced, and
# the share of its displayed chroma it must keep there.
_MAX_OWN_SHIFT = 30.0
_KEEP_CHROMA = 0.6
# Selection of new colours: extra distance beyond ``_CAP * min_distance`` earns nothing, and each
# unit of departure from the palette colour a candidate grew from costs ``_DEPARTURE_WEIGHT``.
_CAP = 1.5
_DEPARTURE_WEIGHT = 0.3
# Inward margin on lightness bounds (float error); 8-bit rounding is checked on the rounded
# colours themselves, which is what the range filter looks at.
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
                    lightness: tuple[float, float] = (0.0, 100.0)) -> Distinct:
    """``n`` colours grown from a palette, every pair ``min_distance`` apart in all visions.

    The palette's own colours come first, in their order, each moved in lightness only (hue
    and chroma kept as far as the sRGB gamut allows) as little as needed to enter the
    ``lightness`` range and to keep ``min_distance`` from the colours before it; a colour that
    would have to move more than 30 L*, or lose more than 40 % of its chroma to the sRGB gamut
    on the way, is left out. New colours are then added one at a time from a fixed grid around
    the palette colours (hue up to 180 degrees away, L* +-48, chroma x0.6 to x1.4), each the
    candidate that best combines distance from the colours chosen so far (counted up to
    1.5 x ``min_distance``) with closeness to the palette colour it grew from, so near hues
    win whenever they are distinct enough.

    Parameters
    ----------
    lch
        (k, 3) CIELCh palette (k >= 1).
    n
        Number of colours wanted, 1 to 64.
    min_distance
        Smallest CIEDE2000 between any two results, in normal vision and under simulated
        deuteranopia and protanopia (:func:`m2p.colour.vision.simulate_cvd`), on the 8-bit
        sRGB results.
        0 keeps the palette's colours exactly (only the lightness range applies).
    lightness
        ``(low, high)`` CIELAB L* every result lies in (see
        :func:`m2p.colour.vision.lightness_for_contrast`).

    Returns
    -------
    Distinct
        The colours, and the smallest pairwise distance they achieve.

    Warns
    -----
    m2p.errors.DistinctColorsWarning
        ``n`` colours cannot keep ``min_distance`` within the range: the result is the ``n``
        colours with the largest distance this search finds (first spreading without the pull
        towards the palette, then bisection on the distance), and the warning says how large
        it is.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        ``n`` not a whole number in [1, 64], ``min_distance`` negative or not finite, or a
        lightness range outside [0, 100] or empty.
    """
    found, achieved = _grow(lch, n, min_distance, lightness)
    if achieved < min_distance:
        lo, hi = lightness
        warnings.warn(
            f"{n} colours cannot all be {min_distance:g} CIEDE2000 apart in normal vision and "
            f"under deuteranopia and protanopia (within L* {lo:.1f}-{hi:.1f}); returning {n} "
            f"colours at least {found.min_distance:.2f} apart. Ask for fewer colours or a smaller "
            "min_distance.", DistinctColorsWarning, stacklevel=3)
    return found


def distinct_track(track: "PaletteTrack", n: int, *,
                   min_distance: float = DEFAULT_MIN_DISTANCE,
                   lightness: tuple[float, float] = (0.0, 100.0),
                   progress: bool = False) -> "PaletteTrack":
    """A palette track whose every palette is ``n`` distinct colours (one per entity of a chart).

    Each window's palette becomes :func:`distinct_colors` of it, and its colours are put in
    the slots that best continue the previous window's (Hungarian assignment on CIEDE2000), so a
    slot changes smoothly as the music moves on. The distance holds at the window times;
    :meth:`~m2p.palette_types.PaletteTrack.at` interpolates between them.

    Parameters
    ----------
    track
        A :class:`~m2p.palette_types.PaletteTrack`.
    n, min_distance, lightness
        As for :func:`distinct_colors`.
    progress
        Show a progress bar over the windows (stderr).

    Warns
    -----
    m2p.errors.DistinctColorsWarning
        Once, with the smallest distance reached, when some windows cannot keep ``min_distance``.
    """
    from m2p._internal.progress import progress_bar
    from m2p.colour.assignment import align_palettes

    done: dict[bytes, np.ndarray] = {}
    grown: list[np.ndarray] = []
    reached, short = math.inf, False
    for p in progress_bar(track.palettes, desc="distinct colours", unit="window",
                          enabled=progress):
        key = np.asarray(p.lch).tobytes()
        if key not in done:
            found, achieved = _grow(p.lch, n, min_distance, lightness)
            done[key], reached = found.lch, min(reached, found.min_distance)
            short |= achieved < min_distance
        grown.append(done[key])
    found, achieved = _grow(track.overall.lch, n, min_distance, lightness)
    short |= achieved < min_distance
    if short:
        warnings.warn(f"{n} colours cannot all be {min_distance:g} CIEDE2000 apart in every "
                      f"window; the closest pair in a window is {reached:.1f} apart",
                      DistinctColorsWarning, stacklevel=2)
    # The palette engine's slot alignment, so a slot changes smoothly from window to window.
    # dataclasses.replace copies a value type through its constructor (validated), so this
    # module need not import the value types, which import it.
    palettes = tuple(dataclasses.replace(p, lch=lch)
                     for lch, p in zip(align_palettes(grown), track.palettes))
    return dataclasses.replace(track, palettes=palettes,
                               overall=dataclasses.replace(track.overall, lch=found.lch))


class EntityColors:
    """``t -> (n, 3)`` sRGB: one distinct colour per chart entity at every time of a track.

    The colours of :func:`distinct_track`, interpolated between windows; at a time where two of
    them glide closer than the windows' distance (their paths can cross between two windows),
    the nearest window's colours hold instead, so **every** time keeps the distance.

    Parameters
    ----------
    track
        A :class:`~m2p.palette_types.PaletteTrack`.
    n, min_distance, progress
        As for :func:`distinct_track`.
    """

    def __init__(self, track: "PaletteTrack", n: int, *,
                 min_distance: float = DEFAULT_MIN_DISTANCE, progress: bool = False) -> None:
        self.track = distinct_track(track, n, min_distance=min_distance, progress=progress)
        reached = min(min_pairwise_distance(p.rgb) for p in self.track.palettes)
        self.min_distance = min(float(min_distance), reached)
        """Distance every call keeps (lower than asked only where a window could not)."""

    def __call__(self, t: float) -> np.ndarray:
        t = min(max(float(t), 0.0), self.track.duration)
        rgb = self.track.at(t).rgb
        if min_pairwise_distance(rgb) >= self.min_distance:
            return rgb
        nearest = int(np.argmin(np.abs(self.track.times - t)))
        return self.track.palettes[nearest].rgb


# ----------------------------------------------------------------------------------------------
# The search
# ----------------------------------------------------------------------------------------------


def _grow(lch: np.ndarray, n: int, min_distance: float, lightness: tuple[float, float]
          ) -> tuple[Distinct, float]:
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
    pool = _Pool(lch, int(n), lo, hi)
    chosen = pool.select(wanted)
    if len(chosen) < n:  # closeness to the palette cost too many: spread as widely as possible
        chosen = pool.select(wanted, departure_weight=0.0)
    achieved = wanted
    if len(chosen) < n:
        low, high = 0.0, wanted  # bisection: 0 always succeeds (the pool has >= 64 colours)
        best = pool.select(0.0, departure_weight=0.0)
        for _ in range(8):
            mid = 0.5 * (low + high)
            trial = pool.select(mid, departure_weight=0.0)
            if len(trial) == n:
                low, best = mid, trial
            else:
                high = mid
        chosen, achieved = best, low
    rgb8 = pool.rgb8[chosen]
    return Distinct(rgb8_to_lch(rgb8), rgb8, min_pairwise_distance(rgb8 / 255.0)), achieved


class _Pool:
    """Every candidate colour (8-bit sRGB), its CIELAB in each vision and its departure cost."""

    def __init__(self, lch: np.ndarray, n: int, lo: float, hi: float) -> None:
        self.n = n
        own = lch[:n].copy()
        own[:, 0] = np.clip(own[:, 0], lo + _L_MARGIN, hi - _L_MARGIN)
        # Lightness ladders of the palette's own colours: 1 L* steps, nearest first.
        steps = np.arange(0.0, _MAX_OWN_SHIFT + 0.5, 1.0)
        shifts = np.stack([steps, -steps], axis=1).reshape(-1)[1:]  # 0, +1, -1, +2, ...
        ladders = np.repeat(own[:, None, :], len(shifts), axis=1)
        ladders[..., 0] = own[:, None, 0] + shifts[None, :]
        # New colours: a grid around every palette colour (all of them, not only the first n).
        base = lch.copy()
        base[:, 0] = np.clip(base[:, 0], lo, hi)
        base[:, 1] = np.maximum(base[:, 1], _GREY_CHROMA)
        dh, dl, cf = np.meshgrid(_HUE_STEPS, _LIGHTNESS_STEPS, _CHROMA_FACTORS, indexing="ij")
        grid = np.stack([base[:, None, 0] + dl.reshape(1, -1),
                         base[:, None, 1] * cf.reshape(1, -1),
                         base[:, None, 2] + dh.reshape(1, -1)], axis=-1)
        rgb8 = lch_to_rgb8(np.concatenate([ladders.reshape(-1, 3), grid.reshape(-1, 3)]))
        shown = rgb8_to_lch(rgb8)
        inside = (shown[:, 0] >= lo) & (shown[:, 0] <= hi)
        n_ladder = ladders.shape[0] * ladders.shape[1]
        # A rung that the gamut bleaches (a yellow taken to L* 98 is white) is not the same
        # colour any more: keep rungs with at least 60 % of the colour's own displayed chroma.
        rung_chroma = shown[:n_ladder, 1].reshape(len(own), len(shifts))
        kept = rung_chroma >= _KEEP_CHROMA * rung_chroma[:, :1]
        self.ladder_ok = inside[:n_ladder].reshape(len(own), len(shifts)) & kept
        self.n_ladder = n_ladder
        self.grid_ok = inside[n_ladder:]
        self.rgb8 = rgb8
        rgb = rgb8 / 255.0
        self.lab = np.stack([srgb_to_lab(simulate_cvd(rgb, v)) for v in VISIONS])  # (V, M, 3)
        # Departure of each grid colour: CIEDE2000 from the palette colour it grew from.
        source = np.repeat(lch_to_lab(base), grid.shape[1], axis=0)
        self.departure = ciede2000(self.lab[0, n_ladder:], source)

    def select(self, min_distance: float, *, departure_weight: float = _DEPARTURE_WEIGHT
               ) -> list[int]:
        """Indices into :attr:`rgb8` of up to ``n`` colours ``min_distance`` apart."""
        cap = _CAP * max(min_distance, 5.0)
        if min_distance > 0.0:
            min_distance += _DISTANCE_MARGIN
        chosen: list[int] = []
        nearest = np.full(len(self.rgb8), np.inf)  # smallest distance to a chosen colour

        def take(index: int) -> None:
            chosen.append(index)
            d = ciede2000(self.lab[:, :, :], self.lab[:, index][:, None, :]).min(axis=0)
            np.minimum(nearest, d, out=nearest)

        rungs = self.ladder_ok.shape[1]
        for k in range(self.ladder_ok.shape[0]):
            if len(chosen) == self.n:
                break
            idx = k * rungs + np.arange(rungs)
            ok = self.ladder_ok[k] & (nearest[idx] >= min_distance)
            if ok.any():
                take(int(idx[np.argmax(ok)]))
        grid_near = nearest[self.n_ladder:]
        while len(chosen) < self.n:
            ok = self.grid_ok & (grid_near >= min_distance) & (grid_near > 0.0)
            if not ok.any():
                break
            score = np.minimum(grid_near, cap) - departure_weight * self.departure
            take(self.n_ladder + int(np.argmax(np.where(ok, score, -np.inf))))
            grid_near = nearest[self.n_ladder:]
        return chosen
