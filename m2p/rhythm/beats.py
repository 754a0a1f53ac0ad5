"""Beat tracking by dynamic programming (Ellis 2007), with a tempo that may change over time.

Given an onset envelope (:mod:`m2p.rhythm.envelope`) and a beat period for every frame (from
:func:`m2p.rhythm.tempo.tempo_curve`), the beats are the sequence of frames that maximises

    sum of the envelope at the beats  -  TIGHTNESS * sum of log(interval / period) ** 2

found exactly by dynamic programming: a frame's best score is its own (the envelope smoothed
by a Gaussian of a 32nd of the period, so a beat may sit a little off the strongest frame)
plus the best score of a predecessor between half and twice the period back, less the
penalty of that interval. The best chain is read back from its last beat. Ellis's tracker
with librosa's constants (tightness 100, the last beat and the trim rule), but the period may
vary from frame to frame, which lets it follow a piece that speeds up.

Frames are processed in blocks of half the shortest period: no frame of a block can be the
predecessor of another (predecessors are at least half a period back), so each block is one
vectorised step, and a 10-minute piece takes a few hundred steps instead of 37,500.

Beat times are the frames' onset times (:func:`m2p.rhythm.envelope.frame_times`).

References
----------
Ellis, D. P. W. (2007). Beat tracking by dynamic programming. J. New Music Research 36(1), 51-60.
"""

from __future__ import annotations

import numpy as np

from m2p.rhythm.envelope import FRAME_RATE

__all__ = ["TIGHTNESS", "track_beats", "beat_period_frames", "local_tempo"]

#: How strongly the beats keep to the period (librosa's default).
TIGHTNESS = 100.0

# A chain's last beat: the last peak of the cumulative score above this fraction of the
# median peak (librosa's rule: the final beats are as strong as the typical ones).
_LAST_BEAT_FRACTION = 0.5
# Leading and trailing beats weaker than this fraction of the beats' RMS onset strength are
# dropped (an intro of silence does not get beats).
_TRIM_FRACTION = 0.5


def track_beats(envelope: np.ndarray, period: float | np.ndarray, *,
                tightness: float = TIGHTNESS) -> np.ndarray:
    """Beat frames of an onset envelope.

    Parameters
    ----------
    envelope
        (frames,) onset envelope, >= 0.
    period
        Beat period in frames: one value, or (frames,) one per frame.
    tightness
        Weight of the period-deviation penalty.

    Returns
    -------
    numpy.ndarray
        (B,) increasing int64 frame indices; empty for a silent envelope.
    """
    env = np.asarray(envelope, dtype=np.float64)
    n = len(env)
    if n == 0 or not np.any(env > 0):
        return np.zeros(0, dtype=np.int64)
    periods = np.broadcast_to(np.asarray(period, dtype=np.float64), (n,)).astype(np.float64)
    periods = np.clip(periods, 2.0, None)
    local = _local_score(env / env.std(), float(np.median(periods)))

    cumulative = np.zeros(n)
    backlink = np.full(n, -1, dtype=np.int64)
    shortest = max(1, int(np.floor(periods.min() / 2)))
    t0 = 0
    while t0 < n:
        block = np.arange(t0, min(n, t0 + shortest))
        p = periods[block]
        d_lo = np.maximum(np.round(p / 2).astype(int), 1)
        d_hi = np.round(2 * p).astype(int)
        distances = np.arange(d_lo.min(), d_hi.max() + 1)
        previous = block[:, None] - distances[None, :]
        allowed = (previous >= 0) & (distances[None, :] >= d_lo[:, None]) \
            & (distances[None, :] <= d_hi[:, None])
        penalty = -tightness * np.log(distances[None, :] / p[:, None]) ** 2
        candidate = np.where(allowed, cumulative[np.clip(previous, 0, None)] + penalty, -np.inf)
        best = candidate.argmax(axis=1)
        value = candidate[np.arange(len(block)), best]
        chained = np.isfinite(value) & (value > 0)
        cumulative[block] = local[block] + np.where(chained, value, 0.0)
        backlink[block] = np.where(chained, previous[np.arange(len(block)), best], -1)
        t0 = int(block[-1]) + 1

    beats = [_last_beat(cumulative)]
    while backlink[beats[-1]] >= 0:
        beats.append(int(backlink[beats[-1]]))
    return _trim(np.asarray(beats[::-1], dtype=np.int64), local)


def beat_period_frames(bpm: float | np.ndarray, frame_rate: float = FRAME_RATE) -> np.ndarray:
    """Beat period in frames for a tempo in BPM."""
    return 60.0 * frame_rate / np.asarray(bpm, dtype=np.float64)


def local_tempo(beat_times: np.ndarray, *, span: int = 8) -> np.ndarray:
    """Tempo at each beat, BPM: the slope of a straight line through the beat times of the
    ``span`` beats around it (least squares: far more precise than one interval, which is
    quantised to the 16 ms frame grid).

    Parameters
    ----------
    beat_times
        (B,) increasing beat times, s (B >= 2).
    span
        Beats per fit.

    Returns
    -------
    numpy.ndarray
        (B,) BPM (empty for fewer than 2 beats).
    """
    times = np.asarray(beat_times, dtype=np.float64)
    count = len(times)
    if count < 2:
        return np.zeros(0)
    span = max(2, min(int(span), count))
    out = np.empty(count)
    for i in range(count):
        lo = int(np.clip(i - span // 2, 0, count - span))
        t = times[lo:lo + span]
        k = np.arange(span) - (span - 1) / 2
        slope = float((k * (t - t.mean())).sum() / (k * k).sum())
        out[i] = 60.0 / slope if slope > 0 else 0.0
    return out


def _local_score(env: np.ndarray, period: float) -> np.ndarray:
    """The envelope smoothed by a Gaussian of a 32nd of the period (Ellis, librosa)."""
    half = max(1, int(round(period)))
    offsets = np.arange(-half, half + 1)
    window = np.exp(-0.5 * (offsets * 32.0 / period) ** 2)
    return np.convolve(env, window, mode="same")


def _last_beat(cumulative: np.ndarray) -> int:
    """The last local maximum of the cumulative score above half the median local maximum."""
    padded = np.pad(cumulative, 1, constant_values=-np.inf)
    peaks = (cumulative > padded[:-2]) & (cumulative >= padded[2:])
    if not np.any(peaks):
        return int(np.argmax(cumulative))
    threshold = _LAST_BEAT_FRACTION * np.median(cumulative[peaks])
    return int(np.flatnonzero(peaks & (cumulative >= threshold))[-1])


def _trim(beats: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Drop weak beats at the start and the end (librosa's rule: below half the RMS of the
    beats' smoothed onset strength)."""
    if len(beats) < 3:
        return beats
    strength = local[beats]
    smooth = np.convolve(strength, np.hanning(5), mode="same") / np.hanning(5).sum()
    threshold = _TRIM_FRACTION * np.sqrt(np.mean(smooth ** 2))
    strong = np.flatnonzero(smooth >= threshold)
    if not len(strong):
        return beats
    return beats[strong[0]:strong[-1] + 1]
