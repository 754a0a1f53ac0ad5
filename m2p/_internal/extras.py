"""Optional packages and the extras that install them: the one home of every "missing optional
package" message.

A feature that needs an optional package checks for it before any work (:func:`require`, a
cheap ``find_spec``, nothing imported) and raises :class:`~m2p.errors.MissingExtraError`, one
line with the install command. An ``ImportError`` that still escapes from deeper down (a
package found but broken, a module imported lazily) is turned into the same error by
:func:`missing_extra` at the front doors: the command line and ``m2p.<adapter>`` calls.

>>> install_command("video")
'pip install "music2palette[video]"'
"""

from __future__ import annotations

import importlib.util

from m2p.errors import MissingExtraError

__all__ = ["EXTRAS", "install_command", "missing", "missing_extra", "require"]

EXTRAS: dict[str, str] = {
    "moviepy": "video",
    "proglog": "video",
    "matplotlib": "matplotlib",
    "pyarrow": "library",
    "altair": "altair",
    "vl_convert": "altair",
    "plotly": "plotly",
    "bokeh": "bokeh",
    "ray": "ray",
}
"""Optional top-level modules -> the extra of ``pyproject.toml`` that installs them."""


def install_command(extra: str) -> str:
    """The command that installs an extra (quoted for every shell)."""
    return f'pip install "music2palette[{extra}]"'


def missing(*modules: str) -> list[str]:
    """The modules of ``modules`` that cannot be found (nothing is imported)."""
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
    problem)."""
    if isinstance(exc, MissingExtraError):
        return exc
    if not isinstance(exc, ImportError):
        return None
    name = (exc.name or "").split(".")[0]
    if name not in EXTRAS:
        return None
    return _error(feature, [name], EXTRAS[name])


def _error(feature: str, modules: list[str], extra: str) -> MissingExtraError:
    verb = "is" if len(modules) == 1 else "are"
    return MissingExtraError(f"{feature} needs {' and '.join(modules)}, which {verb} not "
                             f"installed: {install_command(extra)}")
