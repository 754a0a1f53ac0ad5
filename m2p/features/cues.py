"""Window-level music cues computed from the 539 feature frames: mode, register, loudness, pitch.

Mode and tempo are the strongest musical cues to perceived emotion (Eerola, Friberg & Bresin
2013), but a mode decision needs the whole window's pitch-class distribution compared with key
profiles, which a small network trained on a few thousand windows does not learn reliably from
frame patches. These cues are fixed, parameter-free functions of the feature frames the network
already receives (``m2p.features.frames``), so the network gets them without another pass over the
audio. :data:`CUE_NAMES` lists them in output order:

=================  =========================================================================
``mode``           Krumhansl-Kessler key-profile correlation of the RMS-weighted mean chroma:
                   best major key minus best minor key (positive = major; about -0.5..0.5).
``register``       magnitude-weighted mean MIDI pitch of the mel bands between 55 and 2000 Hz.
``loudness``       mean-square level of the window, dBFS (RMS block).
``pitch``          mean MIDI note of the voiced frames (pitch block; 0 when none is voiced).
``voiced``         fraction of voiced frames (0..1).
=================  =========================================================================

The training corpus (``training/corpus/cues.py``) computes its labelling cues from the STFT
with the same definitions, so these track them closely (correlation above 0.95 on the corpus).

References
----------
Krumhansl, C. L. (1990). *Cognitive Foundations of Musical Pitch*, Oxford University Press
(the major and minor key profiles, probe-tone ratings of Krumhansl & Kessler 1982).
Eerola, T., Friberg, A., & Bresin, R. (2013). Emotional expression in music: contribution,
linearity, and additivity of primary musical cues. *Frontiers in Psychology*, 4, 487.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import Tensor

from m2p.features import frames as feature_blocks

__all__ = [
    "CUE_NAMES",
    "KRUMHANSL_KESSLER_MAJOR",
    "KRUMHANSL_KESSLER_MINOR",
    "window_cues",
    "mode_score",
]

#: Names of the columns returned by :func:`window_cues`.
CUE_NAMES: tuple[str, ...] = ("mode", "register", "loudness", "pitch", "voiced")

#: Probe-tone ratings of the major key, tonic first (Krumhansl 1990, table 2.1).
KRUMHANSL_KESSLER_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
#: Probe-tone ratings of the minor key, tonic first.
KRUMHANSL_KESSLER_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)

#: Mel bands inside this range (Hz) count towards the register.
REGISTER_BAND_HZ = (55.0, 2000.0)


def window_cues(features: Tensor, frame_mask: Tensor | None = None) -> Tensor:
    """Cues of each window from its raw feature frames.

    Parameters
    ----------
    features
        (B, T, 539) raw features from ``m2p.features.frames.extract_features``.
    frame_mask
        (B, T) bool, True for frames holding audio; None when all do.

    Returns
    -------
    Tensor
        (B, 5) float32 in :data:`CUE_NAMES` order (units: correlation difference, MIDI note,
        dBFS, MIDI note, fraction).
    """
    x = features.to(torch.float32)
    if frame_mask is None:
        valid = torch.ones(x.shape[:2], dtype=torch.float32, device=x.device)
    else:
        valid = frame_mask.to(device=x.device, dtype=torch.float32)
    n_valid = valid.sum(dim=1).clamp_min(1.0)
    blocks = feature_blocks.FEATURE_BLOCKS

    rms = x[..., blocks["rms"]].squeeze(-1) * valid
    weight = rms / rms.sum(dim=1, keepdim=True).clamp_min(1e-12)
    chroma_mean = (x[..., blocks["chroma"]] * weight.unsqueeze(-1)).sum(dim=1)

    mel_db = x[..., blocks["mel"]]
    mel_magnitude = torch.pow(10.0, mel_db / 20.0) * valid.unsqueeze(-1)
    band_midi, in_band = _register_bands(x.device)
    band_energy = mel_magnitude[..., in_band].sum(dim=1)
    register = (band_energy * band_midi).sum(dim=1) / band_energy.sum(dim=1).clamp_min(1e-9)

    loudness = 10.0 * torch.log10((rms ** 2).sum(dim=1) / n_valid + 1e-12)

    pitch = x[..., blocks["pitch"]].squeeze(-1) * valid
    voiced = (pitch > 0).to(torch.float32)
    n_voiced = voiced.sum(dim=1)
    mean_pitch = (pitch * voiced).sum(dim=1) / n_voiced.clamp_min(1.0)

    return torch.stack(
        [mode_score(chroma_mean), register, loudness, mean_pitch, n_voiced / n_valid], dim=-1
    )


def mode_score(chroma_mean: Tensor) -> Tensor:
    """Best major-key minus best minor-key correlation of pitch-class profiles.

    Parameters
    ----------
    chroma_mean
        (..., 12) pitch-class energies, C first.

    Returns
    -------
    Tensor
        (...) Pearson correlation with the best of the 12 major Krumhansl-Kessler profiles minus
        that with the best of the 12 minor ones; 0 for a flat (or silent) profile.
    """
    major, minor = _key_profiles(chroma_mean.device, chroma_mean.dtype)
    centred = chroma_mean - chroma_mean.mean(dim=-1, keepdim=True)
    norm = torch.linalg.vector_norm(centred, dim=-1, keepdim=True)
    unit = centred / norm.clamp_min(1e-9)
    score = (unit @ major.T).amax(dim=-1) - (unit @ minor.T).amax(dim=-1)
    return torch.where(norm.squeeze(-1) > 1e-9, score, torch.zeros_like(score))


@functools.lru_cache(maxsize=None)
def _key_profiles(device: torch.device, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    """The 12 rotations of each profile, centred and unit-norm: two (12, 12) tensors.

    Cached per device and dtype: the network's summary branch asks for them on every batch.
    """

    def rotations(profile: tuple[float, ...]) -> Tensor:
        rows = np.stack([np.roll(np.asarray(profile), k) for k in range(12)])
        rows = rows - rows.mean(axis=1, keepdims=True)
        rows = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        # Outside inference mode, like m2p.features.frames' cached extractor: a cached inference
        # tensor could not take part in autograd later (training).
        with torch.inference_mode(False):
            return torch.as_tensor(rows, dtype=dtype, device=device)

    return rotations(KRUMHANSL_KESSLER_MAJOR), rotations(KRUMHANSL_KESSLER_MINOR)


@functools.lru_cache(maxsize=None)
def _register_bands(device: torch.device) -> tuple[Tensor, Tensor]:
    """MIDI pitch of each mel band centre inside :data:`REGISTER_BAND_HZ`, and the band mask.

    Cached per device, like :func:`_key_profiles`.
    """
    edges = feature_blocks.mel_to_hz(
        np.linspace(
            feature_blocks.hz_to_mel(np.array(0.0)),
            feature_blocks.hz_to_mel(np.array(feature_blocks.SAMPLE_RATE / 2.0)),
            feature_blocks.N_MELS + 2,
        )
    )
    centres = edges[1:-1]
    low, high = REGISTER_BAND_HZ
    in_band = (centres >= low) & (centres <= high)
    midi = 69.0 + 12.0 * np.log2(centres[in_band] / 440.0)
    with torch.inference_mode(False):  # see _key_profiles
        return (
            torch.as_tensor(midi, dtype=torch.float32, device=device),
            torch.as_tensor(in_band, device=device),
        )
