"""The lazy plugin manager: finds the adapters, runs their hooks, keeps what they registered.

The built-in adapters (:data:`DEFAULT_PLUGINS`) are registered by import, so they work from a
checkout without installed metadata; third-party ones are found through the ``m2p``
entry-point group. Nothing is loaded at ``import m2p``: the first call to :func:`plugins`,
:func:`get`, :func:`registered` or a front door loads the adapters that ``M2P_LOAD_PLUGINS``
names (a comma list; unset loads all, empty loads none), and :func:`reset` forgets them.

An adapter that fails to import, or whose hook raises, is *reported* (a
:class:`~m2p.errors.PluginWarning` and an entry in :func:`plugins`) and skipped; nothing it
registered is kept, and the others keep working. That holds for anything an adapter can do
while it loads: raise any exception, call ``sys.exit``, raise ``KeyboardInterrupt`` itself (a
real Ctrl-C still stops the program), print (its output goes to standard error, never into
the ``--json`` a command prints on stdout), or take long (after :data:`SLOW_SECONDS` a line on
standard error names it). A built-in adapter whose optional packages are not installed is
listed as ``missing: moviepy (pip install "music2palette[video]")``; its commands and names
then say the same when used. The module is not named ``plugins`` so that importing it never
shadows the function ``m2p.plugins``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, NamedTuple

import pluggy

from m2p._internal import extras
from m2p._internal.signals import Terminated
from m2p._internal.streams import stdout_to_stderr
from m2p._internal.text import printable
from m2p._internal.warn import warn
from m2p.errors import PluginError, PluginWarning
from m2p.hooks import specs

PLUGINS_ENV = "M2P_LOAD_PLUGINS"
"""Environment variable: comma-separated adapter names to load; empty loads none."""

DEFAULT_PLUGINS: dict[str, str] = {
    "matplotlib": "m2p_plugins.matplotlib",
    "altair": "m2p_plugins.altair",
    "video": "m2p_plugins.video",
    "plotly": "m2p_plugins.plotly",
    "bokeh": "m2p_plugins.bokeh",
}
"""The built-in adapters, ``{name: module}``, registered by import (llm's ``DEFAULT_PLUGINS``);
the loader skips their own entry points."""

SLOW_SECONDS = 3.0
"""An adapter still importing after this many seconds is named on standard error."""

Kind = Literal["capability", "command", "format"]

HOOKS: dict[str, Kind] = {"m2p_register": "capability", "register_commands": "command",
                          "register_formats": "format"}
"""Each hook of :mod:`m2p.hooks.specs` and the kind of thing its ``register`` callback adds."""

Status = Literal["loaded", "failed", "disabled", "missing"]

_OWN_DISTRIBUTION = extras.DISTRIBUTION
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


class Registered(NamedTuple):
    """One thing an adapter registered: a capability, a subcommand or an export format.

    Attributes
    ----------
    name
        Its name (``"style"``, ``"grade"``, ``"cube"``).
    obj
        The object (capability), the ``configure`` function (command) or the writer (format).
    help
        The one-line description.
    plugin
        The adapter that registered it.
    details
        Further keywords of the registration (a format's ``suffix``, ``options``...).
    """

    name: str
    obj: Any
    help: str
    plugin: str
    details: dict[str, Any]


@dataclass(frozen=True)
class PluginInfo:
    """One adapter as ``m2p plugins`` shows it.

    Attributes
    ----------
    name, version, distribution, module
        Entry-point name, the version and name of the distribution declaring it (if known),
        and the module (``"m2p_plugins.matplotlib"``).
    provides, commands, formats
        Capability, subcommand and export-format names it registered, in order.
    status
        ``"loaded"``, ``"failed"`` (see ``error``), ``"disabled"`` (left out by
        ``M2P_LOAD_PLUGINS``) or ``"missing"`` (loaded, but optional packages it needs are
        not installed; ``error`` says which and how to install them).
    error
        Why loading failed (``"ModuleNotFoundError: No module named 'x'"``), or what is
        missing (``'missing: moviepy (pip install "music2palette[video]")'``), else ``None``.
    descriptions
        ``{name: one-line description}`` (commands as ``"m2p NAME"``, formats as
        ``"--format NAME"``).
    missing, install
        Packages a built-in adapter needs that are not installed (``("moviepy",)``), and the
        command that installs them (``pip install "music2palette[video]"``); its names are
        registered all the same, and using them says the same.
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
    formats: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    install: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary of all fields."""
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in dataclasses.asdict(self).items()}


def plugins(*, include_disabled: bool = True) -> list[PluginInfo]:
    """The installed adapters, sorted by name (loads them on first use); failed ones carry the
    reason in ``error``; ``include_disabled=False`` leaves out what ``M2P_LOAD_PLUGINS`` left
    out."""
    infos = sorted(_state().infos.values(), key=lambda info: info.name)
    return [info for info in infos if include_disabled or info.status != "disabled"]


def get(name: str) -> Any:
    """The object an adapter registered as the capability ``name`` (loads adapters first).

    Raises
    ------
    m2p.errors.PluginError
        Nothing provides ``name``; the message says which adapter would and why it is missing
        (left out by ``M2P_LOAD_PLUGINS``, failed to import), or lists what is available.
    """
    provided = registered("capability")
    if name in provided:
        return provided[name].obj
    reason = unavailable_reason(name) or (f"no loaded m2p adapter provides {name!r} "
                                          f"(available: {', '.join(sorted(provided)) or 'nothing'})")
    raise PluginError(reason, source=f"m2p.{name}")


def registered(kind: Kind) -> dict[str, Registered]:
    """What the loaded adapters registered of one kind, ``{name: Registered}`` in order."""
    return dict(_state().registered[kind])


def commands() -> dict[str, Registered]:
    """The subcommands adapters registered (the core's own are in :mod:`m2p.cli.core`)."""
    return registered("command")


def available() -> dict[str, str]:
    """Each capability name and the adapter that provides it."""
    return {name: entry.plugin for name, entry in registered("capability").items()}


def register(plugin: object, name: str | None = None) -> PluginInfo:
    """Register an adapter object by hand (no entry point), for notebooks and tests; its hooks
    run at once, and a failure is reported like an entry-point adapter's."""
    with _LOCK:
        state = _state()
        plugin_name = state.manager.register(plugin, name=name)
        if plugin_name is None:
            raise PluginError("already registered or blocked", source=f"plugin {name or plugin!r}")
        state.infos[plugin_name] = PluginInfo(plugin_name, None, None, None)
        info = _call_hooks(state, plugin_name)
    _warn_failed([info])
    return info


def unavailable_reason(name: str, *, kind: Kind = "capability") -> str | None:
    """Why ``name`` (a capability, command or format) is missing, when a built-in adapter that
    is left out or failed to load would provide it; else ``None``.

    The adapter's hooks are run against throw-away callbacks to learn what it *would*
    register: each adapter declares its own names, and the core names none of them.
    """
    state = _state()
    if name in state.registered[kind]:
        return None
    for plugin, info in sorted(state.infos.items()):
        if info.status in ("loaded", "missing") or plugin not in DEFAULT_PLUGINS:
            continue
        if name not in _declared(DEFAULT_PLUGINS[plugin])[kind]:
            continue
        if info.status == "disabled":
            why = f"which {PLUGINS_ENV}={os.environ.get(PLUGINS_ENV, '')!r} leaves out"
        else:
            why = f"which failed to load: {info.error}"
        return f"{kind} {name!r} needs the {plugin!r} adapter, {why}"
    return None


def reset() -> None:
    """Forget the loaded adapters; the next use reads ``M2P_LOAD_PLUGINS`` and loads again."""
    global _STATE
    with _LOCK:
        _STATE = None


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass
class _State:
    manager: pluggy.PluginManager
    infos: dict[str, PluginInfo]
    registered: dict[str, dict[str, Registered]]


_STATE: _State | None = None
_LOCK = threading.RLock()


def _state() -> _State:
    global _STATE
    with _LOCK:
        if _STATE is None:
            _STATE = _load()
            _warn_failed(_STATE.infos.values())
        return _STATE


def _load() -> _State:
    # entry_points is looked up at call time: tests replace it to stand for other metadata.
    from importlib.metadata import entry_points

    manager = pluggy.PluginManager(specs.PROJECT_NAME)
    manager.add_hookspecs(specs)
    state = _State(manager, {}, {kind: {} for kind in HOOKS.values()})
    raw = os.environ.get(PLUGINS_ENV)
    wanted = None if raw is None else {part.strip() for part in raw.split(",") if part.strip()}

    candidates: dict[str, tuple[Callable[[], Any], dict[str, Any]]] = {}
    version = _own_version()
    for name, module in DEFAULT_PLUGINS.items():  # built-ins first: they load by import
        candidates[name] = (lambda module=module: importlib.import_module(module),
                            dict(version=version, distribution=_OWN_DISTRIBUTION, module=module))
    for ep in entry_points(group=specs.PROJECT_NAME):
        if DEFAULT_PLUGINS.get(ep.name) == ep.value:
            continue  # a built-in's own entry point: registered by import above
        dist = getattr(ep, "dist", None)
        where = dict(version=getattr(dist, "version", None), module=ep.value,
                     distribution=_metadata_name(dist))
        if ep.name in DEFAULT_PLUGINS:
            label = f"{ep.name} ({ep.value})"
            state.infos[label] = PluginInfo(label, **where, status="failed",
                                            error=f"the name {ep.name!r} belongs to a built-in adapter")
            continue
        candidates.setdefault(ep.name, (ep.load, where))  # a repeated name: the first counts

    for name, (load, where) in candidates.items():
        if wanted is not None and name not in wanted:
            state.infos[name] = PluginInfo(name, **where, status="disabled")
            continue
        try:
            with _guarded(name, "import"):
                module = load()
            manager.register(module, name=name)
        except _Skipped as skipped:
            state.infos[name] = PluginInfo(name, **where, status="failed", error=skipped.reason)
            continue
        except Exception as exc:  # noqa: BLE001 - pluggy refusing the module
            state.infos[name] = PluginInfo(name, **where, status="failed", error=_describe(exc))
            continue
        state.infos[name] = PluginInfo(name, **where, **_requirements(name, where))
    for name in sorted((wanted or set()) - set(candidates)):
        state.infos[name] = PluginInfo(
            name, None, None, None, status="failed",
            error=f"no adapter named {name!r} is installed (entry-point group "
                  f"{specs.PROJECT_NAME!r}; asked for by {PLUGINS_ENV})")

    # The first registration of a name wins: built-ins in DEFAULT_PLUGINS order, then by name.
    order = list(DEFAULT_PLUGINS)
    loaded = sorted((name for name, info in state.infos.items()
                     if info.status in ("loaded", "missing")),
                    key=lambda n: (n not in DEFAULT_PLUGINS, order.index(n) if n in order else 0, n))
    for name in loaded:
        _call_hooks(state, name)
    return state


def _call_hooks(state: _State, plugin_name: str) -> PluginInfo:
    """Run one adapter's hooks, each against its ``register`` callback; on failure nothing it
    registered is kept."""
    info = state.infos[plugin_name]
    plugin = state.manager.get_plugin(plugin_name)
    mine: dict[str, dict[str, Registered]] = {kind: {} for kind in HOOKS.values()}
    hook_name = ""
    try:
        for hook_name, kind in HOOKS.items():
            callback = _callback(kind, plugin_name, mine[kind], state.registered[kind])
            for impl in getattr(state.manager.hook, hook_name).get_hookimpls():
                if impl.plugin is plugin:
                    with _guarded(plugin_name, hook_name):
                        impl.function(register=callback)
    except _Skipped as skipped:  # reported, never raised
        info = dataclasses.replace(info, status="failed",
                                   error=f"{hook_name} failed: {skipped.reason}")
    else:
        descriptions = {}
        for kind, label in (("capability", ""), ("command", "m2p "), ("format", "--format ")):
            state.registered[kind].update(mine[kind])
            descriptions.update({label + name: entry.help for name, entry in mine[kind].items()})
        info = dataclasses.replace(info, provides=tuple(mine["capability"]),
                                   commands=tuple(mine["command"]),
                                   formats=tuple(mine["format"]), descriptions=descriptions)
    state.infos[plugin_name] = info
    return info


def _callback(kind: Kind, plugin: str, mine: dict[str, Registered],
              taken: dict[str, Registered]) -> Callable[..., None]:
    """The ``register`` callback of one hook for one adapter."""

    def register(name: str, obj: Any, *, description: str = "", help: str = "",  # noqa: A002
                 **details: Any) -> None:
        if kind == "capability" and not (isinstance(name, str) and name.isidentifier()):
            raise PluginError(f"a capability name must be an identifier, got {name!r}",
                              source=f"plugin {plugin}")
        if kind != "capability" and not (isinstance(name, str) and _WORD.fullmatch(name)):
            raise PluginError(f"a {kind} name must be a word (letters, digits, - and _), "
                              f"got {name!r}", source=f"plugin {plugin}")
        if kind != "capability" and not callable(obj):
            raise PluginError(f"{kind} {name!r}: expected a function, got {type(obj).__name__}",
                              source=f"plugin {plugin}")
        if details and kind != "format":
            raise TypeError(f"unexpected keywords for a {kind}: {', '.join(details)}")
        if name in taken or name in mine:
            owner = (taken.get(name) or mine[name]).plugin
            what = "" if kind == "capability" else f"the {kind} "
            warn(f"m2p plugin {plugin!r} registers {what}{name!r}, already provided by "
                 f"{owner!r}; keeping {owner!r}", PluginWarning)
            return
        mine[name] = Registered(name, obj, help or description, plugin, details)

    return register


def _declared(module: str) -> dict[str, set[str]]:
    """The names a built-in adapter would register, from its hooks run against collecting
    callbacks (only to explain a missing name: any failure means "nothing known")."""
    found: dict[str, set[str]] = {kind: set() for kind in HOOKS.values()}
    try:
        adapter = importlib.import_module(module)
        for hook_name, kind in HOOKS.items():
            hook = getattr(adapter, hook_name, None)
            if callable(hook):
                hook(register=lambda name, *args, _kind=kind, **kwargs: found[_kind].add(name))
    except Exception:  # noqa: BLE001 - explanation only
        pass
    return found


def _warn_failed(infos: Any) -> None:
    for info in infos:
        if info.status == "failed":
            warn(f"m2p plugin {info.name!r} was skipped: {info.error}", PluginWarning)


def _own_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(_OWN_DISTRIBUTION)
    except PackageNotFoundError:  # an unpacked checkout on PYTHONPATH
        return None


def _metadata_name(dist: Any) -> str | None:
    try:
        return None if dist is None else dist.metadata["Name"]
    except Exception:  # noqa: BLE001 - broken metadata must not break listing
        return None


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return printable(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:300]


class _Skipped(Exception):
    """An adapter's import or hook failed in a way that skips it; ``reason`` says how."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@contextlib.contextmanager
def _guarded(plugin: str, stage: str) -> Iterator[None]:
    """Run an adapter's code (its import, a hook) so that nothing it does escapes.

    Its ``print`` goes to standard error; anything it raises, ``SystemExit`` and its own
    ``KeyboardInterrupt`` included, becomes :class:`_Skipped` (a Ctrl-C of the user's, seen
    by a SIGINT handler held meanwhile, still stops the program); after :data:`SLOW_SECONDS`
    a line on standard error says which adapter is taking long.
    """
    user_interrupt = threading.Event()
    timer = threading.Timer(SLOW_SECONDS, _say_slow, args=(plugin, stage))
    timer.daemon = True
    with _sigint_seen(user_interrupt), stdout_to_stderr():
        timer.start()
        try:
            yield
        except KeyboardInterrupt as exc:
            # The user's Ctrl-C, or SIGTERM/SIGHUP turned into Terminated by the command line,
            # stop the program; only an interrupt the adapter raises itself skips the adapter.
            if user_interrupt.is_set() or isinstance(exc, Terminated):
                raise
            raise _Skipped("raised KeyboardInterrupt itself (not a Ctrl-C)") from None
        except SystemExit as exc:
            raise _Skipped(f"called sys.exit({exc.code!r}) while loading") from None
        except _Skipped:
            raise
        except BaseException as exc:  # noqa: BLE001 - an adapter must not take m2p down
            raise _Skipped(_describe(exc)) from None
        finally:
            timer.cancel()


def _say_slow(plugin: str, stage: str) -> None:
    what = "loading" if stage == "import" else f"running {stage}"
    with contextlib.suppress(Exception):
        sys.stderr.write(f"m2p: warning: plugin {plugin!r} has been {what} for {SLOW_SECONDS:g} s; "
                         f"{PLUGINS_ENV} can leave it out (m2p plugins lists the adapters)\n")
        sys.stderr.flush()


@contextlib.contextmanager
def _sigint_seen(seen: threading.Event) -> Iterator[None]:
    """While held (main thread only), a real Ctrl-C sets ``seen`` before it interrupts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if not callable(previous):  # SIGINT ignored (or not set from Python): leave it so
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        seen.set()
        previous(signum, frame)
        raise KeyboardInterrupt

    try:
        signal.signal(signal.SIGINT, handler)
    except (OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(signal.SIGINT, previous)


def _requirements(name: str, where: dict[str, Any]) -> dict[str, Any]:
    """``status="missing"``, the missing packages and the install command of a built-in adapter
    whose optional packages (:data:`m2p._internal.extras.ADAPTER_NEEDS`) are not all
    installed; nothing otherwise (a third-party adapter of the same name is not checked)."""
    if DEFAULT_PLUGINS.get(name) != where.get("module"):
        return {}
    absent = extras.missing(*extras.ADAPTER_NEEDS.get(name, ()))
    if not absent:
        return {}
    # Each built-in adapter is named after the extra that installs what it needs.
    names = tuple(dict.fromkeys(extras.PIP_NAME.get(m, m) for m in absent))
    install = extras.install_command(name)
    return {"status": "missing", "error": f"missing: {', '.join(names)} ({install})",
            "missing": names, "install": install}


__all__ = ["DEFAULT_PLUGINS", "HOOKS", "PLUGINS_ENV", "PluginInfo", "Registered",
           "available", "commands", "get", "plugins", "register", "registered", "reset",
           "unavailable_reason"]
