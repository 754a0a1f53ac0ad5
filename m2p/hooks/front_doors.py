"""The front doors: stable ``m2p.*`` names that forward to whichever adapter provides them.

``m2p.style``, ``m2p.register_colormaps``, ``m2p.animate_colors``, ``m2p.altair``, ``m2p.plotly``,
``m2p.bokeh`` and ``m2p.video`` are the public names; the objects behind them are capabilities
registered by adapters (:mod:`m2p.hooks.manager`), looked up on each use, so nothing is loaded
before the first call and a missing adapter is a clear :class:`~m2p.errors.PluginError` (which
adapter, and why it is not there).
"""

from __future__ import annotations

from typing import Any

from m2p.errors import PluginError
from m2p.hooks.manager import get


def style(source: Any, *, at: float | None = None, dark: bool = False, model: Any = None,
          seed: int = 0, n: int | None = None, name: str | None = None,
          **kwargs: Any) -> dict[str, Any]:
    """Matplotlib rcParams coloured by a song: ``plt.style.use(m2p.style("song.mp3"))``.

    Dispatches to the ``style`` capability of the ``matplotlib`` adapter; see
    :func:`m2p_plugins.matplotlib.style` for all parameters (``min_distance``,
    ``min_contrast``, ``register``...).

    Parameters
    ----------
    source
        Audio path, :class:`~m2p.palette_types.Palette` or :class:`~m2p.palette_types.PaletteTrack`.
    at
        Seconds: use the palette in force at that time (a track is computed for paths).
    dark
        Dark variant: background from the palette, text at WCAG contrast >= 4.5:1.
    model, seed
        Passed to inference for paths (results are cached per file content).
    n
        Colours in the cycle (default at least 10), every pair at least 10 CIEDE2000 apart, also
        under simulated deuteranopia and protanopia, each at contrast >= 3:1 on the background.
    name
        Stem of the registered colormaps, ``m2p.<name>`` (default: from the file name).
    """
    return get("style")(source, at=at, dark=dark, model=model, seed=seed, n=n, name=name,
                        **kwargs)


def register_colormaps(source: Any, *, name: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """Register a song's colormaps in Matplotlib: ``m2p.<name>``, ``_diverging``,
    ``_qualitative`` and their ``_r`` twins.

    Dispatches to the ``colormaps`` capability of the ``matplotlib`` adapter; see
    :func:`m2p_plugins.matplotlib.register_colormaps` (``at``, ``model``, ``seed``...).
    Re-binding a name to a different palette warns
    (:class:`~m2p.errors.NameCollisionWarning`).

    Returns
    -------
    dict
        ``{registered name: Colormap}``.
    """
    return get("colormaps")(source, name=name, **kwargs)


def animate_colors(track: Any, *args: Any, **kwargs: Any) -> Any:
    """Colours of a palette track as a function of time, for ``FuncAnimation``.

    Dispatches to :func:`m2p_plugins.matplotlib.animate_colors`.
    """
    return get("animate_colors")(track, *args, **kwargs)


def match(footage: Any, library: Any, **kwargs: Any) -> Any:
    """Rank a music library's tracks for a picture or a video: ``m2p.match("clip.mp4",
    "library.parquet")``.

    Dispatches to the ``match`` capability of the ``video`` adapter; see
    :func:`m2p_plugins.video.matching.match` for all parameters.
    """
    return get("match")(footage, library, **kwargs)


class _Namespace:
    """Attribute proxy onto the namespace an adapter registered (``m2p.altair``)."""

    def __init__(self, capability: str) -> None:
        self._capability = capability

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_capability":
            raise AttributeError(attr)
        return getattr(get(self._capability), attr)

    def __dir__(self) -> list[str]:
        try:
            return [a for a in dir(get(self._capability)) if not a.startswith("_")]
        except PluginError:
            return []

    def __repr__(self) -> str:
        return f"<m2p adapter namespace {self._capability!r} (loaded on first use)>"


altair = _Namespace("altair")
"""``m2p.altair.register_theme(...)``, ``m2p.altair.scale(...)``: the Altair adapter."""

video = _Namespace("video")
"""``m2p.video...``: whatever the ``video`` adapter registered under the name ``video``."""

plotly = _Namespace("plotly")
"""``m2p.plotly.register_template(...)``, ``m2p.plotly.colorway(...)``: the Plotly adapter."""

bokeh = _Namespace("bokeh")
"""``m2p.bokeh.palette(...)``, ``m2p.bokeh.theme(...)``: the Bokeh adapter."""


__all__ = ["altair", "animate_colors", "bokeh", "match", "plotly", "register_colormaps", "style",
           "video"]
