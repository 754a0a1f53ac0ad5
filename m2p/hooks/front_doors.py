"""The front doors: public ``m2p.*`` names that forward to whichever adapter provides them.

Each front door is a :class:`FrontDoor` bound to a capability name: calling it calls the
capability (``m2p.style(...)``), and its attributes are the capability's (``m2p.altair.scale``,
``m2p.video.MusicGrade``). The capability is looked up on every use
(:func:`m2p.hooks.manager.get`), so nothing is loaded before the first use, and a missing adapter
is a clear :class:`~m2p.errors.PluginError` (which adapter, and why it is not there). A package
the adapter needs and that is not installed is a :class:`~m2p.errors.MissingExtraError` naming
the install line (:mod:`m2p._internal.extras`), for the door itself and its functions. The
parameters are the adapter's: each door's docstring says where they are documented. A new
front door is one line here and one in ``m2p/__init__.py``'s table of public names.
"""

from __future__ import annotations

import types
from typing import Any

from m2p._internal.extras import translating
from m2p.errors import PluginError
from m2p.hooks.manager import get


class FrontDoor:
    """A public name bound to a capability an adapter registers (see the module docstring)."""

    def __init__(self, name: str, capability: str, doc: str) -> None:
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc
        self._capability = capability

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return translating(f"m2p.{self.__name__}")(get(self._capability))(*args, **kwargs)

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") or attr == "_capability":
            raise AttributeError(attr)
        value = getattr(get(self._capability), attr)
        if isinstance(value, types.FunctionType):  # classes and modules are handed on as they are
            return translating(f"m2p.{self.__name__}.{attr}")(value)
        return value

    def __dir__(self) -> list[str]:
        try:
            return [a for a in dir(get(self._capability)) if not a.startswith("_")]
        except PluginError:
            return []

    def __repr__(self) -> str:
        return f"<m2p front door {self.__name__!r} -> capability {self._capability!r} " \
               "(loaded on first use)>"


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
