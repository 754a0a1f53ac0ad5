"""Distinct colours grown from a palette, also for colour-vision deficiencies.

:func:`distinct_colours` is the science behind :meth:`m2p.palette_types.Palette.take`: ``n``
colours that start with the palette's own and add new ones of the same mood (hues, lightness
and chroma around the palette's), so that every pair is at least a stated CIEDE2000 apart in
normal vision *and* under simulated deuteranopia and protanopia (Machado et al. 2009, severity
1.0). Distances are measured on the 8-bit sRGB colours that are finally displayed (the hex
codes), so the guarantee is about what a user sees, not about unrounded numbers.

Also here, because the selection needs them: the Machado 2009 simulation
(:func:`simulate_cvd`), WCAG 2 contrast (:func:`contrast_ratio`) and the CIELAB lightness range
that keeps a given contrast against a background (:func:`lightness_for_contrast`), which is how
callers keep lines legible while moving lightness only.

Everything is deterministic: a fixed candidate grid and a greedy choice with index tie-breaks.

References
----------
Machado, G. M., Oliveira, M. M. and Fernandes, L. A. F. (2009). A physiologically-based model
    for simulation of color vision deficiency. IEEE Transactions on Visualization and Computer
    Graphics 15(6), 1291-1298. (Severity-1.0 matrices from the paper's supplementary table, as
    in colour-science's ``colour.blindness.CVD_MATRICES_MACHADO2010``.)
Sharma, G., Wu, W. and Dalal, E. N. (2005). The CIEDE2000 color-difference formula.
    Color Research & Application 30(1), 21-30.
W3C (2018). Web Content Accessibility Guidelines 2.1: contrast ratio; 1.4.11 non-text contrast.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from m2p.colour.convert_np import lab_to_lch, lch_to_lab, linear_to_srgb, relative_luminance, srgb_to_linear
from m2p.errors import DistinctColoursWarning, InvalidArgumentError
from m2p.palette_types import MAX_COLORS as _MAX_N

if TYPE_CHECKING:
    from m2p.palette_types import PaletteTrack

__all__ = [
    "DEFAULT_MIN_DISTANCE",
    "EntityColours",
    "MACHADO_2009",
    "VISIONS",
    "Distinct",
    "contrast_ratio",
    "distinct_colours",
    "distinct_track",
    "lightness_for_contrast",
    "min_pairwise_distance",
    "pairwise_distances",
    "simulate_cvd",
]

DEFAULT_MIN_DISTANCE = 10.0
"""CIEDE2000 every pair of :func:`distinct_colours` keeps by default, in all :data:`VISIONS`.
About ten units is where categorical colours stop being mistaken for one another at a glance
(two or three "just noticeable differences" are about 1-3 units)."""

MACHADO_2009 = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
}
"""Machado et al. (2009) simulation matrices at severity 1.0, acting on *linear* sRGB (3, 3)."""

VISIONS = ("normal", "deuteranopia", "protanopia")
"""The visions in which :func:`distinct_colours` keeps its distance."""

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
    """Result of :func:`distinct_colours`."""

    lch: np.ndarray
    """(n, 3) CIELCh of the chosen colours (exactly their 8-bit sRGB values)."""
    rgb8: np.ndarray
    """(n, 3) uint8 sRGB of the chosen colours."""
    min_distance: float
    """Smallest pairwise CIEDE2000 over all :data:`VISIONS` (inf for one colour)."""


def distinct_colours(lch: np.ndarray, n: int, *, min_distance: float = DEFAULT_MIN_DISTANCE,
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
        deuteranopia and protanopia (:func:`simulate_cvd`), on the 8-bit sRGB results.
        0 keeps the palette's colours exactly (only the lightness range applies).
    lightness
        ``(low, high)`` CIELAB L* every result lies in (see :func:`lightness_for_contrast`).

    Returns
    -------
    Distinct
        The colours, and the smallest pairwise distance they achieve.

    Warns
    -----
    m2p.errors.DistinctColoursWarning
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
    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= _MAX_N:
        raise InvalidArgumentError(f"n must be a whole number from 1 to {_MAX_N}, got {n!r}")
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
    found = min_pairwise_distance(rgb8 / 255.0)
    if achieved < wanted:
        warnings.warn(
            f"{n} colours cannot all be {wanted:g} CIEDE2000 apart in normal vision and under "
            f"deuteranopia and protanopia (within L* {lo:.1f}-{hi:.1f}); returning {n} colours at "
            f"least {found:.2f} apart. Ask for fewer colours or a smaller min_distance.",
            DistinctColoursWarning, stacklevel=3)
    return Distinct(_rgb8_to_lch(rgb8), rgb8, found)


def distinct_track(track: "PaletteTrack", n: int, *,
                   min_distance: float = DEFAULT_MIN_DISTANCE,
                   lightness: tuple[float, float] = (0.0, 100.0),
                   progress: bool = False) -> "PaletteTrack":
    """A palette track whose every palette is ``n`` distinct colours (one per entity of a chart).

    Each window's palette becomes :func:`distinct_colours` of it, and its colours are put in
    the slots that best continue the previous window's (Hungarian assignment on CIEDE2000), so a
    slot changes smoothly as the music moves on. The distance holds at the window times;
    :meth:`~m2p.palette_types.PaletteTrack.at` interpolates between them.

    Parameters
    ----------
    track
        A :class:`~m2p.palette_types.PaletteTrack`.
    n, min_distance, lightness
        As for :func:`distinct_colours`.
    progress
        Show a progress bar over the windows (stderr).

    Warns
    -----
    m2p.errors.DistinctColoursWarning
        Once, with the smallest distance reached, when some windows cannot keep ``min_distance``.
    """
    from m2p._internal.progress import progress_bar
    from m2p.colour.assignment import align_palettes
    from m2p.palette_types import Palette, PaletteTrack

    done: dict[bytes, np.ndarray] = {}
    grown: list[np.ndarray] = []
    reached = math.inf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DistinctColoursWarning)
        for p in progress_bar(track.palettes, desc="distinct colours", unit="window",
                              enabled=progress):
            key = np.asarray(p.lch).tobytes()
            if key not in done:
                found = distinct_colours(p.lch, n, min_distance=min_distance, lightness=lightness)
                done[key], reached = found.lch, min(reached, found.min_distance)
            grown.append(done[key])
        overall = track.overall.take(n, min_distance=min_distance, lightness=lightness)
    # The palette engine's slot alignment, so a slot changes smoothly from window to window.
    palettes = [Palette(lch, p.emotion, p.valence_arousal)
                for lch, p in zip(align_palettes(grown), track.palettes)]
    for w in caught:  # pass on anything else that was said meanwhile
        if not issubclass(w.category, DistinctColoursWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if any(issubclass(w.category, DistinctColoursWarning) for w in caught):
        warnings.warn(f"{n} colours cannot all be {min_distance:g} CIEDE2000 apart in every "
                      f"window; the closest pair in a window is {reached:.1f} apart",
                      DistinctColoursWarning, stacklevel=2)
    return PaletteTrack(track.times, tuple(palettes), track.window, track.hop, track.duration,
                        track.source, track.seed, overall)


class EntityColours:
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


def simulate_cvd(rgb: np.ndarray, deficiency: str) -> np.ndarray:
    """Simulate dichromacy on sRGB colours (Machado et al. 2009, severity 1.0).

    Parameters
    ----------
    rgb
        (..., 3) sRGB in [0, 1] (encoded).
    deficiency
        ``"deuteranopia"`` or ``"protanopia"`` (``"normal"`` returns the input).

    Returns
    -------
    numpy.ndarray
        (..., 3) encoded sRGB in [0, 1]: the matrix applied in linear light, clipped.
    """
    rgb = np.asarray(rgb, dtype=np.float64)
    if deficiency == "normal":
        return rgb
    if deficiency not in MACHADO_2009:
        raise InvalidArgumentError(f"deficiency must be one of {VISIONS}, got {deficiency!r}")
    linear = srgb_to_linear(rgb) @ MACHADO_2009[deficiency].T
    return linear_to_srgb(np.clip(linear, 0.0, 1.0))


def pairwise_distances(rgb: np.ndarray, *, vision: str = "normal") -> np.ndarray:
    """(n, n) CIEDE2000 between sRGB colours (n, 3) in [0, 1], as seen with ``vision``."""
    lab = _srgb_to_lab(simulate_cvd(np.asarray(rgb, dtype=np.float64).reshape(-1, 3), vision))
    return _ciede2000(lab[:, None, :], lab[None, :, :])


def min_pairwise_distance(rgb: np.ndarray) -> float:
    """Smallest CIEDE2000 between two of the sRGB colours (n, 3) over all :data:`VISIONS`."""
    rgb = np.asarray(rgb, dtype=np.float64).reshape(-1, 3)
    if len(rgb) < 2:
        return math.inf
    lab = _srgb_to_lab(np.stack([simulate_cvd(rgb, v) for v in VISIONS]))  # (V, n, 3), one go
    dist = _ciede2000(lab[:, :, None, :], lab[:, None, :, :])
    return float(dist[:, ~np.eye(len(rgb), dtype=bool)].min())


def contrast_ratio(rgb_a: np.ndarray, rgb_b: np.ndarray) -> np.ndarray:
    """WCAG 2 contrast ratio (1 to 21) between sRGB colours (..., 3) in [0, 1]; broadcasts."""
    ya, yb = relative_luminance(rgb_a), relative_luminance(rgb_b)
    return (np.maximum(ya, yb) + 0.05) / (np.minimum(ya, yb) + 0.05)


def lightness_for_contrast(background: np.ndarray, ratio: float) -> tuple[float, float]:
    """CIELAB L* range of colours with WCAG contrast >= ``ratio`` against ``background``.

    Colours go darker than a light background and lighter than a dark one (relative luminance
    below 0.18). WCAG's relative luminance is CIE Y of sRGB, and L* depends on Y alone, so the
    bound is exact for any hue and chroma.

    Parameters
    ----------
    background
        (3,) sRGB in [0, 1].
    ratio
        Contrast ratio, 1 to 21.

    Returns
    -------
    (float, float)
        ``(low, high)`` L*.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        No sRGB colour reaches ``ratio`` on that side of the background.
    """
    ratio = float(ratio)
    if not (math.isfinite(ratio) and 1.0 <= ratio <= 21.0):
        raise InvalidArgumentError(f"contrast ratio must be between 1 and 21, got {ratio!r}")
    y_bg = float(relative_luminance(np.asarray(background, dtype=np.float64).reshape(3)))
    if y_bg < 0.18:
        y = ratio * (y_bg + 0.05) - 0.05
        if y > 1.0:
            raise InvalidArgumentError(f"no colour reaches contrast {ratio:g} on this dark "
                                       "background")
        return min(_y_to_lightness(y) + _L_MARGIN, 100.0 - 2 * _L_MARGIN), 100.0
    y = (y_bg + 0.05) / ratio - 0.05
    if y < 0.0:
        raise InvalidArgumentError(f"no colour reaches contrast {ratio:g} on this light background")
    return 0.0, max(_y_to_lightness(y) - _L_MARGIN, 2 * _L_MARGIN)


# ----------------------------------------------------------------------------------------------
# The search
# ----------------------------------------------------------------------------------------------

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
        rgb8 = _lch_to_rgb8(np.concatenate([ladders.reshape(-1, 3), grid.reshape(-1, 3)]))
        shown = _rgb8_to_lch(rgb8)
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
        self.lab = np.stack([_srgb_to_lab(simulate_cvd(rgb, v)) for v in VISIONS])  # (V, M, 3)
        # Departure of each grid colour: CIEDE2000 from the palette colour it grew from.
        source = np.repeat(lch_to_lab(base), grid.shape[1], axis=0)
        self.departure = _ciede2000(self.lab[0, n_ladder:], source)

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
            d = _ciede2000(self.lab[:, :, :], self.lab[:, index][:, None, :]).min(axis=0)
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


# ----------------------------------------------------------------------------------------------
# Conversions (the torch colour maths of m2p.colour.convert, on plain arrays)
# ----------------------------------------------------------------------------------------------


def _lch_to_rgb8(lch: np.ndarray) -> np.ndarray:
    from m2p.colour.convert import lch_to_rgb8

    return lch_to_rgb8(lch).reshape(-1, 3)


def _rgb8_to_lch(rgb8: np.ndarray) -> np.ndarray:
    return lab_to_lch(_srgb_to_lab(np.asarray(rgb8, dtype=np.float64) / 255.0))


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    import torch

    from m2p.colour.convert import srgb_to_lab

    with torch.no_grad():
        return srgb_to_lab(torch.from_numpy(np.array(rgb, dtype=np.float64))).numpy()


def _ciede2000(lab_a: np.ndarray, lab_b: np.ndarray) -> np.ndarray:
    import torch

    from m2p.colour.convert import ciede2000

    with torch.no_grad():
        return ciede2000(torch.from_numpy(np.array(lab_a, dtype=np.float64)),
                         torch.from_numpy(np.array(lab_b, dtype=np.float64))).numpy()


def _y_to_lightness(y: float) -> float:
    """CIE 1976 L* of relative luminance Y in [0, 1] (CIE 15:2004)."""
    delta = 6.0 / 29.0
    f = y ** (1.0 / 3.0) if y > delta**3 else y / (3.0 * delta**2) + 4.0 / 29.0
    return 116.0 * f - 16.0
