"""Emotion: Russell's circumplex in 8 categories, and the colour-emotion model of palettes.

Emotions live in two equivalent forms:

* a valence-arousal point ``(v, a)`` in [-1, 1]^2 (valence on x, arousal on y), and
* an 8-vector over :data:`EMOTIONS`, non-negative, summing to the point's intensity.

:func:`va_to_emotion` and :func:`emotion_to_va` move between them; :func:`palette_valence_arousal`
predicts where a colour palette sits on the circumplex from its CIELCh colours, and
:func:`ou_luo_harmony` / :func:`palette_harmony` score how harmonious colours look together.
All functions are pure and written once for NumPy arrays and torch tensors (see
:mod:`m2p.colour._arrays`): array-likes give float64 NumPy arrays (a palette's own emotion,
without torch), tensors give differentiable tensors with finite gradients everywhere,
including neutral colours and the origin of the circumplex (the training losses). See
``docs/science.md`` for the equations.

>>> palette_valence_arousal([[90.0, 60.0, 90.0], [80.0, 70.0, 60.0]]).round(2).tolist()  # sunny
[0.87, 0.44]
>>> palette_valence_arousal([[30.0, 40.0, 260.0], [20.0, 30.0, 280.0]]).round(2).tolist()  # gloomy
[-0.91, -0.64]

References
----------
Russell, J. A. (1980). A circumplex model of affect. Journal of Personality and Social
    Psychology 39(6), 1161-1178.
Valdez, P. and Mehrabian, A. (1994). Effects of color on emotions. Journal of Experimental
    Psychology: General 123(4), 394-409.
Ou, L.-C., Luo, M. R., Woodcock, A. and Wright, A. (2004). A study of colour emotion and colour
    preference. Part I: Colour emotions for single colours; Part II: Colour emotions for
    two-colour combinations. Color Research & Application 29(3), 232-240 and 29(4), 292-298.
Ou, L.-C. and Luo, M. R. (2006). A colour harmony model for two-colour combinations.
    Color Research & Application 31(3), 191-204.
Wilms, L. and Oberfeld, D. (2018). Color and emotion: effects of hue, saturation, and
    brightness. Psychological Research 82(5), 896-914.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from m2p.colour._arrays import as_float, as_mask, broadcast, constant, namespace, softmax, trues
from m2p.colour.convert_np import safe_sqrt

__all__ = [
    "EMOTIONS",
    "N_EMOTIONS",
    "EMOTION_ANGLES_DEGREES",
    "DEFAULT_SHARPNESS",
    "va_to_emotion",
    "emotion_to_va",
    "emotion_similarity",
    "palette_valence_arousal",
    "palette_emotion",
    "color_valence_arousal_raw",
    "ou_color_heat",
    "ou_luo_harmony",
    "palette_harmony",
    "pad_palettes",
    "REFERENCE_L_MEAN",
    "REFERENCE_L_STD",
    "REFERENCE_C_MEAN",
    "REFERENCE_C_STD",
    "REFERENCE_HEAT_MEAN",
    "REFERENCE_HEAT_STD",
    "REFERENCE_YELLOW_MEAN",
    "REFERENCE_YELLOW_STD",
]

#: Russell's eight categories, in the order of every emotion 8-vector.
EMOTIONS: tuple[str, ...] = (
    "excited", "happy", "content", "calm", "depressed", "sad", "afraid", "angry",
)

#: Number of emotion categories: the length of every emotion vector (model head, value types).
N_EMOTIONS = len(EMOTIONS)

#: Octant angle of each category on the valence-arousal plane, degrees counter-clockwise from
#: +valence, in :data:`EMOTIONS` order (happy 22.5, excited 67.5, ..., content 337.5).
EMOTION_ANGLES_DEGREES: tuple[float, ...] = (
    67.5, 22.5, 337.5, 292.5, 247.5, 202.5, 157.5, 112.5,
)

#: Default sharpness tau of the angular kernel in :func:`va_to_emotion`. With tau = 4 a point at
#: an octant centre puts about 60 % of its weight on its own category, 19 % on each neighbour.
DEFAULT_SHARPNESS = 4.0

# Reference statistics for the z-scores of the colour-emotion model: L*, C*ab and Ou's heat over
# a uniform 33^3 grid of the sRGB cube (computed with m2p.colour.convert; a test recomputes them).
# Valdez & Mehrabian (1994) used z-scores of brightness and saturation over their Munsell
# sample; the sRGB gamut is the set of colours our palettes can contain.
REFERENCE_L_MEAN = 57.72
REFERENCE_L_STD = 20.66
REFERENCE_C_MEAN = 58.68
REFERENCE_C_STD = 27.03
REFERENCE_HEAT_MEAN = -0.2951
REFERENCE_HEAT_STD = 0.8008
REFERENCE_YELLOW_MEAN = 3.793  # b* = C* sin(h): the yellow (+) to blue (-) axis
REFERENCE_YELLOW_STD = 45.96

# Model weights (see docs/science.md, "Palette emotion model").
_VALENCE_FROM_L = 0.69  # Valdez & Mehrabian (1994) pleasure: 0.69 brightness ...
_VALENCE_FROM_C = 0.22  # ... + 0.22 saturation.
_AROUSAL_FROM_C = 0.60  # Valdez & Mehrabian (1994) arousal: 0.60 saturation.
_AROUSAL_FROM_HEAT = 0.20  # warm hues more arousing (Wilms & Oberfeld 2018); a third of chroma.
# Music-colour association: happy music goes with yellow, sad music with blue (Palmer et al.
# 2013; Lindborg & Friberg 2015). Without a hue term, palettes could carry mood only through
# lightness and chroma, and every mood got the same hues (model v2, issue 9).
_VALENCE_FROM_YELLOW = 0.30

_EPS = 1e-12


# ----------------------------------------------------------------------------------------------
# Circumplex <-> categories
# ----------------------------------------------------------------------------------------------


def va_to_emotion(valence_arousal: Any, *, sharpness: float = DEFAULT_SHARPNESS) -> Any:
    """Spread a valence-arousal point over Russell's 8 categories with an angular kernel.

    Parameters
    ----------
    valence_arousal
        Array (..., 2): valence and arousal, nominally in [-1, 1].
    sharpness
        Kernel concentration tau > 0 (larger: more weight on the nearest category).

    Returns
    -------
    array
        Array (..., 8) in :data:`EMOTIONS` order, non-negative, summing to the intensity
        ``min(r, 1)`` where ``r = |(v, a)|``: the origin (neutral) gives all zeros, a point on
        the unit circle a distribution summing to one.

    Notes
    -----
    With the point written as ``r (cos theta, sin theta)`` and ``u_k`` the unit vector at
    the category angle ``theta_k``::

        e_k = min(r, 1) * softmax_k(tau * cos(theta - theta_k))

    ``cos(theta - theta_k)`` is computed as ``(v, a) . u_k / r`` (no atan2), so the kernel is
    smooth in the point; at r = 0 the softmax is uniform and the output is zero with a finite
    gradient. The direction decides the mix and the radius only scales it, so the mix of a
    weak and a strong "happy" is the same.

    References
    ----------
    Russell, J. A. (1980). A circumplex model of affect. JPSP 39(6), 1161-1178.
    """
    va = as_float(valence_arousal)
    xp = namespace(va)
    r = _safe_norm(va)
    units = _unit_vectors(va)  # (8, 2)
    cosines = (va @ units.T) / xp.clip(r, _EPS, None)[..., None]
    weights = softmax(sharpness * cosines)
    return xp.clip(r, None, 1.0)[..., None] * weights


def emotion_to_va(emotion: Any, *, sharpness: float = DEFAULT_SHARPNESS) -> Any:
    """Map an 8-category emotion vector back to a valence-arousal point.

    Parameters
    ----------
    emotion
        Array (..., 8) in :data:`EMOTIONS` order, non-negative weights (any total).
    sharpness
        The tau used by :func:`va_to_emotion`, whose radial shrinkage this undoes.

    Returns
    -------
    array
        Array (..., 2), valence and arousal inside the unit disc (so both in [-1, 1]).

    Notes
    -----
    The weighted sum of the categories' unit vectors, rescaled and kept in the unit disc::

        p = sum_k e_k u_k / A(tau),   va = p * min(1, 1 / |p|)

    where ``A(tau) = |sum_k softmax_k(tau cos(theta_k)) u_k|`` (about 0.866 at tau = 4) is the
    length that the kernel of :func:`va_to_emotion` leaves of a unit vector. Hence
    ``emotion_to_va(va_to_emotion(x))`` returns ``x`` for ``|x| <= 1`` up to the aliasing of
    eight samples (below 0.3 degree and 0.6 % in length at tau = 4). A one-hot category maps to
    its octant point on the unit circle.
    """
    e = as_float(emotion)
    units = _unit_vectors(e)
    p = (e @ units) / _kernel_resultant_length(sharpness)
    norm = _safe_norm(p)
    return p / namespace(p).clip(norm, 1.0, None)[..., None]


def emotion_similarity(a: Any, b: Any) -> Any:
    """Cosine similarity of two emotion vectors, defined as 0 when either is zero.

    Parameters
    ----------
    a, b
        Arrays (..., 8) (any last dimension works), broadcast against each other.

    Returns
    -------
    array
        Array (...), in [-1, 1]; in [0, 1] for non-negative emotion vectors. Symmetric,
        scale-invariant, 1 for parallel vectors, 0 if either vector is zero.
    """
    xp = namespace(a, b)
    a, b = broadcast(as_float(a, xp), as_float(b, xp))
    norms = _safe_norm(a) * _safe_norm(b)
    return (a * b).sum(-1) / xp.clip(norms, _EPS, None)


# ----------------------------------------------------------------------------------------------
# Palette colour-emotion model
# ----------------------------------------------------------------------------------------------


def ou_color_heat(lch: Any) -> Any:
    """Warm-cool colour emotion of single colours (Ou et al. 2004, part I).

    Parameters
    ----------
    lch
        Array (..., 3), CIELCh (L*, C*ab, h_ab in degrees).

    Returns
    -------
    array
        Array (...), heat: positive warm (reds, oranges), negative cool (blues, greens);
        about -1.7 to 2.4 over sRGB.

    Notes
    -----
    ``CH = -0.5 + 0.02 C*^1.07 cos(h - 50 deg)``.

    References
    ----------
    Ou, L.-C., Luo, M. R., Woodcock, A. and Wright, A. (2004). Color Res. Appl. 29(3), 232-240,
    equation for colour heat.
    """
    lch = as_float(lch)
    xp = namespace(lch)
    C, h = lch[..., 1], lch[..., 2]
    return -0.5 + 0.02 * xp.clip(C, 0.0, None) ** 1.07 * xp.cos(xp.deg2rad(h - 50.0))


def color_valence_arousal_raw(lch: Any) -> Any:
    """Unbounded valence and arousal scores of single colours (the model before squashing).

    Parameters
    ----------
    lch
        Array (..., 3), CIELCh (L*, C*ab, h_ab in degrees).

    Returns
    -------
    array
        Array (..., 2), (valence, arousal) in z-score units of the sRGB gamut.

    Notes
    -----
    With ``zL = (L* - 57.72) / 20.66``, ``zC = (C* - 58.68) / 27.03`` and
    ``zH = (CH + 0.2951) / 0.8008`` (z-scores over a uniform grid of the sRGB cube, CH from
    :func:`ou_color_heat`)::

        valence = 0.69 zL + 0.22 zC + 0.30 zY  (Valdez & Mehrabian 1994, pleasure, + yellowness)
        arousal = 0.60 zC + 0.20 zH            (their arousal's saturation term + hue warmth)

    where ``zY`` is the z-score of ``b* = C* sin(h)``, the yellow-blue axis: in music-colour
    association studies happy music is matched with yellow and sad music with blue (Palmer et
    al. 2013; Lindborg & Friberg 2015), so hue, not only lightness and chroma, carries valence.
    Its weight is an engineering choice, under half of lightness's, so a dark yellow never
    outranks a light blue.

    Valdez & Mehrabian's arousal also has a -0.31 brightness term, which Wilms & Oberfeld
    (2018) contradict (bright colours were more arousing there); with the evidence split, the
    term is left out, so arousal is driven by chroma (as in both studies and in Ou et al.'s
    colour activity) and valence by lightness. Warm hues add arousal (Wilms & Oberfeld 2018:
    arousal rises from blue-green to red); its weight is an engineering choice, small enough
    that arousal always increases with chroma at any hue and lightness.

    References
    ----------
    Valdez, P. and Mehrabian, A. (1994). J. Exp. Psychol. Gen. 123(4), 394-409.
    Wilms, L. and Oberfeld, D. (2018). Psychological Research 82(5), 896-914.
    Ou, L.-C. et al. (2004). Color Res. Appl. 29(3), 232-240.
    Palmer, S. E. et al. (2013). PNAS 110(22), 8836-8841.
    Lindborg, P. and Friberg, A. K. (2015). PLOS ONE 10(12), e0144013.
    """
    lch = as_float(lch)
    xp = namespace(lch)
    L, C, h = lch[..., 0], lch[..., 1], lch[..., 2]
    zL = (L - REFERENCE_L_MEAN) / REFERENCE_L_STD
    zC = (C - REFERENCE_C_MEAN) / REFERENCE_C_STD
    zH = (ou_color_heat(lch) - REFERENCE_HEAT_MEAN) / REFERENCE_HEAT_STD
    zY = (xp.clip(C, 0.0, None) * xp.sin(xp.deg2rad(h)) - REFERENCE_YELLOW_MEAN) / REFERENCE_YELLOW_STD
    valence = _VALENCE_FROM_L * zL + _VALENCE_FROM_C * zC + _VALENCE_FROM_YELLOW * zY
    arousal = _AROUSAL_FROM_C * zC + _AROUSAL_FROM_HEAT * zH
    return xp.stack((valence, arousal), -1)


def palette_valence_arousal(lch: Any, mask: Any | None = None) -> Any:
    """Valence and arousal that a colour palette conveys (differentiable colour-emotion model).

    Parameters
    ----------
    lch
        Array (..., n, 3), CIELCh colours (L* in [0, 100], C* >= 0, h in degrees).
    mask
        Optional boolean array (..., n): True for the colours that belong to the palette
        (variable-length palettes padded to n). Padded entries may hold anything, even NaN;
        they get zero gradient. None means all n colours.

    Returns
    -------
    array
        Array (..., 2), (valence, arousal) in (-1, 1). A palette with no valid colour gives
        (0, 0), the neutral point.

    Notes
    -----
    Colour emotions of combinations are close to the mean of the single colours' emotions
    (Ou et al. 2004, part II), so the per-colour scores of :func:`color_valence_arousal_raw`
    are averaged over the palette (equal weights: a palette shows its colours in equal areas)
    and the mean is squashed with ``tanh``: ``va = tanh(mean_i raw_i)``. One z-score unit of
    the gamut maps to 0.76.

    References
    ----------
    Ou, L.-C., Luo, M. R., Woodcock, A. and Wright, A. (2004). Part II. Color Res. Appl. 29(4),
    292-298.
    """
    lch = _neutralise_padding(lch, mask)
    raw = color_valence_arousal_raw(lch)
    return namespace(raw).tanh(_masked_mean(raw, mask, dim=-2))


def palette_emotion(lch: Any, mask: Any | None = None, *,
                    sharpness: float = DEFAULT_SHARPNESS) -> Any:
    """Eight-category emotion of a palette: :func:`va_to_emotion` of its valence-arousal.

    Parameters
    ----------
    lch
        Array (..., n, 3), CIELCh colours.
    mask
        Optional boolean array (..., n), True for valid colours.
    sharpness
        Kernel sharpness passed to :func:`va_to_emotion`.

    Returns
    -------
    array
        Array (..., 8) in :data:`EMOTIONS` order, summing to the intensity of the palette's
        valence-arousal point (at most 1).
    """
    return va_to_emotion(palette_valence_arousal(lch, mask), sharpness=sharpness)


# ----------------------------------------------------------------------------------------------
# Harmony
# ----------------------------------------------------------------------------------------------


def ou_luo_harmony(lch_a: Any, lch_b: Any) -> Any:
    """Two-colour harmony score of Ou & Luo (2006).

    Parameters
    ----------
    lch_a, lch_b
        Arrays (..., 3), CIELCh colours (L*, C*ab, h_ab in degrees); broadcast together.

    Returns
    -------
    array
        Array (...), CH: higher is more harmonious; positive values were judged harmonious,
        negative disharmonious (about -1.3 to 1.3 over random sRGB pairs). Symmetric in its
        arguments.

    Notes
    -----
    ``CH = H_C + H_L + H_H`` with

    * chromatic effect ``H_C = 0.04 + 0.53 tanh(0.8 - 0.045 dC)``,
      ``dC = sqrt(dH*ab^2 + (dC*ab / 1.46)^2)``;
    * lightness effect ``H_L = H_Lsum + H_dL``, ``H_Lsum = 0.28 + 0.54 tanh(-3.88 + 0.029 Lsum)``,
      ``Lsum = L1 + L2``, ``H_dL = 0.14 + 0.15 tanh(-2 + 0.2 |L1 - L2|)``;
    * hue effect ``H_H = H_SY1 + H_SY2``, ``H_SY = E_C (H_S + E_Y)``,
      ``E_C = 0.5 + 0.5 tanh(-2 + 0.5 C*)``,
      ``H_S = -0.08 - 0.14 sin(h + 50) - 0.07 sin(2h + 90)``,
      ``E_Y = ((0.22 L* - 12.8) / 10) exp((90 - h) / 10 - exp((90 - h) / 10))``.

    ``dH*ab^2`` is computed as ``2 C1 C2 (1 - cos(h1 - h2))`` (equal to the usual
    ``dE^2 - dL^2 - dC^2``) so no square root or atan2 is needed; hues are reduced to
    [0, 360) before ``E_Y``, whose double exponential is defined on that range.

    References
    ----------
    Ou, L.-C. and Luo, M. R. (2006). A colour harmony model for two-colour combinations.
    Color Research & Application 31(3), 191-204.
    """
    xp = namespace(lch_a, lch_b)
    a, b = broadcast(as_float(lch_a, xp), as_float(lch_b, xp))
    L1, C1, h1 = a[..., 0], xp.clip(a[..., 1], 0.0, None), a[..., 2]
    L2, C2, h2 = b[..., 0], xp.clip(b[..., 1], 0.0, None), b[..., 2]

    dH2 = 2.0 * C1 * C2 * (1.0 - xp.cos(xp.deg2rad(h1 - h2)))
    dC = safe_sqrt(xp.clip(dH2, 0.0, None) + ((C1 - C2) / 1.46) ** 2)
    H_C = 0.04 + 0.53 * xp.tanh(0.8 - 0.045 * dC)

    H_Lsum = 0.28 + 0.54 * xp.tanh(-3.88 + 0.029 * (L1 + L2))
    H_dL = 0.14 + 0.15 * xp.tanh(-2.0 + 0.2 * xp.abs(L1 - L2))
    H_H = _ou_luo_hue_effect(L1, C1, h1) + _ou_luo_hue_effect(L2, C2, h2)
    return H_C + H_Lsum + H_dL + H_H


def palette_harmony(lch: Any, mask: Any | None = None) -> Any:
    """Mean Ou & Luo (2006) harmony over all pairs of colours in a palette.

    Parameters
    ----------
    lch
        Array (..., n, 3), CIELCh colours.
    mask
        Optional boolean array (..., n), True for valid colours; padded entries may hold anything.

    Returns
    -------
    array
        Array (...), the mean of :func:`ou_luo_harmony` over the unordered pairs i < j of
        valid colours. A palette with a single valid colour scores that colour against itself;
        a palette with none scores 0.
    """
    lch = _neutralise_padding(lch, mask)
    xp = namespace(lch)
    n = lch.shape[-2]
    valid = (trues(lch.shape[:-1], lch) if mask is None
             else xp.broadcast_to(as_mask(mask, lch), lch.shape[:-1]))
    scores = ou_luo_harmony(lch[..., :, None, :], lch[..., None, :, :])  # (..., n, n)
    both = valid[..., :, None] & valid[..., None, :]
    square = trues((n, n), lch)
    upper = xp.triu(square, 1)
    diagonal = xp.triu(square, 0) & ~upper

    def flat(x: Any) -> Any:  # (..., n, n) -> (..., n * n)
        return x.reshape(tuple(x.shape[:-2]) + (-1,))

    pair_mean = _masked_mean(flat(scores), flat(both & upper), dim=-1)
    self_mean = _masked_mean(flat(scores), flat(both & diagonal), dim=-1)
    has_pair = valid.sum(-1) >= 2
    return xp.where(has_pair, pair_mean, self_mean)


def pad_palettes(palettes: Iterable[np.ndarray], width: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Variable-length palettes as one batch for the palette functions above.

    Parameters
    ----------
    palettes
        CIELCh palettes, each (n_i, 3).
    width
        Colours per row; default the longest palette.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Zero-padded colours (N, width, 3) float64 and the mask of real colours (N, width) bool:
        the ``(lch, mask)`` pair :func:`palette_emotion` and its siblings take.
    """
    palettes = [np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in palettes]
    n = max((len(p) for p in palettes), default=0) if width is None else int(width)
    colours = np.zeros((len(palettes), n, 3))
    mask = np.zeros((len(palettes), n), dtype=bool)
    for i, p in enumerate(palettes):
        colours[i, : len(p)] = p
        mask[i, : len(p)] = True
    return colours, mask


# ----------------------------------------------------------------------------------------------
# Private helpers
# ----------------------------------------------------------------------------------------------


def _ou_luo_hue_effect(L: Any, C: Any, h: Any) -> Any:
    xp = namespace(h)
    h = xp.remainder(h, 360.0)
    E_C = 0.5 + 0.5 * xp.tanh(-2.0 + 0.5 * C)
    H_S = (-0.08 - 0.14 * xp.sin(xp.deg2rad(h + 50.0))
           - 0.07 * xp.sin(xp.deg2rad(2.0 * h + 90.0)))
    x = (90.0 - h) / 10.0  # in [-27, 9] after the remainder, so exp(x) cannot overflow
    E_Y = ((0.22 * L - 12.8) / 10.0) * xp.exp(x - xp.exp(x))
    return E_C * (H_S + E_Y)


def _safe_norm(x: Any) -> Any:
    return safe_sqrt((x * x).sum(-1))


def _unit_vectors(like: Any) -> Any:
    # Computed in float64 on the CPU, then given like's dtype and device (the same numbers on
    # every device).
    xp = namespace(like)
    angles = xp.deg2rad(xp.asarray(EMOTION_ANGLES_DEGREES, dtype=xp.float64))
    units = xp.stack((xp.cos(angles), xp.sin(angles)), -1)
    return constant(units, like)


def _kernel_resultant_length(sharpness: float) -> float:
    # |sum_k softmax_k(tau cos(theta_k - theta)) u_k| at theta = an octant centre; the
    # resultant is the same for every theta up to the aliasing of 8 samples (Bessel I_7/I_1).
    angles = [math.radians(a - EMOTION_ANGLES_DEGREES[0]) for a in EMOTION_ANGLES_DEGREES]
    weights = [math.exp(sharpness * math.cos(t)) for t in angles]
    total = sum(weights)
    return sum(w * math.cos(t) for w, t in zip(weights, angles)) / total


def _neutralise_padding(lch: Any, mask: Any | None) -> Any:
    # Replace padded colours by mid grey before any arithmetic, so NaN or huge values in
    # padding can neither leak into the result nor into the gradient (torch.where passes
    # zero gradient to the discarded branch, but 0 * NaN is still NaN).
    lch = as_float(lch)
    if mask is None:
        return lch
    m = as_mask(mask, lch)[..., None]
    return namespace(lch).where(m, lch, constant([50.0, 0.0, 0.0], lch))


def _masked_mean(x: Any, mask: Any | None, dim: int) -> Any:
    # Mean over `dim` of the entries where mask is True; 0 where there are none. `mask` has
    # x's shape without the trailing feature dimension when x has one more dimension.
    if mask is None:
        return x.mean(dim)
    xp = namespace(x)
    m = constant(mask, x)
    if m.ndim < x.ndim:
        m = m[..., None]
    m = xp.broadcast_to(m, x.shape)
    total = (x * m).sum(dim)
    count = m.sum(dim)
    return total / xp.clip(count, 1.0, None)
