"""Onsets: the onset-strength envelope of a mel spectrogram and the rate of note onsets.

The envelope is the log-filtered spectral flux (Bello et al. 2005; Böck & Widmer 2013): the mel
power in dB with an 80 dB floor below the loudest bin of the excerpt, its first difference along
time, half-wave rectified and averaged over bands. In dB with a floor relative to the excerpt's
maximum, the envelope does not change with the level (a quieter master of the same song has the
same onsets). Onsets are the envelope's peaks picked as librosa's ``onset_detect`` does (a local
maximum over the last 30 ms, above the local mean of +-100 ms by ``delta``, at least 30 ms after
the previous onset), on the envelope scaled to [0, 1].

The mel spectrogram is the one the music encoder computes anyway (musicnn's front end: 96 bands
of 16 kHz audio, 512-sample frames, 256-sample hop, :mod:`m2p.model.musicnn`), so onsets cost
no extra pass over the audio. The onset rate (onsets per second) is the tempo cue of the model
v3 emotion head: it scales exactly with the tempo of a time-stretched recording or a faster
rendering, where beat-period estimates from short windows often lock onto one value
(``docs/data.md``).

>>> import numpy as np
>>> mel_db = np.full((250, 96), -80.0)            # 4 s of silence at 62.5 frames/s
>>> mel_db[15::31] = 0.0                          # two clicks per second
>>> round(onset_rate(onset_envelope(mel_db), frame_rate=62.5), 1)
2.0

References
----------
Bello, J. P., Daudet, L., Abdallah, S., Duxbury, C., Davies, M. and Sandler, M. B. (2005). A
tutorial on onset detection in music signals. IEEE Trans. Speech Audio Process. 13(5), 1035-1047.
Böck, S. and Widmer, G. (2013). Maximum filter vibrato suppression for onset detection. DAFx-13.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TOP_DB", "onset_envelope", "onset_frames", "onset_rate"]

#: Dynamic range kept below the loudest bin of the excerpt, dB.
TOP_DB = 80.0

# Peak picking (seconds), as librosa.onset.onset_detect's defaults.
_PRE_MAX, _PRE_AVG, _POST_AVG, _WAIT, _DELTA = 0.03, 0.10, 0.10, 0.03, 0.07


def onset_envelope(mel_db: np.ndarray) -> np.ndarray:
    """Onset strength per frame.

    Parameters
    ----------
    mel_db
        (frames, bands) mel power in dB (any reference: only differences count).

    Returns
    -------
    numpy.ndarray
        (frames,) float64 >= 0; frame 0 is 0 (it has no predecessor). Silence gives zeros.
    """
    db = np.asarray(mel_db, dtype=np.float64)
    if db.size == 0:
        return np.zeros(len(db))
    db = np.maximum(db, db.max() - TOP_DB)
    flux = np.maximum(np.diff(db, axis=0), 0.0).mean(axis=1)
    return np.concatenate([[0.0], flux])


def onset_frames(envelope: np.ndarray, *, frame_rate: float) -> np.ndarray:
    """Frame indices of the onsets in ``envelope`` (``frame_rate`` frames per second), picked as
    ``librosa.onset.onset_detect`` does with its defaults."""
    env = np.asarray(envelope, dtype=np.float64)
    if env.size == 0 or env.max() <= env.min():
        return np.zeros(0, dtype=np.int64)
    env = (env - env.min()) / (env.max() - env.min())
    pre_max = max(1, int(round(_PRE_MAX * frame_rate)))
    pre_avg = int(round(_PRE_AVG * frame_rate))
    post_avg = int(round(_POST_AVG * frame_rate)) + 1
    wait = int(round(_WAIT * frame_rate))
    n = len(env)
    padded = np.pad(env, (pre_max, 0), constant_values=-np.inf)
    local_max = np.lib.stride_tricks.sliding_window_view(padded, pre_max + 1).max(axis=1)[:n]
    cumulative = np.concatenate([[0.0], np.cumsum(env)])
    lo = np.maximum(np.arange(n) - pre_avg, 0)
    hi = np.minimum(np.arange(n) + post_avg, n)
    local_mean = (cumulative[hi] - cumulative[lo]) / (hi - lo)
    candidates = np.flatnonzero((env >= local_max) & (env >= local_mean + _DELTA))
    peaks, last = [], -np.inf
    for i in candidates:
        if i > last + wait:
            peaks.append(i)
            last = i
    return np.asarray(peaks, dtype=np.int64)


def onset_rate(envelope: np.ndarray, *, frame_rate: float) -> float:
    """Onsets per second over ``envelope``; 0 for silence or fewer than 0.1 s of frames."""
    duration = len(envelope) / frame_rate
    if duration < 0.1:
        return 0.0
    return float(len(onset_frames(envelope, frame_rate=frame_rate)) / duration)
