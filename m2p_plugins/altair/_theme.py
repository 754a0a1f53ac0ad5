"""Altair themes (``alt.theme.register``) and scales (``alt.Scale``) coloured by a song."""

from __future__ import annotations

from typing import Any

from m2p.colour.convert_np import hex_to_lch, rgb_to_hex
from m2p.colour.legibility import chart_look
from m2p.colour.ramps import diverging_ramp, sequential_ramp
from m2p.errors import InvalidArgumentError
from m2p_plugins import _common

KINDS = ("category", "ramp", "diverging", "heatmap", "ordinal")
"""Vega-Lite ``config.range`` entries the theme fills (and kinds :func:`scale` accepts)."""

RAMP_STEPS = 9
"""Colours in the ``ramp`` / ``heatmap`` / ``ordinal`` ranges (Vega interpolates between them)."""

DIVERGING_STEPS = 11
"""Colours in the ``diverging`` range (odd, so the neutral centre is one of them)."""


def register_theme(source: Any, name: str = "m2p", *, at: float | None = None, model: Any = None,
                   seed: int = 0, dark: bool = False, n: int | None = None,
                   min_distance: float | None = None, min_contrast: float | None = None,
                   **inference_kwargs: Any) -> str:
    """Register an Altair theme coloured by ``source`` under ``name``; it is *not* enabled.

    Use it with ``alt.theme.enable(name)``, or for a block::

        with alt.theme.enable("m2p"):
            chart.save("chart.png")

    Parameters
    ----------
    source
        Audio path (inference cached per file content), NumPy samples (``sample_rate=``),
        :class:`~m2p.palette_types.Palette` or :class:`~m2p.palette_types.PaletteTrack`.
    name
        Theme name. Registering the same name again replaces the theme's colours (and, if that
        theme is the active one, the new colours apply from the next chart on).
    at, model, seed, **inference_kwargs
        As for :func:`m2p.style`.
    dark
        The dark look of :func:`m2p.style`: chart and view backgrounds from the palette's
        darkest colour, light text, and category colours legible on that background.
    n, min_distance, min_contrast
        The category range, as the cycle of :func:`m2p.style` (the legibility rule of
        :mod:`m2p.colour.legibility`): ``n`` colours (default at least 8), every pair
        ``min_distance`` CIEDE2000 apart (default 20) also under simulated deuteranopia and
        protanopia, each at WCAG contrast >= ``min_contrast`` (default 3) on the view
        background (white, or the dark one), at most two near-black (near-white when dark).

    Returns
    -------
    str
        ``name``.
    """
    from m2p._internal.checks import label
    from m2p._internal.extras import require

    label(name, "theme name")  # "" would register a theme nobody can enable
    require("altair", extra="altair", feature="m2p.altair.register_theme")
    import altair as alt

    config = theme_config(source, at=at, model=model, seed=seed, dark=dark, n=n,
                          min_distance=min_distance, min_contrast=min_contrast,
                          **inference_kwargs)

    def theme() -> Any:
        return config

    theme_api = getattr(alt, "theme", None)
    if theme_api is not None and hasattr(theme_api, "register"):  # Altair >= 5.5
        theme_api.register(name, enable=False)(theme)
    else:  # pragma: no cover - Altair < 5.5
        alt.themes.register(name, theme)
    return name


