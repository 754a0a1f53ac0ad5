"""Section boundaries: where the music turns into something else (Foote 2000).

Beat-synchronous features (:func:`beat_features`)
    For each beat, the mean over its span of the mel-cepstrum (timbre and level,
    :mod:`m2p.rhythm.frames`) and of the chroma (harmony), each dimension standardised over the
    piece, each group scaled to unit length so timbre and harmony count alike. Beat-synchronous
    rows make a bar look like the same bar when it comes back (Bartsch & Wakefield 2005).

Novelty (:func:`novelty`)
    The self-similarity of those rows (cosine, in a band around the diagonal: memory grows with
    the length, not its square) correlated along the diagonal with a Gaussian-tapered
    checkerboard kernel (Foote 2000) spanning :data:`KERNEL_SECONDS` either side: high where
    the recent past is self-similar, the near future is self-similar, and the two differ.

Boundaries (:func:`pick_boundaries`)
    Peaks of the novelty that are the largest within :data:`MIN_SECTION_SECONDS` either side
    and stand above the local median of the novelty by :data:`THRESHOLD` of its spread (an
    adaptive threshold: a busy piece does not get a boundary at every bar); a boundary moves to
    the nearest downbeat within one beat, since sections start on bars.

References
----------
Foote, J. (2000). Automatic audio segmentation using a measure of audio novelty. ICME.
Bartsch, M. A. and Wakefield, G. H. (2005). Audio thumbnailing of popular music using
chroma-based representations. IEEE Trans. Multimedia 7(1), 96-104.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KERNEL_SECONDS", "MIN_SECTION_SECONDS", "THRESHOLD", "beat_features", "novelty",
           "pick_boundaries", "find_sections"]

#: Half-width of the checkerboard kernel, s (converted to beats at the piece's tempo).
KERNEL_SECONDS = 10.0
#: Shortest section, s: two boundaries are never closer.
MIN_SECTION_SECONDS = 8.0
#: How far above the local median novelty a boundary must stand, in units of the novelty's
#: median absolute deviation.
THRESHOLD = 2.0
# Seconds over which the local median novelty is taken.
_MEDIAN_SECONDS = 40.0
# Kernel half-width bounds, beats.
_KERNEL_BEATS = (4, 32)


def beat_features(beat_times: np.ndarray, timbre: np.ndarray, frame_rate: float,
                  chroma: np.ndarray, chroma_rate: float, duration: float) -> np.ndarray:
    """(B + 1, F) feature rows of the spans ``[0, b_0), [b_0, b_1), ..., [b_last, duration)``.

    Parameters
    ----------
    beat_times
        (B,) increasing beat times, s.
    timbre
        (frames, K) mel-cepstral rows at ``frame_rate`` (frame ``i`` centred at
        ``i / frame_rate``).
    chroma
        (C, 12) chroma rows at ``chroma_rate`` (frame ``i`` centred at ``(i + 1) / chroma_rate``).
    duration
        Length of the piece, s.
    """
    edges = np.concatenate([[0.0], np.asarray(beat_times, dtype=np.float64), [duration]])
    parts = []
    for rows, times in ((timbre, np.arange(len(timbre)) / frame_rate),
                        (chroma, (np.arange(len(chroma)) + 1) / chroma_rate)):
        rows = np.asarray(rows, dtype=np.float64)
        means = _span_means(rows, times, edges)
        std = means.std(axis=0)
        means = (means - means.mean(axis=0)) / np.where(std > 1e-9, std, 1.0)
        norms = np.linalg.norm(means, axis=1, keepdims=True)
        parts.append(means / np.maximum(norms, 1e-9))
    return np.concatenate(parts, axis=1) / np.sqrt(len(parts))


def novelty(features: np.ndarray, half_width: int) -> np.ndarray:
    """Foote novelty of feature rows (see the module docstring).

    Parameters
    ----------
    features
        (N, F) rows (unit length or zero).
    half_width
        Kernel half-width, rows.

    Returns
    -------
    numpy.ndarray
        (N,) novelty at the start of each row (row ``i``: the boundary between rows ``i - 1``
        and ``i``); 0 at the first row.
    """
    x = np.asarray(features, dtype=np.float64)
    n, w = len(x), max(1, int(half_width))
    if n < 2:
        return np.zeros(n)
    # Similarity band: band[i, d] = x[i] . x[i + d - w] for d in [0, 2w).
    padded = np.vstack([np.zeros((w, x.shape[1])), x, np.zeros((w, x.shape[1]))])
    taper = np.exp(-0.5 * ((np.arange(-w, w) + 0.5) / (0.5 * w)) ** 2)
    sign = np.where(np.arange(-w, w) < 0, -1.0, 1.0)
    kernel = np.outer(sign * taper, sign * taper)  # (2w, 2w): + within past/future, - across
    out = np.zeros(n)
    # novelty[i] = sum_{a, b} K[a, b] * x[i + a] . x[i + b], a, b in [-w, w)
    for a in range(2 * w):
        rows = padded[a:a + n]  # x[i + a - w]
        for b in range(a, 2 * w):
            weight = kernel[a, b] * (1.0 if a == b else 2.0)
            out += weight * np.einsum("ij,ij->i", rows, padded[b:b + n])
    return np.maximum(out, 0.0) * (np.arange(n) > 0)


def pick_boundaries(curve: np.ndarray, times: np.ndarray, *, min_gap: float | None = None,
                    threshold: float | None = None, duration: float | None = None) -> np.ndarray:
    """Indices of the novelty peaks kept as boundaries (see the module docstring).

    Parameters
    ----------
    curve
        (N,) novelty.
    times
        (N,) the time of each row's start, s.
    min_gap
        Shortest section, s (also from the piece's start and end); default
        :data:`MIN_SECTION_SECONDS`.
    threshold
        Height above the local median, in median absolute deviations; default
        :data:`THRESHOLD`.
    duration
        Length of the piece, s (default: the last time).
    """
    min_gap = MIN_SECTION_SECONDS if min_gap is None else float(min_gap)
    threshold = THRESHOLD if threshold is None else float(threshold)
    curve = np.asarray(curve, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    end = float(times[-1]) if duration is None and len(times) else float(duration or 0.0)
    if len(curve) < 3 or not np.any(curve > 0):
        return np.zeros(0, dtype=np.int64)
    spread = np.median(np.abs(curve - np.median(curve))) + 1e-9 * curve.max()
    candidates = []
    for i in range(1, len(curve) - 1):
        t = times[i]
        if t < min_gap or t > end - min_gap:
            continue
        near = np.abs(times - t) <= min_gap
        if curve[i] < curve[near].max():
            continue
        local = np.abs(times - t) <= _MEDIAN_SECONDS / 2
        if curve[i] >= np.median(curve[local]) + threshold * spread:
            candidates.append(i)
    # Strongest first; a weaker peak within min_gap of a kept one goes.
    kept: list[int] = []
    for i in sorted(candidates, key=lambda j: -curve[j]):
        if all(abs(times[i] - times[j]) >= min_gap for j in kept):
            kept.append(i)
    return np.asarray(sorted(kept), dtype=np.int64)


def find_sections(beat_times: np.ndarray, bpm: float, timbre: np.ndarray, frame_rate: float,
                  chroma: np.ndarray, chroma_rate: float, duration: float,
                  downbeat_times: np.ndarray | None = None) -> np.ndarray:
    """Section boundaries, s: :func:`beat_features` -> :func:`novelty` ->
    :func:`pick_boundaries`, each boundary moved to the nearest downbeat within a beat.

    Returns
    -------
    numpy.ndarray
        (S,) increasing boundary times inside (0, duration).
    """
    beats = np.asarray(beat_times, dtype=np.float64)
    if len(beats) < 4 or duration < 2 * MIN_SECTION_SECONDS:
        return np.zeros(0)
    rows = beat_features(beats, timbre, frame_rate, chroma, chroma_rate, duration)
    half = int(np.clip(round(KERNEL_SECONDS * max(bpm, 1.0) / 60.0), *_KERNEL_BEATS))
    starts = np.concatenate([[0.0], beats])
    picked = pick_boundaries(novelty(rows, half), starts, duration=duration)
    bounds = starts[picked]
    if downbeat_times is not None and len(downbeat_times) and len(bounds):
        beat = 60.0 / max(bpm, 1.0)
        downs = np.asarray(downbeat_times, dtype=np.float64)
        nearest = downs[np.abs(downs[None, :] - bounds[:, None]).argmin(axis=1)]
        bounds = np.where(np.abs(nearest - bounds) <= beat * 1.01, nearest, bounds)
    bounds = np.unique(bounds)
    return bounds[(bounds > 0) & (bounds < duration)]


def _span_means(rows: np.ndarray, times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Mean row over each span ``[edges[k], edges[k + 1])`` (a span holding no row takes the
    row nearest its middle)."""
    out = np.zeros((len(edges) - 1, rows.shape[1]))
    if not len(rows):
        return out
    index = np.searchsorted(edges, times, side="right") - 1
    inside = (index >= 0) & (index < len(out))
    sums = np.zeros_like(out)
    counts = np.zeros(len(out))
    np.add.at(sums, index[inside], rows[inside])
    np.add.at(counts, index[inside], 1.0)
    empty = counts == 0
    if np.any(empty):
        middles = (edges[:-1] + edges[1:]) / 2
        nearest = np.clip(np.searchsorted(times, middles[empty]), 0, len(rows) - 1)
        sums[empty], counts[empty] = rows[nearest], 1.0
    return sums / counts[:, None]
