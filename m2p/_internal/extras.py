"""Optional packages and the extras that install them: the one home of the install line.

The adapters import their third-party packages where they use them (importing ``m2p`` imports
none of them), so a missing package shows up as a :class:`ModuleNotFoundError` deep inside a
call. :func:`missing_extra_error` turns one into a :class:`~m2p.errors.MissingExtraError` whose
message is the install line; the front doors (``m2p.style``, ``m2p.altair.*``...), the library
functions (``m2p.batch``, ``m2p.gallery``) and the command line use it, and ``m2p plugins`` lists
each adapter's :func:`missing` packages.

>>> install_line("video")
'pip install "music2palette[video]"'
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from typing import Any, TypeVar

from m2p.errors import MissingExtraError

DISTRIBUTION = "music2palette"

EXTRA_OF_MODULE: dict[str, str] = {
    "matplotlib": "matplotlib",
    "cycler": "matplotlib",
    "altair": "altair",
    "vl_convert": "altair",
    "moviepy": "video",
    "proglog": "video",
    "plotly": "plotly",
    "kaleido": "plotly",
    "bokeh": "bokeh",
    "pyarrow": "library",
    "ray": "ray",
}
"""Top-level import name of an optional package -> the extra (``pyproject.toml``) that installs
it. ``pip`` names differ from import names for some: :data:`PIP_NAME`."""

PIP_NAME: dict[str, str] = {"vl_convert": "vl-convert-python", "cycler": "matplotlib",
                            "proglog": "moviepy"}
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


def install_line(extra: str) -> str:
    """The command that installs ``extra``: ``pip install "music2palette[extra]"``."""
    return f'pip install "{DISTRIBUTION}[{extra}]"'


def missing(modules: tuple[str, ...] | list[str]) -> list[str]:
    """The names of ``modules`` (top-level import names) that are not installed."""
    return [name for name in modules if importlib.util.find_spec(name) is None]


def missing_extra_error(exc: BaseException, *, what: str | None = None
                        ) -> MissingExtraError | None:
    """``exc`` as a :class:`~m2p.errors.MissingExtraError`, when it is a
    :class:`ModuleNotFoundError` for a package an extra installs; else ``None``.

    Parameters
    ----------
    exc
        The exception raised by a call.
    what
        What needs the package (``"m2p.altair"``, ``"m2p grade"``), for the message.
    """
    if isinstance(exc, MissingExtraError):
        return exc
    if not isinstance(exc, ModuleNotFoundError):
        return None
    top = (exc.name or "").split(".")[0]
    extra = EXTRA_OF_MODULE.get(top)
    if extra is None:
        return None
    package = PIP_NAME.get(top, top)
    needs = f"{what} needs {package}" if what else f"{package} is needed"
    return MissingExtraError(f"{needs}, which is not installed: {install_line(extra)}",
                             name=top, extra=extra)


def translating(what: str) -> Callable[[F], F]:
    """Decorator: a missing optional package inside the call raises
    :class:`~m2p.errors.MissingExtraError` (the install line) instead of a bare
    :class:`ModuleNotFoundError`."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except ModuleNotFoundError as exc:
                error = missing_extra_error(exc, what=what)
                if error is None or error is exc:
                    raise
                raise error from None

        return call  # type: ignore[return-value]

    return decorate


__all__ = ["ADAPTER_NEEDS", "EXTRA_OF_MODULE", "PIP_NAME", "install_line", "missing",
           "missing_extra_error", "translating"]
