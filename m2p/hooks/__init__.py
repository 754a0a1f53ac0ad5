"""The plugin layer: hook specifications (``specs``), the lazy plugin manager (``manager``) and
the front doors (``front_doors``: ``m2p.style``, ``m2p.altair``... forwarding to whichever
adapter registered them).

A plugin needs only ``from m2p.hooks import hookimpl`` (see ``docs/plugins.md``).
"""

from m2p._internal.lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "hookimpl": "m2p.hooks.specs",
    "get": "m2p.hooks.manager",
    "plugins": "m2p.hooks.manager",
})
