"""The rhythm's own frame stream: 16 kHz log-mel and chroma frames of a stream of audio blocks.

The rhythm analysis (:mod:`m2p.rhythm`) was built and measured on musicnn's log-mel frames (96
Slaney mel bands of 16 kHz audio, 512-sample frames every 256 samples = 16 ms,
``log10(10000 p + 1)`` of the float16-rounded mel power ``p``) and on the 16 kHz chroma of
:mod:`m2p.features.tonality` (4096-sample frames every 2048 samples = 128 ms). The shipped model
(v2.1) hears 22,050 Hz audio in 23 ms frames, so :class:`MelStream` computes those frames
itself, from the *same* decoded blocks the engine gets (resampled to 16 kHz by
:class:`m2p.audio.resample.StreamResampler`, seamlessly across blocks): the input is still
opened and decoded once, and the rhythm's numbers (``docs/results.md``) hold as measured.

Frame ``j`` of the mel stream covers 16 kHz samples ``256 j - 256 .. 256 j + 255`` (centred on
``256 j``, zeros before the start), as a centred STFT of the whole piece; at :meth:`finish` the
last frames are padded with zeros. Frames are kept until :meth:`forget_before`, so memory stays
bounded for any length when the reader forgets what it has read.

>>> import numpy as np
>>> stream = MelStream(sample_rate=22050)
>>> t = np.arange(22050 * 3) / 22050
>>> stream.push((0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))
>>> stream.finish()
>>> stream.n_mel_frames, stream.n_chroma_frames
(188, 22)
"""

from __future__ import annotations

import functools

import numpy as np

from m2p.features import tonality

__all__ = ["SAMPLE_RATE", "HOP", "FRAME_RATE", "N_MELS", "MelStream"]

#: Sample rate the frames are computed at, Hz (musicnn's).
SAMPLE_RATE = 16000
#: Samples between mel frames (16 ms).
HOP = 256
#: Mel frames per second.
FRAME_RATE = SAMPLE_RATE / HOP
#: Mel bands per frame.
N_MELS = 96
_N_FFT = 512
_CHROMA_HOP, _CHROMA_FFT = tonality.HOP, tonality.N_FFT
_FLOAT16_MAX = 65504.0


