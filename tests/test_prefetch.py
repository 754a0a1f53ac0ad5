"""m2p.audio.prefetch: the wrapped iterator's items, order and errors, from a thread."""

import threading

import pytest

from m2p.audio.prefetch import prefetch


def test_items_arrive_in_order_and_the_thread_ends():
    out = prefetch(iter(range(100)), depth=3)
    assert list(out) == list(range(100))
    assert not out._thread.is_alive()


def test_an_error_is_raised_where_the_iterator_raised_it():
    def items():
        yield 1
        yield 2
        raise ValueError("bad block 3")

    out = prefetch(items())
    assert next(out) == 1 and next(out) == 2
    with pytest.raises(ValueError, match="bad block 3"):
        next(out)
    with pytest.raises(StopIteration):
        next(out)


def test_close_stops_the_producer_and_closes_the_generator_in_time():
    closed = threading.Event()
    produced = []

    def endless():
        try:
            n = 0
            while True:
                produced.append(n)
                yield n
                n += 1
        finally:
            closed.set()

    out = prefetch(endless(), depth=2)
    assert next(out) == 0
    out.close()  # returns only when the generator has been closed (e.g. an ffmpeg child reaped)
    assert closed.is_set() and not out._thread.is_alive()
    assert len(produced) <= 5  # bounded look-ahead: depth 2, plus items in hand
    with pytest.raises(StopIteration):
        next(out)
