"""Keeping other code's output where it belongs: C libraries that write to the stderr file
descriptor past Python (libmpg123, Ray's core worker) and plugins that print while they load.

* :func:`captured_stderr`: file descriptor 2 points at a temporary file while the block runs;
  what was written there is returned (or dropped), never shown.
* :func:`stdout_to_stderr`: ``print`` and file descriptor 1 go to standard error while the
  block runs, so a plugin's chatter can never mix into ``m2p palette --json`` on stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator

__all__ = ["Captured", "captured_stderr", "stdout_to_stderr"]

_KEEP = 4096  # bytes of captured text kept (the first lines say what happened)


class Captured:
    """Text a C library wrote to file descriptor 2 while :func:`captured_stderr` held it."""

    def __init__(self) -> None:
        self.text = ""


@contextlib.contextmanager
def captured_stderr(capture: Captured | None = None) -> Iterator[None]:
    """Point file descriptor 2 at a temporary file while the block runs; what was written goes
    to ``capture`` (at most 4 KB kept), or is dropped."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to silence
        yield
        return
    with tempfile.TemporaryFile() as sink:
        _flush(sys.stderr)
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if capture is not None and len(capture.text) < _KEEP:
                sink.seek(0)
                capture.text += sink.read(_KEEP).decode("utf-8", "replace")


@contextlib.contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Send ``sys.stdout`` and file descriptor 1 to standard error while the block runs."""
    _flush(sys.stdout)
    try:
        saved = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no descriptors 1 or 2 (a service): the Python level still holds
        saved = None
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        _flush(sys.stdout)
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _flush(stream: object) -> None:
    with contextlib.suppress(Exception):  # a replaced or closed stream
        stream.flush()  # type: ignore[attr-defined]
