"""Music-keyed pairing (model v2, round 3): among emotion-matched palettes, the ones whose hues
follow the music's cues.

The emotion pairing (``training.corpus.pairing``) leaves near ties: dozens of corpus palettes fit
a window's emotion equally well, and their hues are unrelated to the music. A network trained on
such targets learns one template (v1) or one per palette family (run 12). Here each window gets a
**key hue** from its music cues, and its candidates are the emotion-matched palettes (the
``POOL`` best by emotion similarity) with the most colour near that hue, so similar music gets
similar targets and different music different ones: a function of the audio a network can learn.

The key hue follows the music-colour directions of ``docs/science.md``: fast, major pieces
toward yellower colours than slow, minor ones (Palmer et al. 2013), sad toward dark blue and
anger toward red (Lindborg & Friberg 2015), loud, distorted music toward redder colours
(Whiteford et al. 2018); high register reads as happier and bright timbre as more aroused
(Gabrielsson & Lindstrom 2010). So major mode, higher register and brighter timbre turn the key
toward yellow (90 degrees), their opposites toward blue (270); more onsets and louder toward red
(0), fewer and softer toward cyan-green (180, our choice for the remaining quadrant)::

    s_light = z(mode_major) + z(register_midi) + z(brightness_hz)
    s_energy = z(onset_rate) + z(loudness_db)
    key = (90 - atan2(s_energy, s_light)) mod 360      (degrees)

with ``z`` the z-score over all windows of the corpus. The hue mass of a palette at the key is
``sum_i min(C_i / 40, 1) exp(3 (cos(h_i - key) - 1)) / n`` (the kernel of
``training.families.palette_descriptor``).
"""

from __future__ import annotations

import numpy as np

__all__ = ["POOL", "key_hues", "hue_mass", "choose"]

#: Emotion-matched palettes considered per window.
POOL = 40
_CUES_LIGHT = ("mode_major", "register_midi", "brightness_hz")
_CUES_ENERGY = ("onset_rate", "loudness_db")


def key_hues(cues: list[dict]) -> np.ndarray:
    """Key hue (N,) in degrees of each window, from its cue dict (see the module docstring)."""
    def z(name: str) -> np.ndarray:
        x = np.array([float(c[name]) for c in cues])
        return (x - x.mean()) / (x.std() + 1e-9)

    light = sum(z(n) for n in _CUES_LIGHT)
    energy = sum(z(n) for n in _CUES_ENERGY)
    return (90.0 - np.degrees(np.arctan2(energy, light))) % 360.0


def hue_mass(lch: np.ndarray, key: float) -> float:
    """Chroma-weighted share of a palette's colours near hue ``key`` (degrees), in [0, 1]."""
    lch = np.asarray(lch, dtype=np.float64)
    weight = np.clip(lch[:, 1] / 40.0, 0.0, 1.0)
    kernel = np.exp(3.0 * (np.cos(np.deg2rad(lch[:, 2] - key)) - 1.0))
    return float((weight * kernel).sum() / len(lch))


def choose(similarity: np.ndarray, palettes_lch: list[np.ndarray], key: float, k: int) -> np.ndarray:
    """Indices of ``k`` candidates: the ``POOL`` most emotion-similar palettes, reordered by hue
    mass at ``key`` (ties by similarity)."""
    pool = np.argsort(-similarity, kind="stable")[:POOL]
    mass = np.array([hue_mass(palettes_lch[i], key) for i in pool])
    order = np.lexsort((-similarity[pool], -mass))
    return pool[order[:k]]
