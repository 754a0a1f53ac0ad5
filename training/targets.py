"""Training targets of model v3: palettes as a continuous function of the music (issue 23).

The corpus pairs each 10 s window with palettes that fit its music. Model v2 took the five
palettes of the library whose emotion was most similar: a discrete choice among near-ties, so
similar music got one of a dozen templates ("twins") and a small change of the input could flip
the choice. Here the choice of the library palette only supplies the *structure* of the target
(how many colours, how they relate); everything a listener compares between songs is set by
continuous functions of the music:

1. **Target colour emotion.** The music's valence and arousal (teacher labels, [-1, 1]) are
   mapped linearly onto the raw colour-emotion scale of :mod:`m2p.colour.emotion` (z-units of
   the sRGB gamut), spanning the library's own range (:class:`Calibration`).
2. **Target hue.** A direction in the a*b* plane (:func:`hue_directions`): the music's *timbre
   key* (the angle of its instrument/genre tag profile, turned by the alternative's offset
   ``phi``), plus valence toward yellow (b* > 0) or blue (fading as arousal rises), plus anger
   (negative valence, high arousal) toward red, the music-colour directions of Palmer et al. (2013), Lindborg &
   Friberg (2015) and Whiteford et al. (2018).
3. **Base palette.** The library palette nearest to the target in colour emotion and dominant
   hue (:func:`choose_base`).
4. **Refinement** (:func:`refine`): all hues turned so that the palette's dominant hue is the
   target hue (a rigid turn keeps the palette's internal relations); lightness moved in logit
   space until the palette's valence is the target; chroma scaled until its arousal is the
   target (within the sRGB gamut, :class:`GamutTable`).

So nearby music gets nearby targets, and two songs differ as much as their emotion and timbre
differ. ``phi`` (degrees) is the seed's alternative: 0 is the default palette.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "ALTERNATIVE_OFFSETS",
    "Calibration",
    "GamutTable",
    "TargetSettings",
    "colour_emotion_raw",
    "dominant_hues",
    "hue_directions",
    "choose_base",
    "refine",
    "build_targets",
]

#: Alternative offsets of the hue key used in training, degrees (the seed picks one at run time).
ALTERNATIVE_OFFSETS = tuple(float(k * 30) for k in range(12))

# Reference statistics of the sRGB gamut (m2p.colour.emotion), repeated here so that this
# module is NumPy only; tests check they equal the runtime module's.
_L_MEAN, _L_STD = 57.72, 20.66
_C_MEAN, _C_STD = 58.68, 27.03
_HEAT_MEAN, _HEAT_STD = -0.2951, 0.8008
_YELLOW_MEAN, _YELLOW_STD = 3.793, 45.96


@dataclass(frozen=True)
class TargetSettings:
    """Constants of the target construction (engineering choices, documented in
    ``docs/science.md``).

    Attributes
    ----------
    valence_push, anger_push
        Weights of the valence (toward yellow 90 deg / blue 270 deg) and anger (toward red,
        ``red_hue``) terms of the hue direction, against a timbre key of unit strength.
    red_hue
        Hue of anger's red, degrees (CIELCh).
    hue_weight
        Weight of the dominant-hue term against the colour-emotion term in :func:`choose_base`.
    candidates
        Library palettes scored per window in :func:`choose_base` (nearest in emotion first).
    """

    valence_push: float = 0.8
    anger_push: float = 0.6
    red_hue: float = 35.0
    hue_weight: float = 1.0
    candidates: int = 60


# ----------------------------------------------------------------------------------------------
# Colour emotion (NumPy twin of m2p.colour.emotion.colour_valence_arousal_raw)
# ----------------------------------------------------------------------------------------------


def colour_emotion_raw(lch: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Raw (valence, arousal) of palettes: the mean over colours of the colour-emotion model.

    Parameters
    ----------
    lch
        (..., n, 3) CIELCh colours.
    mask
        (..., n) bool, True for real colours; None for all.

    Returns
    -------
    numpy.ndarray
        (..., 2) valence ``0.69 zL + 0.30 zY`` and arousal ``0.60 zC + 0.20 zH``, averaged
        over the palette (before the runtime model's tanh).
    """
    L, C, h = np.moveaxis(np.asarray(lch, dtype=np.float64), -1, 0)
    C = np.maximum(C, 0.0)
    rad = np.deg2rad(h)
    zL = (L - _L_MEAN) / _L_STD
    zC = (C - _C_MEAN) / _C_STD
    heat = -0.5 + 0.02 * C ** 1.07 * np.cos(rad - np.deg2rad(50.0))
    zH = (heat - _HEAT_MEAN) / _HEAT_STD
    zY = (C * np.sin(rad) - _YELLOW_MEAN) / _YELLOW_STD
    raw = np.stack([0.69 * zL + 0.30 * zY, 0.60 * zC + 0.20 * zH], axis=-1)
    if mask is None:
        return raw.mean(axis=-2)
    m = np.asarray(mask, dtype=np.float64)[..., None]
    return (raw * m).sum(axis=-2) / np.maximum(m.sum(axis=-2), 1.0)


