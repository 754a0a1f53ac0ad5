"""The lazy plugin manager: discovery, failure reporting, the registries of capabilities and
subcommands.

The built-in adapters (:data:`DEFAULT_PLUGINS`) are registered by import; third-party ones are
found through the ``m2p`` entry-point group and loaded with
:meth:`pluggy.PluginManager.load_setuptools_entrypoints`, one entry-point name at a time so that
one adapter failing to import is *reported* (name + reason, a :class:`PluginWarning` and an entry
in :func:`plugins`) and skipped while the others keep working.

Nothing is loaded at ``import m2p``: the first call to :func:`plugins`, :func:`get`,
:func:`commands` or one of the front doors (:mod:`m2p.hooks.front_doors`) loads the adapters named by
the ``M2P_LOAD_PLUGINS`` environment variable (a comma list; unset loads all, empty loads none).
:func:`reset` forgets the loaded state so the variable is read again.

The module is named ``plugin_manager``, not ``plugins``, so that importing it can never shadow
the function ``m2p.plugins`` (the reason the value types live in ``m2p.palette_types``). The
``m2p plugins`` command is in :mod:`m2p.cli.core`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, NamedTuple

import pluggy

from m2p.hooks import specs as hookspecs
from m2p.errors import M2PWarning, PluginError

ENV_VAR = "M2P_LOAD_PLUGINS"
"""Environment variable: comma-separated adapter names to load; empty loads none."""

Status = Literal["loaded", "failed", "disabled"]

_OWN_DISTRIBUTION = "music2palette"

DEFAULT_PLUGINS: dict[str, str] = {
    "matplotlib": "m2p_plugins.matplotlib",
    "altair": "m2p_plugins.altair",
    "video": "m2p_plugins.video",
    "plotly": "m2p_plugins.plotly",
    "bokeh": "m2p_plugins.bokeh",
}
"""The built-in adapters, ``{name: module}``, registered by import (llm's ``DEFAULT_PLUGINS``).

Importing them, instead of finding them through the entry-point group, makes them work when the
package's metadata is missing (an unpacked checkout on ``PYTHONPATH``, a worktree next to an
editable install of another copy). Their entry points stay declared for tools that list them;
the loader skips an entry point that names a built-in adapter's module."""


class PluginWarning(M2PWarning):
    """Issued when an adapter cannot be loaded or registers a clashing name."""


