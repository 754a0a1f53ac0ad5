"""The front doors: public ``m2p.*`` names that forward to whichever adapter provides them.

Each front door is a :class:`FrontDoor` bound to a capability name: calling it calls the
capability (``m2p.style(...)``), and its attributes are the capability's (``m2p.altair.scale``,
``m2p.video.MusicGrade``). The capability is looked up on every use
(:func:`m2p.hooks.manager.get`), so nothing is loaded before the first use, and a missing adapter
is a clear :class:`~m2p.errors.PluginError` (which adapter, and why it is not there). A package
the adapter needs and that is not installed is a :class:`~m2p.errors.MissingExtraError` with
the install command (:mod:`m2p._internal.extras`; ``m2p.style`` without Matplotlib:
``pip install "music2palette[matplotlib]"``), for the door itself and its functions. The
parameters are the adapter's: each door's docstring says where they are documented. A new
front door is one line here and one in ``m2p/__init__.py``'s table of public names.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from m2p._internal.extras import missing_extra, translating
from m2p.errors import PluginError
from m2p.hooks.manager import get


class FrontDoor:
    """A public name bound to a capability an adapter registers (see the module docstring)."""

    def __init__(self, name: str, capability: str, doc: str) -> None:
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc
        self._capability = capability

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _extras_named(get(self._capability), f"m2p.{self.__name__}")(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_capability":
            raise AttributeError(attr)
        try:
            value = getattr(get(self._capability), attr)
        except ImportError as exc:  # a lazily imported name whose package is missing
            raise missing_extra(exc, f"m2p.{self.__name__}.{attr}") or exc from None
        return _extras_named(value, f"m2p.{self.__name__}.{attr}")

    def __dir__(self) -> list[str]:
        try:
            return [a for a in dir(get(self._capability)) if not a.startswith("_")]
        except PluginError:
            return []

    def __repr__(self) -> str:
        return f"<m2p front door {self.__name__!r} -> capability {self._capability!r} " \
               "(loaded on first use)>"


def _extras_named(value: Any, feature: str) -> Any:
    """``value`` wrapped by :func:`~m2p._internal.extras.translating` when it is a function
    (a missing optional package inside the call names ``feature`` and the install command);
    other values as they are (classes stay classes, modules stay modules)."""
    if inspect.isfunction(value) or inspect.ismethod(value) \
            or isinstance(value, functools.partial):
        return translating(feature)(value)
    return value


style = FrontDoor("style", "style", """Matplotlib rcParams coloured by a song:
``plt.style.use(m2p.style("song.mp3"))``; see :func:`m2p_plugins.matplotlib.style`.""")

register_colormaps = FrontDoor("register_colormaps", "colormaps", """Register a song's colormaps
in Matplotlib (``m2p.<name>``, ``_diverging``, ``_qualitative`` and their ``_r`` twins); see
:func:`m2p_plugins.matplotlib.register_colormaps`.""")

animate_colors = FrontDoor("animate_colors", "animate_colors", """Colours of a palette track as
a function of time, for ``FuncAnimation``; see :func:`m2p_plugins.matplotlib.animate_colors`.""")

match = FrontDoor("match", "match", """Rank a music library's tracks for a picture or a video:
``m2p.match("clip.mp4", "library.parquet")``; see :func:`m2p_plugins.video.matching.match`.""")

altair = FrontDoor("altair", "altair", """The Altair adapter: ``m2p.altair.register_theme(...)``,
``scale(...)``, ``theme_config(...)``, ``colors(...)``.""")

plotly = FrontDoor("plotly", "plotly", """The Plotly adapter: ``m2p.plotly.register_template(...)``,
``template(...)``, ``colorway(...)``, ``colorscale(...)``.""")

bokeh = FrontDoor("bokeh", "bokeh", """The Bokeh adapter: ``m2p.bokeh.palette(...)``,
``theme(...)``, ``theme_json(...)``.""")

video = FrontDoor("video", "video", """The video adapter: ``m2p.video.MusicGrade``,
``grade_video``, ``recolor``, ``export_lut``, ``bar_chart_race``...""")

__all__ = ["FrontDoor", "altair", "animate_colors", "bokeh", "match", "plotly",
           "register_colormaps", "style", "video"]
