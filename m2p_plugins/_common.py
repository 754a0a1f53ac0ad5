"""Colour logic shared by the built-in adapters (NumPy + :mod:`m2p.colour.convert`, no plotting library).

* :func:`resolve_palette`: :func:`m2p.resolve.resolve_palette` plus a stem for names.
* :func:`legible_order`: order colours so adjacent ones are far apart in CIEDE2000.
* :func:`chart_colours`: a chart's categorical colours: the palette in legible order grown to
  ``n`` distinct colours (:meth:`~m2p.palette_types.Palette.take`) that keep a contrast.
* :func:`sequential_ramp`, :func:`diverging_ramp`: ramps built in CIELAB (perceptually
  uniform) with monotonic lightness, gamut-mapped at constant L* and hue.
* :func:`contrast_ratio`, :func:`ensure_contrast`: WCAG 2 contrast.
* :func:`chart_look` (with :func:`dark_backgrounds`, :func:`text_colour`, :func:`mix`): the
  chart colours the plotting adapters share (Matplotlib style, Plotly template, Bokeh theme).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2p import cache, resolve
from m2p.colour import distinct as distinct
from m2p.colour.convert_np import lch_to_lab, relative_luminance, rgb_to_hex
from m2p.palette_types import Palette, PaletteTrack

INFERENCE_KEYS = frozenset({"device", "window", "hop", "noise", "batch_size", "sample_rate",
                            "progress"})
"""Keyword arguments that adapters pass through to :func:`m2p.palette` / ``palette_track``."""

TEXT_CONTRAST = 4.5
"""Minimum WCAG 2 contrast of text against the figure and axes backgrounds (AA)."""

CYCLE_LENGTH = 10
"""Categorical colours a chart gets when ``n`` is not given (at least the palette's own): as
many as Matplotlib's default cycle and Vega's ``tableau10``, so series 6 is not series 1 again."""

LINE_CONTRAST = 3.0
"""Default minimum WCAG 2 contrast of lines, markers and bars against the background (WCAG 2.1
success criterion 1.4.11, non-text contrast)."""

DIVERGING_SEPARATION = 20.0
"""Smallest CIEDE2000 between the two ends of a diverging ramp, in normal vision and under
simulated deuteranopia and protanopia (so a diverging map never runs red to green)."""


def resolve_palette(source: Any, *, at: float | None = None, model: Any = None, seed: int = 0,
                    **inference_kwargs: Any) -> tuple[Any, str]:
    """Turn an adapter's ``source`` argument into ``(Palette, stem)``.

    The palette comes from the core's one resolver, :func:`m2p.resolve.resolve_palette` (cached
    per audio content); this adds the stem the adapters name their colormaps and themes by.

    Parameters
    ----------
    source
        Audio path (str / PathLike), NumPy samples (pass ``sample_rate=``), a
        :class:`~m2p.palette_types.Palette` or a :class:`~m2p.palette_types.PaletteTrack`.
    at
        Seconds into the piece: the palette in force then. ``None`` uses the whole-piece palette.
    model, seed, **inference_kwargs
        Passed to :func:`m2p.palette` / :func:`m2p.palette_track` for audio inputs.

    Returns
    -------
    (Palette, str)
        The palette and a stable, identifier-like stem for colormap names
        (file stem, plus ``_t<seconds>`` when ``at`` is given).

    Raises
    ------
    m2p.errors.TrackError
        ``at`` is outside ``[0, duration]`` or given with a single Palette.
    """
    if isinstance(source, (str, os.PathLike, np.ndarray)):
        palette = resolve.resolve_palette(source, at=at, model=model, seed=seed,
                                          **inference_kwargs)
        if isinstance(source, np.ndarray):
            digest = cache.content_digest(
                source, sample_rate=inference_kwargs.get("sample_rate")) or ""
            stem = "array_" + digest.split(":")[-1][:8]
        else:
            stem = _stem_of(source) or "song"
    else:
        palette = resolve.resolve_palette(source, at=at)
        if isinstance(source, Palette):
            stem = "palette_" + _short_hash(",".join(source.hex))
        else:
            assert isinstance(source, PaletteTrack)
            stem = _stem_of(source.source) or "track_" + _short_hash(source.to_json())
    return palette, stem if at is None else stem + _at_suffix(at)


track_at = resolve.track_at
"""``track.at(at)`` with a clear :class:`~m2p.errors.TrackError` outside the track (the core's)."""


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
    from m2p.colour import convert as colour

    dist = colour.ciede2000_matrix(lch)
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


def chart_colours(palette: Palette, *, n: int | None = None, min_distance: float | None = None,
                  background: Any = "#ffffff", min_contrast: float | None = None) -> list[str]:
    """A chart's categorical colours: the palette in legible order, grown to ``n`` colours.

    The result is :meth:`~m2p.palette_types.Palette.take` of the palette in
    :func:`legible_order`: its own colours first, every pair at least ``min_distance``
    CIEDE2000 apart in normal vision and under simulated deuteranopia and protanopia, and every
    colour at WCAG contrast >= ``min_contrast`` against ``background`` (lightness moved only).

    Parameters
    ----------
    palette
        The song's palette.
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
    lch = palette_lch(palette)
    ordered = Palette(lch[legible_order(lch)], palette.emotion, palette.valence_arousal)
    count = max(len(palette), CYCLE_LENGTH) if n is None else n
    ratio = LINE_CONTRAST if min_contrast is None else float(min_contrast)
    lightness = ((0.0, 100.0) if ratio <= 1.0
                 else distinct.lightness_for_contrast(to_rgb(background), ratio))
    return list(ordered.take(count, min_distance=min_distance, lightness=lightness).hex)


def sequential_ramp(lch: np.ndarray, n: int = 256, *, lightness: tuple[float, float] = (25.0, 92.0)
                    ) -> np.ndarray:
    """A sequential ramp through the palette, dark to light, with strictly increasing L*.

    The palette colours are placed along the ramp at their own lightness; L* runs linearly
    from the darker of ``lightness[0]`` and the darkest colour to the lighter of
    ``lightness[1]`` and the lightest colour, while a* and b* are interpolated linearly in
    CIELAB between the colours. Out-of-gamut samples lose chroma at constant L* and hue, so
    lightness stays exactly monotonic.

    Parameters
    ----------
    lch
        (k, 3) CIELCh palette.
    n
        Number of samples.
    lightness
        Minimum span of L* the ramp covers.

    Returns
    -------
    numpy.ndarray
        (n, 3) sRGB in [0, 1].
    """
    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    lab = lch_to_lab(lch)
    order = np.argsort(lab[:, 0], kind="stable")
    lab = lab[order]
    lo = min(float(lab[0, 0]), lightness[0])
    hi = max(float(lab[-1, 0]), lightness[1])
    pos = (lab[:, 0] - lo) / (hi - lo)
    keep: list[int] = []
    for i in range(len(lab)):  # colours of near-equal lightness: keep the more chromatic
        if keep and pos[i] - pos[keep[-1]] < 0.03:
            if np.hypot(*lab[i, 1:]) > np.hypot(*lab[keep[-1], 1:]):
                keep[-1] = i
            continue
        keep.append(i)
    anchors, xs = lab[keep], pos[keep]
    t = np.linspace(0.0, 1.0, n)
    out = np.empty((n, 3))
    out[:, 0] = lo + t * (hi - lo)
    # Ends fade the nearest colour's chroma towards neutral so the extremes read as dark / light.
    xa = np.concatenate(([0.0], xs, [1.0]))
    a = np.concatenate(([anchors[0, 1] * 0.6], anchors[:, 1], [anchors[-1, 1] * 0.35]))
    b = np.concatenate(([anchors[0, 2] * 0.6], anchors[:, 2], [anchors[-1, 2] * 0.35]))
    xa, uniq = np.unique(xa, return_index=True)
    out[:, 1] = np.interp(t, xa, a[uniq])
    out[:, 2] = np.interp(t, xa, b[uniq])
    return _lab_to_srgb_mapped(out)


def diverging_ramp(lch: np.ndarray, n: int = 256, *, centre_lightness: float = 96.0
                   ) -> np.ndarray:
    """A diverging ramp between two palette hues that stay apart for colour-blind readers.

    The ends are the two palette colours whose end colours (both at one lightness: the mean of
    the two, clipped to [30, 60]) are farthest apart in CIEDE2000 in the *worst* of normal
    vision and simulated deuteranopia and protanopia (Machado et al. 2009); a red and a green
    of one lightness look alike to most colour-blind readers, so that pair loses. When no pair
    keeps :data:`DIVERGING_SEPARATION`, the ramp runs from a palette colour to its complementary
    hue, and for greys from blue to yellow-brown. L* rises linearly to a neutral centre and
    a*, b* fade linearly to zero, in CIELAB.

    Returns
    -------
    numpy.ndarray
        (n, 3) sRGB in [0, 1]; the first half has increasing, the second decreasing L*.
    """
    lab = lch_to_lab(np.asarray(lch, dtype=np.float64).reshape(-1, 3))
    end_l, ab = _diverging_ends(lab)
    hue = np.degrees(np.arctan2(ab[:, 1], ab[:, 0])) % 360.0
    if hue[0] > hue[1]:  # stable orientation: smaller hue angle on the left
        ab = ab[::-1]
    t = np.linspace(0.0, 1.0, n)
    out = np.empty((n, 3))
    left = t <= 0.5
    u = np.where(left, t / 0.5, (1.0 - t) / 0.5)  # 0 at the ends, 1 at the centre
    out[:, 0] = end_l + u * (centre_lightness - end_l)
    end_ab = np.where(left[:, None], ab[0], ab[1])
    out[:, 1:] = end_ab * (1.0 - u)[:, None]
    return _lab_to_srgb_mapped(out)


def contrast_ratio(a: Any, b: Any) -> float:
    """WCAG 2 contrast ratio (1 to 21) between two colours (hex strings or sRGB triples)."""
    return float(distinct.contrast_ratio(to_rgb(a), to_rgb(b)))


def ensure_contrast(lch: np.ndarray, background: Any, ratio: float) -> str:
    """The colour nearest in L* to ``lch`` (same hue) with contrast >= ``ratio`` on ``background``.

    L* moves away from the background (up on dark, down on light) in steps of 0.5, chroma is
    reduced only as the sRGB gamut requires, and the test is made on the 8-bit result, so the
    returned hex really has the contrast. Falls back to black or white.

    Returns
    -------
    str
        ``'#rrggbb'``.
    """
    from m2p.colour import convert as colour

    lch = np.asarray(lch, dtype=np.float64).reshape(3)
    bg = to_rgb(background)
    dark_bg = relative_luminance(bg) < 0.18
    end = 100.0 if dark_bg else 0.0
    ls = np.arange(lch[0], end + (0.5 if dark_bg else -0.5), 0.5 if dark_bg else -0.5)
    ls = np.clip(np.append(ls, end), 0.0, 100.0)
    cands = np.column_stack([ls, np.full_like(ls, lch[1]), np.full_like(ls, lch[2])])
    rgb8 = colour.lch_to_rgb8(cands) / 255.0
    lum = relative_luminance(rgb8)
    lb = relative_luminance(bg)
    ratios = (np.maximum(lum, lb) + 0.05) / (np.minimum(lum, lb) + 0.05)
    ok = np.nonzero(ratios >= ratio)[0]
    if len(ok):
        return to_hex(rgb8[ok[0]])
    return "#ffffff" if dark_bg else "#000000"


@dataclass(frozen=True)
class ChartLook:
    """The colours of a chart coloured by a palette (hex codes).

    Attributes
    ----------
    cycle
        Series colours: :func:`chart_colours` on ``axes_bg``.
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


def chart_look(palette: Palette, *, dark: bool = False, n: int | None = None,
               min_distance: float | None = None, min_contrast: float | None = None) -> ChartLook:
    """The :class:`ChartLook` of a palette, light (white backgrounds) or dark (from the
    palette's darkest colour); ``n``, ``min_distance`` and ``min_contrast`` as for
    :func:`chart_colours` (``n=len(palette), min_distance=0, min_contrast=1``: the palette's
    own colours)."""
    lch = palette_lch(palette)
    if dark:
        figure_bg, axes_bg = dark_backgrounds(lch)
    else:
        figure_bg = axes_bg = "#ffffff"
    text = text_colour(lch, (figure_bg, axes_bg), light_text=dark)
    cycle = chart_colours(palette, n=n, min_distance=min_distance, background=axes_bg,
                          min_contrast=min_contrast)
    return ChartLook(tuple(cycle), figure_bg, axes_bg, text, edge=mix(text, axes_bg, 0.75),
                     grid=mix(text, axes_bg, 0.3))


def dark_backgrounds(lch: np.ndarray) -> tuple[str, str]:
    """Figure and (slightly lighter) axes background from the palette's darkest colour.

    Returns
    -------
    (str, str)
        Hex codes: L* <= 10 and <= 14, chroma capped at 12 and 14, the darkest colour's hue.
    """
    from m2p.colour import convert as colour

    base = lch[int(np.argmin(lch[:, 0]))]
    fig = np.array([min(base[0], 10.0), min(base[1], 12.0), base[2]])
    ax = np.array([min(base[0], 10.0) + 4.0, min(base[1], 14.0), base[2]])
    return tuple(colour.lch_to_hex(np.stack([fig, ax])))  # type: ignore[return-value]


def text_colour(lch: np.ndarray, backgrounds: tuple[str, ...], *, light_text: bool) -> str:
    """A low-chroma tint of the palette with contrast >= :data:`TEXT_CONTRAST` on every
    background (aiming at 7:1), light on dark backgrounds and dark on light ones."""
    base = lch[int(np.argmax(lch[:, 0]))] if light_text else lch[int(np.argmin(lch[:, 0]))]
    start = np.array([92.0 if light_text else 20.0, min(base[1], 12.0), base[2]])
    # The least favourable background decides (the lighter one for light text, and vice versa).
    lums = [float(relative_luminance(to_rgb(b))) for b in backgrounds]
    worst = backgrounds[int(np.argmax(lums) if light_text else np.argmin(lums))]
    # Aim above the minimum (7:1, WCAG AAA) while staying close to the palette's hue.
    text = ensure_contrast(start, worst, 7.0)
    if min(contrast_ratio(text, b) for b in backgrounds) < TEXT_CONTRAST:
        text = "#ffffff" if light_text else "#000000"
    return text


def mix(a: str, b: str, weight: float) -> str:
    """``weight * a + (1 - weight) * b`` in sRGB, as hex."""
    return to_hex(weight * to_rgb(a) + (1.0 - weight) * to_rgb(b))


def to_rgb(c: Any) -> np.ndarray:
    """A hex string or sRGB triple in [0, 1] as a float array (3,)."""
    if isinstance(c, str):
        from m2p.colour.convert import hex_to_rgb

        return hex_to_rgb(c)[0]
    return np.asarray(c, dtype=np.float64).reshape(3)


def to_hex(rgb: Any) -> str:
    """sRGB triple in [0, 1] -> ``'#rrggbb'``."""
    return rgb_to_hex(np.asarray(rgb, dtype=np.float64).reshape(3))[0]


def lch_of_hex(hexes: list[str]) -> np.ndarray:
    """CIELCh (n, 3) of hex colours."""
    from m2p.colour import convert as colour

    return colour.hex_to_lch(list(hexes))


def palette_lch(palette: Any) -> np.ndarray:
    """A Palette's colours as CIELCh (n, 3), taken from its hex (what users see)."""
    return lch_of_hex(list(palette.hex))


# ---------------------------------------------------------------------------------------------


def _diverging_ends(lab: np.ndarray) -> tuple[float, np.ndarray]:
    """End lightness and the (2, 2) a*b* of the two ends of :func:`diverging_ramp`."""
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    vivid = [int(i) for i in np.argsort(-chroma, kind="stable") if chroma[i] >= 5.0]
    pairs = [(float(np.clip((lab[i, 0] + lab[j, 0]) / 2.0, 30.0, 60.0)), lab[i, 1:], lab[j, 1:])
             for i, j in itertools.combinations(vivid, 2)]
    complements = []
    for i in vivid:  # a colour and its complementary hue, at a usable chroma
        base = lab[i, 1:] * max(1.0, 35.0 / chroma[i])
        complements.append((float(np.clip(lab[i, 0], 30.0, 60.0)), base, -base))
    for candidates in (pairs, complements):
        if candidates:
            score = [_worst_vision_distance(light, a, b) for light, a, b in candidates]
            best = int(np.argmax(score))
            if score[best] >= DIVERGING_SEPARATION:
                light, a, b = candidates[best]
                return light, np.stack([a, b])
    blue = np.array([-10.0, -40.0]) * 35.0 / np.hypot(10.0, 40.0)
    return 50.0, np.stack([blue, -blue])


def _worst_vision_distance(light: float, ab_a: np.ndarray, ab_b: np.ndarray) -> float:
    """CIEDE2000 of two end colours (gamut-mapped) in the worst of normal and dichromat vision."""
    rgb = _lab_to_srgb_mapped(np.array([[light, *ab_a], [light, *ab_b]]))
    return min(float(distinct.pairwise_distances(rgb, vision=v)[0, 1]) for v in distinct.VISIONS)


def _lab_to_srgb_mapped(lab: np.ndarray) -> np.ndarray:
    import torch

    from m2p.colour import convert as colour

    with torch.no_grad():
        lch = colour.lab_to_lch(torch.as_tensor(lab, dtype=torch.float64))
        rgb = colour.lch_to_srgb(colour.gamut_map_lch(lch)).numpy()
    return np.clip(rgb, 0.0, 1.0)


def _stem_of(source: Any) -> str | None:
    if source is None:
        return None
    try:
        name = Path(os.fspath(source)).stem
    except TypeError:
        return None
    return readable_stem(name)


def readable_stem(text: str) -> str | None:
    """An identifier-like stem of ``text``: accents folded to their letters (NFKD, so "Ünicode
    Çafé" is ``unicode_cafe``), other letters of any script kept, everything else ``_``."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    stem = re.sub(r"[\W_]+", "_", folded).strip("_").casefold()
    return stem or None


def _at_suffix(at: float) -> str:
    return "_t" + f"{float(at):g}".replace(".", "p").replace("-", "m")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