@dataclass(frozen=True)
class PluginInfo:
    """One adapter as seen by the plugin manager.

    Attributes
    ----------
    name
        Entry-point name (``"matplotlib"``, ``"altair"``...).
    version
        Version of the distribution that declares the entry point, if known.
    distribution
        That distribution's name (``"music2palette"`` for the built-in adapters).
    module
        The entry-point value (``"m2p_plugins.matplotlib"``).
    provides
        Capability names the adapter registered, in registration order.
    status
        ``"loaded"``, ``"failed"`` (see ``error``) or ``"disabled"`` (left out by
        ``M2P_LOAD_PLUGINS``).
    error
        Why loading failed (``"ModuleNotFoundError: No module named 'x'"``), else ``None``.
    descriptions
        ``{capability: one-line description}`` as registered (subcommands too).
    commands
        Subcommands of ``m2p`` the adapter registered, in registration order.
    """

    name: str
    version: str | None
    distribution: str | None
    module: str | None
    provides: tuple[str, ...] = ()
    status: Status = "loaded"
    error: str | None = None
    descriptions: dict[str, str] = field(default_factory=dict, compare=False)
    commands: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of all fields."""
        return {
            "name": self.name,
            "version": self.version,
            "distribution": self.distribution,
            "module": self.module,
            "provides": list(self.provides),
            "status": self.status,
            "error": self.error,
            "descriptions": dict(self.descriptions),
            "commands": list(self.commands),
        }


class Command(NamedTuple):
    """A subcommand an adapter registered through :func:`m2p.hooks.specs.register_commands`."""

    name: str
    configure: Callable[[argparse.ArgumentParser], Callable[[argparse.Namespace], int]]
    help: str
    plugin: str


def plugins(*, include_disabled: bool = True) -> list[PluginInfo]:
    """List the installed adapters, their versions and what they provide.

    Loads the adapters on first use.

    Parameters
    ----------
    include_disabled
        Also list adapters that ``M2P_LOAD_PLUGINS`` left out.

    Returns
    -------
    list of PluginInfo
        Sorted by name; failed adapters carry the reason in ``error``.
    """
    state = _state()
    infos = sorted(state.infos.values(), key=lambda info: info.name)
    if not include_disabled:
        infos = [info for info in infos if info.status != "disabled"]
    return infos


def get(name: str) -> Any:
    """Return the object an adapter registered under ``name`` (loads adapters on first use).

    Raises
    ------
    m2p.errors.PluginError
        Nothing provides ``name``; the message says which adapter would and why it is missing
        (disabled by ``M2P_LOAD_PLUGINS``, failed to import), or lists what is available.
    """
    state = _state()
    entry = state.provided.get(name)
    if entry is not None:
        return entry.obj
    reason = unavailable_reason(name)
    if reason is None:
        have = ", ".join(sorted(state.provided)) or "nothing"
        reason = f"no loaded m2p adapter provides {name!r} (available: {have})"
    raise PluginError(reason, source=f"m2p.{name}")


def register(plugin: object, name: str | None = None) -> PluginInfo:
    """Register an adapter object by hand (no entry point): a module, class or instance.

    Useful in notebooks and tests. Its ``m2p_register`` and ``register_commands`` hooks run at
    once; a failure is reported like an entry-point adapter's (status ``"failed"``,
    :class:`PluginWarning`).

    Returns
    -------
    PluginInfo
        What the adapter provides.
    """
    with _LOCK:
        state = _state()
        plugin_name = state.manager.register(plugin, name=name)
        if plugin_name is None:
            raise PluginError("already registered or blocked", source=f"plugin {name or plugin!r}")
        state.infos[plugin_name] = PluginInfo(name=plugin_name, version=None, distribution=None,
                                              module=None)
        info = _call_hooks(state, plugin_name)
    if info.status == "failed":
        warnings.warn(f"m2p plugin {info.name!r} was skipped: {info.error}", PluginWarning,
                      stacklevel=2)
    return info


def commands() -> dict[str, Command]:
    """The subcommands the loaded adapters registered, ``{name: Command}`` in registration order.

    Loads the adapters on first use. The core's own commands are not included; :mod:`m2p.cli.core`
    puts them first and an adapter's command of the same name is never shown.
    """
    return dict(_state().commands)


def unavailable_reason(name: str, *, command: bool = False) -> str | None:
    """Why the capability (or, with ``command=True``, the subcommand) ``name`` is missing.

    Returns ``None`` when it is provided, or when no built-in adapter would provide it (an
    unknown name). For a built-in adapter that ``M2P_LOAD_PLUGINS`` leaves out or that failed to
    load, the adapter's hooks are run against throw-away callbacks to learn what it *would*
    provide: each adapter declares its own capabilities, and the core names none of them.
    """
    state = _state()
    if name in (state.commands if command else state.provided):
        return None
    kind = "command" if command else "capability"
    for plugin, info in sorted(state.infos.items()):
        if info.status == "loaded" or plugin not in DEFAULT_PLUGINS:
            continue
        capabilities, subcommands = _declared(DEFAULT_PLUGINS[plugin])
        if name not in (subcommands if command else capabilities):
            continue
        if info.status == "disabled":
            why = f"which {ENV_VAR}={os.environ.get(ENV_VAR, '')!r} leaves out"
        else:
            why = f"which failed to load: {info.error}"
        return f"{kind} {name!r} needs the {plugin!r} adapter, {why}"
    return None


def available() -> dict[str, str]:
    """Map each registered capability name to the adapter that provides it."""
    return {name: entry.plugin for name, entry in _state().provided.items()}


def get_plugin_manager() -> Any:
    """The :class:`pluggy.PluginManager` (loads adapters on first use)."""
    return _state().manager


def reset() -> None:
    """Forget loaded adapters; the next use reads ``M2P_LOAD_PLUGINS`` and loads again."""
    global _STATE
    with _LOCK:
        _STATE = None


def enabled_names() -> set[str] | None:
    """Adapter names selected by ``M2P_LOAD_PLUGINS`` (``None``: all; empty set: none)."""
    raw = os.environ.get(ENV_VAR)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


# ---------------------------------------------------------------------------------------------
# Internals.


@dataclass
class _Provided:
    obj: Any
    plugin: str
    description: str


@dataclass
class _State:
    manager: Any
    infos: dict[str, PluginInfo]
    provided: dict[str, _Provided]
    commands: dict[str, Command]
    wanted: set[str] | None


_STATE: _State | None = None
_LOCK = threading.RLock()


def _state() -> _State:
    global _STATE
    with _LOCK:
        if _STATE is None:
            _STATE = _load()
        return _STATE


def _load() -> _State:
    # Looked up at call time, not imported at the top: tests (and tools) replace it to stand
    # for a machine whose installed metadata differs.
    from importlib.metadata import entry_points

    manager = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    wanted = enabled_names()
    state = _State(manager=manager, infos={}, provided={}, commands={}, wanted=wanted)
    infos = state.infos

    # Built-ins first, by import: they must not depend on installed metadata.
    own_version = _own_version()
    for name, module in DEFAULT_PLUGINS.items():
        base = dict(name=name, version=own_version, distribution=_OWN_DISTRIBUTION, module=module)
        if wanted is not None and name not in wanted:
            infos[name] = PluginInfo(**base, status="disabled")
            continue
        try:
            manager.register(importlib.import_module(module), name=name)
        except Exception as exc:  # noqa: BLE001 - any import-time failure is reported, not raised
            infos[name] = PluginInfo(**base, status="failed", error=_describe(exc))
            continue
        infos[name] = PluginInfo(**base, status="loaded")

    eps = {}
    for ep in entry_points(group=hookspecs.ENTRY_POINT_GROUP):
        if ep.name in DEFAULT_PLUGINS and ep.value == DEFAULT_PLUGINS[ep.name]:
            continue  # a built-in's own entry point: already registered by import
        eps.setdefault(ep.name, ep)

    for name, ep in eps.items():
        dist_name, version = _dist_of(ep)
        base = dict(name=name, version=version, distribution=dist_name, module=ep.value)
        if name in DEFAULT_PLUGINS:
            infos[name + f" ({ep.value})"] = PluginInfo(
                **{**base, "name": name + f" ({ep.value})"}, status="failed",
                error=f"the name {name!r} belongs to a built-in adapter")
            continue
        if wanted is not None and name not in wanted:
            infos[name] = PluginInfo(**base, status="disabled")
            continue
        try:
            manager.load_setuptools_entrypoints(hookspecs.ENTRY_POINT_GROUP, name=name)
        except Exception as exc:  # noqa: BLE001 - any import-time failure is reported, not raised
            infos[name] = PluginInfo(**base, status="failed", error=_describe(exc))
            if manager.get_plugin(name) is not None:
                manager.unregister(name=name)
            continue
        infos[name] = PluginInfo(**base, status="loaded")

    for name in sorted((wanted or set()) - set(eps) - set(DEFAULT_PLUGINS)):
        infos[name] = PluginInfo(name=name, version=None, distribution=None, module=None,
                                 status="failed",
                                 error=f"no adapter named {name!r} is installed "
                                       f"(entry-point group {hookspecs.ENTRY_POINT_GROUP!r}; "
                                       f"asked for by {ENV_VAR})")

    # Call each adapter's hooks separately so one failing hook does not stop the rest.
    # Order (which decides clashes: the first registration of a name wins): the built-in
    # adapters first, in DEFAULT_PLUGINS order, then the others by name.
    builtin_order = list(DEFAULT_PLUGINS)
    loaded = [name for name, info in infos.items() if info.status == "loaded"]
    loaded.sort(key=lambda n: (n not in DEFAULT_PLUGINS,
                               builtin_order.index(n) if n in DEFAULT_PLUGINS else 0, n))
    for name in loaded:
        _call_hooks(state, name)

    for info in infos.values():
        if info.status == "failed":
            warnings.warn(f"m2p plugin {info.name!r} was skipped: {info.error}", PluginWarning,
                          stacklevel=4)
    return state


def _call_hooks(state: _State, plugin_name: str) -> PluginInfo:
    """Run one adapter's hooks; on failure nothing it registered is kept."""
    info = state.infos.get(plugin_name)
    if info is None:  # registered by hand (:func:`register`), not through an entry point
        info = PluginInfo(name=plugin_name, version=None, distribution=None, module=None)
    plugin = state.manager.get_plugin(plugin_name)
    mine: dict[str, _Provided] = {}
    my_commands: dict[str, Command] = {}
    register = _make_register(plugin_name, mine, state.provided)
    register_command = _make_register_command(plugin_name, my_commands, state.commands)
    callbacks = {"m2p_register": register, "register_commands": register_command}
    running = "m2p_register"
    try:
        for running, callback in callbacks.items():
            for impl in getattr(state.manager.hook, running).get_hookimpls():
                if impl.plugin is plugin:
                    impl.function(*[{"register": callback}[a] for a in impl.argnames])
    except Exception as exc:  # noqa: BLE001 - reported, never raised
        info = _replace(info, status="failed", error=f"{running} failed: {_describe(exc)}")
    else:
        state.provided.update(mine)
        state.commands.update(my_commands)
        descriptions = {k: v.description for k, v in mine.items()}
        descriptions.update({f"m2p {k}": v.help for k, v in my_commands.items()})
        info = _replace(info, provides=tuple(mine), commands=tuple(my_commands),
                        descriptions=descriptions)
    state.infos[plugin_name] = info
    return info


