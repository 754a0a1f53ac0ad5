"""One writer per output: an advisory lock file next to it.

Two jobs completing the same library table at once would each analyse every file and write
each row twice. :func:`exclusive` takes an ``flock`` on ``.<name>.lock`` next to the output; a
second job finds it held and is refused with one line naming the holder's process. The kernel
drops the lock when its holder dies, however it dies (``kill -9`` included), so a stale lock
file never blocks anyone: the next job takes it over. The holder removes the file when done.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from m2p.errors import M2PError, OutputError

__all__ = ["exclusive", "lock_path"]


def lock_path(output: str | os.PathLike[str]) -> Path:
    """The lock file of ``output``: ``.<name>.lock`` in the same folder."""
    output = Path(output)
    return output.with_name(f".{output.name}.lock")


@contextlib.contextmanager
def exclusive(output: str | os.PathLike[str], *, what: str = "another m2p job",
              error: type[M2PError] = OutputError) -> Iterator[Path]:
    """Hold the lock of ``output`` for the duration of the block.

    Parameters
    ----------
    output
        The file the job writes.
    what
        Who else might hold it, for the message (``"another m2p batch"``).
    error
        The :class:`~m2p.errors.M2PError` subclass raised.

    Raises
    ------
    OutputError (or ``error``)
        The lock is held by a running process (the message gives its pid), or the lock file
        cannot be created.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, as before
        yield lock_path(output)
        return
    path = lock_path(output)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise error(f"cannot create the lock file {path.name}: {exc.strerror or exc}",
                        source=output) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_pid(fd)
            os.close(fd)
            who = f" (process {holder})" if holder else ""
            raise error(f"{what}{who} is writing this file now; wait for it to finish, or "
                        "write to another file", source=output) from None
        # The holder before us may have removed the file between our open and our lock: then
        # we hold a lock on a name nobody else sees; start again on the current file.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except OSError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # before unlocking: a waiting job then re-checks (see above)
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None
