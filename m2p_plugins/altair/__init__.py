"""Altair adapter: run-time themes and per-chart scales coloured by a song.

Registered through the ``m2p`` entry-point group like any third-party adapter; it provides the
``altair`` namespace (``m2p.altair.register_theme``, ``m2p.altair.scale``,
``m2p.altair.theme_config``, ``m2p.altair.colors``). Altair is imported only inside those
functions. Themes are registered with ``alt.theme.register(name, enable=False)``: registering never
enables a theme behind the user's back.
"""

from __future__ import annotations

from m2p.hooks.specs import hookimpl
from m2p_plugins.altair._theme import KINDS, colors, register_theme, scale, theme_config


@hookimpl
def m2p_register(register):  # noqa: ANN001 - signature fixed by m2p.hooks.specs
    """Register this adapter's capabilities with music2palette."""
    import sys

    register("altair", sys.modules[__name__],
             description="register_theme / scale / theme_config: Altair themes from a song")


__all__ = ["KINDS", "colors", "m2p_register", "register_theme", "scale", "theme_config"]
