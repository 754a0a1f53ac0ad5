"""Palettes on the music's clock: which palette holds when, for ``track.at(t, sync=...)``.

A synced track holds one palette between consecutive musical events (beats, downbeats or
section boundaries, :class:`~m2p.rhythm.rhythm_types.Rhythm`) and changes at the events:

* the span from one event to the next (the piece's start and end close the first and the last
  span) holds the smooth track's palette at the span's middle: the palette of that beat, bar
  or section, with no lag in either direction;
* at an event the palette switches at once, or with ``glide=True`` glides from the previous
  span's palette to the new one over one beat starting on the event (a light that starts to
  change on the hit; the glide is cut short to half the span when the span is shorter), along
  the same path as the smooth track's glide.

:func:`hold_plan` turns query times into that plan (two times and a fraction for each); the
track reads its palettes at those times and mixes them (:meth:`m2p.palette_types.PaletteTrack.at`).

>>> import numpy as np
>>> a, b, f = hold_plan(np.array([2.0, 10.0]), 12.0, np.array([1.0, 5.0, 11.0]))
>>> a.tolist(), f.tolist()
([1.0, 6.0, 11.0], [0.0, 0.0, 0.0])
"""

from __future__ import annotations

import numpy as np

__all__ = ["hold_plan"]


def hold_plan(events: np.ndarray, duration: float, query: np.ndarray, *, glide: bool = False,
              beat_seconds: np.ndarray | float | None = None,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a synced track reads its palette for each query time.

    Parameters
    ----------
    events
        (E,) increasing event times, s (those outside (0, duration) are ignored).
    duration
        Length of the track, s.
    query
        (Q,) times, s, within [0, duration].
    glide
        Glide over one beat after each event instead of switching at once.
    beat_seconds
        Length of a beat at each event (E,) or one value, s (for ``glide``; default 0.5).

    Returns
    -------
    time_a, time_b : numpy.ndarray
        (Q,) the times whose smooth palettes are mixed.
    fraction : numpy.ndarray
        (Q,) weight of ``time_b``'s palette, in [0, 1] (0: ``time_a``'s palette alone).
    """
    events = np.asarray(events, dtype=np.float64).reshape(-1)
    query = np.asarray(query, dtype=np.float64).reshape(-1)
    inside = (events > 0) & (events < duration)
    beat = np.broadcast_to(np.asarray(0.5 if beat_seconds is None else beat_seconds,
                                      dtype=np.float64), events.shape)[inside]
    events = events[inside]
    edges = np.concatenate([[0.0], events, [float(duration)]])
    middles = (edges[:-1] + edges[1:]) / 2
    span = np.clip(np.searchsorted(edges, query, side="right") - 1, 0, len(middles) - 1)
    held = middles[span]
    if not glide or not len(events):
        return held, held, np.zeros(len(query))
    # Span j >= 1 starts at events[j - 1]; its glide lasts one beat, at most half the span.
    lengths = np.diff(edges)
    glide_for = np.minimum(np.maximum(beat, 1e-6), lengths[1:] / 2)  # (E,) for spans 1..E
    previous = np.where(span > 0, middles[np.maximum(span - 1, 0)], held)
    start = edges[span]
    length = np.where(span > 0, glide_for[np.maximum(span - 1, 0)], 1.0)
    fraction = np.where(span > 0, np.clip((query - start) / length, 0.0, 1.0), 1.0)
    return previous, held, fraction
