"""Palette-based colour transfer (after Chang et al. 2015), evaluated on a 3-D LUT grid.

Three steps, all in CIELAB (D65):

1. :func:`dominant_colors` finds the image's *source palette* by weighted k-means on a
   ``16**3`` RGB histogram (bin means as samples, pixel counts as weights), seeded
   deterministically as in Chang et al. (pick the heaviest bin, attenuate its neighbourhood,
   repeat).
2. :func:`match_palettes` pairs each source colour with a target (music) colour by Hungarian
   matching on CIEDE2000 (averaged over time for a palette track, so correspondences stay fixed).
3. :func:`transfer_lut` moves every colour of the sRGB cube by a smooth function of its colour
   (:func:`transfer_colors`): lightness through a monotone piecewise-linear curve through the
   (source L*, target L*) pairs (so the luminance order of the image is kept), and a*, b* by the
   RBF-interpolated (Gaussian kernel, exact at the source colours, clamped and normalised)
   per-entry offsets. Then the rules a colourist keeps: skin is damped, neutrals get a gentle
   one-hue tint, shadows stay black, and no colour turns into another hue family (memory
   colours -- skin, browns, foliage, sky -- turn at most :data:`MEMORY_HUE_LIMIT` degrees, any
   other colour at most :data:`FREE_HUE_LIMIT`; the rest of the shift becomes a change of
   lightness and chroma). The result is gamut-mapped by chroma reduction at constant L* and
   hue and tabulated on an ``N**3`` grid: a LUT (:mod:`.lut`).

``strength`` is perceptual: the transfer is scaled (:func:`perceptual_levers`, a bisection on the
footage's own colours) until the footage moves by :data:`STRENGTH_DELTA_E` x ``strength``
CIEDE2000 units on average, whatever the song. Where the rules stop the transfer short of that
at any gain, a second lever they allow is added: the tone (:func:`apply_tone`), lightness and
chroma at constant hue, taken further the way the palette moves the footage
(:func:`tone_direction`).

References: Chang, Fried, Liu, DiVerdi, Finkelstein (2015), *Palette-based photo recoloring*,
ACM TOG 34(4); Reinhard et al. (2001) for the simple statistics baseline.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from m2p._internal import checks
from m2p._internal.warn import warn
from m2p.colour.convert_np import lch_to_lab
from m2p.errors import InvalidArgumentError
from m2p.palette_types import Palette

from m2p_plugins.video.lut import DEFAULT_SIZE, lut_grid

SKIN_HUE_DEGREES = 50.0
"""Centre of the protected skin-tone hue band (CIELAB h_ab, degrees); see :func:`transfer_lut`."""

SKIN_HUE_WIDTH = 18.0
"""Gaussian half-width of the skin band in degrees of hue."""

SKIN_MAX_SHIFT = 5.0
"""Largest a*b* shift (CIELAB units) of a colour fully inside the skin band at any gain, for
``skin=1`` (``SKIN_MAX_SHIFT / skin`` in general: 6.25 at the default 0.8, none at 0)."""

SHADOW_L = 30.0
"""Below this L* the colour shift fades out smoothly to nothing at black (blacks stay black)."""

NEUTRAL_CHROMA = (6.0, 20.0)
"""C* range over which a colour goes from *neutral* (below: a gentle tint that depends on
lightness only) to *chromatic* (above: the full palette transfer)."""

NEUTRAL_TINT = 0.5
"""Share of the palette offset a neutral colour receives (colourists tint greys, never
recolour them)."""

NEUTRAL_TINT_SIGMA_L = 12.0
"""Lightness width (L* units) over which the tint of neutrals is averaged between palette
colours, so neighbouring greys never split into different hues."""


STRENGTH_DELTA_E = 14.0
"""Mean CIEDE2000 by which ``strength = 1`` moves the footage (``0.6`` moves it by 9: clearly
visible, about what a colourist's look does; ``0.3`` by 4.5, a hint). See
:func:`perceptual_levers`."""

MAX_GAIN = 8.0
"""Largest multiple of the palette transfer :func:`perceptual_levers` may use (a palette already
close to the footage cannot reach the target distance and moves it by what this allows)."""

MAX_LIGHTNESS_SHARE = 1.5
"""Largest share of the palette's lightness curve applied (1: source L* lands on the palette's
L*; beyond, the curve is extrapolated and kept non-decreasing)."""

GAIN_STEPS = 12
"""Bisection steps of :func:`perceptual_levers` on each lever (``MAX_GAIN / 2**12``, and
``2**-12`` of the tone lever: far below what shows)."""

TONE_LIGHTNESS = 30.0
"""Largest lightness move of the tone lever, L* units at mid-grey (a ``sin**2`` bump: nothing at
black and white, so shadows stay black, and monotone, since ``30 pi / 100 < 1``)."""

TONE_CHROMA = 0.5
"""Largest chroma change of the tone lever: chroma times ``1 +- 0.5``, at constant hue."""

TONE_VIBRANCE = (20.0, 60.0)
"""C* over which the tone's chroma growth fades to nothing (a vibrance, as colourists call it):
saturated colours, near the sRGB gamut, do not grow out of it and fold at the gamut's edge."""

TONE_CENTRE = (50.0, 25.0)
"""Mid-grey lightness and a middling chroma (L*, C*): the palette's key and colourfulness are
its mean L* and C* against these."""

TONE_KEY_WEIGHT = 0.1
"""Weight of the palette's own key (mean L* against 50) and colourfulness (mean C* against
25) in the tone's direction, beside the transfer's own move (see :func:`perceptual_levers`):
enough to decide where the transfer moves the footage's lightness or chroma by about nothing."""

TONE_SCALE = 0.1
"""CIELAB units of that direction under which the tone lever fades (a direction too
ambiguous to amplify)."""

TONE_GAINS = (MAX_GAIN, MAX_GAIN / 2, MAX_GAIN / 4, MAX_GAIN / 8)
"""Gains at which :func:`perceptual_levers` tries the tone, in this order."""

