"""Run an iterator in a background thread, a few items ahead of its consumer.

>>> from m2p.audio.prefetch import prefetch
>>> blocks = prefetch(iter(range(5)), depth=2)
>>> list(blocks)
[0, 1, 2, 3, 4]

The palette engine uses this to decode the next audio blocks (libsndfile, ffmpeg's pipe,
NumPy resampling: all release the GIL) while the current ones go through the features and the
network, so decoding and analysis overlap instead of taking turns. The items, their order and
any exception are exactly those of the wrapped iterator; only the timing changes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["prefetch", "Prefetched"]

T = TypeVar("T")

_DONE = object()


def prefetch(items: Iterator[T], *, depth: int = 2) -> "Prefetched[T]":
    """Iterate ``items`` in a daemon thread, at most ``depth`` items ahead.

    Parameters
    ----------
    items
        Any iterator; a generator is closed (in the thread that ran it) when the consumer
        closes the result or stops early.
    depth
        Items decoded ahead (>= 1); bounds the memory held in the queue.

    Returns
    -------
    Prefetched
        An iterator with a ``close()`` that stops the thread and waits for it.
    """
    return Prefetched(items, depth=depth)


class Prefetched(Iterator[T], Generic[T]):
    """The iterator returned by :func:`prefetch`."""

    def __init__(self, items: Iterator[T], *, depth: int = 2) -> None:
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, int(depth)))
        self._stop = threading.Event()
        self._finished = False
        self._thread = threading.Thread(target=self._produce, args=(items,), daemon=True,
                                        name="m2p-prefetch")
        self._thread.start()

    def __next__(self) -> T:
        if self._finished:
            raise StopIteration
        kind, value = self._queue.get()
        if kind is _DONE:
            self._finished = True
            self._thread.join()
            raise StopIteration
        if kind is BaseException:
            self._finished = True
            self._thread.join()
            raise value
        return value

    def close(self) -> None:
        """Stop the producer (closing the wrapped generator) and wait for it."""
        self._finished = True
        self._stop.set()
        while self._thread.is_alive():
            try:  # make room, so a producer blocked on a full queue sees the stop
                self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self._thread.join()

    def __del__(self) -> None:
        self._stop.set()

    def _produce(self, items: Iterator[T]) -> None:
        try:
            for item in items:
                if not self._put(("item", item)):
                    return
            self._put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put((BaseException, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def _put(self, entry: tuple) -> bool:
        """Queue an entry unless the consumer has stopped; False when stopped."""
        while not self._stop.is_set():
            try:
                self._queue.put(entry, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False
