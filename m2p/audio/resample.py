"""Polyphase resampling by a rational factor, equal to ``scipy.signal.resample_poly``, one-shot
(:func:`resample_poly`) or over a stream of blocks with no seams (:class:`StreamResampler`).

>>> import numpy as np
>>> from m2p.audio.resample import resample_poly
>>> resample_poly(np.arange(4.0), 2, 1).round(2).tolist()  # twice the rate
[0.0, 0.56, 1.0, 1.29, 2.0, 2.97, 3.0, 1.61]

(Even output samples are the input samples; the last is pulled down by the zeros after the
end, as in SciPy.)

Why not SciPy's own: importing ``scipy.signal`` costs about 0.4 s (it pulls in
``scipy.stats``), more than resampling a whole song, and the ``m2p`` command pays it on every
run. This module needs NumPy only and gives SciPy's result to within float64 rounding (about
1e-15; tested against SciPy): the same Kaiser-windowed sinc filter (beta 5, half-length
``10 * max(up, down)`` input samples of the upsampled signal, DC gain ``up``), applied as
``up`` strided dot products (one per output phase) instead of SciPy's C ``upfirdn``.

References
----------
SciPy, ``scipy.signal.resample_poly`` and ``scipy.signal.firwin`` (defaults
``window=('kaiser', 5.0)``, ``padtype='constant'``).
Crochiere, R. E. and Rabiner, L. R. (1983). *Multirate Digital Signal Processing*.
Prentice-Hall. Chapter 3 (polyphase structures).
"""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from functools import lru_cache
from math import gcd

import numpy as np
from numpy.lib.stride_tricks import as_strided

__all__ = ["resample_poly", "kaiser_lowpass", "StreamResampler", "resample_stream"]

#: Kaiser window shape parameter of the anti-aliasing filter (SciPy's default).
KAISER_BETA = 5.0

