"""Optional packages and the extras that install them: the one home of every "missing optional
package" message.

The adapters import their third-party packages where they use them (importing ``m2p`` imports
none of them). A feature that needs an optional package checks for it before any work
(:func:`require`, a cheap ``find_spec``, nothing imported) and raises
:class:`~m2p.errors.MissingExtraError`, one line with the install command. An ``ImportError``
that still escapes from deeper down (a package found but broken, a module imported lazily) is
turned into the same error by :func:`missing_extra` at the front doors: the command line,
``m2p.<adapter>`` calls and the library functions (:func:`translating` wraps a function so).
``m2p plugins`` lists each adapter's :func:`missing` packages (:data:`ADAPTER_NEEDS`).

>>> install_command("video")
'pip install "music2palette[video]"'
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import Any, TypeVar

from m2p.errors import MissingExtraError

__all__ = ["ADAPTER_NEEDS", "DISTRIBUTION", "EXTRAS", "PIP_NAME", "install_command", "missing",
           "missing_extra", "require", "translating"]

DISTRIBUTION = "music2palette"
"""The project's distribution name (what ``pip install`` takes)."""

EXTRAS: dict[str, str] = {
    "moviepy": "video",
    "proglog": "video",
    "cv2": "video",
    "matplotlib": "matplotlib",
    "cycler": "matplotlib",
    "pyarrow": "library",
    "altair": "altair",
    "vl_convert": "altair",
    "plotly": "plotly",
    "kaleido": "plotly",
    "bokeh": "bokeh",
    "ray": "ray",
}
"""Optional top-level modules (import names) -> the extra of ``pyproject.toml`` that installs
them. ``pip`` names differ from import names for some: :data:`PIP_NAME`."""

PIP_NAME: dict[str, str] = {"vl_convert": "vl-convert-python", "cycler": "matplotlib",
                            "proglog": "moviepy", "cv2": "opencv-python-headless"}
"""Import name -> the package a user knows (what the messages name), where they differ: a
dependency of a package (``cycler`` comes with Matplotlib) is named by that package."""

ADAPTER_NEEDS: dict[str, tuple[str, ...]] = {
    "matplotlib": ("matplotlib",),
    "altair": ("altair",),
    "video": ("moviepy", "matplotlib"),
    "plotly": ("plotly",),
    "bokeh": ("bokeh",),
}
"""Built-in adapter -> the packages its entry points need (import names); the extra named
after the adapter installs them."""

F = TypeVar("F", bound=Callable[..., Any])


def install_command(extra: str) -> str:
    """The command that installs an extra (quoted for every shell)."""
    return f'pip install "{DISTRIBUTION}[{extra}]"'


def missing(*modules: str) -> list[str]:
    """The modules of ``modules`` (top-level import names) that cannot be found (nothing is
    imported)."""
    absent = []
    for module in modules:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):  # a parent package missing, a broken __spec__
            found = False
        if not found:
            absent.append(module)
    return absent


def require(*modules: str, extra: str, feature: str) -> None:
    """Refuse ``feature`` now when one of ``modules`` is not installed.

    Parameters
    ----------
    modules
        Top-level module names (``"moviepy"``).
    extra
        The extra that installs them all (``"video"``).
    feature
        What needs them, as the user asked for it (``"m2p grade"``, ``"m2p.style"``).

    Raises
    ------
    m2p.errors.MissingExtraError
        ``"m2p grade needs moviepy, which is not installed: pip install "music2palette[video]""``.
    """
    absent = missing(*modules)
    if absent:
        raise _error(feature, absent, extra)


def missing_extra(exc: BaseException, feature: str) -> MissingExtraError | None:
    """The :class:`~m2p.errors.MissingExtraError` an ``ImportError`` of an optional package
    stands for, or None (a missing module that is not optional is a bug, not a set-up
    problem).

    Parameters
    ----------
    exc
        The exception raised by a call.
    feature
        What needs the package (``"m2p.altair"``, ``"m2p grade"``), for the message.
    """
    if isinstance(exc, MissingExtraError):
        return exc
    if not isinstance(exc, ImportError):
        return None
    name = (exc.name or "").split(".")[0]
    if name not in EXTRAS:
        return None
    return _error(feature, [name], EXTRAS[name])


def translating(feature: str) -> Callable[[F], F]:
    """Decorator: a missing optional package inside the call raises
    :class:`~m2p.errors.MissingExtraError` (the install command, naming ``feature``) instead of
    a bare ``ImportError``."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except ImportError as exc:
                error = missing_extra(exc, feature)
                if error is None or error is exc:
                    raise
                raise error from None

        return call  # type: ignore[return-value]

    return decorate


def _error(feature: str, modules: list[str], extra: str) -> MissingExtraError:
    names = list(dict.fromkeys(PIP_NAME.get(module, module) for module in modules))
    verb = "is" if len(names) == 1 else "are"
    return MissingExtraError(f"{feature} needs {' and '.join(names)}, which {verb} not "
                             f"installed: {install_command(extra)}", name=modules[0], extra=extra)
