"""The hooks an adapter (plugin) may implement, and the marker it puts on them.

An adapter is any importable module or object exposed through the ``m2p`` entry-point group::

    [project.entry-points.m2p]
    myadapter = "my_package.m2p_adapter"

that implements some of the hooks below with :data:`hookimpl` (``from m2p.hooks import
hookimpl``). Each hook receives a ``register`` callback whose first argument is the name of what
is registered, and is called once per adapter, on first use of the plugin system (never at
``import m2p``); simonw/llm's ``register_models(register)`` is the pattern. Hooks must be cheap:
import heavy libraries (Matplotlib, MoviePy...) inside what they register, not in the hook.

A name another adapter registered first is kept by that adapter (built-in adapters first, then
the others by name) and the clash is reported as a :class:`~m2p.errors.PluginWarning`; a core
command or export format cannot be replaced.

Only :mod:`pluggy` is imported here, so importing this module stays cheap.
"""

from __future__ import annotations

import argparse
from typing import Callable

import pluggy

PROJECT_NAME = "m2p"
"""pluggy project name, and the ``importlib.metadata`` entry-point group scanned for adapters."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker adapters put on their hook implementations."""

Handler = Callable[[argparse.Namespace], int]
"""A subcommand's handler: parsed arguments in, exit status out."""

Configure = Callable[[argparse.ArgumentParser], Handler]
"""A subcommand's configure function: add arguments to its parser, return its handler."""


@hookspec
def m2p_register(register: Callable[..., None]) -> None:
    """Register the capabilities an adapter provides: ``register(name, obj, *, description="")``.

    ``name`` is a Python identifier (``"style"``, ``"altair"``), what
    :func:`m2p.hooks.manager.get` looks up and the front doors (``m2p.style``...) forward to;
    ``obj`` is what it returns (a function, a class, a namespace module); ``description`` is the
    line ``m2p plugins --verbose`` shows.
    """


@hookspec
def register_commands(register: Callable[..., None]) -> None:
    """Add subcommands to ``m2p``: ``register(name, configure, *, help="")``.

    ``name`` is the word after ``m2p`` (letters, digits, ``-``, ``_``). ``configure(parser)`` is
    called only when ``m2p <name>`` runs (so it may import heavy modules): it adds the
    arguments to the :class:`argparse.ArgumentParser` and returns ``handler(args) -> int``, the
    exit status. Handlers raise :class:`m2p.errors.M2PError` for problems a user can fix (one
    line on stderr, exit status 1). ``help`` is the line ``m2p --help`` shows.
    """


@hookspec
def register_formats(register: Callable[..., None]) -> None:
    """Add export formats (``m2p export --format NAME``, :func:`m2p.exporters.export`):
    ``register(name, write, *, suffix, description="", sections=True, options=(), family="",
    default_output=None)``.

    The keywords are the fields of :class:`m2p.exporters.formats.ExportFormat`; ``write(path,
    groups, *, title, **options)`` writes named palettes to one file. The video adapter adds
    ``cube``, ``3dl`` and ``haldclut`` this way.
    """


__all__ = ["PROJECT_NAME", "Configure", "Handler", "hookimpl", "hookspec", "m2p_register",
           "register_commands", "register_formats"]