def _make_register(plugin: str, mine: dict[str, _Provided],
                   provided: dict[str, _Provided]) -> Callable[..., None]:
    def register(name: str, obj: Any, *, description: str = "") -> None:
        if not isinstance(name, str) or not name.isidentifier():
            raise PluginError(f"capability name must be an identifier, got {name!r}",
                              source=f"plugin {plugin}")
        if name in provided or name in mine:
            owner = provided[name].plugin if name in provided else plugin
            warnings.warn(f"m2p plugin {plugin!r} registers {name!r}, already provided by "
                          f"{owner!r}; keeping {owner!r}", PluginWarning, stacklevel=2)
            return
        mine[name] = _Provided(obj=obj, plugin=plugin, description=description)

    return register


def _make_register_command(plugin: str, mine: dict[str, Command],
                           taken: dict[str, Command]) -> Callable[..., None]:
    def register(name: str, configure: Any, *, help: str = "") -> None:  # noqa: A002
        if not isinstance(name, str) or not _COMMAND_NAME.fullmatch(name):
            raise PluginError(f"command name must be a word (letters, digits, - and _), "
                              f"got {name!r}", source=f"plugin {plugin}")
        if not callable(configure):
            raise PluginError(f"command {name!r}: configure must be callable, got "
                              f"{type(configure).__name__}", source=f"plugin {plugin}")
        if name in taken or name in mine:
            owner = taken[name].plugin if name in taken else plugin
            warnings.warn(f"m2p plugin {plugin!r} registers the command {name!r}, already "
                          f"registered by {owner!r}; keeping {owner!r}", PluginWarning,
                          stacklevel=2)
            return
        mine[name] = Command(name=name, configure=configure, help=help, plugin=plugin)

    return register


