"""Bokeh palettes (lists of hex codes) and ``bokeh.themes.Theme`` objects coloured by a song."""

from __future__ import annotations

from typing import Any

from m2p.colour.convert_np import hex_to_lch, rgb_to_hex
from m2p.colour.legibility import backgrounds, chart_colors, chart_look
from m2p.colour.ramps import diverging_ramp, sequential_ramp
from m2p.errors import InvalidArgumentError
from m2p_plugins import _common

KINDS = ("category", "sequential", "diverging")
"""Kinds :func:`palette` accepts."""

RAMP_SIZE = 256
"""Colours in a sequential or diverging palette by default (like Bokeh's ``Viridis256``)."""


def palette(source: Any, kind: str = "category", *, n: int | None = None,
            at: float | None = None, dark: bool | None = None, background: Any = None,
            min_distance: float | None = None, min_contrast: float | None = None,
            model: Any = None, seed: int = 0, **inference_kwargs: Any) -> list[str]:
    """A Bokeh palette: a list of hex codes for ``factor_cmap``, ``linear_cmap`` or
    ``color=``.

    Parameters
    ----------
    source
        Audio path (inference cached per file content), NumPy samples (``sample_rate=``),
        :class:`~m2p.palette_types.Palette` or :class:`~m2p.palette_types.PaletteTrack`.
    kind
        ``"category"``: the chart colours of :func:`m2p.style` on the plot background (the
        legibility rule of :mod:`m2p.colour.legibility`): the palette in legible order grown
        to ``n`` colours, every pair ``min_distance`` CIEDE2000 apart also for colour-blind
        readers, each at least ``min_contrast`` (default 3:1; 1 for none) on the background
        by moving lightness only, at most two near-black (near-white on a dark background).
        ``"sequential"``: dark to light, strictly increasing L*. ``"diverging"``: two of the
        palette's hues, apart for colour-blind readers, through a light centre.
    n
        Number of colours of a ramp (default :data:`RAMP_SIZE`) or of the categories (default
        ``max(len(palette), 8)``).
    dark
        ``True`` / ``False``: the plot background of :func:`theme`'s dark or light look.
        ``None`` (default): follow the theme in force, ``curdoc().theme`` (its
        ``Plot.background_fill_color``; white when it sets none), so after
        ``curdoc().theme = m2p.bokeh.theme(song, dark=True)`` the colours are dark-legible.
    background
        The plot background itself (hex or sRGB), instead of ``dark``.
    min_distance, min_contrast
        For ``"category"``: default 20 CIEDE2000 and 3:1.
    at, model, seed, **inference_kwargs
        As for :func:`theme`.
    """
    if kind not in KINDS:
        raise InvalidArgumentError(f"kind must be one of {KINDS}, got {kind!r}")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise InvalidArgumentError(f"n must be a whole number >= 1, got {n!r}")
    colours, _ = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                         **inference_kwargs)
    if kind == "category":
        if background is None:
            background = (current_background() if dark is None
                          else backgrounds(hex_to_lch(colours.hex), dark=dark)[1])
        return chart_colors(colours, n=n, min_distance=min_distance, background=background,
                            min_contrast=min_contrast)
    lch = hex_to_lch(colours.hex)
    size = RAMP_SIZE if n is None else max(n, 2)
    ramp = (sequential_ramp(lch, size) if kind == "sequential"
            else diverging_ramp(lch, size))
    return rgb_to_hex(ramp)[:n]  # n = 1: the ramp's dark end


def current_background() -> str:
    """The plot background of the Bokeh theme in force (``curdoc().theme``'s
    ``Plot.background_fill_color``), white when none is set or Bokeh is not installed."""
    try:
        from bokeh.io import curdoc
    except ImportError:
        return "#ffffff"
    attrs = getattr(curdoc().theme, "_json", {}).get("attrs", {})
    colour = attrs.get("Plot", {}).get("background_fill_color")
    if isinstance(colour, str) and colour.startswith("#") and len(colour) in (4, 7):
        return colour if len(colour) == 7 else "#" + "".join(c * 2 for c in colour[1:])
    return "#ffffff"


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
