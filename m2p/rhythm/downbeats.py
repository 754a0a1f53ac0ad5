"""Downbeats: which beats start a bar, and how many beats a bar has.

Bars are marked, in most music, by the bass (a kick drum or a bass note on the first beat)
and by the harmony (chords change on the first beat more often than elsewhere: Goto 2001,
Papadopoulos & Peeters 2011). So each beat gets a score: its low-frequency onset strength
(:func:`m2p.rhythm.envelope.beat_envelope` of the band below 200 Hz), plus how much the chroma
of the beat differs from the chroma of the beat before (1 - cosine), each standardised over the
piece. For each meter ``m`` (2, 3, 4 beats a bar) and phase ``p`` the contrast is the mean
score of the beats ``p, p + m, p + 2m ...`` minus the mean of the others; the largest contrast
picks the meter and the phase (a meter of 4 is preferred to 2 unless 2 is clearly better:
every 4-beat bar is also two 2-beat bars, and popular music is mostly in 4).

One meter and phase hold for the whole piece, except that the phase is chosen again in each
section (:mod:`m2p.rhythm.sections`) with enough bars: a piece whose bars restart after an
irregular bar at a section change keeps its downbeats on the bass.

References
----------
Goto, M. (2001). An audio-based real-time beat tracking system for music with or without
drum-sounds. J. New Music Research 30(2), 159-171.
Papadopoulos, H. and Peeters, G. (2011). Joint estimation of chords and downbeats from an audio
signal. IEEE Trans. Audio, Speech, Lang. Process. 19(1), 138-152.
"""

from __future__ import annotations

import numpy as np

__all__ = ["METERS", "beat_scores", "choose_meter", "downbeat_indices"]

#: Meters considered, beats per bar.
METERS = (2, 3, 4)
# A meter of 2 must beat 4 by this factor of contrast to be chosen (see the module docstring).
_TWO_OVER_FOUR = 1.25
# Fewest bars a section needs for its own phase.
_MIN_SECTION_BARS = 4
# Frames either side of a beat where its onset strength is read.
_REACH = 2


def beat_scores(beat_frames: np.ndarray, low_envelope: np.ndarray, chroma: np.ndarray,
                chroma_rate: float, frame_rate: float) -> np.ndarray:
    """How much each beat sounds like the start of a bar (standardised; see the module
    docstring).

    Parameters
    ----------
    beat_frames
        (B,) beat frame indices (envelope frames).
    low_envelope
        (frames,) the low-frequency onset envelope.
    chroma
        (C, 12) chroma frames at ``chroma_rate`` frames per second (frame ``i`` centred at
        ``(i + 1) / chroma_rate``: 4096-sample frames every 2048 samples).
    chroma_rate, frame_rate
        Frames per second of ``chroma`` and of the envelope.

    Returns
    -------
    numpy.ndarray
        (B,) float64.
    """
    beats = np.asarray(beat_frames, dtype=np.int64)
    if not len(beats):
        return np.zeros(0)
    env = np.asarray(low_envelope, dtype=np.float64)
    padded = np.pad(env, _REACH)
    low = np.stack([padded[beats + k] for k in range(2 * _REACH + 1)]).max(axis=0)
    change = _chroma_change(beats / frame_rate, np.asarray(chroma, np.float64), chroma_rate)
    return _standard(low) + _standard(change)


def choose_meter(scores: np.ndarray) -> tuple[int, int, float]:
    """(meter, phase, contrast) of the best bar grid over beat ``scores`` (see the module
    docstring); (0, 0, 0.0) for fewer than two bars of beats."""
    scores = np.asarray(scores, dtype=np.float64)
    best: dict[int, tuple[float, int]] = {}
    for meter in METERS:
        if len(scores) < 2 * meter:
            continue
        best[meter] = max((_contrast(scores, meter, phase), phase) for phase in range(meter))
    if not best:
        return 0, 0, 0.0
    if 2 in best and 4 in best and best[2][0] < _TWO_OVER_FOUR * best[4][0]:
        del best[2]
    meter = max(best, key=lambda m: best[m][0])
    return meter, best[meter][1], best[meter][0]


def downbeat_indices(scores: np.ndarray, meter: int, phase: int,
                     segments: np.ndarray | None = None) -> np.ndarray:
    """Indices of the downbeats among the beats.

    Parameters
    ----------
    scores
        (B,) from :func:`beat_scores`.
    meter, phase
        From :func:`choose_meter` (meter 0: no downbeats).
    segments
        Beat indices where sections start (besides 0); each section of at least four bars
        chooses its own phase for ``meter``.

    Returns
    -------
    numpy.ndarray
        (D,) increasing int64 beat indices.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if meter <= 0 or not len(scores):
        return np.zeros(0, dtype=np.int64)
    edges = [0] + sorted(int(s) for s in (segments if segments is not None else []) if 0 < s < len(scores))
    edges.append(len(scores))
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        part = scores[lo:hi]
        # A section's own phase when it has enough bars to tell; else the piece's grid.
        local = phase - lo
        if len(part) >= _MIN_SECTION_BARS * meter:
            local = max(range(meter), key=lambda p: _contrast(part, meter, p))
        out.append(lo + np.arange(local % meter, len(part), meter))
    return np.concatenate(out).astype(np.int64)


def _contrast(scores: np.ndarray, meter: int, phase: int) -> float:
    on = np.zeros(len(scores), dtype=bool)
    on[phase::meter] = True
    if on.all() or not on.any():
        return 0.0
    return float(scores[on].mean() - scores[~on].mean())


def _chroma_change(beat_times: np.ndarray, chroma: np.ndarray, chroma_rate: float) -> np.ndarray:
    """1 - cosine between the mean chroma of each beat's span and of the span before (0 for
    the first beat and where a span holds no chroma)."""
    if not len(chroma) or len(beat_times) < 2:
        return np.zeros(len(beat_times))
    centres = (np.arange(len(chroma)) + 1) / chroma_rate
    edges = np.append(beat_times, beat_times[-1] + np.median(np.diff(beat_times)))
    index = np.searchsorted(edges, centres, side="right") - 1
    sums = np.zeros((len(beat_times), 12))
    inside = (index >= 0) & (index < len(beat_times))
    np.add.at(sums, index[inside], chroma[inside])
    norms = np.linalg.norm(sums, axis=1)
    unit = sums / np.maximum(norms, 1e-12)[:, None]
    cosine = (unit[1:] * unit[:-1]).sum(axis=1)
    valid = (norms[1:] > 1e-9) & (norms[:-1] > 1e-9)
    return np.concatenate([[0.0], np.where(valid, 1.0 - cosine, 0.0)])


def _standard(x: np.ndarray) -> np.ndarray:
    std = x.std()
    return (x - x.mean()) / std if std > 1e-12 else np.zeros_like(x)
