"""Plotly adapter: templates, colorways and colour scales coloured by a song.

Registered like any other adapter; it provides the ``plotly`` namespace (``m2p.plotly``):
:func:`register_template` (``pio.templates["m2p"]``, registered and never made the default),
:func:`template`, :func:`colorway` and :func:`colorscale`. Plotly is imported only inside those
functions.
"""

from __future__ import annotations

from m2p.hooks.specs import hookimpl
from m2p_plugins.plotly._template import (
    SCALES,
    colorscale,
    colorway,
    register_template,
    template,
)


@hookimpl
def m2p_register(register):  # noqa: ANN001 - signature fixed by m2p.hooks.specs
    """Register this adapter's capabilities with music2palette."""
    import sys

    register("plotly", sys.modules[__name__],
             description="register_template / template / colorway / colorscale: Plotly "
                         "templates from a song")


__all__ = ["SCALES", "colorscale", "colorway", "m2p_register", "register_template", "template"]
