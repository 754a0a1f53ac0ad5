"""The legibility rule: colours that read where they land.

One rule makes colour drawn on a background legible, and every surface that draws colour on a
background calls it: the Matplotlib cycle, :meth:`m2p.palette_types.Palette.take`,
``m2p.animate_colors``, the Altair, Plotly and Bokeh category colours, the bars of a race and
the swatches of the gallery. The rule (:func:`legible_colors`):

1. **Contrast.** Every colour keeps WCAG 2.1 contrast >= ``min_contrast`` (default 3:1, success
   criterion 1.4.11 for graphics) against the background it lands on. Contrast depends on
   relative luminance only, so it is a band of CIELAB lightness (:func:`legible_band`), and a
   colour reaches it by moving lightness while its chroma and hue stay (as far as the sRGB
   gamut allows at the new lightness).
2. **No wall of near-blacks.** At most :data:`MAX_NEAR_EXTREMES` colours may sit below L*
   :data:`NEAR_BLACK` on a light background (above L* :data:`NEAR_WHITE` on a dark one):
   darkening every colour into the band's far end is what made the light style a set of
   indistinguishable maroons.
3. **Categories apart.** Every pair is at least ``min_distance`` CIEDE2000 apart (default 20)
   in normal vision and under simulated deuteranopia and protanopia, on the 8-bit colours.
4. **The palette's own hues lead.** The palette's own colours come first, in their order, each
   at its own hue and chroma, moved in lightness only (anywhere in the band) to meet rules 1-3;
   the colours added to reach ``n`` take new hues (hue is widened) placed to keep the distance
   from them. Where lightness cannot keep two own colours apart (two near-identical reds; or
   eight colours crowding the band), they split in lightness first, then change chroma; only
   then do own colours leave their hue, as few as the search finds (it is a local search: not
   always the fewest possible), each by the least hue move that keeps the distance, and they
   follow the own colours that kept theirs. Greys give way first (they have no hue to lose),
   then the colours crowding other own colours, the later first.
5. **Say so once.** When even that cannot keep the distance, one
   :class:`m2p.errors.DistinctColorsWarning` says how far apart the colours are (the own
   colours then keep their hues unless moving them parts the colours further). Lightness never
   goes past the caps to make room.

Over time (:class:`TrackColors`: the bars of a race, ``m2p.animate_colors``) each slot keeps
one hue for the whole piece, and the music moves its lightness and chroma within the range in
which rules 1-3 still hold at every moment.

:func:`chart_colors` is the rule on the palette in :func:`legible_order` (neighbours in a cycle
far apart), :func:`chart_look` adds backgrounds, text (>= 4.5:1, :func:`ensure_contrast`), edge
and grid colours around it, and :func:`outline_color` outlines colours that must be shown as
they are (a palette's own swatches).

Examples
--------
>>> from m2p.colour.convert_np import hex_to_lch
>>> legible_order(hex_to_lch(["#1d3557", "#457b9d", "#e63946"]))
[2, 1, 0]
>>> ensure_contrast(hex_to_lch("#a8dadc")[0], "#ffffff", 4.5)
'#4f7e80'
>>> [round(v, 1) for v in legible_band("#ffffff").lightness]
[0.0, 61.6]

References
----------
W3C (2018). Web Content Accessibility Guidelines 2.1: 1.4.3 contrast (minimum), 1.4.6
    contrast (enhanced), 1.4.11 non-text contrast.
Machado, G. M., Oliveira, M. M. and Fernandes, L. A. F. (2009). A physiologically-based model
    for simulation of color vision deficiency. IEEE TVCG 15(6), 1291-1298.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from m2p._internal.warn import warn as warn_user  # `warn` is a parameter here
from m2p.colour.convert_np import as_srgb, hex_to_lch, rgb8_to_lch, rgb_to_hex
from m2p.colour.difference import ciede2000_matrix
from m2p.colour.distinct import (
    DEFAULT_MIN_DISTANCE,
    Distinct,
    Extremes,
    grow,
    shortfall_message,
)
from m2p.colour.gamut import lch_to_hex, lch_to_rgb8
from m2p.colour.vision import (
    contrast_ratio,
    is_dark,
    lightness_for_contrast,
    min_pairwise_distance,
    relative_luminance,
)
from m2p.errors import DistinctColorsWarning, InvalidArgumentError

if TYPE_CHECKING:
    from m2p.palette_types import Palette, PaletteTrack

__all__ = [
    "CYCLE_LENGTH",
    "DEFAULT_MIN_DISTANCE",
    "LINE_CONTRAST",
    "MAX_NEAR_EXTREMES",
    "NEAR_BLACK",
    "NEAR_WHITE",
    "TEXT_CONTRAST",
    "Band",
    "ChartLook",
    "TrackColors",
    "chart_colors",
    "chart_look",
    "dark_backgrounds",
    "ensure_contrast",
    "legible_band",
    "legible_colors",
    "legible_order",
    "mix",
    "outline_color",
    "text_color",
]

TEXT_CONTRAST = 4.5
"""Minimum WCAG 2 contrast of text against the figure and axes backgrounds (AA)."""

CYCLE_LENGTH = 8
"""Categorical colours a chart gets when ``n`` is not given (at least the palette's own). Eight
is the most that can stay :data:`DEFAULT_MIN_DISTANCE` apart in all three visions within the
lightness band of a chart background (the best placement over the whole gamut reaches about
22 CIEDE2000 for 8 colours, 20 for 9 and 18 for 10; ``docs/science.md``). Ask for more with
``n=`` and they come as far apart as they can, with a warning saying how far."""

LINE_CONTRAST = 3.0
"""Default minimum WCAG 2 contrast of lines, markers and bars against the background (WCAG 2.1
success criterion 1.4.11, non-text contrast)."""

NEAR_BLACK = 20.0
"""CIELAB L* below which a colour counts as near-black (on a light background)."""

NEAR_WHITE = 90.0
"""CIELAB L* above which a colour counts as near-white (on a dark background)."""

MAX_NEAR_EXTREMES = 1
"""Most near-black colours a set may hold on a light background (near-white on a dark one)."""

# How far the music may move the lightness (L*) and chroma (factor) of TrackColors' slots.
_SWING_LIGHTNESS = 12.0
_SWING_CHROMA = 0.3
_SWING_STEPS = (1.0, 0.05)


class Band(NamedTuple):
    """Where legible colours may lie on one background: an L* range and the near-extreme cap."""

    lightness: tuple[float, float]
    extremes: Extremes
    background: str


@dataclass(frozen=True)
class ChartLook:
    """The colours of a chart coloured by a palette (hex codes).

    Attributes
    ----------
    cycle
        Series colours: :func:`chart_colors` on ``axes_bg``.
    figure_bg, axes_bg
        Backgrounds of the figure (paper) and of the plotting area.
    text, edge, grid
        Text (WCAG >= 4.5:1 on both backgrounds), axis lines and grid lines.
    """

    cycle: tuple[str, ...]
    figure_bg: str
    axes_bg: str
    text: str
    edge: str
    grid: str


def legible_band(background: Any = "#ffffff", min_contrast: float | None = None, *,
                 lightness: tuple[float, float] | None = None) -> Band:
    """The L* band and near-extreme cap of colours legible on ``background``.

    Parameters
    ----------
    background
        Hex string or sRGB triple the colours are drawn on.
    min_contrast
        WCAG contrast ratio, 1 to 21; default :data:`LINE_CONTRAST`; 1 for no contrast rule
        (and then no cap either: the colours may be anything).
    lightness
        An extra ``(low, high)`` L* range to stay in (intersected with the contrast band).

    Returns
    -------
    Band

    Raises
    ------
    m2p.errors.InvalidArgumentError
        No colour reaches the contrast on that background, or the ranges do not meet.
    """
    bg = rgb_to_hex(as_srgb(background).reshape(3))[0]
    ratio = LINE_CONTRAST if min_contrast is None else float(min_contrast)
    if not (math.isfinite(ratio) and 1.0 <= ratio <= 21.0):
        raise InvalidArgumentError(f"min_contrast must be a contrast ratio from 1 to 21, "
                                   f"got {min_contrast!r}")
    if ratio <= 1.0:
        lo, hi, extremes = 0.0, 100.0, Extremes()
    else:
        lo, hi = lightness_for_contrast(bg, ratio)
        extremes = (Extremes(above=NEAR_WHITE, most=MAX_NEAR_EXTREMES) if is_dark(bg)
                    else Extremes(below=NEAR_BLACK, most=MAX_NEAR_EXTREMES))
    if lightness is not None:
        lo, hi = max(lo, float(lightness[0])), min(hi, float(lightness[1]))
        if not lo < hi:
            raise InvalidArgumentError(f"lightness {tuple(lightness)!r} leaves no colour with "
                                       f"contrast {ratio:g} on {bg}")
    return Band((lo, hi), extremes, bg)


def legible_colors(lch: Any, n: int, *, background: Any = "#ffffff",
                   min_contrast: float | None = None, min_distance: float | None = None,
                   lightness: tuple[float, float] | None = None, warn: bool = True) -> Distinct:
    """The legibility rule: ``n`` colours grown from a palette, legible on ``background``.

    The palette's first ``n`` colours come first, each moved in lightness only (chroma and hue
    kept) into the band of :func:`legible_band` and apart from each other; new colours (new
    hues where needed) follow; at most :data:`MAX_NEAR_EXTREMES` are near-black (near-white on
    a dark background); every pair is ``min_distance`` CIEDE2000 apart in normal vision and
    under simulated deuteranopia and protanopia. Own colours that lightness cannot keep apart
    change chroma, then hue by the least that does it, and follow the others (rule 4 of the
    module docstring; :func:`m2p.colour.distinct.distinct_colors`).

    Parameters
    ----------
    lch
        (k, 3) CIELCh palette.
    n
        Number of colours, 1 to 64.
    background
        Hex string or sRGB triple the colours land on.
    min_contrast
        WCAG contrast against ``background``; default :data:`LINE_CONTRAST`; 1 for none.
    min_distance
        CIEDE2000; default :data:`DEFAULT_MIN_DISTANCE`; 0 keeps the palette's colours (moved
        in lightness only where the contrast needs it).
    lightness
        An extra L* range (intersected with the contrast band).
    warn
        Warn (once per distinct request) when the distance cannot be kept.

    Returns
    -------
    m2p.colour.distinct.Distinct

    Warns
    -----
    m2p.errors.DistinctColorsWarning
        ``n`` colours cannot keep ``min_distance`` legibly: they come as far apart as the
        search makes them, and the warning says how far.
    """
    band = legible_band(background, min_contrast, lightness=lightness)
    distance = DEFAULT_MIN_DISTANCE if min_distance is None else float(min_distance)
    palette = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    found, achieved = _grown(palette.tobytes(), len(palette), n, distance, band)
    if warn and achieved < distance:
        warn_user(shortfall_message(n, distance, found.min_distance, band.lightness),
                  DistinctColorsWarning)
    return Distinct(found.lch.copy(), found.rgb8.copy(), found.min_distance)


@functools.lru_cache(maxsize=512)
def _grown(key: bytes, k: int, n: int, distance: float, band: Band) -> tuple[Distinct, float]:
    """:func:`m2p.colour.distinct.grow`, memoised: adapters ask for the same colours often
    (every style call, every window of a race)."""
    lch = np.frombuffer(key, dtype=np.float64).reshape(k, 3)
    return grow(lch, n, distance, band.lightness, band.extremes)


def chart_look(palette: "Palette", *, dark: bool = False, n: int | None = None,
               min_distance: float | None = None, min_contrast: float | None = None) -> ChartLook:
    """The :class:`ChartLook` of a palette, light (white backgrounds) or dark (from the
    palette's darkest colour); ``n``, ``min_distance`` and ``min_contrast`` as for
    :func:`chart_colors` (``n=len(palette), min_distance=0, min_contrast=1``: the palette's
    own colours)."""
    lch = hex_to_lch(palette.hex)
    figure_bg, axes_bg = backgrounds(lch, dark=dark)
    text = text_color(lch, (figure_bg, axes_bg), light_text=dark)
    cycle = chart_colors(palette, n=n, min_distance=min_distance, background=axes_bg,
                         min_contrast=min_contrast)
    return ChartLook(tuple(cycle), figure_bg, axes_bg, text, edge=mix(text, axes_bg, 0.75),
                     grid=mix(text, axes_bg, 0.3))


def backgrounds(lch: np.ndarray, *, dark: bool) -> tuple[str, str]:
    """Figure and axes backgrounds of the light (white) or dark look of a palette."""
    return dark_backgrounds(lch) if dark else ("#ffffff", "#ffffff")


def chart_colors(palette: "Palette", *, n: int | None = None, min_distance: float | None = None,
                 background: Any = "#ffffff", min_contrast: float | None = None) -> list[str]:
    """A chart's categorical colours: :func:`legible_colors` of the palette in
    :func:`legible_order`.

    Parameters
    ----------
    palette
        The song's palette (a :class:`~m2p.palette_types.Palette`).
    n
        Number of colours; default ``max(len(palette), CYCLE_LENGTH)``.
    min_distance
        CIEDE2000; default :data:`DEFAULT_MIN_DISTANCE`.
    background
        Hex string or sRGB triple the colours are drawn on.
    min_contrast
        WCAG contrast ratio; default :data:`LINE_CONTRAST`; 1 for none.

    Returns
    -------
    list of str
        ``n`` ``'#rrggbb'`` codes.
    """
    lch = hex_to_lch(palette.hex)
    count = max(len(lch), CYCLE_LENGTH) if n is None else n
    found = legible_colors(lch[legible_order(lch)], count, background=background,
                           min_contrast=min_contrast, min_distance=min_distance)
    return lch_to_hex(found.lch)


def outline_color(colour: Any, background: Any, ratio: float = LINE_CONTRAST) -> str | None:
    """An outline for a colour that must be shown as it is (a palette's own swatch) on
    ``background``: ``None`` when the colour already has contrast >= ``ratio`` there, else a
    neutral with contrast >= ``ratio`` against the background (so the swatch's edge is seen)."""
    if float(contrast_ratio(colour, background)) >= ratio:
        return None
    bg_lch = rgb8_to_lch(np.round(as_srgb(background).reshape(1, 3) * 255.0))[0]
    return ensure_contrast(np.array([bg_lch[0], 0.0, 0.0]), background, ratio)


class TrackColors:
    """``t -> (n, 3)`` sRGB: one legible colour per slot for a whole palette track.

    Each slot keeps one hue for the whole piece: the colours are :func:`legible_colors` of the
    whole-piece palette (in :func:`legible_order`, or slot order with ``order=None``). The
    music moves lightness and chroma: at each window, every slot's L* moves by the window
    palette's mean L* minus the whole piece's, and its chroma by the ratio of their mean
    chromas, both limited to the range (found once, on a grid) in which every rule still holds
    (contrast, the near-extreme cap, the distance the whole-piece colours reached), and
    interpolated between windows. A time whose interpolated colours would break the distance
    between grid points takes the nearest grid point's.

    Parameters
    ----------
    track
        A :class:`~m2p.palette_types.PaletteTrack`.
    n
        Slots; default the whole-piece palette's length.
    background, min_contrast, min_distance
        As for :func:`legible_colors`.
    order
        ``"legible"`` or ``None`` (the palette's slot order).
    """

    def __init__(self, track: "PaletteTrack", n: int | None = None, *,
                 background: Any = "#ffffff", min_contrast: float | None = None,
                 min_distance: float | None = None, order: str | None = "legible") -> None:
        overall = np.asarray(track.overall.lch, dtype=np.float64)
        if order == "legible":
            overall = overall[legible_order(overall)]
        elif order is not None:
            raise InvalidArgumentError(f"order must be 'legible' or None, got {order!r}")
        count = len(overall) if n is None else n
        self.band = legible_band(background, min_contrast)
        found = legible_colors(overall, count, background=background, min_contrast=min_contrast,
                               min_distance=min_distance)
        self.base = found.lch
        wanted = DEFAULT_MIN_DISTANCE if min_distance is None else float(min_distance)
        self.min_distance = min(wanted, found.min_distance)
        """Distance every call keeps (lower than asked only where the whole piece could not)."""
        self.times = np.asarray(track.times, dtype=np.float64)
        self.duration = float(track.duration)
        light = np.array([np.mean(p.lch[:, 0]) for p in track.palettes])
        chroma = np.array([np.mean(p.lch[:, 1]) for p in track.palettes])
        self._memo: dict[tuple[int, int], np.ndarray] = {}
        self.lightness_range, self.chroma_range = self._safe_box()
        self.shift = np.clip(light - float(np.mean(overall[:, 0])), *self.lightness_range)
        scale = chroma / max(float(np.mean(overall[:, 1])), 1e-6)
        self.scale = np.clip(scale, *self.chroma_range)

    def __call__(self, t: float) -> np.ndarray:
        shift, scale = self.params(t)
        # Frames close in time ask for nearly the same colours: quantise and remember them.
        key = (round(shift * 10.0), round(scale * 500.0))
        found = self._memo.get(key)
        if found is None:
            shift, scale = key[0] / 10.0, key[1] / 500.0
            rgb8 = self._rgb8(shift, scale)
            if not self._legible(rgb8):  # between grid points 8-bit rounding can tip it over
                step_l, step_c = _SWING_STEPS
                rgb8 = self._rgb8(round(shift / step_l) * step_l, round(scale / step_c) * step_c)
            found = rgb8 / 255.0
            if len(self._memo) < 4096:
                self._memo[key] = found
        return found.copy()

    def hex(self, t: float) -> list[str]:
        """The colours at ``t`` seconds as ``'#rrggbb'``."""
        return rgb_to_hex(self(t))

    def params(self, t: float) -> tuple[float, float]:
        """``(lightness shift, chroma factor)`` at ``t`` seconds."""
        t = min(max(float(t), 0.0), self.duration)
        if len(self.times) == 0:
            return 0.0, 1.0
        return float(np.interp(t, self.times, self.shift)), float(np.interp(t, self.times, self.scale))

    def _rgb8(self, shift: float, scale: float) -> np.ndarray:
        lch = self.base.copy()
        lch[:, 0] = lch[:, 0] + shift
        lch[:, 1] = lch[:, 1] * scale
        return lch_to_rgb8(lch)

    def _safe(self, shift: float, scale: float) -> bool:
        return self._legible(self._rgb8(shift, scale))

    def _legible(self, rgb8: np.ndarray) -> bool:
        """Whether 8-bit colours keep the rule: band, near-extreme cap, distance."""
        shown = rgb8_to_lch(rgb8)[:, 0]
        lo, hi = self.band.lightness
        if (shown < lo).any() or (shown > hi).any():
            return False
        if int(self.band.extremes.of(shown).sum()) > max(
                self.band.extremes.most, int(self.band.extremes.of(self.base[:, 0]).sum())):
            return False
        return len(rgb8) < 2 or min_pairwise_distance(rgb8 / 255.0) >= self.min_distance

    def _safe_box(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The largest grid box around (0, 1) of lightness shifts and chroma factors in which
        every grid point keeps the rules (lightness first, then chroma over that range)."""
        step_l, step_c = _SWING_STEPS

        def reach(ok: Any, step: float, limit: float) -> float:
            out, k = 0.0, 1
            while k * step <= limit + 1e-9 and ok(k * step):
                out, k = k * step, k + 1
            return out

        up = reach(lambda d: self._safe(d, 1.0), step_l, _SWING_LIGHTNESS)
        down = reach(lambda d: self._safe(-d, 1.0), step_l, _SWING_LIGHTNESS)
        shifts = np.arange(-down, up + 1e-9, step_l)

        def chroma_ok(factor: float) -> bool:
            return all(self._safe(float(d), factor) for d in shifts)

        more = reach(lambda c: chroma_ok(1.0 + c), step_c, _SWING_CHROMA)
        less = reach(lambda c: chroma_ok(1.0 - c), step_c, _SWING_CHROMA)
        return (-down, up), (1.0 - less, 1.0 + more)


def legible_order(lch: np.ndarray) -> list[int]:
    """Order colours so that neighbours in a colour cycle are far apart in CIEDE2000.

    Up to 8 colours: exhaustive search over all orders for the largest smallest CIEDE2000
    between cyclically adjacent colours (the cycle repeats), ties broken by the distance of the
    first two colours, then by the total. More colours: greedy farthest neighbour from the most
    chromatic colour.

    Parameters
    ----------
    lch
        (n, 3) CIELCh colours.

    Returns
    -------
    list of int
        A permutation of ``range(n)``.
    """
    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    n = len(lch)
    if n <= 2:
        return sorted(range(n), key=lambda i: -lch[i, 1])
    dist = ciede2000_matrix(lch)
    if n <= 8:
        first = int(np.argmax(lch[:, 1]))  # cycles are rotation-invariant: start at the most vivid
        rest = [i for i in range(n) if i != first]
        perms = np.array([(first, *p) for p in itertools.permutations(rest)], dtype=np.intp)
        adjacent = dist[perms, np.roll(perms, -1, axis=1)]  # cyclic neighbours
        score = (np.round(adjacent.min(axis=1), 6) * 1e6
                 + np.round(dist[perms[:, 0], perms[:, 1]], 3) * 1e2
                 + adjacent.sum(axis=1) * 1e-3)
        return [int(i) for i in perms[int(np.argmax(score))]]
    order = [int(np.argmax(lch[:, 1]))]
    left = set(range(n)) - set(order)
    while left:
        last = order[-1]
        nxt = max(sorted(left), key=lambda j: (dist[last, j], min(dist[k, j] for k in order)))
        order.append(nxt)
        left.remove(nxt)
    return order


def text_color(lch: np.ndarray, backgrounds: tuple[str, ...], *, light_text: bool) -> str:
    """A low-chroma tint of the palette with contrast >= :data:`TEXT_CONTRAST` on every
    background (aiming at 7:1), light on dark backgrounds and dark on light ones.

    Parameters
    ----------
    lch
        (n, 3) CIELCh palette; its lightest (light text) or darkest colour gives the hue.
    backgrounds
        Hex codes the text is drawn on.
    light_text
        Light text (for dark backgrounds) or dark text.

    Returns
    -------
    str
        ``'#rrggbb'``.
    """
    base = lch[int(np.argmax(lch[:, 0]))] if light_text else lch[int(np.argmin(lch[:, 0]))]
    start = np.array([92.0 if light_text else 20.0, min(base[1], 12.0), base[2]])
    # The least favourable background decides (the lighter one for light text, and vice versa).
    lums = [float(relative_luminance(as_srgb(b))) for b in backgrounds]
    worst = backgrounds[int(np.argmax(lums) if light_text else np.argmin(lums))]
    # Aim above the minimum (7:1, WCAG AAA) while staying close to the palette's hue.
    text = ensure_contrast(start, worst, 7.0)
    if min(contrast_ratio(text, b) for b in backgrounds) < TEXT_CONTRAST:
        text = "#ffffff" if light_text else "#000000"
    return text


def ensure_contrast(lch: np.ndarray, background: Any, ratio: float) -> str:
    """The colour nearest in L* to ``lch`` (same hue) with contrast >= ``ratio`` on ``background``.

    L* moves away from the background (up on dark, down on light) in steps of 0.5, chroma is
    reduced only as the sRGB gamut requires, and the test is made on the 8-bit result, so the
    returned hex really has the contrast. Falls back to black or white.

    Parameters
    ----------
    lch
        (3,) CIELCh colour.
    background
        Hex string or sRGB triple.
    ratio
        WCAG contrast ratio, 1 to 21.

    Returns
    -------
    str
        ``'#rrggbb'``.
    """
    lch = np.asarray(lch, dtype=np.float64).reshape(3)
    dark_bg = is_dark(background)
    end = 100.0 if dark_bg else 0.0
    ls = np.arange(lch[0], end + (0.5 if dark_bg else -0.5), 0.5 if dark_bg else -0.5)
    ls = np.clip(np.append(ls, end), 0.0, 100.0)
    cands = np.column_stack([ls, np.full_like(ls, lch[1]), np.full_like(ls, lch[2])])
    rgb = lch_to_rgb8(cands) / 255.0
    ok = np.nonzero(contrast_ratio(rgb, as_srgb(background)) >= ratio)[0]
    if len(ok):
        return rgb_to_hex(rgb[ok[0]])[0]
    return "#ffffff" if dark_bg else "#000000"


def dark_backgrounds(lch: np.ndarray) -> tuple[str, str]:
    """Figure and (slightly lighter) axes background from the palette's darkest colour.

    Returns
    -------
    (str, str)
        Hex codes: L* <= 7 and <= 10, chroma capped at 12 and 14, the darkest colour's hue
        (dark enough that colours from L* about 38 up keep 3:1 on them, room the legibility
        rule needs for eight categories).
    """
    base = lch[int(np.argmin(lch[:, 0]))]
    fig = np.array([min(base[0], 7.0), min(base[1], 12.0), base[2]])
    ax = np.array([min(base[0], 7.0) + 3.0, min(base[1], 14.0), base[2]])
    return tuple(lch_to_hex(np.stack([fig, ax])))  # type: ignore[return-value]


def mix(a: Any, b: Any, weight: float) -> str:
    """``weight * a + (1 - weight) * b`` in sRGB (hex strings or sRGB triples), as hex."""
    return rgb_to_hex(weight * as_srgb(a) + (1.0 - weight) * as_srgb(b))[0]