def theme_config(source: Any, *, at: float | None = None, model: Any = None, seed: int = 0,
                 dark: bool = False, n: int | None = None, min_distance: float | None = None,
                 min_contrast: float | None = None, **inference_kwargs: Any) -> dict[str, Any]:
    """The theme as a ``ThemeConfig`` dict (``{"config": {"range": ..., "mark": ...}}``).

    ``range.category`` is the palette in legible order (adjacent colours far apart in
    CIEDE2000) grown to ``n`` distinct, legible colours (see :func:`register_theme`);
    ``range.ramp`` / ``heatmap`` / ``ordinal`` are the song's sequential ramp (light
    to dark, monotonic L*, as Vega's own ramps run); ``range.diverging`` runs between its two most
    different hues through a light neutral centre; ``mark.color`` is the first category colour.
    """
    palette, _ = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                         **inference_kwargs)
    category = {"n": n, "min_distance": min_distance, "min_contrast": min_contrast,
                "dark": dark}
    ranges = {kind: _ranges(palette, kind, **category) for kind in KINDS}
    config: dict[str, Any] = {"config": {"range": ranges, "mark": {"color": ranges["category"][0]}}}
    if dark:
        look = chart_look(palette, dark=True, n=n, min_distance=min_distance,
                          min_contrast=min_contrast)
        axis = {"domainColor": look.edge, "tickColor": look.edge, "gridColor": look.grid,
                "labelColor": look.text, "titleColor": look.text}
        config["config"].update({
            "background": look.figure_bg, "view": {"fill": look.axes_bg, "stroke": look.edge},
            "axis": axis, "legend": {"labelColor": look.text, "titleColor": look.text},
            "title": {"color": look.text}, "header": {"labelColor": look.text,
                                                      "titleColor": look.text}})
    try:
        from altair.theme import ThemeConfig  # Altair >= 5.5: the typed dict of theme configs
    except ImportError:  # pragma: no cover
        return config
    return ThemeConfig(**config)  # type: ignore[typeddict-item]


def scale(source: Any, kind: str = "category", *, at: float | None = None, reverse: bool = False,
          model: Any = None, seed: int = 0, dark: bool = False, n: int | None = None,
          min_distance: float | None = None, min_contrast: float | None = None,
          **kwargs: Any) -> Any:
    """An ``alt.Scale`` whose ``range`` is the song's colours, for users with their own theme.

    Example
    -------
    >>> alt.Chart(df).mark_bar().encode(                                  # doctest: +SKIP
    ...     color=alt.Color("kind:N", scale=m2p.altair.scale("song.mp3")))

    Parameters
    ----------
    source
        As for :func:`register_theme`.
    kind
        ``"category"`` (nominal data), ``"ramp"``, ``"heatmap"``, ``"ordinal"`` or
        ``"diverging"``.
    reverse
        Reverse the colour order.
    dark, n, min_distance, min_contrast
        The category colours, as in :func:`register_theme`.
    **kwargs
        Inference arguments (``device``, ``window``, ``hop``, ``noise``, ``batch_size``,
        ``sample_rate``, ``progress``) go to inference; all others are ``alt.Scale`` arguments
        (``domain=``, ``domainMid=``...).
    """
    import altair as alt

    inference = {k: kwargs.pop(k) for k in list(kwargs) if k in _common.INFERENCE_KEYS}
    values = colors(source, kind, at=at, model=model, seed=seed, dark=dark, n=n,
                    min_distance=min_distance, min_contrast=min_contrast, **inference)
    if reverse:
        values = values[::-1]
    return alt.Scale(range=values, **kwargs)


def colors(source: Any, kind: str = "category", *, at: float | None = None, model: Any = None,
           seed: int = 0, dark: bool = False, n: int | None = None,
           min_distance: float | None = None, min_contrast: float | None = None,
           **inference_kwargs: Any) -> list[str]:
    """The hex colours of one range kind (see :data:`KINDS`; ``dark``, ``n``,
    ``min_distance`` and ``min_contrast`` shape the category colours as in
    :func:`register_theme`)."""
    if kind not in KINDS:
        raise InvalidArgumentError(f"kind must be one of {KINDS}, got {kind!r}")
    palette, _ = _common.palette_and_stem(source, at=at, model=model, seed=seed,
                                         **inference_kwargs)
    return _ranges(palette, kind, n=n, min_distance=min_distance, min_contrast=min_contrast,
                   dark=dark)


def _ranges(palette: Any, kind: str, *, n: int | None, min_distance: float | None,
            min_contrast: float | None, dark: bool = False) -> list[str]:
    if kind == "category":
        # Vega draws marks on a white view by default; the dark theme fills it dark.
        return list(chart_look(palette, dark=dark, n=n, min_distance=min_distance,
                               min_contrast=min_contrast).cycle)
    lch = hex_to_lch(palette.hex)
    if kind == "diverging":
        return rgb_to_hex(diverging_ramp(lch, DIVERGING_STEPS))
    # Vega's ramps run light (low values) to dark (high values): reverse the dark-to-light ramp.
    return rgb_to_hex(sequential_ramp(lch, RAMP_STEPS)[::-1])
