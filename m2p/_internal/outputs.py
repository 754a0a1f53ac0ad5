"""Output files that are checked before any work and appear whole or not at all.

Every file music2palette writes (track JSON, timeline PNGs, LUTs, recoloured images, videos)
goes through :func:`atomic_outputs`: the content is written to a hidden temporary sibling, and
only when *every* output of the operation is complete are they renamed over the requested
names. A crash, an exception or Ctrl-C leaves the previous files untouched and no temporary
file behind. :func:`check_output` runs the cheap checks (folder exists and is writable, a known
suffix, not one of the inputs, not a device) before the expensive work.

Temporary files are named ``.<stem>.m2p-<host>-<pid>.part<suffix>`` (:func:`temporary_sibling`):
the marker says music2palette made them, the host and process id which run. A run killed
with SIGKILL cannot delete its own; the next write of the same output removes those whose
process is gone (:func:`remove_stale_parts`), and nothing else: never a file of the user's that
happens to look similar, never a part of a run that is still going.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from m2p.errors import M2PError, OutputError

__all__ = ["PART_MARKER", "atomic_output", "atomic_outputs", "check_output", "path_inputs",
           "process_alive", "remove_stale_parts", "temporary_sibling"]

PART_MARKER = "m2p"
"""The word in every temporary name music2palette makes (``.<stem>.m2p-<host>-<pid>.part``)."""

_PART_NAME = re.compile(r"^\.(?P<stem>.*)\." + PART_MARKER
                        + r"-(?P<host>[0-9a-f]{6})-(?P<pid>[0-9]+)\.part(?P<suffix>[^/]*)$", re.S)


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
            raise error(f"output would overwrite an input file ({os.fspath(item)})", source=out)
    return out


def path_inputs(*values: Any) -> tuple[Any, ...]:
    """The values that name files (``str`` / ``os.PathLike``), for :func:`check_output`'s
    ``inputs``: every input of a command (music, reference footage, a table...), whatever
    else is among them (arrays, palettes, ``None``)."""
    return tuple(v for v in values if isinstance(v, (str, os.PathLike)))


def temporary_sibling(path: str | os.PathLike[str]) -> Path:
    """A hidden temporary name next to ``path`` that keeps its suffix (encoders pick the format
    from it), marked as music2palette's and as this process's (see the module docstring)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.{PART_MARKER}-{_HOST}-{os.getpid()}.part{path.suffix}")


def remove_stale_parts(path: str | os.PathLike[str], *, any_name: bool = False) -> list[Path]:
    """Delete the temporary siblings of ``path`` that killed runs left (made on this host by a
    process that no longer exists); returns what was removed.

    Only names of :func:`temporary_sibling`'s form are candidates, so a user's own
    ``.library.backup.part.parquet`` is never touched, nor a part of a live run.
    ``any_name=True``: ``path`` is a folder, and such leftovers of any output in it go.
    """
    path = Path(path)
    folder = path if any_name else (path.parent if str(path.parent) else Path("."))
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        match = _PART_NAME.match(name)
        if match is None or match["host"] != _HOST or process_alive(int(match["pid"])):
            continue
        if not any_name and (match["stem"], match["suffix"]) != (path.stem, path.suffix):
            continue
        leftover = folder / name
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed.append(leftover)
    return removed


def process_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except OSError:
        return False
    try:  # a zombie (killed, not yet reaped by its parent) holds nothing open
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


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
        remove_stale_parts(out)  # what a killed run of the same command left
    temps = [temporary_sibling(out) for out in outs]
    current = outs[0]
    try:
        try:
            yield tuple(temps)
            for out, tmp in zip(outs, temps):
                current = out
                if not tmp.exists() or tmp.stat().st_size == 0:
                    raise error("nothing was written: the writer left the file empty", source=out)
            for out, tmp in zip(outs, temps):
                current = out
                os.replace(tmp, out)
        except OSError as exc:
            name = getattr(exc, "filename", None)
            for out, tmp in zip(outs, temps):  # name the output, never our temporary file
                if name is not None and os.fspath(name) in (os.fspath(tmp), os.fspath(out)):
                    current = out
            reason = _without_temporaries(exc.strerror or str(exc), outs, temps)
            raise error(f"cannot write output: {reason}", source=current) from None
        except M2PError as exc:
            text = _without_temporaries(str(exc), outs, temps)
            if text == str(exc):
                raise
            raise type(exc)(text) from None  # a writer's error that quotes our temporary name
        except Exception as exc:  # noqa: BLE001 - only to keep our temporary names out of sight
            text = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
            reason = _without_temporaries(text, outs, temps)
            if reason == text or os.environ.get("M2P_DEBUG"):
                raise  # not about the file: a bug stays a bug
            raise error(f"cannot write output ({reason[:300]})", source=current) from exc
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


def _without_temporaries(text: str, outs: list[Path], temps: list[Path]) -> str:
    """``text`` with every temporary name replaced by the output it stands for (messages name
    the user's files, never ``.x.m2p-...part.png``)."""
    for out, tmp in zip(outs, temps):
        for form in (os.fspath(tmp), os.path.abspath(tmp), tmp.name):
            text = text.replace(form, os.fspath(out) if form != tmp.name else out.name)
    return text


def _host_tag() -> str:
    """Six hex digits of this machine's name: parts made on another host sharing the folder
    (NFS) are never judged by this host's process table."""
    try:
        name = socket.gethostname()
    except OSError:  # pragma: no cover - no host name at all
        name = ""
    return hashlib.sha1(name.encode("utf-8", "replace")).hexdigest()[:6]


_HOST = _host_tag()


def _same_file(a: str | os.PathLike[str], b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # either does not exist
        return False
