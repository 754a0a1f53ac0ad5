"""Input files: only regular files are read.

A FIFO with no writer blocks its reader forever, ``/dev/zero`` never ends, a folder or a socket
is no file at all: every path music2palette reads (audio, track JSON, library tables, pictures
and reference footage) is checked here first, with one wording, and the error names the file.
:func:`read_regular` also opens without blocking, so a path swapped for a FIFO between the check
and the read cannot hang either.
"""

from __future__ import annotations

import errno
import os
import stat

from m2p.errors import M2PError

__all__ = ["check_regular", "read_regular"]


def check_regular(path: str | os.PathLike[str], *, error: type[M2PError] = M2PError,
                  missing: type[M2PError] | None = None, empty_ok: bool = True,
                  noun: str = "a file") -> os.stat_result:
    """The ``stat`` of ``path`` when it is a readable regular file.

    Parameters
    ----------
    path
        The file.
    error
        The :class:`~m2p.errors.M2PError` subclass raised.
    missing
        The class raised for a path that does not exist (default ``error``).
    empty_ok
        False refuses a 0-byte file too.
    noun
        What the file should be, for the messages (``"an audio file"``).

    Raises
    ------
    M2PError (``error`` / ``missing``)
        Missing (or a broken link), a symbolic-link loop, a folder, a FIFO, a socket or a
        device, unreadable (permission), or empty when ``empty_ok`` is False.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            why = ("broken symbolic link (its target does not exist)" if os.path.islink(path)
                   else "no such file")
            raise (missing or error)(why, source=path) from None
        if exc.errno == errno.ELOOP:
            raise error("symbolic link loop (the link leads back to itself)", source=path) from None
        raise error(f"cannot read file: {exc.strerror or exc}", source=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise error(f"is a directory, not {noun}", source=path)
    if not stat.S_ISREG(st.st_mode):
        raise error(f"is {_kind(st.st_mode)}, not a regular file", source=path)
    if not empty_ok and st.st_size == 0:
        raise error("file is empty (0 bytes)", source=path)
    if not os.access(path, os.R_OK):
        raise error("permission denied", source=path)
    return st


def read_regular(path: str | os.PathLike[str], *, limit: int,
                 error: type[M2PError] = M2PError) -> bytes:
    """The bytes of a regular file, at most ``limit`` + 1 (so a caller can tell "too big").

    Opened with ``O_NONBLOCK``, then checked on the open descriptor: a FIFO is refused at once
    instead of waiting for a writer.

    Raises
    ------
    M2PError (``error``)
        As :func:`check_regular`, or the read fails.
    """
    check_regular(path, error=error)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", source=path) from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # swapped after the check
            raise error(f"is {_kind(mode)}, not a regular file", source=path)
        try:
            return handle.read(limit + 1)
        except OSError as exc:
            raise error(f"cannot read file: {exc.strerror or exc}", source=path) from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "a device"
