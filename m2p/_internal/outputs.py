"""Output files that are checked before any work and appear whole or not at all.

Every file music2palette writes (track JSON, timeline PNGs, LUTs, recoloured images, videos)
goes through :func:`atomic_outputs`: the content is written to a hidden temporary sibling, and
only when *every* output of the operation is complete are they renamed over the requested
names. A crash, an exception or Ctrl-C leaves the previous files untouched and no temporary
file behind. :func:`check_output` runs the cheap checks (folder exists and is writable, a known
suffix, not one of the inputs, not a device) before the expensive work.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from m2p.errors import M2PError, OutputError

__all__ = ["atomic_output", "atomic_outputs", "check_output", "temporary_sibling"]


def check_output(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[Any] = (),
    suffixes: Iterable[str] | None = None,
    error: type[M2PError] = OutputError,
) -> Path:
    """Validate an output path before any work is done.

    Parameters
    ----------
    path
        The output file.
    inputs
        Input paths of the same operation (non-paths are ignored); writing over one is refused.
    suffixes
        Accepted lower-case suffixes (``".png"``...); None accepts any.
    error
        The :class:`~m2p.errors.M2PError` subclass raised (the video adapter uses ``VideoError``).

    Raises
    ------
    OutputError (or ``error``)
        The folder is missing or read-only, the path is a folder or a device/FIFO, the suffix
        is not one of ``suffixes``, or the path is one of the inputs.
    """
    out = Path(path)
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise error("output path is a folder", source=out)
    _refuse_special(out, error)
    if suffixes is not None:
        allowed = sorted({s.lower() for s in suffixes})
        if out.suffix.lower() not in allowed:
            raise error(f"unsupported output extension {out.suffix or '(none)'!r}; use one of "
                        f"{', '.join(allowed)}", source=out)
    if not parent.is_dir():
        raise error(f"output folder {str(parent)!r} does not exist", source=out)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise error(f"output folder {str(parent)!r} is not writable", source=out)
    for item in inputs:
        if isinstance(item, (str, os.PathLike)) and _same_file(item, out):
            raise error("output would overwrite an input file", source=out)
    return out


def temporary_sibling(path: str | os.PathLike[str]) -> Path:
    """A hidden temporary name next to ``path`` that keeps its suffix (encoders pick the format
    from it)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")


@contextlib.contextmanager
def atomic_outputs(
    *paths: str | os.PathLike[str], error: type[M2PError] = OutputError
) -> Iterator[tuple[Path, ...]]:
    """Yield one temporary sibling per path; rename them all over ``paths`` on success.

    On any exception (``KeyboardInterrupt`` included) the temporary files are deleted, the
    previous files under ``paths`` stay as they were, and the exception propagates
    (``OSError`` becomes ``error`` naming the output).

    Raises
    ------
    OutputError (or ``error``)
        An output is a device or FIFO (renaming over ``/dev/full`` would replace the device),
        it could not be written, or the writer left it missing or empty.
    """
    outs = [Path(p) for p in paths]
    if len({os.path.abspath(p) for p in outs}) != len(outs):
        raise error("the same file is given for two outputs", source=outs[0])
    for out in outs:
        _refuse_special(out, error)
    temps = [temporary_sibling(out) for out in outs]
    current = outs[0]
    try:
        try:
            yield tuple(temps)
            for out, tmp in zip(outs, temps):
                current = out
                if not tmp.exists() or tmp.stat().st_size == 0:
                    raise error("the writer produced no output", source=out)
            for out, tmp in zip(outs, temps):
                current = out
                os.replace(tmp, out)
        except OSError as exc:
            name = getattr(exc, "filename", None)
            for out, tmp in zip(outs, temps):  # name the output, never our temporary file
                if name is not None and os.fspath(name) in (os.fspath(tmp), os.fspath(out)):
                    current = out
            raise error(f"cannot write output: {exc.strerror or exc}", source=current) from None
    finally:
        for tmp in temps:
            with contextlib.suppress(OSError):
                tmp.unlink()


@contextlib.contextmanager
def atomic_output(
    path: str | os.PathLike[str], *, error: type[M2PError] = OutputError
) -> Iterator[Path]:
    """:func:`atomic_outputs` for one file: yields its temporary sibling."""
    with atomic_outputs(path, error=error) as (tmp,):
        yield tmp


def _refuse_special(out: Path, error: type[M2PError]) -> None:
    try:
        mode = os.stat(out).st_mode
    except OSError:
        return  # does not exist yet (or unreadable: the write will say why)
    if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        raise error("output is not a regular file (a device, FIFO or socket)", source=out)


def _same_file(a: str | os.PathLike[str], b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist
        return False