# Largest polyphase factor (up or down) of the stream resampler. Common rates stay exact
# (96 kHz is 147/640, 768 kHz 147/5120); an odd rate such as 999,983 Hz is resampled by the
# nearest ratio within this bound (a speed error below 1e-4), so its filter never needs
# millions of taps.
_MAX_POLYPHASE = 8192
# Output samples per resampling segment: memory per step is set by what comes out, so no
# input rate can make a segment huge.
_SEGMENT_OUT = 1 << 17


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """Resample signals by ``up / down`` with a polyphase FIR filter, along the last axis.

    Parameters
    ----------
    x
        Samples ``(..., n)``, any real dtype (computed in float64).
    up, down
        Positive integers; the output rate is ``up / down`` times the input rate.

    Returns
    -------
    numpy.ndarray
        float64 samples ``(..., ceil(n * up / down))``; output sample ``j`` sits at input time
        ``j * down / up``, and the signal is taken as zero outside ``[0, n)`` (as SciPy's
        ``padtype='constant'``).
    """
    g = gcd(int(up), int(down))
    up, down = int(up) // g, int(down) // g
    x = np.asarray(x, dtype=np.float64)
    if up == down:
        return x.copy()
    lead, n_in = x.shape[:-1], x.shape[-1]
    n_out = -(-n_in * up // down)
    if n_in == 0 or 0 in lead:
        return np.zeros((*lead, n_out))
    phases, half_len = _polyphase(up, down)
    taps = phases.shape[1]
    # y[j] = sum_k x[k] h[j*down - k*up + half_len]. Output j = c + m*up has phase r_c and
    # reads x[b_c + m*down - i] for tap i, so each phase class is one strided dot product.
    rows_in = x.reshape(-1, n_in)
    padded = np.zeros((rows_in.shape[0], taps + n_in + taps + down + 1))
    padded[:, taps : taps + n_in] = rows_in
    y = np.empty((rows_in.shape[0], n_out))
    for c in range(min(up, n_out)):
        base, r = divmod(c * down + half_len, up)
        start = base + 1  # = (base + taps) - (taps - 1): the first padded sample read
        count = len(range(c, n_out, up))
        view = as_strided(padded[:, start:], shape=(padded.shape[0], count, taps),
                          strides=(padded.strides[0], down * padded.itemsize, padded.itemsize))
        y[:, c::up] = view @ phases[r]
    return y.reshape(*lead, n_out)


def kaiser_lowpass(up: int, down: int) -> tuple[np.ndarray, int]:
    """The anti-aliasing filter of :func:`resample_poly` (SciPy's ``firwin`` design).

    Returns
    -------
    (h, half_len)
        ``h`` float64 ``(2 * half_len + 1,)``, cut-off ``1 / max(up, down)`` of the Nyquist
        frequency, Kaiser window (beta 5), scaled to a DC gain of ``up``.
    """
    max_rate = max(int(up), int(down))
    cutoff = 1.0 / max_rate
    half_len = 10 * max_rate
    m = np.arange(2 * half_len + 1) - half_len
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(2 * half_len + 1, KAISER_BETA)
    return h / h.sum() * up, half_len


@lru_cache(maxsize=16)
def _polyphase(up: int, down: int) -> tuple[np.ndarray, int]:
    """(up, taps) filter phases, each reversed so that a row of input samples in time order
    meets its taps: ``phases[r][taps - 1 - i] = h[r + i * up]``."""
    h, half_len = kaiser_lowpass(up, down)
    taps = -(-h.size // up)
    padded = np.zeros(taps * up)
    padded[: h.size] = h
    phases = np.ascontiguousarray(padded.reshape(taps, up).T[:, ::-1])
    phases.setflags(write=False)
    return phases, half_len


def resample_stream(pieces: Iterator[np.ndarray], rate_in: int, rate_out: int) -> Iterator[np.ndarray]:
    """Polyphase resampling of a stream of mono pieces, identical to a one-shot resample_poly
    (:class:`StreamResampler` pulled by a generator)."""
    resampler = StreamResampler(rate_in, rate_out)
    if resampler.up == resampler.down:
        try:
            yield from pieces
        finally:
            _close(pieces)
        return
    try:
        for piece in pieces:
            yield from resampler.push(piece)
    finally:
        _close(pieces)
    tail = resampler.flush()
    if len(tail):
        yield tail


class StreamResampler:
    """Push-style polyphase resampling, identical to a one-shot ``resample_poly``.

    Output sample ``n`` sits at input time ``n * down / up``. Segments start on multiples of
    ``down`` input samples, so each segment's output lies exactly on the global output grid;
    ``context`` extra input samples on both sides cover the filter's half-length, so the
    samples kept from each segment are the same as the one-shot result. ``segment_out`` (output
    samples per segment) trades per-call overhead against latency (a live stream wants small).
    """

    def __init__(self, rate_in: int, rate_out: int, *, segment_out: int = _SEGMENT_OUT) -> None:
        self.up, self.down = _ratio(rate_in, rate_out)
        half_len = 10 * max(self.up, self.down)  # resample_poly's filter half-length (upsampled)
        reach = half_len // self.up + 2  # ... in input samples, plus a margin
        self.context = -(-max(reach, 64) // self.down) * self.down
        # Input samples per segment: a multiple of down giving about segment_out output samples.
        self.seg = max(1, -(-int(segment_out) // self.up)) * self.down
        self.buf = np.zeros(0, np.float64)
        self.buf_start = 0  # global input index of buf[0]
        self.pos = 0  # next input index to produce output for (a multiple of down)

    def push(self, piece: np.ndarray) -> list[np.ndarray]:
        """Add mono input samples; return the output segments now complete (float32)."""
        up, down, seg, context = self.up, self.down, self.seg, self.context
        if up == down:
            return [np.asarray(piece, dtype=np.float32)]
        self.buf = np.concatenate([self.buf, np.asarray(piece, dtype=np.float64)])
        out = []
        while self.buf_start + len(self.buf) >= self.pos + seg + context:
            lo = max(0, self.pos - context)
            x = self.buf[lo - self.buf_start : self.pos + seg + context - self.buf_start]
            y = resample_poly(x, up, down)
            off = (self.pos - lo) * up // down
            out.append(y[off : off + seg * up // down].astype(np.float32))
            self.pos += seg
            cut = max(0, self.pos - context) - self.buf_start
            self.buf = self.buf[cut:]
            self.buf_start += cut
        return out

    def flush(self) -> np.ndarray:
        """The output for the input left at the end of the stream (float32, maybe empty)."""
        up, down = self.up, self.down
        total = self.buf_start + len(self.buf)
        if up == down or total <= self.pos:
            return np.zeros(0, np.float32)
        lo = max(0, self.pos - self.context)
        y = resample_poly(self.buf[lo - self.buf_start :], up, down)
        off = (self.pos - lo) * up // down
        n_out = -(-total * up // down) - self.pos * up // down
        self.buf, self.buf_start, self.pos = np.zeros(0, np.float64), total, total
        return y[off : off + n_out].astype(np.float32)


def _ratio(rate_in: int, rate_out: int) -> tuple[int, int]:
    """(up, down) of the polyphase resampler, both at most :data:`_MAX_POLYPHASE`."""
    g = gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    if max(up, down) <= _MAX_POLYPHASE:
        return up, down
    exact = Fraction(rate_out, rate_in)
    approx = exact.limit_denominator(max(1, int(_MAX_POLYPHASE / max(1.0, float(exact)))))
    return approx.numerator, approx.denominator


def _close(gen: object) -> None:
    """Close an inner generator now (not at garbage collection): it may own an ffmpeg process."""
    close = getattr(gen, "close", None)
    if close is not None:
        close()
