"""Hook specifications of music2palette's plugin system (pluggy project name ``"m2p"``).

An *adapter* is any importable module or object exposed through the ``m2p`` entry-point group::

    [project.entry-points.m2p]
    myadapter = "my_package.m2p_adapter"

that implements :func:`m2p_register` and/or :func:`register_commands` with the :data:`hookimpl`
marker. The built-in adapters implement the very same hooks; they are registered by import (the
plugin manager's list of built-in modules), so they also work from a checkout whose entry-point
metadata is missing. The pattern follows simonw/llm's ``register_models(register)`` and
``register_commands(cli)`` hooks: the adapter receives a ``register`` callback and calls it once
per capability or subcommand it provides.

Example
-------
.. code-block:: python

    import m2p.hooks.specs

    @m2p.hooks.specs.hookimpl
    def m2p_register(register):
        register("ase", export_ase, description="Adobe swatch exchange files")

    @m2p.hooks.specs.hookimpl
    def register_commands(register):
        register("ase", configure_ase, help="Write a song's palette as an .ase file.")

Only :mod:`pluggy` is imported here, so importing this module stays cheap.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable, Protocol

import pluggy

PROJECT_NAME = "m2p"
"""pluggy project name and entry-point group."""

ENTRY_POINT_GROUP = "m2p"
"""The ``importlib.metadata`` entry-point group scanned for adapters."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marker for hook specifications (used in this module only)."""

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker adapters put on their hook implementations: ``@m2p.hooks.specs.hookimpl``."""


class Register(Protocol):
    """Signature of the ``register`` callback handed to :func:`m2p_register`."""

    def __call__(self, name: str, obj: Any, *, description: str = "") -> None:
        """Register ``obj`` (a function, class or namespace module) under ``name``.

        Parameters
        ----------
        name
            Capability name, a Python identifier (``"style"``, ``"altair"``...). It is what
            :func:`m2p.hooks.manager.get` looks up and what ``m2p plugins`` lists under *provides*.
        obj
            The object returned by :func:`m2p.hooks.manager.get`.
        description
            One line shown by ``m2p plugins --verbose``.
        """


Handler = Callable[[argparse.Namespace], int]
"""A subcommand's handler: parsed arguments in, exit status out."""

Configure = Callable[[argparse.ArgumentParser], Handler]
"""A subcommand's configure function: add arguments to its parser, return its handler."""


class RegisterCommand(Protocol):
    """Signature of the ``register`` callback handed to :func:`register_commands`."""

    def __call__(self, name: str, configure: Configure, *, help: str = "") -> None:
        """Add the subcommand ``m2p <name>``.

        Parameters
        ----------
        name
            The word after ``m2p`` (letters, digits, ``-`` and ``_``; starts with a letter).
        configure
            ``configure(parser) -> handler``: called only when ``m2p <name>`` runs (``m2p
            --help`` never calls it), so it may import heavy modules. It adds the arguments to
            ``parser`` (an :class:`argparse.ArgumentParser`) and returns ``handler(args) ->
            int``, the exit status. Handlers raise :class:`m2p.errors.M2PError` for problems
            a user can fix; the command line prints them as one line and exits with 1.
        help
            One line shown by ``m2p --help`` and ``m2p plugins --verbose``.
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


@hookspec
def register_commands(register: RegisterCommand) -> None:
    """Add subcommands to the ``m2p`` command line (llm's ``register_commands(cli)``).

    Our command line is argparse, where a parser is built per run, so the adapter does not get
    the parser itself: it gets a ``register`` callback and calls it once per subcommand with a
    *configure* function that is only called for the command being run. Like
    :func:`m2p_register`, the hook must be cheap.

    Parameters
    ----------
    register
        Callback ``register(name, configure, *, help="")``; see :class:`RegisterCommand`.
        A core command (``palette``, ``track``, ``plugins``) or a name another adapter
        registered first keeps its owner; the clash is reported as a warning.
    """


__all__ = [
    "ENTRY_POINT_GROUP",
    "PROJECT_NAME",
    "Configure",
    "Handler",
    "Register",
    "RegisterCommand",
    "hookimpl",
    "hookspec",
    "m2p_register",
    "register_commands",
]
