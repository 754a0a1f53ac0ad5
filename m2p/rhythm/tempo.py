"""Tempo: how fast the beat goes, for a whole piece and over time.

Tempogram (:func:`tempogram`)
    The autocorrelation of the onset envelope (:mod:`m2p.rhythm.envelope`) in Hann-tapered
    windows of :data:`WINDOW_SECONDS`, a window every :data:`HOP_SECONDS`, each lag divided by
    the taper's own overlap at that lag (so long lags are not shrunk) and by the energy at lag
    0 (Scheirer 1998; Grosche & Müller 2011 call it the autocorrelation tempogram).

Salience of a tempo (:func:`tempo_salience`)
    A comb over the autocorrelation (Davies & Plumbley 2007): the salience of a beat period
    ``P`` frames is the mean autocorrelation at ``P, 2P, 3P, 4P`` (read between lags by linear
    interpolation, so the tempo is not limited to the 16 ms frame grid: one frame is 3 % of
    the period at 120 BPM), times a log-normal prior over tempo centred at :data:`PRIOR_BPM`
    with :data:`PRIOR_OCTAVES` octaves of spread (librosa's ``beat.tempo`` prior; Moelants &
    McKinney 2004 found people tap near 120 BPM). A beat at the true period has every multiple
    in phase; at half the period (double tempo) only every other multiple is, at double the
    period the prior holds it back: this is where octave errors are decided.

Tempo over time (:func:`tempo_curve`)
    A Viterbi path through the salience of the windows on a log-tempo grid, with a Gaussian
    penalty on the drift between neighbouring windows and a fixed cost for a jump (a piece
    that speeds up is followed, one that changes tempo at once too when a few windows agree;
    a single window cannot move the path). :func:`m2p.rhythm.beats.track_beats` then refines it
    beat by beat.

References
----------
Davies, M. E. P. and Plumbley, M. D. (2007). Context-dependent beat tracking of musical audio.
IEEE Trans. Audio, Speech, Lang. Process. 15(3), 1009-1020.
Grosche, P. and Müller, M. (2011). Extracting predominant local pulse information from music
recordings. IEEE Trans. Audio, Speech, Lang. Process. 19(6), 1688-1701.
Moelants, D. and McKinney, M. (2004). Tempo perception and musical content: what makes a piece
fast, slow or temporally ambiguous? ICMPC 8.
Scheirer, E. D. (1998). Tempo and beat analysis of acoustic musical signals. JASA 103(1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from m2p.rhythm.envelope import FRAME_RATE

__all__ = ["MIN_BPM", "MAX_BPM", "PRIOR_BPM", "PRIOR_OCTAVES", "WINDOW_SECONDS", "HOP_SECONDS",
           "TempoCurve", "bpm_grid", "tempogram", "tempo_salience", "global_tempo",
           "tempo_curve"]

#: Slowest and fastest tempo considered, beats per minute.
MIN_BPM, MAX_BPM = 40.0, 240.0
#: Centre of the tempo prior, BPM.
PRIOR_BPM = 120.0
#: Spread of the tempo prior (standard deviation of log2 tempo), octaves.
PRIOR_OCTAVES = 1.0
#: Autocorrelation window and hop of the tempogram, s.
WINDOW_SECONDS, HOP_SECONDS = 8.0, 1.0

# Multiples of the period the comb reads.
_COMB = 4
# Tempo grid resolution: steps per octave (1.1 % per step).
_STEPS_PER_OCTAVE = 64
# Standard deviation, octaves, of the tempo drift between neighbouring tempogram windows in the
# Viterbi path, and the cost (log-probability) of a jump.
_CHANGE_OCTAVES = 0.03
_JUMP_COST = 6.0
# Smallest share of the taper's overlap a lag's autocorrelation is divided by.
_UNBIASED_FLOOR = 0.1


@dataclass(frozen=True)
class TempoCurve:
    """Tempo over time.

    Attributes
    ----------
    times
        (W,) centres of the tempogram windows, s.
    bpm
        (W,) tempo of each window, beats per minute.
    """

    times: np.ndarray
    bpm: np.ndarray


def bpm_grid() -> np.ndarray:
    """The log-spaced tempo grid, BPM, from :data:`MIN_BPM` to :data:`MAX_BPM`."""
    steps = int(round(np.log2(MAX_BPM / MIN_BPM) * _STEPS_PER_OCTAVE))
    return MIN_BPM * 2.0 ** (np.arange(steps + 1) / _STEPS_PER_OCTAVE)


def tempogram(envelope: np.ndarray, *, frame_rate: float = FRAME_RATE,
              window_seconds: float = WINDOW_SECONDS, hop_seconds: float = HOP_SECONDS,
              ) -> tuple[np.ndarray, np.ndarray]:
    """Windowed autocorrelation of an onset envelope.

    Parameters
    ----------
    envelope
        (frames,) onset envelope.
    frame_rate
        Envelope frames per second.
    window_seconds, hop_seconds
        Window length and hop; a piece shorter than one window is one window.

    Returns
    -------
    times : numpy.ndarray
        (W,) window centres, s.
    ac : numpy.ndarray
        (W, max_lag + 1) autocorrelation, each row divided by its lag-0 value (rows of
        silence are zero); ``max_lag`` covers :data:`_COMB` periods at :data:`MIN_BPM`.
    """
    env = np.asarray(envelope, dtype=np.float64)
    n = len(env)
    width = max(1, min(n, int(round(window_seconds * frame_rate))))
    hop = max(1, int(round(hop_seconds * frame_rate)))
    max_lag = int(np.ceil(_COMB * 60.0 / MIN_BPM * frame_rate))
    starts = np.arange(0, max(1, n - width + 1), hop)
    if n > width and starts[-1] != n - width:
        starts = np.append(starts, n - width)  # the last window reaches the end
    taper = np.hanning(width + 2)[1:-1] if width > 2 else np.ones(width)
    segments = np.stack([env[s:s + width] for s in starts]) if n else np.zeros((1, 0))
    segments = (segments - segments.mean(axis=1, keepdims=True)) * taper
    size = 1 << int(np.ceil(np.log2(max(2, width + max_lag + 1))))
    spectrum = np.fft.rfft(segments, size, axis=1)
    ac = np.fft.irfft(np.abs(spectrum) ** 2, size, axis=1)[:, : max_lag + 1]
    # The taper's own autocorrelation shrinks long lags (fewer frames overlap): divide it out,
    # so a slow beat is heard as well as a fast one (the comb reads lags of 4 periods).
    own = np.fft.irfft(np.abs(np.fft.rfft(taper, size)) ** 2, size)[: max_lag + 1]
    ac = ac / np.maximum(own / own[0], _UNBIASED_FLOOR)
    zero = ac[:, :1]
    ac = np.where(zero > 1e-12, ac / np.where(zero > 1e-12, zero, 1.0), 0.0)
    times = (starts + width / 2) / frame_rate
    return times, ac


def tempo_salience(ac: np.ndarray, *, frame_rate: float = FRAME_RATE, prior: bool = True,
                   ) -> np.ndarray:
    """Salience of each tempo of :func:`bpm_grid` in each tempogram row (see the module
    docstring).

    Parameters
    ----------
    ac
        (W, lags) or (lags,) normalised autocorrelation from :func:`tempogram`.
    prior
        Multiply by the log-normal tempo prior.

    Returns
    -------
    numpy.ndarray
        (W, len(bpm_grid())) or (len(bpm_grid()),) salience >= 0.
    """
    ac = np.asarray(ac, dtype=np.float64)
    single = ac.ndim == 1
    rows = ac[None] if single else ac
    grid = bpm_grid()
    periods = 60.0 / grid * frame_rate
    lags = np.arange(rows.shape[1])
    comb = np.zeros((len(rows), len(grid)))
    for k in range(1, _COMB + 1):
        at = np.clip(periods * k, 0, lags[-1])
        lo = np.floor(at).astype(int)
        hi = np.minimum(lo + 1, lags[-1])
        frac = at - lo
        comb += rows[:, lo] * (1.0 - frac) + rows[:, hi] * frac
    salience = np.maximum(comb / _COMB, 0.0)
    if prior:
        salience = salience * np.exp(-0.5 * (np.log2(grid / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    return salience[0] if single else salience


def global_tempo(envelope: np.ndarray, *, frame_rate: float = FRAME_RATE) -> float:
    """The piece's main tempo, BPM: the peak of the salience summed over the tempogram's
    windows, refined between grid steps by a parabola through its neighbours. A silent
    envelope gives :data:`PRIOR_BPM`."""
    _, ac = tempogram(envelope, frame_rate=frame_rate)
    salience = tempo_salience(ac, frame_rate=frame_rate).sum(axis=0)
    return _peak_bpm(salience)


def tempo_curve(envelope: np.ndarray, *, frame_rate: float = FRAME_RATE,
                near_bpm: float | None = None, reach_octaves: float = 0.25) -> TempoCurve:
    """Tempo over time: the Viterbi path through the windows' salience (see the module
    docstring).

    Parameters
    ----------
    envelope
        (frames,) onset envelope.
    frame_rate
        Envelope frames per second.
    near_bpm, reach_octaves
        Keep the path within ``reach_octaves`` of ``near_bpm`` (the main tempo, which decides
        the octave); None: anywhere in the grid.
    """
    times, ac = tempogram(envelope, frame_rate=frame_rate)
    salience = tempo_salience(ac, frame_rate=frame_rate)
    grid = bpm_grid()
    if near_bpm is not None:
        salience = salience * (np.abs(np.log2(grid / near_bpm)) <= reach_octaves)
    # Each row as a probability-like score; rows of silence are flat (they follow neighbours).
    norm = salience / np.maximum(salience.sum(axis=1, keepdims=True), 1e-12)
    emission = np.log(norm + 1e-4 / len(grid))
    change = np.log2(grid[None, :] / grid[:, None])  # (from, to), octaves
    # A smooth drift costs little; a jump (a piece that changes tempo at once) costs a fixed
    # amount, so it is taken only when several windows agree on the new tempo.
    transition = np.maximum(-0.5 * (change / _CHANGE_OCTAVES) ** 2, -_JUMP_COST)
    score = emission[0].copy()
    back = np.zeros((len(times), len(grid)), dtype=np.int64)
    for w in range(1, len(times)):
        total = score[:, None] + transition  # (from, to)
        back[w] = total.argmax(axis=0)
        score = total[back[w], np.arange(len(grid))] + emission[w]
    path = np.zeros(len(times), dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for w in range(len(times) - 1, 0, -1):
        path[w - 1] = back[w, path[w]]
    return TempoCurve(times=times, bpm=grid[path])


def _peak_bpm(salience: np.ndarray) -> float:
    """The grid tempo of the largest salience, refined by a parabola in log tempo."""
    grid = bpm_grid()
    if not np.any(salience > 0):
        return PRIOR_BPM
    i = int(np.argmax(salience))
    offset = 0.0
    if 0 < i < len(grid) - 1:
        a, b, c = salience[i - 1], salience[i], salience[i + 1]
        denominator = a - 2 * b + c
        if denominator < 0:
            offset = float(np.clip(0.5 * (a - c) / denominator, -0.5, 0.5))
    return float(MIN_BPM * 2.0 ** ((i + offset) / _STEPS_PER_OCTAVE))