_COMMAND_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _declared(module: str) -> tuple[set[str], set[str]]:
    """What a built-in adapter would register: its hooks run against collecting callbacks.

    Used only to explain a missing name; any failure (the module does not import...) means
    "unknown", never an error of its own.
    """
    capabilities: set[str] = set()
    subcommands: set[str] = set()
    try:
        mod = importlib.import_module(module)
        hooks = {"m2p_register": lambda name, obj, **_: capabilities.add(name),
                 "register_commands": lambda name, configure, **_: subcommands.add(name)}
        for hook_name, callback in hooks.items():
            hook = getattr(mod, hook_name, None)
            if callable(hook):
                hook(register=callback)
    except Exception:  # noqa: BLE001 - explanation only
        pass
    return capabilities, subcommands


def _own_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_OWN_DISTRIBUTION)
    except PackageNotFoundError:  # an unpacked checkout on PYTHONPATH
        return None


def _dist_of(ep: Any) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    try:
        return dist.metadata["Name"], dist.version
    except Exception:  # noqa: BLE001 - broken metadata must not break listing
        return None, None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _replace(info: PluginInfo, **changes: Any) -> PluginInfo:
    from dataclasses import replace

    return replace(info, **changes)


__all__ = [
    "ENV_VAR",
    "PluginInfo",
    "PluginWarning",
    "Command",
    "DEFAULT_PLUGINS",
    "available",
    "commands",
    "enabled_names",
    "get",
    "get_plugin_manager",
    "plugins",
    "register",
    "reset",
    "unavailable_reason",
]
