"""Hook specifications of music2palette's plugin system (pluggy project name ``"m2p"``).

An *adapter* is any importable module or object exposed through the ``m2p`` entry-point group::

    [project.entry-points.m2p]
    myadapter = "my_package.m2p_adapter"

that implements :func:`m2p_register` with the :data:`hookimpl` marker. The built-in adapters
(``m2p_plugins.matplotlib``, ``m2p_plugins.altair``, ``m2p_plugins.video``) are registered through
the very same group. The pattern follows simonw/llm's ``register_models(register)`` hook: the
adapter receives a ``register`` callback and calls it once per capability it provides.

Example
-------
.. code-block:: python

    import m2p.hookspecs

    @m2p.hookspecs.hookimpl
    def m2p_register(register):
        register("ase", export_ase, description="Adobe swatch exchange files")

Only :mod:`pluggy` is imported here, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import Any, Protocol

import pluggy

PROJECT_NAME = "m2p"
"""pluggy project name and entry-point group."""

ENTRY_POINT_GROUP = "m2p"
"""The ``importlib.metadata`` entry-point group scanned for adapters."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marker for hook specifications (used in this module only)."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker adapters put on their hook implementations: ``@m2p.hookspecs.hookimpl``."""


class Register(Protocol):
    """Signature of the ``register`` callback handed to :func:`m2p_register`."""

    def __call__(self, name: str, obj: Any, *, description: str = "") -> None:
        """Register ``obj`` (a function, class or namespace module) under ``name``.

        Parameters
        ----------
        name
            Capability name, a Python identifier (``"style"``, ``"altair"``...). It is what
            :func:`m2p.plugins.get` looks up and what ``m2p plugins`` lists under *provides*.
        obj
            The object returned by :func:`m2p.plugins.get`.
        description
            One line shown by ``m2p plugins --verbose``.
        """


@hookspec
def m2p_register(register: Register) -> None:
    """Register the capabilities an adapter provides.

    Called once per adapter, on first use of the plugin system (never at ``import m2p``).
    Implementations must be cheap: import heavy libraries (Matplotlib, Altair, MoviePy) only
    inside the functions they register, not at module import or in this hook.

    Parameters
    ----------
    register
        Callback ``register(name, obj, *, description="")``; see :class:`Register`.
        A name already provided by another adapter is kept by the first one (built-in adapters
        register first, then the others in name order); the clash is reported as a warning.
    """


__all__ = ["ENTRY_POINT_GROUP", "PROJECT_NAME", "Register", "hookimpl", "hookspec", "m2p_register"]
