"""What the rhythm analysis keeps of a stream: compact rows per mel frame, taken from the
rhythm's own 16 kHz :class:`~m2p.rhythm.mel_stream.MelStream` as they are computed.

The stream's frames are dropped as soon as they are read (bounded memory), while beats
and sections are found over the whole piece; so :class:`RhythmFrames` copies out, once per
frame, only what the analysis reads:

* the raw sub-band flux (:func:`m2p.rhythm.envelope.band_flux`, 4 values);
* the level of each sub-band (its mean log-mel, 4 values), which the drop finder follows;
* a timbre row: the first :data:`N_TIMBRE` coefficients of the DCT of the log-mel frame (the
  mel-cepstrum: overall level, spectral slope, formants), which the section finder compares;
* the chroma frames (12 values every 128 ms).

That is 28 float32 per 16 ms frame plus 12 per 128 ms: about 7 kB per second of audio,
26 MB for an hour, against 24 kB per second for the mel frames themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from m2p.rhythm.envelope import SUB_BANDS, band_flux

if TYPE_CHECKING:
    from m2p.rhythm.mel_stream import MelStream

__all__ = ["N_TIMBRE", "RhythmFrames", "dct_basis"]

#: Mel-cepstral coefficients kept per frame (coefficient 0 is the overall level).
N_TIMBRE = 20
_N_MELS = 96


class RhythmFrames:
    """Rows of a stream's mel and chroma frames kept for the rhythm analysis (see the module
    docstring). Feed it with :meth:`update` after each push to the :class:`~m2p.rhythm.mel_stream.MelStream`."""

    def __init__(self) -> None:
        self.n_frames = 0  # mel frames taken so far
        self.n_chroma = 0
        self._flux: list[np.ndarray] = []
        self._timbre: list[np.ndarray] = []
        self._levels: list[np.ndarray] = []
        self._chroma: list[np.ndarray] = []
        self._last: np.ndarray | None = None  # the last mel frame taken (the next flux needs it)
        self._basis = dct_basis(_N_MELS, N_TIMBRE)

    def update(self, frames: "MelStream") -> None:
        """Take the mel and chroma frames ``frames`` computed since the last call (call it
        before the frames are forgotten: right after each ``push`` or ``finish``)."""
        count = frames.n_mel_frames - self.n_frames
        if count > 0:
            self.push_mel(frames.mel_frames(self.n_frames, count))
        chroma = frames.n_chroma_frames - self.n_chroma
        if chroma > 0:
            self.push_chroma(frames.chroma_frames(self.n_chroma, chroma))

    def push_mel(self, mel: np.ndarray) -> None:
        """Take (frames, 96) log-mel frames, in stream order."""
        mel = np.asarray(mel, dtype=np.float32)
        if not len(mel):
            return
        self._flux.append(band_flux(mel, self._last).astype(np.float32))
        self._timbre.append((mel.astype(np.float64) @ self._basis).astype(np.float32))
        self._levels.append(np.stack([mel[:, lo:hi].mean(axis=1) for lo, hi in SUB_BANDS], axis=1))
        self._last = mel[-1].copy()
        self.n_frames += len(mel)

    def push_chroma(self, chroma: np.ndarray) -> None:
        """Take (frames, 12) chroma frames, in stream order."""
        chroma = np.asarray(chroma, dtype=np.float32)
        if len(chroma):
            self._chroma.append(chroma)
            self.n_chroma += len(chroma)

    def flux(self) -> np.ndarray:
        """(frames, 4) raw sub-band flux."""
        return _joined(self._flux, len(SUB_BANDS))

    def timbre(self) -> np.ndarray:
        """(frames, N_TIMBRE) mel-cepstral rows."""
        return _joined(self._timbre, N_TIMBRE)

    def levels(self) -> np.ndarray:
        """(frames, 4) mean log-mel of each sub-band (``log10(10000 p + 1)`` units)."""
        return _joined(self._levels, len(SUB_BANDS))

    def chroma(self) -> np.ndarray:
        """(chroma frames, 12) chroma rows (one every 128 ms)."""
        return _joined(self._chroma, 12)


def dct_basis(n_in: int, n_out: int) -> np.ndarray:
    """(n_in, n_out) orthonormal DCT-II basis: ``x @ basis`` is the first ``n_out``
    coefficients of the DCT of rows ``x``."""
    k = np.arange(n_out)[None, :]
    i = np.arange(n_in)[:, None]
    basis = np.cos(np.pi / n_in * (i + 0.5) * k) * np.sqrt(2.0 / n_in)
    basis[:, 0] /= np.sqrt(2.0)
    return basis


def _joined(parts: list[np.ndarray], width: int) -> np.ndarray:
    """The parts stacked (and kept as one array, so the next call is free)."""
    if not parts:
        return np.zeros((0, width), dtype=np.float32)
    if len(parts) > 1:
        parts[:] = [np.concatenate(parts)]
    return parts[0]
