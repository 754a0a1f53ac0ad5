"""Bokeh palettes (lists of hex codes) and ``bokeh.themes.Theme`` objects coloured by a song."""

from __future__ import annotations

from typing import Any

from m2p.colour.convert_np import hex_to_lch, rgb_to_hex
from m2p.colour.legibility import chart_look
from m2p.colour.ramps import diverging_ramp, sequential_ramp
from m2p.errors import InvalidArgumentError
from m2p_plugins import _common

KINDS = ("category", "sequential", "diverging")
"""Kinds :func:`palette` accepts."""

RAMP_SIZE = 256
"""Colours in a sequential or diverging palette by default (like Bokeh's ``Viridis256``)."""


def palette(source: Any, kind: str = "category", *, n: int | None = None,
            at: float | None = None, dark: bool = False, min_distance: float | None = None,
            min_contrast: float | None = None, model: Any = None, seed: int = 0,
            **inference_kwargs: Any) -> list[str]:
    """A Bokeh palette: a list of hex codes for ``factor_cmap``, ``linear_cmap`` or
    ``color=``.

    Parameters
    ----------
    source
        Audio path (inference cached per file content), NumPy samples (``sample_rate=``),
        :class:`~m2p.palette_types.Palette` or :class:`~m2p.palette_types.PaletteTrack`.
    kind
        ``"category"``: the chart colours of :func:`m2p.style` on the plot background of the
        light (or ``dark``) :func:`theme`: the palette in legible order grown to ``n``
        colours, every pair ``min_distance`` CIEDE2000 apart also for colour-blind readers,
        each at least ``min_contrast`` (default 3:1; 1 for none) by moving lightness only. ``"sequential"``: dark to light, strictly
        increasing L*. ``"diverging"``: the two most different hues through a light centre.
    n
        Number of colours of a ramp (default :data:`RAMP_SIZE`) or of the categories (default
        ``max(len(palette), 10)``).
    min_distance, min_contrast
        For ``"category"``: default 10 CIEDE2000 and 3:1.
    at, dark, model, seed, **inference_kwargs
        As for :func:`theme`.
    """
    if kind not in KINDS:
        raise InvalidArgumentError(f"kind must be one of {KINDS}, got {kind!r}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InvalidArgumentError(f"n must be a whole number >= 1, got {n!r}")
    colours, _ = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                         **inference_kwargs)
    if kind == "category":
        return list(chart_look(colours, dark=dark, n=n, min_distance=min_distance,
                               min_contrast=min_contrast).cycle)
    lch = hex_to_lch(colours.hex)
    size = RAMP_SIZE if n is None else max(n, 2)
    ramp = (sequential_ramp(lch, size) if kind == "sequential"
            else diverging_ramp(lch, size))
    return rgb_to_hex(ramp)[:n]  # n = 1: the ramp's dark end


def theme(source: Any, *, at: float | None = None, dark: bool = False, model: Any = None,
          seed: int = 0, **inference_kwargs: Any) -> Any:
    """A ``bokeh.themes.Theme`` coloured by ``source``: ``curdoc().theme = m2p.bokeh.theme(...)``
    or ``show(p)`` / ``file_html(p, ..., theme=...)``.

    Backgrounds, outline, axes, grid, title, legend and colour-bar colours follow the light
    (white) or ``dark`` look of :func:`m2p.style`, text at WCAG >= 4.5:1. Bokeh has no colour
    cycle, and a theme does not reach glyph colours that ``figure`` methods set, so series
    colours come from :func:`palette`.

    Parameters
    ----------
    at
        Seconds: the palette in force then (default: the whole-piece palette).
    dark
        Dark backgrounds from the palette's darkest colour, light text.
    model, seed, **inference_kwargs
        Passed to inference for audio sources.
    """
    from bokeh.themes import Theme

    return Theme(json=theme_json(source, at=at, dark=dark, model=model, seed=seed,
                                 **inference_kwargs))


def theme_json(source: Any, *, at: float | None = None, dark: bool = False, model: Any = None,
               seed: int = 0, **inference_kwargs: Any) -> dict[str, Any]:
    """The theme as the JSON dictionary ``Theme(json=...)`` takes (``{"attrs": {...}}``)."""
    colours, _ = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                         **inference_kwargs)
    look = chart_look(colours, dark=dark)
    return {"attrs": {
        "Plot": {"background_fill_color": look.axes_bg, "border_fill_color": look.figure_bg,
                 "outline_line_color": look.edge},
        "Axis": {"axis_line_color": look.edge, "major_tick_line_color": look.edge,
                 "minor_tick_line_color": look.edge, "major_label_text_color": look.text,
                 "axis_label_text_color": look.text},
        "Grid": {"grid_line_color": look.grid},
        "Title": {"text_color": look.text},
        "Legend": {"background_fill_color": look.axes_bg, "label_text_color": look.text,
                   "border_line_color": look.grid},
        "ColorBar": {"background_fill_color": look.axes_bg,
                     "major_label_text_color": look.text, "title_text_color": look.text},
    }}
