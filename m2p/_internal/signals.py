"""Termination signals handled like Ctrl-C: the work stops, temporary files are removed, and the
command line says so in one line.

Python turns SIGINT into :class:`KeyboardInterrupt`, so every ``finally`` runs and the atomic
writer (:mod:`m2p._internal.outputs`) removes its temporary files. SIGTERM (``kill``,
``timeout``, a service manager) and SIGHUP (a closed terminal) would otherwise end the process
at once and leave a half-written ``.part`` file; inside :func:`termination_raises` they raise
:class:`Terminated` (a ``KeyboardInterrupt``, so the same clean-up runs). A second signal while
cleaning up ends the process the default way.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

__all__ = ["Terminated", "termination_raises"]

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """A termination signal (SIGTERM, SIGHUP) received while :func:`termination_raises` held.

    Attributes
    ----------
    signum
        The signal number; a command exits with ``128 + signum`` (143 for SIGTERM).
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        super().__init__(f"terminated by {signal.Signals(self.signum).name}")


@contextlib.contextmanager
def termination_raises() -> Iterator[None]:
    """While held (in the main thread), SIGTERM and SIGHUP raise :class:`Terminated`; outside
    the main thread, or where a handler cannot be set, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        for number in _SIGNALS:  # a second signal during clean-up: the default action
            with contextlib.suppress(OSError, ValueError):
                signal.signal(number, signal.SIG_DFL)
        raise Terminated(signum)

    for number in _SIGNALS:
        with contextlib.suppress(OSError, ValueError):
            if signal.getsignal(number) in (signal.SIG_DFL, None):  # keep a caller's handler
                previous[number] = signal.signal(number, handler)
    try:
        yield
    finally:
        for number, old in previous.items():
            with contextlib.suppress(OSError, ValueError):
                signal.signal(number, old)