class MelStream:
    """16 kHz log-mel frames (``(frames, 96)``) and chroma frames (``(frames, 12)``) of a
    stream, each computed once as the blocks arrive.

    Parameters
    ----------
    sample_rate
        Rate of the blocks given to :meth:`push`, Hz (resampled inside to 16 kHz).
    segment_out
        Output samples per resampling segment (:class:`~m2p.audio.resample.StreamResampler`):
        small for a live stream (the frames lag the input by about one segment), large offline
        (less overhead). None: the resampler's default.
    """

    def __init__(self, sample_rate: int = SAMPLE_RATE, *, segment_out: int | None = None) -> None:
        from m2p.audio.resample import StreamResampler

        self.resampler = None
        if int(sample_rate) != SAMPLE_RATE:
            options = {} if segment_out is None else {"segment_out": int(segment_out)}
            self.resampler = StreamResampler(int(sample_rate), SAMPLE_RATE, **options)
        self._samples = np.zeros(0, dtype=np.float32)
        self._sample0 = 0  # absolute index (16 kHz) of _samples[0]
        self.n_samples = 0  # 16 kHz samples so far
        self.finished = False
        self._mel = np.zeros((0, N_MELS), dtype=np.float32)
        self._mel0 = 0
        self.n_mel_frames = 0
        self._chroma = np.zeros((0, 12), dtype=np.float32)
        self._chroma0 = 0
        self.n_chroma_frames = 0

    def push(self, block: np.ndarray) -> None:
        """Add mono float samples at ``sample_rate``."""
        if self.finished:
            raise RuntimeError("push after finish")
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        pieces = [block] if self.resampler is None else self.resampler.push(block)
        for piece in pieces:
            self._add(piece, final=False)

    def finish(self) -> None:
        """The end of the stream: the resampler's tail, then the last frames (zero-padded)."""
        if self.finished:
            return
        if self.resampler is not None:
            self._add(self.resampler.flush(), final=False)
        self.finished = True
        self._add(np.zeros(0, np.float32), final=True)

    def forget_before(self, sample: int) -> None:
        """Drop the frames before 16 kHz sample ``sample`` (and the samples no later frame
        needs)."""
        sample = max(0, int(sample))
        frame = min(sample // HOP, self.n_mel_frames)
        if frame > self._mel0:
            self._mel, self._mel0 = self._mel[frame - self._mel0:], frame
        chroma = min(sample // _CHROMA_HOP, self.n_chroma_frames)
        if chroma > self._chroma0:
            self._chroma, self._chroma0 = self._chroma[chroma - self._chroma0:], chroma

    def mel_frames(self, first: int, count: int) -> np.ndarray:
        """Log-mel frames ``first .. first + count - 1`` ``(count, 96)`` of those computed."""
        lo = first - self._mel0
        if lo < 0:
            raise IndexError(f"mel frame {first} was forgotten")
        return np.array(self._mel[lo:lo + count], dtype=np.float32)

    def chroma_frames(self, first: int, count: int) -> np.ndarray:
        """Chroma frames ``first .. first + count - 1`` ``(count, 12)``; frame ``i`` covers
        samples ``2048 i .. 2048 i + 4095``."""
        lo = first - self._chroma0
        if lo < 0:
            raise IndexError(f"chroma frame {first} was forgotten")
        return np.array(self._chroma[lo:lo + count], dtype=np.float32)

    # ------------------------------------------------------------------ internals

    def _add(self, piece: np.ndarray, *, final: bool) -> None:
        if len(piece):
            self._samples = np.concatenate([self._samples, piece.astype(np.float32)])
            self.n_samples += len(piece)
        self._update_mel(final)
        self._update_chroma(final)
        # Keep only what the next mel frame and the next chroma frame need.
        keep = min(self.n_mel_frames * HOP - HOP, self.n_chroma_frames * _CHROMA_HOP)
        drop = max(0, keep - self._sample0)
        if drop:
            self._samples, self._sample0 = self._samples[drop:], self._sample0 + drop

    def _update_mel(self, final: bool) -> None:
        n = self.n_samples
        total = 1 + n // HOP if final else max(0, (n - HOP) // HOP + 1)
        count = total - self.n_mel_frames
        if count <= 0:
            return
        j0 = self.n_mel_frames
        x = self._window_samples(j0 * HOP - HOP, (j0 + count - 1) * HOP + HOP)
        frames = np.lib.stride_tricks.sliding_window_view(x, _N_FFT)[::HOP]
        # float32 throughout, as musicnn's torch front end (and half the work of float64).
        spectrum = np.fft.rfft(frames * _hann(), axis=1)
        # Samples far beyond full scale overflow float32 here; they saturate at the float16
        # ceiling below, as clipped audio would (inf and NaN are not warned about, but capped).
        with np.errstate(over="ignore", invalid="ignore"):
            power = np.square(spectrum.real, dtype=np.float32) + np.square(spectrum.imag,
                                                                           dtype=np.float32)
            mel = np.nan_to_num(power @ _mel_basis(), nan=_FLOAT16_MAX, posinf=_FLOAT16_MAX)
        mel = np.minimum(mel, _FLOAT16_MAX).astype(np.float16).astype(np.float32)
        self._mel = np.concatenate([self._mel, np.log10(10000.0 * mel + 1.0)])
        self.n_mel_frames = total

    def _update_chroma(self, final: bool) -> None:
        n = self.n_samples
        count = (n - _CHROMA_FFT) // _CHROMA_HOP + 1 if n >= _CHROMA_FFT else 0
        if final and count == 0 and n > 0:
            count = 1  # a stream shorter than one chroma frame: one zero-padded frame
        if count <= self.n_chroma_frames:
            return
        lo = self.n_chroma_frames * _CHROMA_HOP
        x = self._window_samples(lo, (count - 1) * _CHROMA_HOP + _CHROMA_FFT)
        new = tonality.chroma_frames(x)[: count - self.n_chroma_frames].astype(np.float32)
        self._chroma = np.concatenate([self._chroma, new])
        self.n_chroma_frames = count

    def _window_samples(self, lo: int, hi: int) -> np.ndarray:
        """Samples ``[lo, hi)`` of the stream, zeros outside it (before 0, after the end)."""
        out = np.zeros(hi - lo, dtype=np.float32)
        a, b = max(lo, self._sample0), min(hi, self._sample0 + len(self._samples))
        if b > a:
            out[a - lo:b - lo] = self._samples[a - self._sample0:b - self._sample0]
        return out


@functools.lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    """Periodic Hann window of one mel frame (as ``torch.hann_window(512)``)."""
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(_N_FFT) / _N_FFT)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _mel_basis() -> np.ndarray:
    """(257, 96) Slaney mel filters of 16 kHz, 512-point frames, transposed."""
    from m2p.features.frames import mel_filters

    return np.ascontiguousarray(mel_filters(sr=SAMPLE_RATE, n_fft=_N_FFT, n_mels=N_MELS).T,
                                dtype=np.float32)
