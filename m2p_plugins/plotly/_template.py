"""Plotly templates coloured by a song: ``pio.templates["m2p"]``, registered, never made default."""

from __future__ import annotations

from typing import Any

import numpy as np

from m2p.colour.convert_np import hex_to_lch, rgb_to_hex
from m2p.colour.legibility import backgrounds, chart_colors, chart_look
from m2p.colour.ramps import diverging_ramp, sequential_ramp
from m2p.errors import InvalidArgumentError
from m2p_plugins import _common

SCALE_STEPS = 11
"""Colours in each colour scale (Plotly interpolates between them)."""

SCALES = ("sequential", "diverging")
"""Kinds :func:`colorscale` accepts."""


def register_template(source: Any, name: str = "m2p", *, at: float | None = None,
                      dark: bool = False, n: int | None = None, min_distance: float | None = None,
                      min_contrast: float | None = None, model: Any = None, seed: int = 0,
                      **inference_kwargs: Any) -> str:
    """Register a Plotly template coloured by ``source`` as ``pio.templates[name]``.

    The template is only registered: use it with ``fig.update_layout(template="m2p")``,
    ``px.line(..., template="m2p")``, on top of another (``template="plotly_white+m2p"``) or
    for every figure with ``pio.templates.default = "m2p"``, which is left to you.

    Parameters
    ----------
    source
        Audio path (inference cached per file content), NumPy samples (``sample_rate=``),
        :class:`~m2p.palette_types.Palette` or :class:`~m2p.palette_types.PaletteTrack`.
    name
        Template name; registering a name again replaces that template.
    at, dark, n, min_distance, min_contrast, model, seed, **inference_kwargs
        As for :func:`template`.

    Returns
    -------
    str
        ``name``.
    """
    import plotly.io as pio

    if not isinstance(name, str) or not name or "+" in name:
        raise InvalidArgumentError(f"template name must be a non-empty string without '+' "
                                   f"(Plotly joins templates with it), got {name!r}")
    pio.templates[name] = template(source, at=at, dark=dark, n=n, min_distance=min_distance,
                                   min_contrast=min_contrast, model=model, seed=seed,
                                   **inference_kwargs)
    return name


def template(source: Any, *, at: float | None = None, dark: bool = False, n: int | None = None,
             min_distance: float | None = None, min_contrast: float | None = None,
             model: Any = None, seed: int = 0, **inference_kwargs: Any) -> Any:
    """A ``plotly.graph_objects.layout.Template`` coloured by ``source``.

    ``layout.colorway`` is the chart colours of :func:`m2p.style` (the palette in legible order
    grown to ``n`` colours, every pair ``min_distance`` CIEDE2000 apart also for colour-blind
    readers, each at least ``min_contrast`` on the plot background by moving lightness only); ``layout.colorscale`` holds the song's
    sequential ramp (monotonic L*) and diverging ramp; backgrounds, text (>= 4.5:1), axis and
    grid colours follow the light (white) or ``dark`` look of :func:`m2p.style`.

    Parameters
    ----------
    at
        Seconds: the palette in force then (default: the whole-piece palette).
    dark
        Dark backgrounds from the palette's darkest colour, light text.
    n, min_distance, min_contrast
        Colorway length (default ``max(len(palette), 8)``), smallest CIEDE2000 between its
        colours (default 20, also for colour-blind readers) and WCAG contrast on the plot
        background (default 3:1; 1 for none): the legibility rule of
        :mod:`m2p.colour.legibility`; ``n=len(palette), min_distance=0, min_contrast=1``
        keeps the palette's colours.
    model, seed, **inference_kwargs
        Passed to inference for audio sources.
    """
    import plotly.graph_objects as go

    palette, _ = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                         **inference_kwargs)
    look = chart_look(palette, dark=dark, n=n, min_distance=min_distance,
                      min_contrast=min_contrast)
    axis = {"gridcolor": look.grid, "linecolor": look.edge, "zerolinecolor": look.grid,
            "tickcolor": look.edge, "title": {"font": {"color": look.text}}}
    layout = {
        "colorway": list(look.cycle),
        "colorscale": {"sequential": _scale(palette, "sequential"),
                       "sequentialminus": _scale(palette, "sequential")[::-1],
                       "diverging": _scale(palette, "diverging")},
        "paper_bgcolor": look.figure_bg,
        "plot_bgcolor": look.axes_bg,
        "font": {"color": look.text},
        "xaxis": axis,
        "yaxis": axis,
        "legend": {"bgcolor": look.axes_bg, "bordercolor": look.grid},
    }
    return go.layout.Template(layout=layout)