TONE_SCAN = 8
"""Tone amounts tried, evenly on ``(0, 1]`` of the largest, before :func:`perceptual_levers`
bisects: the first that reaches the goal brackets the bisection (so a distance that does not
grow monotonically with the tone cannot mislead it)."""

MEMORY_HUE_LIMIT = 10.0
"""Largest hue turn, in degrees of CIELAB h_ab, of a memory colour (skin, hair and wood and food
browns, foliage, sky): the turn is soft-limited by ``limit * tanh(turn / limit)``, and the part of
the shift that would turn it further becomes a change of lightness and chroma."""

FREE_HUE_LIMIT = 30.0
"""Largest hue turn, in degrees, of any other chromatic colour (reds and magentas, purples,
teals): large hue rotations anywhere become tints."""

MEMORY_CHROMA_KEPT = 0.6
"""Least share of its chroma a memory colour keeps when the palette pulls it toward another hue
(the pull becomes a desaturation, down to this)."""

FREE_CHROMA_KEPT = 0.4
"""The same for any other chromatic colour."""

MEMORY_CHROMA_GROWTH = 1.4
"""Most a memory colour's chroma may grow: to ``1.4 C* + CHROMA_GROWTH_FLOOR``."""

FREE_CHROMA_GROWTH = 2.0
"""The same for any other chromatic colour."""

CHROMA_GROWTH_FLOOR = 6.0
"""Chroma (C* units) any guarded colour may gain whatever its own (a dull colour may warm)."""

MEMORY_HUES = ((10.0, 100.0), (100.0, 170.0), (190.0, 290.0))
"""CIELAB hue bands (degrees) of the memory colours: skin, hair, wood, coffee and food browns
(and the oranges and yellows around them); foliage and grass; sky and water. Membership rises
over :data:`MEMORY_HUE_EDGE` degrees at each edge."""

MEMORY_HUE_EDGE = 10.0
"""Width, in degrees, of the smooth edge of each memory hue band."""

HUE_GUARD_CHROMA = (3.0, 8.0)
"""C* over which the hue limits come in: below 3 a colour has no hue worth keeping (the neutral
tint decides it), above 8 its hue is guarded fully."""

NEUTRAL_TINT_MAX = 8.0
"""Largest chroma (C* units) the tint of a neutral colour may reach at any gain: a tint, not a
new colour."""


