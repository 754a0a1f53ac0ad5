"""Bokeh adapter: palettes (lists of hex codes) and themes coloured by a song.

Registered like any other adapter; it provides the ``bokeh`` namespace (``m2p.bokeh``):
:func:`palette` (category, sequential and diverging), :func:`theme` (a
``bokeh.themes.Theme``, applied only where you set it) and :func:`theme_json`. Bokeh is
imported only inside :func:`theme`.
"""

from __future__ import annotations

from m2p.hooks.specs import hookimpl
from m2p_plugins.bokeh._theme import KINDS, RAMP_SIZE, palette, theme, theme_json


@hookimpl
def m2p_register(register):  # noqa: ANN001 - signature fixed by m2p.hooks.specs
    """Register this adapter's capabilities with music2palette."""
    import sys

    register("bokeh", sys.modules[__name__],
             description="palette / theme / theme_json: Bokeh palettes and themes from a song")


__all__ = ["KINDS", "RAMP_SIZE", "m2p_register", "palette", "theme", "theme_json"]
