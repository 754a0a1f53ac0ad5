"""Matplotlib adapter: song-coloured styles, registered colormaps and colours over time.

Registered through the ``m2p`` entry-point group like any third-party adapter; it provides

* ``style`` -> :func:`style` (``m2p.style``): an rcParams dict for ``plt.style.use``;
* ``colormaps`` -> :func:`register_colormaps`: ``m2p.<stem>`` colormaps in ``matplotlib.colormaps``;
* ``animate_colors`` -> :func:`animate_colors` (``m2p.animate_colors``): colours at time t;
* ``matplotlib`` -> this module (namespace).

Matplotlib itself is imported only inside the functions that need it, so loading the adapter is
cheap and works without Matplotlib installed (the functions then raise a clear error).
"""

from __future__ import annotations

from m2p.hooks.specs import hookimpl
from m2p_plugins.matplotlib._animate import TrackColors, animate_colors
from m2p_plugins.matplotlib._colormaps import (
    colormap_names,
    make_colormaps,
    register_colormaps,
    register_palette,
)
from m2p_plugins.matplotlib._style import style


@hookimpl
def m2p_register(register):  # noqa: ANN001 - signature fixed by m2p.hooks.specs
    """Register this adapter's capabilities with music2palette."""
    import sys

    register("style", style, description="rcParams dict for plt.style.use, coloured by a song")
    register("colormaps", register_colormaps,
             description="register m2p.<stem> sequential/diverging/qualitative colormaps")
    register("animate_colors", animate_colors,
             description="a palette track's colours at time t, for FuncAnimation")
    register("matplotlib", sys.modules[__name__], description="the Matplotlib adapter namespace")


__all__ = [
    "TrackColors",
    "animate_colors",
    "colormap_names",
    "make_colormaps",
    "m2p_register",
    "register_colormaps",
    "register_palette",
    "style",
]