def dominant_colors(image: np.ndarray, k: int = 5, *, bins: int = 16, iterations: int = 12,
                     max_pixels: int = 250_000) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` dominant colours of an image (or a stack of frames), in CIELAB.

    Parameters
    ----------
    image
        ``(..., 3)`` or ``(..., 4)`` sRGB, uint8 or float in ``[0, 1]``; any leading shape
        (one image ``(H, W, 3)`` or frames ``(F, H, W, 3)``). Alpha, if any, is ignored
        (fully transparent pixels are dropped).
    k
        Number of colours, at least 1.
    bins
        Histogram bins per RGB axis.
    iterations
        Weighted Lloyd iterations after the deterministic seeding.
    max_pixels
        Pixels are subsampled with a regular stride above this count.

    Returns
    -------
    lab : numpy.ndarray
        ``(k, 3)`` float64 CIELAB colours sorted by L* (ascending).
    weights : numpy.ndarray
        ``(k,)`` share of the pixels closest to each colour (sums to 1).
    """
    return dominant_colors_of_sample(color_sample(image, bins=bins, max_pixels=max_pixels), k,
                                     iterations=iterations)


def dominant_colors_of_sample(sample: tuple[np.ndarray, np.ndarray], k: int = 5, *,
                              iterations: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """:func:`dominant_colors` of a ready :func:`color_sample` ``(lab, weight)`` (weighted
    k-means with Chang et al.'s seeding); returns ``(k, 3)`` CIELAB sorted by L* and shares."""
    lab, weight = sample
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    centres = _seed_centres(lab, weight, k)
    for _ in range(iterations):
        d2 = ((lab[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        nearest = d2.argmin(1)
        for j in range(k):
            m = nearest == j
            if np.any(m):
                centres[j] = np.average(lab[m], axis=0, weights=weight[m])
    d2 = ((lab[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
    share = np.bincount(d2.argmin(1), weights=weight, minlength=k)
    share = share / share.sum()
    order = np.argsort(centres[:, 0], kind="stable")
    return centres[order], share[order]


def color_sample(image: np.ndarray, *, bins: int = 16,
                 max_pixels: int = 250_000) -> tuple[np.ndarray, np.ndarray]:
    """The colours of an image as a weighted sample: the means of a ``bins**3`` RGB histogram.

    This is what the grade is measured on (:func:`perceptual_levers`) and what
    :func:`dominant_colors` clusters: a few hundred to a few thousand CIELAB colours whose
    weights are their pixel counts, so a weighted mean over them is a mean over the pixels.

    Parameters
    ----------
    image
        ``(..., 3)`` or ``(..., 4)`` sRGB, uint8 or float in ``[0, 1]``; any leading shape (one
        image, or a stack of frames). Fully transparent pixels are dropped.
    bins
        Histogram bins per RGB axis.
    max_pixels
        Pixels are subsampled with a regular stride above this count.

    Returns
    -------
    lab : numpy.ndarray
        ``(M, 3)`` float64 CIELAB bin means.
    weight : numpy.ndarray
        ``(M,)`` float64 pixel counts.
    """
    from m2p.colour.convert_np import srgb_to_lab

    arr = checks.image(image, empty=False)  # 3|4 channels, a pixel, no NaN (bincount indexes)
    pix = arr.reshape(-1, arr.shape[-1])
    if pix.shape[1] == 4:
        alpha = pix[:, 3].astype(np.float64) / (255.0 if arr.dtype == np.uint8 else 1.0)
        pix = pix[alpha > 0.0] if np.any(alpha > 0.0) else pix
    pix = pix[:, :3]
    if pix.shape[0] > max_pixels:
        pix = pix[:: int(np.ceil(pix.shape[0] / max_pixels))]
    if arr.dtype == np.uint8:  # integer binning: no float copy of every pixel
        q = (pix.astype(np.int64) * bins) >> 8
        rgb = None
    else:
        rgb = np.clip(pix.astype(np.float64), 0.0, 1.0)
        q = np.minimum((rgb * bins).astype(np.int64), bins - 1)
    idx = (q[:, 0] * bins + q[:, 1]) * bins + q[:, 2]
    counts = np.bincount(idx, minlength=bins ** 3).astype(np.float64)
    channels = pix if rgb is None else rgb
    sums = np.stack([np.bincount(idx, weights=channels[:, c], minlength=bins ** 3)
                     for c in range(3)], 1)
    used = counts > 0
    means = sums[used] / counts[used, None]
    if rgb is None:
        means = means / 255.0
    return srgb_to_lab(means), counts[used]


def dominant_colours(*args: Any, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Deprecated spelling of :func:`dominant_colors` (public names use US spelling)."""
    warn("dominant_colours is deprecated; use dominant_colors", DeprecationWarning)
    return dominant_colors(*args, **kwargs)


def match_palettes(source_lab: np.ndarray, target_lab: np.ndarray) -> np.ndarray:
    """Hungarian matching of source colours to target colours on CIEDE2000.

    Parameters
    ----------
    source_lab
        ``(k, 3)`` CIELAB source palette.
    target_lab
        ``(n, 3)`` one target palette, or ``(T, n, 3)`` a slot-aligned palette track (the cost is
        the mean CIEDE2000 over time, so one fixed correspondence serves the whole track).

    Returns
    -------
    numpy.ndarray
        ``(k,)`` int: the target slot of each source colour. When ``k > n`` target slots are
        reused (each at most ``ceil(k / n)`` times).
    """
    import torch

    from m2p.colour.assignment import linear_sum_assignment
    from m2p.colour.difference import ciede2000

    src = np.asarray(source_lab, dtype=np.float64)
    tgt = np.asarray(target_lab, dtype=np.float64)
    if tgt.ndim == 2:
        tgt = tgt[None]
    k, n = src.shape[0], tgt.shape[1]
    cost = ciede2000(torch.from_numpy(src)[None, :, None, :],
                     torch.from_numpy(tgt)[:, None, :, :]).mean(0).numpy()  # (k, n)
    reps = int(np.ceil(k / n))
    rows, cols = linear_sum_assignment(np.tile(cost, (1, reps)))
    slots = np.empty(k, dtype=np.int64)
    slots[rows] = cols % n
    return slots


def check_strength(strength: object) -> float:
    """``strength`` as a float in [0, 1].

    Raises
    ------
    m2p.errors.InvalidArgumentError
        NaN, infinite, outside [0, 1] or not a number (NaN would make an all-black grade).
    """
    if isinstance(strength, bool) or not isinstance(strength, (int, float, np.integer, np.floating)):
        raise InvalidArgumentError(f"strength must be a number between 0 and 1, got {strength!r}")
    value = float(strength)
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InvalidArgumentError(f"strength must be between 0 and 1, got {strength!r}")
    return value


def transfer_lut(source_lab: np.ndarray, target_lab: np.ndarray, *, strength: float = 0.6,
                 size: int = DEFAULT_SIZE, luminance: float = 0.5, skin: float = 0.8,
                 sigma: float | None = None, sample: Any = None,
                 gain: float | None = None, tone: tuple[float, float] = (0.0, 0.0),
                 direction: tuple[float, float] | None = None) -> np.ndarray:
    """The LUT that moves ``source_lab`` toward ``target_lab`` and everything else smoothly.

    Parameters
    ----------
    source_lab, target_lab
        ``(k, 3)`` CIELAB, paired row by row (see :func:`match_palettes`).
    strength
        0 gives the identity; otherwise the transfer is scaled, and where the rules stop it
        short the tone lever added, so that the footage (``sample``) moves by
        ``STRENGTH_DELTA_E * strength`` CIEDE2000 on average (:func:`perceptual_levers`).
    size
        LUT nodes per axis.
    luminance
        Share of the lightness curve applied at gain 1 (0 keeps L* exactly; 1 follows the
        palette L* fully). The curve is monotone, so the luminance order of pixels never flips.
    skin
        Protection of skin-like colours (h_ab near 50 degrees, moderate chroma): their shift is
        multiplied by ``1 - skin * w`` with ``w`` in [0, 1] a smooth skin membership.
    sigma
        RBF width in CIELAB units; default the mean distance between source colours (Chang et al.).
    sample
        The footage's colours the strength is measured on: ``(lab, weight)`` from
        :func:`color_sample`, or an ``(M, 3)`` CIELAB array (equal weights). Default: the
        source palette itself.
    gain, tone
        Use this multiple of the full transfer and this tone (see :func:`transfer_colors`)
        instead of calibrating ``strength`` (``gain=0``, ``tone=(0, 0)``: the identity);
        ``tone`` counts only with a ``gain``.
    direction
        The tone's direction where calibrating (:func:`perceptual_levers`); default this
        palette's (:func:`tone_direction`).

    Returns
    -------
    numpy.ndarray
        float32 ``(size, size, size, 3)`` LUT indexed ``lut[r, g, b]``, output in ``[0, 1]``.
    """
    from m2p.colour.convert_np import srgb_to_lab

    src = np.asarray(source_lab, dtype=np.float64).reshape(-1, 3)
    tgt = np.asarray(target_lab, dtype=np.float64).reshape(-1, 3)
    if src.shape != tgt.shape:
        raise ValueError(f"source and target palettes must pair up, got {src.shape} and "
                         f"{tgt.shape}")
    strength = check_strength(strength)
    if gain is None:
        levers = perceptual_levers(src, tgt, strength=strength, sample=sample,
                                   luminance=luminance, skin=skin, sigma=sigma,
                                   direction=direction)
        gain, tone = levers.gain, levers.tone
    grid = lut_grid(size).astype(np.float64)
    if gain <= 0.0 and not any(tone):
        return grid.reshape(size, size, size, 3).astype(np.float32)
    out = transfer_colors(srgb_to_lab(grid), src, tgt, gain=gain, luminance=luminance,
                          skin=skin, sigma=sigma, tone=tone)
    return lab_to_display(out).reshape(size, size, size, 3).astype(np.float32)


def transfer_colors(lab: np.ndarray, source_lab: np.ndarray, target_lab: np.ndarray, *,
                    gain: float = 1.0, luminance: float = 0.5, skin: float = 0.8,
                    sigma: float | None = None,
                    tone: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """Where the palette transfer takes each colour (before gamut mapping), in CIELAB.

    The rules, in order: the monotone lightness curve (``min(1, gain * luminance)`` of it) and
    the RBF a*b* offsets times ``gain``; neutrals take a lightness-only tint instead
    (:func:`protect_neutrals`, at most :data:`NEUTRAL_TINT_MAX` chroma); skin-like colours move
    ``1 - skin * w`` as much; a*b* shifts fade out below L* :data:`SHADOW_L` and near white;
    the hue turn is soft-limited (:func:`limit_hue_turn`). Last, the tone lever
    (:func:`apply_tone`), which moves lightness and chroma only (never hue).

    Parameters
    ----------
    lab
        ``(M, 3)`` CIELAB colours.
    source_lab, target_lab
        ``(k, 3)`` paired palettes.
    gain
        Multiple of the full transfer (1: the palette pairs' offsets; ``strength`` is turned
        into a gain and a tone by :func:`perceptual_levers`).
    luminance, skin, sigma
        See :func:`transfer_lut`.
    tone
        ``(lightness, chroma)`` of the tone lever (:func:`apply_tone`; ``(0, 0)``: none):
        :func:`perceptual_levers` sets it where the transfer alone cannot reach the strength.

    Returns
    -------
    numpy.ndarray
        ``(M, 3)`` float64 CIELAB, possibly outside sRGB (see :func:`lab_to_display`).
    """
    from m2p.colour.convert_np import lab_to_lch

    src = np.asarray(source_lab, dtype=np.float64).reshape(-1, 3)
    tgt = np.asarray(target_lab, dtype=np.float64).reshape(-1, 3)
    lab = np.asarray(lab, dtype=np.float64).reshape(-1, 3)
    gain = max(float(gain), 0.0)
    L = lab[:, 0]
    lch = lab_to_lch(lab)

    # Lightness: monotone curve through the palette pairs, anchored at black and white.
    order = np.argsort(src[:, 0], kind="stable")
    xs = np.concatenate([[0.0], np.clip(src[order, 0], 0.5, 99.5), [100.0]])
    ys = np.concatenate([[0.0], np.clip(tgt[order, 0], 0.5, 99.5), [100.0]])
    xs = xs + np.arange(xs.size) * 1e-6  # strictly increasing for np.interp
    ys = _isotonic(ys)  # pool adjacent violators: the closest non-decreasing curve
    # L + a (curve(L) - L): beyond a = 1 it overshoots the palette's lightness, so it is made
    # non-decreasing on a fine grid (a running maximum): the order of lightness never flips.
    a = min(MAX_LIGHTNESS_SHARE, gain * luminance)
    ramp = np.linspace(0.0, 100.0, 1001)
    moved = np.maximum.accumulate(np.clip(ramp + a * (np.interp(ramp, xs, ys) - ramp), 0, 100))
    d_l = np.interp(L, ramp, moved) - L

    d_ab = gain * _rbf_offsets(lab, src, tgt, sigma)
    d_ab = protect_neutrals(d_ab, lch, src, tgt, gain=gain)

    # Protections: skin-like hues, and the neutral extremes (keeps pure black/white clean).
    hue_diff = (lch[:, 2] - SKIN_HUE_DEGREES + 180.0) % 360.0 - 180.0
    w_skin = (np.exp(-0.5 * (hue_diff / SKIN_HUE_WIDTH) ** 2) * _smoothstep(lch[:, 1], 6.0, 14.0)
              * (1.0 - _smoothstep(lch[:, 1], 45.0, 65.0)) * _smoothstep(L, 20.0, 30.0)
              * (1.0 - _smoothstep(L, 88.0, 96.0)))
    keep = 1.0 - float(np.clip(skin, 0.0, 1.0)) * w_skin
    ends = _smoothstep(L, 0.0, SHADOW_L) * (1.0 - _smoothstep(L, 90.0, 100.0))

    d_ab = (keep * ends)[:, None] * d_ab
    # Skin also moves at most SKIN_MAX_SHIFT / skin in a*b*, whatever the gain: a stronger
    # grade is reached elsewhere, never by greying or tinting faces.
    size = np.hypot(d_ab[:, 0], d_ab[:, 1])
    cap = SKIN_MAX_SHIFT / max(float(np.clip(skin, 0.0, 1.0)), 1e-9)
    capped = np.minimum(1.0, cap / np.maximum(size, 1e-12))
    d_ab = d_ab * (1.0 - w_skin * (1.0 - capped))[:, None]
    out = lab.copy()
    out[:, 0] += keep * d_l
    out[:, 1:] += d_ab
    out[:, 1:] = limit_hue_turn(lab[:, 1:], out[:, 1:])
    if any(tone):
        # Chroma follows the tone less on skin and not at all on neutrals (a grey stays grey).
        chroma_share = keep * _smoothstep(lch[:, 1], *NEUTRAL_CHROMA)
        out = apply_tone(out, tone, chroma_share=chroma_share)
    return out


def apply_tone(lab: np.ndarray, tone: tuple[float, float], *,
               chroma_share: np.ndarray | float = 1.0) -> np.ndarray:
    """The tone lever: move lightness and chroma, never hue.

    Lightness moves by ``tone[0] * sin(pi L / 100)**2`` (a brighter or darker key that keeps
    black and white, and the order of lightness while ``|tone[0]| < 100 / pi``); chroma is
    multiplied by ``1 + tone[1] * chroma_share`` at constant hue (a growth fades out over C*
    :data:`TONE_VIBRANCE`: a vibrance, not a saturation). It is what a colourist does
    once the hues may move no further, and what the memory-colour rules allow: a grass keeps
    its green, a face its hue.

    Parameters
    ----------
    lab
        ``(M, 3)`` CIELAB.
    tone
        ``(lightness, chroma)``: L* units moved at mid-grey (negative: darker), and the share
        by which chroma grows (negative: shrinks); :func:`perceptual_levers` keeps them within
        :data:`TONE_LIGHTNESS` and :data:`TONE_CHROMA`.
    chroma_share
        ``(M,)`` or scalar in [0, 1]: how much of the chroma change each colour takes.

    Returns
    -------
    numpy.ndarray
        ``(M, 3)`` CIELAB.
    """
    out = np.array(lab, dtype=np.float64).reshape(-1, 3)
    light = np.clip(out[:, 0], 0.0, 100.0)
    out[:, 0] = light + float(tone[0]) * np.sin(np.pi * light / 100.0) ** 2
    share = np.asarray(chroma_share, dtype=np.float64)
    if tone[1] > 0.0:  # vibrance: dull colours gain chroma, saturated ones (near the gamut) less
        share = share * (1.0 - _smoothstep(np.hypot(out[:, 1], out[:, 2]), *TONE_VIBRANCE))
    factor = 1.0 + float(tone[1]) * share
    out[:, 1:] *= np.reshape(factor, (-1, 1)) if np.ndim(factor) else factor
    return out


def limit_hue_turn(ab_before: np.ndarray, ab_after: np.ndarray) -> np.ndarray:
    """Keep every colour in its hue family: soft-limit the hue turn from ``ab_before`` to
    ``ab_after`` and keep only the part of the new chroma along the allowed hue.

    The turn ``d`` (degrees) becomes ``limit * tanh(d / limit)``, with ``limit``
    :data:`MEMORY_HUE_LIMIT` inside the memory hue bands (:data:`MEMORY_HUES`) and
    :data:`FREE_HUE_LIMIT` elsewhere; the new chroma is the projection of the shifted colour on
    that hue, so a shift toward the opposite hue desaturates instead of recolouring (a tint of
    lightness and chroma), down to :data:`MEMORY_CHROMA_KEPT` (memory colours) or
    :data:`FREE_CHROMA_KEPT` of the original chroma; it may grow to :data:`MEMORY_CHROMA_GROWTH`
    (or :data:`FREE_CHROMA_GROWTH`) times the original plus :data:`CHROMA_GROWTH_FLOOR`. Colours of chroma below :data:`HUE_GUARD_CHROMA` keep their shift (a
    grey's hue is the tint's). Smooth in its inputs, so LUTs made with it do not band.

    Parameters
    ----------
    ab_before, ab_after
        ``(M, 2)`` a*, b* of the original and the shifted colours.

    Returns
    -------
    numpy.ndarray
        ``(M, 2)`` the limited a*, b*.
    """
    before = np.asarray(ab_before, dtype=np.float64)
    after = np.asarray(ab_after, dtype=np.float64)
    c0 = np.hypot(before[:, 0], before[:, 1])
    h0 = np.degrees(np.arctan2(before[:, 1], before[:, 0])) % 360.0
    c1 = np.hypot(after[:, 0], after[:, 1])
    h1 = np.degrees(np.arctan2(after[:, 1], after[:, 0]))
    turn = (h1 - h0 + 180.0) % 360.0 - 180.0
    memory = memory_color_weight(h0)
    limit = FREE_HUE_LIMIT + (MEMORY_HUE_LIMIT - FREE_HUE_LIMIT) * memory
    allowed = limit * np.tanh(turn / limit)
    # Toward another hue the colour desaturates, but keeps part of its chroma: brown hair stays
    # brown (a duller one), it does not turn grey and then take the tint's hue.
    kept = FREE_CHROMA_KEPT + (MEMORY_CHROMA_KEPT - FREE_CHROMA_KEPT) * memory
    chroma = np.maximum(c1 * np.cos(np.radians(turn - allowed)), kept * c0)
    # ...and gains chroma only so far: dark brown hair may warm, not glow orange.
    growth = FREE_CHROMA_GROWTH + (MEMORY_CHROMA_GROWTH - FREE_CHROMA_GROWTH) * memory
    chroma = np.minimum(chroma, np.maximum(c0 * growth + CHROMA_GROWTH_FLOOR, kept * c0))
    hue = np.radians(h0 + allowed)
    guarded = np.stack([chroma * np.cos(hue), chroma * np.sin(hue)], axis=1)
    w = _smoothstep(c0, *HUE_GUARD_CHROMA)[:, None]
    return w * guarded + (1.0 - w) * after


def memory_color_weight(hue: np.ndarray) -> np.ndarray:
    """Membership in [0, 1] of CIELAB hues (degrees) in the memory colour bands
    (:data:`MEMORY_HUES`, smooth edges :data:`MEMORY_HUE_EDGE` wide)."""
    h = np.asarray(hue, dtype=np.float64) % 360.0
    half = MEMORY_HUE_EDGE / 2.0
    w = np.zeros_like(h)
    for lo, hi in MEMORY_HUES:
        inside = _smoothstep(h, lo - half, lo + half) * (1.0 - _smoothstep(h, hi - half, hi + half))
        w = np.maximum(w, inside)
    return w


class Levers(NamedTuple):
    """The levers a grade is made with (:func:`perceptual_levers`)."""

    gain: float
    """Multiple of the palette transfer, in ``[0, MAX_GAIN]``."""
    tone: tuple[float, float]
    """``(lightness, chroma)`` of the tone lever (:func:`apply_tone`); not ``(0, 0)`` only where
    the gain alone falls short at ``MAX_GAIN``."""


def perceptual_levers(source_lab: np.ndarray, target_lab: np.ndarray, *, strength: float = 0.6,
                      sample: Any = None, luminance: float = 0.5, skin: float = 0.8,
                      sigma: float | None = None,
                      direction: tuple[float, float] | None = None) -> Levers:
    """The gain and tone that move the footage by the ``strength`` asked.

    ``strength`` is perceptual: the footage's colours (``sample``) move by
    ``STRENGTH_DELTA_E * strength`` CIEDE2000 units on average (weighted by their pixel
    counts), whatever the song. First lever, the palette transfer: the distance grows with the
    gain, so a bisection (:data:`GAIN_STEPS` steps on ``[0, MAX_GAIN]``) finds it.

    Where even ``MAX_GAIN`` falls short (the palette is the footage's own colours, or pulls
    them toward hues the memory-colour rules forbid), the second lever is added at
    ``MAX_GAIN``: the tone (:func:`apply_tone`), lightness and chroma at constant hue, further
    the way the palette already moves the footage (:func:`tone_direction`); each component
    ``d / max(|d|, TONE_SCALE)`` of :data:`TONE_LIGHTNESS` and :data:`TONE_CHROMA`.
    The amount: the first of :data:`TONE_SCAN` even steps that reaches the goal brackets a
    bisection. Where the whole tone falls short at ``MAX_GAIN`` (a clip's direction takes a
    keyframe against its transfer's own lightness, which then undoes part of the tone), the
    same is tried at the lower gains of :data:`TONE_GAINS`; if none reaches, the
    farthest-moving step.

    Parameters
    ----------
    source_lab, target_lab
        ``(k, 3)`` paired palettes.
    strength
        0 to 1.
    sample
        ``(lab, weight)`` (:func:`color_sample` of downscaled frames) or ``(M, 3)`` CIELAB;
        default the source palette.
    luminance, skin, sigma
        See :func:`transfer_lut`.
    direction
        ``(lightness, chroma)`` of the tone, signs and relative weights
        (:func:`tone_direction`); default this palette's. A palette track passes one for the
        whole clip, so that neighbouring keyframes never tone it opposite ways (their blend
        would undo both).

    Returns
    -------
    Levers
        ``(gain, (lightness, chroma))``; ``(0, (0, 0))`` for ``strength == 0``.
    """
    strength = check_strength(strength)
    if strength == 0.0:
        return Levers(0.0, (0.0, 0.0))
    lab, weight = _as_sample(sample, source_lab)
    tgt = np.asarray(target_lab, dtype=np.float64).reshape(-1, 3)
    goal = STRENGTH_DELTA_E * strength

    def graded(g: float, tone: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
        return transfer_colors(lab, source_lab, tgt, gain=g, luminance=luminance, skin=skin,
                               sigma=sigma, tone=tone)

    def moved(g: float, tone: tuple[float, float] = (0.0, 0.0)) -> float:
        return grade_distance_lab(lab, graded(g, tone), weight)

    if moved(MAX_GAIN) >= goal:
        return Levers(_bisect(lambda g: moved(g) >= goal, 0.0, MAX_GAIN), (0.0, 0.0))
    if direction is None:
        direction = tone_direction(source_lab, tgt, sample=(lab, weight), luminance=luminance,
                                   skin=skin, sigma=sigma)
    d_light, d_chroma = direction
    most = (TONE_LIGHTNESS * d_light / max(abs(d_light), TONE_SCALE),
            TONE_CHROMA * d_chroma / max(abs(d_chroma), TONE_SCALE))

    def tone(share: float) -> tuple[float, float]:
        return (share * most[0], share * most[1])

    shares = np.linspace(0.0, 1.0, TONE_SCAN + 1)[1:]
    tried: list[tuple[float, float, float]] = []  # (moved, gain, share)
    for gain in TONE_GAINS:
        for k, share in enumerate(shares):
            tried.append((moved(gain, tone(float(share))), gain, float(share)))
            if tried[-1][0] >= goal:
                lo = float(shares[k - 1]) if k else 0.0
                found = _bisect(lambda x: moved(gain, tone(x)) >= goal, lo, float(share))
                return Levers(gain, tone(found))
    _, gain, share = max(tried)
    return Levers(gain, tone(share))


def tone_direction(source_lab: np.ndarray, target_lab: np.ndarray, *, sample: Any = None,
                   luminance: float = 0.5, skin: float = 0.8,
                   sigma: float | None = None) -> tuple[float, float]:
    """Which way the tone lever moves lightness and chroma for this palette and footage.

    The palette transfer's own mean move of the footage's L* and C* at ``MAX_GAIN`` (weighted
    by pixel counts), plus :data:`TONE_KEY_WEIGHT` times the palette's key and colourfulness
    (its mean L* and C* against :data:`TONE_CENTRE`): a song that grades the footage darker
    or duller takes it further that way; where the transfer moves the footage's lightness by
    about nothing, a dark palette darkens and a bright one brightens. Both come from the
    palette; no fixed look.

    Parameters
    ----------
    source_lab, target_lab
        ``(k, 3)`` paired palettes.
    sample
        As for :func:`perceptual_levers`.
    luminance, skin, sigma
        See :func:`transfer_lut`.

    Returns
    -------
    tuple of float
        ``(lightness, chroma)`` in CIELAB units (positive: brighter, more saturated); the
        tone uses their signs, fading below :data:`TONE_SCALE`. Directions of several palettes
        (keyframes) add.
    """
    lab, weight = _as_sample(sample, source_lab)
    tgt = np.asarray(target_lab, dtype=np.float64).reshape(-1, 3)
    full = transfer_colors(lab, source_lab, tgt, gain=MAX_GAIN, luminance=luminance, skin=skin,
                           sigma=sigma)
    d_light = (np.average(full[:, 0] - lab[:, 0], weights=weight)
               + TONE_KEY_WEIGHT * (tgt[:, 0].mean() - TONE_CENTRE[0]))
    d_chroma = (np.average(np.hypot(full[:, 1], full[:, 2]) - np.hypot(lab[:, 1], lab[:, 2]),
                           weights=weight)
                + TONE_KEY_WEIGHT * (np.hypot(tgt[:, 1], tgt[:, 2]).mean() - TONE_CENTRE[1]))
    return float(d_light), float(d_chroma)


def _bisect(reached: Any, lo: float, hi: float) -> float:
    """The middle of the last of :data:`GAIN_STEPS` halvings of ``[lo, hi]``, where
    ``reached(hi)`` and not ``reached(lo)``."""
    for _ in range(GAIN_STEPS):
        mid = 0.5 * (lo + hi)
        if reached(mid):
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def grade_distance(before: np.ndarray, after: np.ndarray, *,
                   max_pixels: int = 250_000) -> float:
    """How far a grade moved an image: the mean CIEDE2000 between two sRGB images, pixel by
    pixel (what ``strength`` is measured in).

    Parameters
    ----------
    before, after
        Same-shape ``(..., 3)`` (or 4, alpha ignored) sRGB, uint8 or float in ``[0, 1]``.
    max_pixels
        Pixels are subsampled with a regular stride above this count.

    Returns
    -------
    float
        Mean Delta E 2000.
    """
    from m2p.colour.convert_np import srgb_to_lab

    a, b = np.asarray(before), np.asarray(after)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} and {b.shape}")
    scale = 255.0 if a.dtype == np.uint8 else 1.0
    a, b = a[..., :3].reshape(-1, 3), b[..., :3].reshape(-1, 3)
    if a.shape[0] > max_pixels:  # a regular stride: the mean of a large image, to about 0.05
        step = int(np.ceil(a.shape[0] / max_pixels))
        a, b = a[::step], b[::step]
    return grade_distance_lab(srgb_to_lab(a / scale), srgb_to_lab(b / scale))


def grade_distance_lab(before: np.ndarray, after: np.ndarray,
                       weight: np.ndarray | None = None) -> float:
    """Weighted mean CIEDE2000 between paired ``(M, 3)`` CIELAB colours; ``after`` is first
    brought into sRGB as a LUT would (:func:`lab_to_display`)."""
    from m2p.colour.convert_np import srgb_to_lab
    from m2p.colour.difference import ciede2000

    shown = srgb_to_lab(lab_to_display(after, iterations=10))
    d = ciede2000(np.asarray(before, dtype=np.float64), shown)
    return float(np.average(d, weights=weight))


def lab_to_display(lab: np.ndarray, *, iterations: int = 24) -> np.ndarray:
    """sRGB in ``[0, 1]`` of ``(M, 3)`` CIELAB colours: out-of-gamut ones are mapped by chroma
    reduction at constant L* and hue (:func:`m2p.colour.gamut.gamut_map_lch`, ``iterations``
    bisection steps: 24 reach 1e-5 of the chroma for a LUT; 10, about 0.1, serve a measurement)."""
    from m2p.colour.convert_np import lab_to_lch, lab_to_srgb, lch_to_srgb
    from m2p.colour.gamut import gamut_map_lch

    lab = np.asarray(lab, dtype=np.float64)
    rgb = lab_to_srgb(lab)
    outside = np.any((rgb < -1e-6) | (rgb > 1.0 + 1e-6), axis=1)
    if np.any(outside):
        rgb[outside] = lch_to_srgb(gamut_map_lch(lab_to_lch(lab[outside]),
                                                 iterations=iterations))
    return np.clip(np.nan_to_num(rgb, nan=0.0), 0.0, 1.0)


def protect_neutrals(d_ab: np.ndarray, lch: np.ndarray, source_lab: np.ndarray,
                     target_lab: np.ndarray, *, gain: float = 1.0) -> np.ndarray:
    """Replace the a*b* shift of near-neutral colours by a gentle, lightness-only tint.

    The palette transfer moves each colour by the offsets of the source colours *near it*;
    for greys, whose neighbours in a*b* are all about equally near, that choice flips with
    noise and lightness, and a flat grey wall splits into patches of opposite hues (yellow
    and cyan). Colourists instead tint neutrals by tone (shadows one way, highlights another)
    and weight the grade by saturation. So a colour of chroma below
    :data:`NEUTRAL_CHROMA` gets :data:`NEUTRAL_TINT` of the palette offsets averaged with a
    Gaussian in L* (:data:`NEUTRAL_TINT_SIGMA_L`), which varies slowly with lightness, times
    ``min(gain, 1)`` and at most :data:`NEUTRAL_TINT_MAX` chroma; chromatic colours keep the full
    transfer; in between the two blend smoothly.

    Parameters
    ----------
    d_ab
        ``(M, 2)`` a*b* shifts of the transfer at ``M`` colours (already times ``gain``).
    lch
        ``(M, 3)`` CIELCh of those colours.
    source_lab, target_lab
        ``(k, 3)`` paired palettes.
    gain
        Multiple of the transfer (see :func:`transfer_colors`).

    Returns
    -------
    numpy.ndarray
        ``(M, 2)`` the protected shifts.
    """
    light, chroma = lch[:, 0], lch[:, 1]
    near = np.exp(-0.5 * ((light[:, None] - source_lab[None, :, 0]) / NEUTRAL_TINT_SIGMA_L) ** 2)
    near = near / np.maximum(near.sum(1, keepdims=True), 1e-12)
    # The tint stays gentle: it grows with the gain only up to the full transfer's.
    tint = min(gain, 1.0) * NEUTRAL_TINT * (near @ (target_lab[:, 1:] - source_lab[:, 1:]))
    size = np.hypot(tint[:, 0], tint[:, 1])[:, None]
    tint = tint * np.minimum(1.0, NEUTRAL_TINT_MAX / np.maximum(size, 1e-12))
    chromatic = _smoothstep(chroma, *NEUTRAL_CHROMA)[:, None]
    return chromatic * d_ab + (1.0 - chromatic) * tint


def palette_lab(palette: object) -> np.ndarray:
    """CIELAB ``(n, 3)`` of an :class:`m2p.palette_types.Palette` (or an ``(n, 3)`` LCh array)."""
    lch = palette.lch if isinstance(palette, Palette) else palette
    return lch_to_lab(np.asarray(lch, dtype=np.float64).reshape(-1, 3))


def neutral_source(target_lab: np.ndarray) -> np.ndarray:
    """A grey source palette at the target's lightnesses (for LUTs made without footage).

    Used by ``m2p export`` when no reference image is given: the LUT then tints each lightness
    band toward the palette colour of that lightness (a split-tone look), keeping L*.
    """
    tgt = np.asarray(target_lab, dtype=np.float64).reshape(-1, 3)
    src = np.zeros_like(tgt)
    src[:, 0] = tgt[:, 0]
    return src


def _rbf_offsets(lab: np.ndarray, src: np.ndarray, tgt: np.ndarray,
                 sigma: float | None) -> np.ndarray:
    """The a*b* offsets of the palette pairs interpolated at ``lab`` (Chang et al.): Gaussian RBF
    weights exact at the source colours, negative weights clamped, normalised."""
    if sigma is None:
        if src.shape[0] > 1:
            pair = np.sqrt(((src[:, None] - src[None]) ** 2).sum(-1))
            sigma = float(pair[np.triu_indices(src.shape[0], 1)].mean())
        else:
            sigma = 50.0
    sigma = max(float(sigma), 5.0)

    def kernel(d2: np.ndarray) -> np.ndarray:
        return np.exp(-d2 / (2.0 * sigma ** 2))

    gram = kernel(((src[:, None, :] - src[None, :, :]) ** 2).sum(-1))
    coef = np.linalg.pinv(gram + 1e-9 * np.eye(src.shape[0]))
    d2 = (lab ** 2).sum(1)[:, None] - 2.0 * lab @ src.T + (src ** 2).sum(1)[None, :]
    phi = np.maximum(kernel(np.maximum(d2, 0.0)) @ coef, 0.0)
    total = phi.sum(1, keepdims=True)
    phi = np.where(total > 1e-12, phi / np.maximum(total, 1e-12), 1.0 / src.shape[0])
    return phi @ (tgt[:, 1:] - src[:, 1:])


def _as_sample(sample: Any, source_lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lab (M, 3), weight (M,))`` from a :func:`color_sample` pair, an ``(M, 3)`` array or
    None (the source palette, equal weights)."""
    if sample is None:
        lab = np.asarray(source_lab, dtype=np.float64).reshape(-1, 3)
        return lab, np.ones(lab.shape[0])
    if isinstance(sample, tuple) and len(sample) == 2:
        lab = np.asarray(sample[0], dtype=np.float64).reshape(-1, 3)
        weight = np.asarray(sample[1], dtype=np.float64).reshape(-1)
        if weight.shape[0] != lab.shape[0]:
            raise ValueError(f"sample has {lab.shape[0]} colours but {weight.shape[0]} weights")
        return lab, weight
    lab = np.asarray(sample, dtype=np.float64).reshape(-1, 3)
    return lab, np.ones(lab.shape[0])


def _seed_centres(lab: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """Chang et al. seeding: heaviest bin, then attenuate by 1 - exp(-d^2 / sigma_a^2)."""
    sigma_a = 80.0
    w = weight.astype(np.float64).copy()
    centres = []
    for _ in range(k):
        j = int(np.argmax(w))
        centres.append(lab[j].copy())
        w = w * (1.0 - np.exp(-((lab - lab[j]) ** 2).sum(-1) / sigma_a ** 2))
    return np.asarray(centres)


def _isotonic(y: np.ndarray) -> np.ndarray:
    """Least-squares non-decreasing fit of ``y`` (pool-adjacent-violators)."""
    blocks: list[list[float]] = []  # [mean, count]
    for value in np.asarray(y, dtype=np.float64):
        blocks.append([float(value), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks[-1]
            blocks[-1] = [(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2]
    return np.concatenate([np.full(int(c), m) for m, c in blocks])


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


__all__ = [
    "CHROMA_GROWTH_FLOOR",
    "FREE_CHROMA_GROWTH",
    "FREE_CHROMA_KEPT",
    "FREE_HUE_LIMIT",
    "GAIN_STEPS",
    "HUE_GUARD_CHROMA",
    "Levers",
    "MAX_GAIN",
    "MAX_LIGHTNESS_SHARE",
    "MEMORY_CHROMA_GROWTH",
    "MEMORY_CHROMA_KEPT",
    "MEMORY_HUES",
    "MEMORY_HUE_EDGE",
    "MEMORY_HUE_LIMIT",
    "NEUTRAL_CHROMA",
    "NEUTRAL_TINT",
    "NEUTRAL_TINT_MAX",
    "NEUTRAL_TINT_SIGMA_L",
    "SHADOW_L",
    "SKIN_HUE_DEGREES",
    "SKIN_HUE_WIDTH",
    "SKIN_MAX_SHIFT",
    "STRENGTH_DELTA_E",
    "TONE_CENTRE",
    "TONE_CHROMA",
    "TONE_GAINS",
    "TONE_KEY_WEIGHT",
    "TONE_LIGHTNESS",
    "TONE_SCALE",
    "TONE_SCAN",
    "TONE_VIBRANCE",
    "apply_tone",
    "check_strength",
    "color_sample",
    "dominant_colors",
    "dominant_colors_of_sample",
    "dominant_colours",
    "grade_distance",
    "grade_distance_lab",
    "lab_to_display",
    "limit_hue_turn",
    "match_palettes",
    "memory_color_weight",
    "neutral_source",
    "perceptual_levers",
    "protect_neutrals",
    "palette_lab",
    "tone_direction",
    "transfer_colors",
    "transfer_lut",
]
