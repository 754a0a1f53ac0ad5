"""The colours of a chart: legible order, series colours, text and backgrounds.

One rule makes a chart's categorical colours legible, and every plotting adapter (Matplotlib,
Altair, Plotly, Bokeh) calls it through :func:`chart_colors` (or :func:`chart_look`, which
adds backgrounds, text and grid colours around it): the palette in :func:`legible_order`
(neighbours in a colour cycle far apart), grown to ``n`` colours by
:func:`m2p.colour.distinct.distinct_colors` (a stated CIEDE2000 apart in normal and dichromat
vision), each moved in lightness only until it keeps a WCAG contrast against the background
(:func:`m2p.colour.vision.lightness_for_contrast`). Text gets the nearest palette tint that
keeps 4.5:1 (:func:`ensure_contrast`).

Examples
--------
>>> from m2p.colour.convert_np import hex_to_lch
>>> legible_order(hex_to_lch(["#1d3557", "#457b9d", "#e63946"]))
[2, 1, 0]
>>> ensure_contrast(hex_to_lch("#a8dadc")[0], "#ffffff", 4.5)
'#4f7e80'

References
----------
W3C (2018). Web Content Accessibility Guidelines 2.1: 1.4.3 contrast (minimum), 1.4.6
    contrast (enhanced), 1.4.11 non-text contrast.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from m2p.colour.convert_np import as_srgb, hex_to_lch, rgb_to_hex
from m2p.colour.difference import ciede2000_matrix
from m2p.colour.distinct import DEFAULT_MIN_DISTANCE, distinct_colors
from m2p.colour.gamut import lch_to_hex, lch_to_rgb8
from m2p.colour.vision import contrast_ratio, is_dark, lightness_for_contrast, relative_luminance

if TYPE_CHECKING:
    from m2p.palette_types import Palette

__all__ = [
    "TEXT_CONTRAST",
    "CYCLE_LENGTH",
    "LINE_CONTRAST",
    "ChartLook",
    "chart_colors",
    "chart_look",
    "dark_backgrounds",
    "ensure_contrast",
    "legible_order",
    "mix",
    "text_color",
]

TEXT_CONTRAST = 4.5
"""Minimum WCAG 2 contrast of text against the figure and axes backgrounds (AA)."""

CYCLE_LENGTH = 10
"""Categorical colours a chart gets when ``n`` is not given (at least the palette's own): as
many as Matplotlib's default cycle and Vega's ``tableau10``, so series 6 is not series 1 again."""

LINE_CONTRAST = 3.0
"""Default minimum WCAG 2 contrast of lines, markers and bars against the background (WCAG 2.1
success criterion 1.4.11, non-text contrast)."""


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


def chart_look(palette: "Palette", *, dark: bool = False, n: int | None = None,
               min_distance: float | None = None, min_contrast: float | None = None) -> ChartLook:
    """The :class:`ChartLook` of a palette, light (white backgrounds) or dark (from the
    palette's darkest colour); ``n``, ``min_distance`` and ``min_contrast`` as for
    :func:`chart_colors` (``n=len(palette), min_distance=0, min_contrast=1``: the palette's
    own colours)."""
    lch = hex_to_lch(palette.hex)
    if dark:
        figure_bg, axes_bg = dark_backgrounds(lch)
    else:
        figure_bg = axes_bg = "#ffffff"
    text = text_color(lch, (figure_bg, axes_bg), light_text=dark)
    cycle = chart_colors(palette, n=n, min_distance=min_distance, background=axes_bg,
                         min_contrast=min_contrast)
    return ChartLook(tuple(cycle), figure_bg, axes_bg, text, edge=mix(text, axes_bg, 0.75),
                     grid=mix(text, axes_bg, 0.3))


def chart_colors(palette: "Palette", *, n: int | None = None, min_distance: float | None = None,
                 background: Any = "#ffffff", min_contrast: float | None = None) -> list[str]:
    """A chart's categorical colours: the palette in legible order, grown to ``n`` colours.

    The palette's colours as shown (its hex codes) in :func:`legible_order`, grown by
    :func:`m2p.colour.distinct.distinct_colors` (what :meth:`~m2p.palette_types.Palette.take`
    does): its own colours first, every pair at least ``min_distance`` CIEDE2000 apart in
    normal vision and under simulated deuteranopia and protanopia, and every colour at WCAG
    contrast >= ``min_contrast`` against ``background`` (lightness moved only).

    Parameters
    ----------
    palette
        The song's palette (a :class:`~m2p.palette_types.Palette`).
    n
        Number of colours; default ``max(len(palette), CYCLE_LENGTH)``.
    min_distance
        CIEDE2000; default :data:`m2p.colour.distinct.DEFAULT_MIN_DISTANCE`.
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
    ratio = LINE_CONTRAST if min_contrast is None else float(min_contrast)
    lightness = (0.0, 100.0) if ratio <= 1.0 else lightness_for_contrast(background, ratio)
    found = distinct_colors(lch[legible_order(lch)], count, lightness=lightness,
                            min_distance=DEFAULT_MIN_DISTANCE if min_distance is None
                            else min_distance)
    return lch_to_hex(found.lch)


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
        Hex codes: L* <= 10 and <= 14, chroma capped at 12 and 14, the darkest colour's hue.
    """
    base = lch[int(np.argmin(lch[:, 0]))]
    fig = np.array([min(base[0], 10.0), min(base[1], 12.0), base[2]])
    ax = np.array([min(base[0], 10.0) + 4.0, min(base[1], 14.0), base[2]])
    return tuple(lch_to_hex(np.stack([fig, ax])))  # type: ignore[return-value]


def mix(a: Any, b: Any, weight: float) -> str:
    """``weight * a + (1 - weight) * b`` in sRGB (hex strings or sRGB triples), as hex."""
    return rgb_to_hex(weight * as_srgb(a) + (1.0 - weight) * as_srgb(b))[0]
