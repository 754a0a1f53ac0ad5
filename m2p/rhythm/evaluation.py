"""How well events (beats, downbeats, section boundaries) match a reference: the measures of
the MIREX beat-tracking and structure tasks, as ``mir_eval`` computes them.

>>> import numpy as np
>>> reference = np.arange(0.0, 20.0, 0.5)
>>> round(f_measure(reference, reference + 0.03), 3)
1.0
>>> round(f_measure(reference, reference + 0.25), 3)
0.0
"""

from __future__ import annotations

import numpy as np

__all__ = ["BEAT_WINDOW", "SKIP_SECONDS", "match_events", "f_measure", "tempo_correct",
           "boundary_hits"]

#: Tolerance of a beat match, s (mir_eval's ``f_measure_threshold``).
BEAT_WINDOW = 0.07
#: Beats before this time are ignored by :func:`f_measure` (mir_eval's ``trim_beats``: a
#: tracker needs a few seconds to lock on).
SKIP_SECONDS = 5.0


def match_events(reference: np.ndarray, estimated: np.ndarray, window: float) -> int:
    """Number of one-to-one pairs (reference, estimate) at most ``window`` s apart, as many as
    possible (a greedy sweep in time order, which is optimal for events on a line)."""
    ref = np.sort(np.asarray(reference, dtype=np.float64))
    est = np.sort(np.asarray(estimated, dtype=np.float64))
    i = j = pairs = 0
    while i < len(ref) and j < len(est):
        if abs(ref[i] - est[j]) <= window:
            pairs += 1
            i += 1
            j += 1
        elif est[j] < ref[i]:
            j += 1
        else:
            i += 1
    return pairs


def f_measure(reference: np.ndarray, estimated: np.ndarray, *, window: float = BEAT_WINDOW,
              skip: float = SKIP_SECONDS) -> float:
    """Beat F-measure: the harmonic mean of precision and recall of the estimated events within
    ``window`` s of the reference (events before ``skip`` s ignored in both); 0 when either is
    empty."""
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimated, dtype=np.float64)
    ref, est = ref[ref >= skip], est[est >= skip]
    if not len(ref) or not len(est):
        return 0.0
    pairs = match_events(ref, est, window)
    if pairs == 0:
        return 0.0
    precision, recall = pairs / len(est), pairs / len(ref)
    return 2 * precision * recall / (precision + recall)


def tempo_correct(estimated: float, reference: float, *, tolerance: float = 0.04,
                  octaves: bool = False) -> bool:
    """Whether a tempo is within ``tolerance`` (relative) of the reference; with ``octaves``
    also half, double, a third or three times it (MIREX "accuracy 2"; default: "accuracy 1",
    an octave error is an error)."""
    factors = (1.0, 0.5, 2.0, 1 / 3, 3.0) if octaves else (1.0,)
    return any(abs(estimated - reference * f) <= tolerance * reference * f for f in factors)


def boundary_hits(reference: np.ndarray, estimated: np.ndarray, *, window: float = 2.0,
                  ) -> tuple[int, int]:
    """(reference boundaries found within ``window`` s by some estimate, estimates matching no
    reference boundary), one-to-one."""
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimated, dtype=np.float64)
    found = match_events(ref, est, window)
    return found, len(est) - found
