"""Builds and drops: intensity rising over several bars, then a sudden return of the low end.

Electronic dance music (and much pop and game music) raises tension over 4 to 16 bars (a
riser, a snare roll that doubles, the kick drum taken away) and releases it on a downbeat where
the bass and the kick come back at full force: the drop (Yadati et al. 2014 found the bass
energy jump and the preceding build the telling cues).

Per bar (downbeat to downbeat; groups of 4 beats without downbeats):

* **build**: over the :data:`BUILD_BARS` bars before a downbeat, the upper bands' onset density
  or level rises steadily (a straight line through them has correlation >= :data:`RISE_R`
  with the bar index and a positive slope);
* **drop**: at that downbeat, the low band's level (below 200 Hz) jumps by at least
  :data:`JUMP` (``log10(10000 p + 1)`` units: 0.3 is about a doubling of the power, 3 dB) over
  the bar before, and stays up for the next bar.

Off by default (:func:`m2p.rhythm.analysis.analyze` ``drops=True``): most music has none, and
a false flash is worse than none.

References
----------
Yadati, K., Larson, M., Liem, C. C. S. and Hanjalic, A. (2014). Detecting drops in electronic
dance music: content based approaches to a socially significant music event. ISMIR.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BUILD_BARS", "RISE_R", "JUMP", "find_drops"]

#: Bars a build lasts at least.
BUILD_BARS = 4
#: Correlation of a build's intensity with the bar index.
RISE_R = 0.8
#: Rise of the low band's level at a drop, log10(10000 p + 1) units.
JUMP = 0.3


def find_drops(bar_times: np.ndarray, levels: np.ndarray, density: np.ndarray,
               frame_rate: float, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Drops and the builds before them.

    Parameters
    ----------
    bar_times
        (K,) increasing bar start times (downbeats), s.
    levels
        (frames, 4) sub-band levels (:meth:`m2p.rhythm.frames.RhythmFrames.levels`).
    density
        (frames,) onset envelope of the upper bands.
    frame_rate
        Frames per second of ``levels`` and ``density``.
    duration
        Length of the piece, s.

    Returns
    -------
    drops : numpy.ndarray
        (P,) drop times (downbeats), s.
    builds : numpy.ndarray
        (P, 2) start and end of the build before each drop, s.
    """
    bars = np.asarray(bar_times, dtype=np.float64)
    if len(bars) < BUILD_BARS + 2:
        return np.zeros(0), np.zeros((0, 2))
    edges = np.append(bars, duration)
    times = np.arange(len(levels)) / frame_rate
    index = np.searchsorted(edges, times, side="right") - 1
    inside = (index >= 0) & (index < len(bars))

    def per_bar(values: np.ndarray) -> np.ndarray:
        sums = np.zeros(len(bars))
        counts = np.zeros(len(bars))
        np.add.at(sums, index[inside], values[inside])
        np.add.at(counts, index[inside], 1.0)
        return sums / np.maximum(counts, 1.0)

    levels = np.asarray(levels, dtype=np.float64)
    low = per_bar(levels[:, 0])
    upper = per_bar(levels[:, 1:].mean(axis=1))
    busy = per_bar(np.asarray(density, dtype=np.float64))
    drops, builds = [], []
    k = BUILD_BARS
    while k < len(bars) - 1:
        before = slice(k - BUILD_BARS, k)
        rising = any(_rises(series[before]) for series in (upper, busy))
        jump = low[k] - low[k - 1] >= JUMP and low[k + 1] - low[k - 1] >= JUMP
        if rising and jump:
            drops.append(bars[k])
            start = k - BUILD_BARS
            while start > 0 and any(_rises(series[start - 1:k]) for series in (upper, busy)):
                start -= 1
            builds.append((bars[start], bars[k]))
            k += BUILD_BARS  # one drop per build
        else:
            k += 1
    return np.asarray(drops), np.asarray(builds).reshape(-1, 2)


def _rises(values: np.ndarray) -> bool:
    """A steady rise: positive slope and correlation >= RISE_R with the index."""
    if len(values) < 3 or values.std() < 1e-9:
        return False
    r = np.corrcoef(np.arange(len(values)), values)[0, 1]
    return bool(r >= RISE_R)