# ----------------------------------------------------------------------------------------------
# Calibration and hue
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """Linear map from music valence-arousal in [-1, 1] to raw palette colour emotion.

    ``raw = centre + half_range * va``: music at +-1 reaches the library's 2nd / 98th
    percentile of raw colour emotion, the neutral point its median.
    """

    centre: tuple[float, float]
    half_range: tuple[float, float]

    @classmethod
    def from_library(cls, raw_va: np.ndarray) -> "Calibration":
        """From the raw colour emotion (P, 2) of the library palettes."""
        lo, mid, hi = np.percentile(np.asarray(raw_va, dtype=np.float64), [2.0, 50.0, 98.0], axis=0)
        return cls(tuple(float(x) for x in mid), tuple(float(x) for x in (hi - lo) / 2.0))

    def raw(self, va: np.ndarray) -> np.ndarray:
        """(..., 2) music valence-arousal -> (..., 2) raw colour emotion."""
        va = np.clip(np.asarray(va, dtype=np.float64), -1.0, 1.0)
        return np.asarray(self.centre) + np.asarray(self.half_range) * va


def dominant_hues(lch: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chroma-weighted mean hue direction of palettes.

    Parameters
    ----------
    lch, mask
        (P, n, 3) padded palettes and their (P, n) masks.

    Returns
    -------
    hue, strength
        (P,) degrees, and (P,) the length of the mean direction in [0, 1] (0 for greys or
        balanced complementary palettes, whose hue is then arbitrary).
    """
    C = np.clip(lch[..., 1] / 40.0, 0.0, 1.0) * mask
    rad = np.deg2rad(lch[..., 2])
    a, b = (C * np.cos(rad)).sum(-1), (C * np.sin(rad)).sum(-1)
    n = np.maximum(mask.sum(-1), 1)
    return np.rad2deg(np.arctan2(b, a)) % 360.0, np.hypot(a, b) / n


def hue_directions(va: np.ndarray, timbre_key: np.ndarray, phi: np.ndarray | float,
                   settings: TargetSettings = TargetSettings()) -> np.ndarray:
    """Target hue (degrees) of each window: timbre key turned by ``phi``, plus valence and anger.

    Parameters
    ----------
    va
        (N, 2) music valence-arousal in [-1, 1].
    timbre_key
        (N, 2) the music's timbre key (whitened principal components of its tag profile);
        its angle is a hue, its length (capped at 1) the weight of that hue.
    phi
        Alternative offset(s), degrees: scalar or (N,).

    Returns
    -------
    numpy.ndarray
        (N,) hue in [0, 360).
    """
    va = np.asarray(va, dtype=np.float64)
    key = np.asarray(timbre_key, dtype=np.float64)
    strength = np.minimum(np.hypot(key[:, 0], key[:, 1]), 1.0)
    angle = np.arctan2(key[:, 1], key[:, 0]) + np.deg2rad(phi)
    x = strength * np.cos(angle)
    y = strength * np.sin(angle)
    v, a = va[:, 0], va[:, 1]
    # +v toward yellow (b* > 0, 90 deg), -v toward blue; sad music is blue, angry music red
    # (Lindborg & Friberg 2015), so the blue fades as arousal rises and anger's red takes over.
    blue_fade = np.where(v < 0, 1.0 - np.maximum(a, 0.0), 1.0)
    y = y + settings.valence_push * v * blue_fade
    anger = settings.anger_push * np.maximum(-v, 0.0) * np.maximum(a, 0.0)
    red = np.deg2rad(settings.red_hue)
    x, y = x + anger * np.cos(red), y + anger * np.sin(red)
    return np.rad2deg(np.arctan2(y, x)) % 360.0


# ----------------------------------------------------------------------------------------------
# Base palette and refinement
# ----------------------------------------------------------------------------------------------


def choose_base(target_raw: np.ndarray, target_hue: np.ndarray, library_raw: np.ndarray,
                library_hue: np.ndarray, library_strength: np.ndarray, scale: np.ndarray,
                settings: TargetSettings = TargetSettings()) -> np.ndarray:
    """Index of the library palette nearest to each target.

    Distance: squared difference of raw colour emotion in units of ``scale`` (2,), plus
    ``hue_weight * strength * (1 - cos(hue difference))`` (a grey palette is not penalised for
    its arbitrary hue). Only the ``candidates`` nearest in emotion are scored on hue.

    Returns
    -------
    numpy.ndarray
        (N,) int indices into the library.
    """
    out = np.empty(len(target_raw), dtype=np.int64)
    k = min(settings.candidates, len(library_raw))
    for start in range(0, len(target_raw), 1024):
        t = target_raw[start:start + 1024]
        d_emotion = (((t[:, None, :] - library_raw[None]) / scale) ** 2).sum(-1)
        near = np.argpartition(d_emotion, k - 1, axis=1)[:, :k]
        d_hue = library_strength[near] * (1.0 - np.cos(np.deg2rad(
            library_hue[near] - target_hue[start:start + 1024, None])))
        total = np.take_along_axis(d_emotion, near, 1) + settings.hue_weight * d_hue
        out[start:start + 1024] = near[np.arange(len(t)), total.argmin(1)]
    return out


class GamutTable:
    """Largest chroma inside sRGB at each (L*, h): a lookup table for fast gamut mapping.

    Built once from :func:`m2p.colour.gamut.gamut_map_lch` on a grid (L* step 0.5, h step 1
    degree); queried by bilinear interpolation (the boundary is smooth between grid points
    except at the primaries' cusps, where the table errs by under 1 C* unit).
    """

    def __init__(self) -> None:
        from m2p.colour.gamut import gamut_map_lch

        self.L = np.linspace(0.0, 100.0, 201)
        self.h = np.arange(0.0, 361.0, 1.0)
        grid = np.stack(np.meshgrid(self.L, self.h, indexing="ij"), -1)
        lch = np.concatenate([grid[..., :1], np.full(grid.shape[:-1] + (1,), 200.0), grid[..., 1:]], -1)
        mapped = gamut_map_lch(lch.reshape(-1, 3))
        self.cmax = mapped[:, 1].reshape(len(self.L), len(self.h))

    def max_chroma(self, L: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Largest in-gamut chroma (same shape as ``L``) at lightness ``L`` and hue ``h``."""
        li = np.clip(np.asarray(L, dtype=np.float64), 0.0, 100.0) * 2.0
        hi = np.asarray(h, dtype=np.float64) % 360.0
        l0 = np.minimum(np.floor(li).astype(int), len(self.L) - 2)
        h0 = np.minimum(np.floor(hi).astype(int), len(self.h) - 2)
        fl, fh = li - l0, hi - h0
        c = self.cmax
        return ((1 - fl) * (1 - fh) * c[l0, h0] + fl * (1 - fh) * c[l0 + 1, h0]
                + (1 - fl) * fh * c[l0, h0 + 1] + fl * fh * c[l0 + 1, h0 + 1])

    def clip(self, lch: np.ndarray) -> np.ndarray:
        """Chroma reduced to the gamut at constant L* and h (as ``gamut_map_lch``)."""
        out = np.array(lch, dtype=np.float64)
        out[..., 0] = np.clip(out[..., 0], 0.0, 100.0)
        out[..., 1] = np.clip(out[..., 1], 0.0, self.max_chroma(out[..., 0], out[..., 2]))
        return out


def refine(lch: np.ndarray, mask: np.ndarray, target_raw: np.ndarray, target_hue: np.ndarray,
           gamut: GamutTable, *, rounds: int = 3, steps: int = 30) -> np.ndarray:
    """Turn, lighten or darken, and saturate base palettes until they hit the targets.

    Parameters
    ----------
    lch, mask
        (N, n, 3) base palettes and their (N, n) masks.
    target_raw
        (N, 2) raw colour emotion to reach (:class:`Calibration`).
    target_hue
        (N,) degrees: the dominant hue after the turn.
    gamut
        The chroma limits.

    Returns
    -------
    numpy.ndarray
        (N, n, 3) refined palettes inside sRGB (padding rows unchanged). Lightness moves as
        ``L = 100 sigmoid(logit(L / 100) + beta)`` (light colours approach white without all
        clipping to it), chroma as ``C = min(C exp(gamma), C_max(L, h))``; ``beta`` and
        ``gamma`` are found by bisection, alternately, because b* (valence) depends on chroma
        and the chroma limit on lightness. Targets beyond what the palette can reach end at the
        nearest reachable value.
    """
    lch = np.array(lch, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    hue, _ = dominant_hues(lch, mask)
    lch[..., 2] = (lch[..., 2] + (target_hue - hue)[:, None]) % 360.0
    logit = np.log(np.clip(lch[..., 0], 0.5, 99.5) / (100.0 - np.clip(lch[..., 0], 0.5, 99.5)))
    base_c = np.maximum(lch[..., 1], 0.0)
    beta = np.zeros(len(lch))
    gamma = np.zeros(len(lch))

    def palette(b: np.ndarray, g: np.ndarray) -> np.ndarray:
        out = lch.copy()
        out[..., 0] = 100.0 / (1.0 + np.exp(-(logit + b[:, None])))
        out[..., 1] = np.minimum(base_c * np.exp(g[:, None]), gamut.max_chroma(out[..., 0], out[..., 2]))
        return out

    for _ in range(rounds):
        beta = _bisect(lambda b: colour_emotion_raw(palette(b, gamma), mask)[:, 0],
                       target_raw[:, 0], -6.0, 6.0, steps)
        gamma = _bisect(lambda g: colour_emotion_raw(palette(beta, g), mask)[:, 1],
                        target_raw[:, 1], -3.0, 2.0, steps)
    out = palette(beta, gamma)
    return np.where(mask[..., None], out, lch)


def _bisect(f, target: np.ndarray, lo: float, hi: float, steps: int) -> np.ndarray:
    """Vectorised bisection for increasing ``f``: x in [lo, hi] with f(x) = target (or the
    end of the bracket nearest to it)."""
    a = np.full(len(target), lo)
    b = np.full(len(target), hi)
    for _ in range(steps):
        m = (a + b) / 2.0
        below = f(m) < target
        a = np.where(below, m, a)
        b = np.where(below, b, m)
    return (a + b) / 2.0


# ----------------------------------------------------------------------------------------------
# Everything for a set of windows
# ----------------------------------------------------------------------------------------------


def build_targets(va: np.ndarray, timbre_key: np.ndarray, library_lch: list[np.ndarray],
                  phis: tuple[float, ...] = ALTERNATIVE_OFFSETS,
                  settings: TargetSettings = TargetSettings(),
                  gamut: GamutTable | None = None) -> tuple[np.ndarray, np.ndarray, Calibration]:
    """Targets of every window for every alternative offset.

    Parameters
    ----------
    va
        (N, 2) music valence-arousal labels.
    timbre_key
        (N, 2) timbre keys.
    library_lch
        The library palettes (each (n_i, 3) CIELCh, 3 to 8 colours).
    phis
        Alternative offsets, degrees (the first should be 0: the default palette).

    Returns
    -------
    lch
        (N, K, 8, 3) targets, zero-padded; K = len(phis).
    lengths
        (N, K) colours per target.
    calibration
        The music-to-colour-emotion map used (saved with the model's training metadata).
    """
    gamut = gamut or GamutTable()
    width = max(len(p) for p in library_lch)
    lib = np.zeros((len(library_lch), width, 3))
    lib_mask = np.zeros((len(library_lch), width), dtype=bool)
    for i, p in enumerate(library_lch):
        lib[i, :len(p)] = p
        lib_mask[i, :len(p)] = True
    lib_raw = colour_emotion_raw(lib, lib_mask)
    lib_hue, lib_strength = dominant_hues(lib, lib_mask)
    calibration = Calibration.from_library(lib_raw)
    scale = np.asarray(calibration.half_range)
    target_raw = calibration.raw(va)
    out = np.zeros((len(va), len(phis), width, 3))
    lengths = np.zeros((len(va), len(phis)), dtype=np.int64)
    for k, phi in enumerate(phis):
        hue = hue_directions(va, timbre_key, phi, settings)
        base = choose_base(target_raw, hue, lib_raw, lib_hue, lib_strength, scale, settings)
        out[:, k] = refine(lib[base], lib_mask[base], target_raw, hue, gamut)
        lengths[:, k] = lib_mask[base].sum(1)
    return out, lengths, calibration