def colorway(source: Any, *, at: float | None = None, dark: bool | None = None,
             background: Any = None, n: int | None = None, min_distance: float | None = None,
             min_contrast: float | None = None, model: Any = None, seed: int = 0,
             **inference_kwargs: Any) -> list[str]:
    """Chart colours for ``color_discrete_sequence=``, legible on the plot background.

    Parameters
    ----------
    dark
        ``False`` / ``True``: the background of :func:`template`'s light or dark look.
        ``None`` (default): follow the plot background of Plotly's default template in force
        (``pio.templates.default``, e.g. ``"plotly"``'s ``#E5ECF6``, or a registered ``m2p``
        dark template), white when it has none.
    background
        The plot background itself (hex or sRGB), instead of ``dark``.
    at, n, min_distance, min_contrast, model, seed, **inference_kwargs
        As for :func:`template`.
    """
    palette, _ = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                         **inference_kwargs)
    if background is None:
        background = (default_background() if dark is None
                      else backgrounds(hex_to_lch(palette.hex), dark=dark)[1])
    return chart_colors(palette, n=n, min_distance=min_distance, background=background,
                        min_contrast=min_contrast)


def default_background() -> Any:
    """The plot background of ``pio.templates.default`` (the last part of a ``"a+b"`` default
    that sets one), as sRGB in [0, 1]; white when none is set or it cannot be read."""
    import plotly.io as pio

    found: Any = "#ffffff"
    default = pio.templates.default
    names = default.split("+") if isinstance(default, str) else []
    for name in names:
        try:
            colour = pio.templates[name].layout.plot_bgcolor
        except (KeyError, ValueError, AttributeError):
            continue
        parsed = _parse_colour(colour) if colour else None
        if parsed is not None:
            found = parsed
    return found


def _parse_colour(colour: Any) -> Any:
    """A Plotly colour (``#rgb``, ``#rrggbb``, ``rgb(...)``, ``rgba(...)``, white, black) as
    sRGB in [0, 1], or ``None``."""
    import re

    from m2p.colour.convert_np import as_srgb

    text = str(colour).strip().lower()
    named = {"white": "#ffffff", "black": "#000000"}
    text = named.get(text, text)
    if text.startswith("#"):
        if len(text) == 4:
            text = "#" + "".join(c * 2 for c in text[1:])
        try:
            return as_srgb(text[:7]).reshape(3)
        except Exception:  # noqa: BLE001 - not a colour we can read: ignore it
            return None
    match = re.fullmatch(r"rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+).*\)", text)
    if match:
        return np.array([float(v) for v in match.groups()]) / 255.0
    return None


def colorscale(source: Any, kind: str = "sequential", *, at: float | None = None,
               model: Any = None, seed: int = 0, **inference_kwargs: Any) -> list[list[Any]]:
    """A Plotly colour scale ``[[0.0, "#..."], ..., [1.0, "#..."]]`` (``color_continuous_scale=``).

    ``"sequential"`` runs dark to light with strictly increasing L*; ``"diverging"`` runs
    between the palette's two most different hues through a light neutral centre.
    """
    palette, _ = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                         **inference_kwargs)
    return _scale(palette, kind)


def _scale(palette: Any, kind: str) -> list[list[Any]]:
    if kind not in SCALES:
        raise InvalidArgumentError(f"kind must be one of {SCALES}, got {kind!r}")
    lch = hex_to_lch(palette.hex)
    ramp = (sequential_ramp(lch, SCALE_STEPS) if kind == "sequential"
            else diverging_ramp(lch, SCALE_STEPS))
    stops = np.linspace(0.0, 1.0, SCALE_STEPS)
    return [[float(x), code] for x, code in zip(stops, rgb_to_hex(ramp))]
