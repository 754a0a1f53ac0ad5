"""Tonality: pitch-class profiles (chroma) of audio and their mode, major or minor (NumPy only).

Mode is the strongest musical cue to valence (Gabrielsson & Lindström 2010; Eerola, Friberg &
Bresin 2013, who rank cue importance mode > tempo > register > dynamics), and a pretrained
tagger does not name it. The chroma here is a plain STFT chroma: 16 kHz audio in 4096-sample
frames (256 ms, 3.9 Hz per bin) with a 2048-sample hop, the magnitude of every bin between
55 Hz and 2 kHz summed into the pitch class of its nearest equal-tempered semitone (A4 = 440
Hz). A window's profile is the mean of its frames weighted by their energy; its mode score is
the Pearson correlation with the best of the 12 major Krumhansl-Kessler key profiles minus that
with the best of the 12 minor ones (positive: major).

>>> import numpy as np
>>> t = np.arange(16000 * 4) / 16000
>>> c_major = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.00))   # C E G
>>> c_minor = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 311.13, 392.00))   # C Eb G
>>> bool(mode_score(chroma_profile(c_major)) > 0 > mode_score(chroma_profile(c_minor)))
True

References
----------
Krumhansl, C. L. (1990). Cognitive Foundations of Musical Pitch. Oxford University Press (the
probe-tone key profiles of Krumhansl & Kessler 1982, table 2.1).
Gabrielsson, A. and Lindström, E. (2010). The role of structure in the musical expression of
emotions. In Juslin & Sloboda (eds.), Handbook of Music and Emotion, 367-400.
Eerola, T., Friberg, A. and Bresin, R. (2013). Emotional expression in music: contribution,
linearity, and additivity of primary musical cues. Frontiers in Psychology 4, 487.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = [
    "SAMPLE_RATE",
    "N_FFT",
    "HOP",
    "KRUMHANSL_KESSLER_MAJOR",
    "KRUMHANSL_KESSLER_MINOR",
    "chroma_frames",
    "chroma_profile",
    "mode_score",
]

#: Sample rate the chroma expects, Hz.
SAMPLE_RATE = 16000
#: Frame length and hop, samples.
N_FFT, HOP = 4096, 2048
#: Frequencies (Hz) whose bins count toward the chroma.
BAND_HZ = (55.0, 2000.0)

#: Probe-tone ratings of the major key, tonic first (Krumhansl 1990, table 2.1).
KRUMHANSL_KESSLER_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
#: Probe-tone ratings of the minor key, tonic first.
KRUMHANSL_KESSLER_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


def chroma_frames(samples: np.ndarray) -> np.ndarray:
    """Pitch-class magnitudes per frame.

    Parameters
    ----------
    samples
        (n,) mono audio at 16 kHz.

    Returns
    -------
    numpy.ndarray
        (frames, 12) float32, C first; frame ``i`` covers samples ``[2048 i, 2048 i + 4096)``
        (a clip shorter than one frame is zero-padded to one frame).
    """
    x = np.asarray(samples, dtype=np.float32)
    if len(x) < N_FFT:
        x = np.pad(x, (0, N_FFT - len(x)))
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[::HOP]
    magnitude = np.abs(np.fft.rfft(frames * _window(), axis=1))
    return magnitude @ _pitch_class_matrix()


def chroma_profile(samples: np.ndarray) -> np.ndarray:
    """(12,) energy-weighted mean chroma of ``samples`` (16 kHz mono); zeros for silence."""
    frames = chroma_frames(samples).astype(np.float64)
    energy = (frames ** 2).sum(axis=1)
    if energy.sum() <= 0:
        return np.zeros(12)
    return (frames * energy[:, None]).sum(axis=0) / energy.sum()


def mode_score(profile: np.ndarray) -> float:
    """Best major-key minus best minor-key correlation of a (12,) pitch-class profile.

    About -0.5 to 0.5; positive for major; 0 for a flat or silent profile.
    """
    p = np.asarray(profile, dtype=np.float64)
    centred = p - p.mean()
    norm = np.linalg.norm(centred)
    if norm <= 1e-12:
        return 0.0
    major, minor = _key_profiles()
    unit = centred / norm
    return float((major @ unit).max() - (minor @ unit).max())


@functools.lru_cache(maxsize=1)
def _window() -> np.ndarray:
    return np.hanning(N_FFT + 1)[:-1].astype(np.float32)


@functools.lru_cache(maxsize=1)
def _pitch_class_matrix() -> np.ndarray:
    """(N_FFT // 2 + 1, 12) 0/1 matrix: bin -> pitch class of its nearest semitone."""
    freqs = np.arange(N_FFT // 2 + 1) * SAMPLE_RATE / N_FFT
    out = np.zeros((len(freqs), 12), dtype=np.float32)
    band = (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])
    midi = np.round(69.0 + 12.0 * np.log2(freqs[band] / 440.0)).astype(int)
    out[np.flatnonzero(band), midi % 12] = 1.0
    return out


@functools.lru_cache(maxsize=1)
def _key_profiles() -> tuple[np.ndarray, np.ndarray]:
    """The 12 rotations of each profile, centred and unit-norm: two (12, 12) arrays."""
    def rotations(profile: tuple[float, ...]) -> np.ndarray:
        rows = np.stack([np.roll(np.asarray(profile), k) for k in range(12)])
        rows = rows - rows.mean(axis=1, keepdims=True)
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)

    return rotations(KRUMHANSL_KESSLER_MAJOR), rotations(KRUMHANSL_KESSLER_MINOR)
