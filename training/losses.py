"""Training losses of Music2Palette and their weighted sum.

Terms (all scalars, averaged over the batch; weights come from the training config):

``colour``
    Mean CIEDE2000 between predicted and ground-truth colours after Hungarian matching (the
    palette is a set: the loss does not depend on the order of the ground-truth colours).
``hue``
    Hue-diversity loss: the chroma-weighted mean resultant length ``R`` of the predicted hue
    directions (``R = 1`` when all chromatic colours share one hue, ``R = 0`` when hues are
    spread evenly round the circle), hinged at the ground truth's ``R`` so that a palette is
    pushed apart only while its hues are more concentrated than the target's. The chroma
    weights are detached, so the term moves hues and cannot be satisfied by desaturating.
``emotion``
    Emotion consistency: ``w_music (1 - cos(e_pal, e_music)) + w_truth (1 - cos(e_pal, e_gt))``
    where ``e_pal`` is the differentiable colour-emotion model (``m2p.colour.emotion.palette_emotion``)
    applied to the predicted palette, ``e_music`` the network's music-emotion head (detached:
    the palette follows the music, not the other way round) and ``e_gt`` the window's label.
``va``
    Music emotion head, valence-arousal: mean absolute error (Kundu et al.'s VA loss).
``emotion_head``
    Music emotion head, categories: soft cross-entropy against the normalised 8-way label.
``stop``
    Stop token: binary cross-entropy on the stop logits, target 1 after the last colour.
``tags``
    Distillation: binary cross-entropy of the teacher-tag head against the tag probabilities
    of the pretrained musicnn taggers (``training.corpus.teachers``).

Teacher forcing alone lets the decoder lean on the ground-truth prefix, and at generation time
(fed its own colours) it then drifts to washed-out, near-identical colours. With
``free_running > 0`` the palette is also generated autoregressively *with gradients*
(``Music2Palette.generate`` forced to the target length) and the set-level terms (``colour``
after Hungarian matching, ``hue``, ``emotion``) are applied to that generated palette too,
weighted by ``free_running`` (:func:`free_running_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor
from torch.nn import functional as F

from m2p.colour.convert import lch_to_lab
from m2p.colour.difference import ciede2000

__all__ = [
    "LossWeights",
    "hungarian_match",
    "matched_colour_loss",
    "matched_delta_e",
    "hue_concentration",
    "hue_diversity_loss",
    "emotion_consistency_loss",
    "va_loss",
    "emotion_head_loss",
    "stop_loss",
    "teacher_tag_loss",
    "length_mask",
    "total_loss",
    "free_running_loss",
]


@dataclass(frozen=True)
class LossWeights:
    """Weights of the loss terms (see the module docstring); the training config's ``loss``
    section (``training.config``, which rejects unknown keys)."""

    colour: float = 1.0
    hue: float = 2.0
    emotion_music: float = 10.0
    emotion_truth: float = 10.0
    va: float = 5.0
    emotion_head: float = 1.0
    stop: float = 1.0
    free_running: float = 0.0
    tags: float = 0.0
    component: float = 1.0


def length_mask(lengths: Tensor, n: int) -> Tensor:
    """(B, n) bool mask, True for positions ``i < lengths[b]``."""
    return torch.arange(n, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def hungarian_match(pred_lch: Tensor, target_lch: Tensor, lengths: Tensor) -> Tensor:
    """Optimal assignment of ground-truth colours to predicted colours, per palette.

    Parameters
    ----------
    pred_lch, target_lch
        (B, n, 3) LCh colours; only the first ``lengths[b]`` entries of item ``b`` count.
    lengths
        (B,) int number of valid colours.

    Returns
    -------
    Tensor
        (B, n) int64 ``index`` such that ``target_lch[b, index[b, i]]`` is the colour matched to
        ``pred_lch[b, i]`` for ``i < lengths[b]`` (identity beyond), minimising the summed
        CIEDE2000 (computed without gradient).
    """
    batch, n, _ = pred_lch.shape
    with torch.no_grad():
        lab_p = lch_to_lab(pred_lch.detach().double())
        lab_t = lch_to_lab(target_lch.detach().double())
        cost = ciede2000(lab_p.unsqueeze(2), lab_t.unsqueeze(1)).cpu().numpy()  # (B, n, n)
    index = np.tile(np.arange(n), (batch, 1))
    for b, k in enumerate(lengths.tolist()):
        if k > 1:
            rows, cols = linear_sum_assignment(cost[b, :k, :k])
            index[b, rows] = cols
    return torch.as_tensor(index, device=pred_lch.device)


def matched_colour_loss(pred_lch: Tensor, target_lch: Tensor, lengths: Tensor) -> Tensor:
    """Mean CIEDE2000 between predicted and Hungarian-matched ground-truth colours.

    Parameters
    ----------
    pred_lch
        (B, >= n, 3) predicted LCh (extra steps, such as the stop step, are ignored).
    target_lch
        (B, n, 3) ground truth, zero-padded after ``lengths[b]``.
    lengths
        (B,) valid colour counts.
    """
    de, mask = matched_delta_e(pred_lch, target_lch, lengths)
    return (de * mask).sum() / mask.sum().clamp_min(1.0)


def matched_delta_e(pred_lch: Tensor, target_lch: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """CIEDE2000 of each predicted colour to its Hungarian-matched target colour.

    Returns ``(de, mask)``, both (B, n) with n the target width; ``mask`` (float) is 1 for the
    first ``lengths[b]`` colours. Shared by the mean loss here and the per-palette costs of
    :mod:`training.one_to_many`.
    """
    n = target_lch.shape[1]
    pred = pred_lch[:, :n]
    index = hungarian_match(pred, target_lch, lengths)
    matched = torch.gather(target_lch, 1, index.unsqueeze(-1).expand(-1, -1, 3))
    de = ciede2000(lch_to_lab(pred), lch_to_lab(matched.to(pred.dtype)))
    return de, length_mask(lengths, n).to(de.dtype)


def hue_concentration(lch: Tensor, mask: Tensor, *, chroma_softness: float = 10.0) -> Tensor:
    """Chroma-weighted mean resultant length of hue directions, (B,), in [0, 1].

    The weight of a colour is ``C / (C + chroma_softness)`` (detached), so near-neutral colours,
    whose hue is meaningless, hardly count.
    """
    h = torch.deg2rad(lch[..., 2])
    w = (lch[..., 1] / (lch[..., 1] + chroma_softness)).detach() * mask.to(lch.dtype)
    total = w.sum(-1).clamp_min(1e-6)
    x = (w * torch.cos(h)).sum(-1) / total
    y = (w * torch.sin(h)).sum(-1) / total
    return torch.sqrt(x * x + y * y + 1e-12)


def hue_diversity_loss(pred_lch: Tensor, target_lch: Tensor, lengths: Tensor) -> Tensor:
    """Hinged hue-concentration penalty ``mean(relu(R_pred - R_target))`` (module docstring)."""
    n = target_lch.shape[1]
    mask = length_mask(lengths, n)
    r_pred = hue_concentration(pred_lch[:, :n], mask)
    r_true = hue_concentration(target_lch.to(pred_lch.dtype), mask)
    return F.relu(r_pred - r_true).mean()


def emotion_consistency_loss(
    pred_lch: Tensor,
    lengths: Tensor,
    music_emotion: Tensor,
    target_emotion: Tensor,
    *,
    w_music: float = 1.0,
    w_truth: float = 1.0,
) -> tuple[Tensor, Tensor, Tensor]:
    """Emotion-consistency loss of the predicted palette.

    Parameters
    ----------
    pred_lch
        (B, >= n, 3) predicted colours; the first ``lengths[b]`` count.
    lengths
        (B,) valid colour counts.
    music_emotion
        (B, 8) the network's music emotion (detached here).
    target_emotion
        (B, 8) ground-truth emotion of the window.
    w_music, w_truth
        Weights of the two cosine terms.

    Returns
    -------
    total, music_term, truth_term
        Scalars; ``total = w_music * music_term + w_truth * truth_term``, each term the batch
        mean of ``1 - cos``.
    """
    from m2p.colour.emotion import palette_emotion

    n = int(lengths.max())
    lch = pred_lch[:, :n]
    mask = length_mask(lengths, n)
    e_pal = palette_emotion(lch, mask)
    music = 1.0 - F.cosine_similarity(e_pal, music_emotion.detach().to(e_pal.dtype), dim=-1, eps=1e-8)
    truth = 1.0 - F.cosine_similarity(e_pal, target_emotion.to(e_pal.dtype), dim=-1, eps=1e-8)
    music, truth = music.mean(), truth.mean()
    return w_music * music + w_truth * truth, music, truth


def va_loss(pred_va: Tensor, target_va: Tensor) -> Tensor:
    """Mean absolute error of valence and arousal (both in [-1, 1])."""
    return (pred_va - target_va.to(pred_va.dtype)).abs().mean()


def emotion_head_loss(logits: Tensor, target_emotion: Tensor) -> Tensor:
    """Soft cross-entropy of the emotion logits against the row-normalised label."""
    target = target_emotion.to(logits.dtype).clamp_min(0)
    target = target / target.sum(-1, keepdim=True).clamp_min(1e-8)
    return -(target * F.log_softmax(logits, dim=-1)).sum(-1).mean()


def teacher_tag_loss(tag_logits: Tensor, teacher_tags: Tensor) -> Tensor:
    """BCE of the network's tag logits (B, T) against the teachers' probabilities (B, T).

    Rows holding NaN (windows the teachers did not hear) are left out; 0 when none is left.
    """
    target = teacher_tags.to(tag_logits)
    known = torch.isfinite(target).all(-1)
    if target.shape[-1] != tag_logits.shape[-1] or not bool(known.any()):
        return tag_logits.sum() * 0.0
    return F.binary_cross_entropy_with_logits(tag_logits[known], target[known])


def stop_loss(stop_logits: Tensor, lengths: Tensor) -> Tensor:
    """BCE of the stop logits (B, n + 1): target 0 at steps ``i < len``, 1 at ``i = len``,
    steps after ``len`` ignored."""
    steps = torch.arange(stop_logits.shape[1], device=stop_logits.device).unsqueeze(0)
    target = (steps == lengths.unsqueeze(1)).to(stop_logits.dtype)
    valid = (steps <= lengths.unsqueeze(1)).to(stop_logits.dtype)
    bce = F.binary_cross_entropy_with_logits(stop_logits, target, reduction="none")
    return (bce * valid).sum() / valid.sum().clamp_min(1.0)


def total_loss(
    pred_lch: Tensor,
    stop_logits: Tensor,
    encoding: Any,
    batch: Mapping[str, Tensor],
    weights: LossWeights,
) -> tuple[Tensor, dict[str, float]]:
    """Weighted sum of every term for one teacher-forced batch.

    Parameters
    ----------
    pred_lch, stop_logits, encoding
        Outputs of ``Music2Palette.forward``.
    batch
        Mapping with ``target_lch`` (B, n, 3), ``lengths`` (B,), ``valence_arousal`` (B, 2)
        and ``emotion`` (B, 8).
    weights
        Term weights.

    Returns
    -------
    total, parts
        The scalar to minimise and a dict of each (unweighted) term as a float, plus ``total``.
    """
    palette_total, parts = _palette_terms(pred_lch, encoding, batch, weights)
    va = va_loss(encoding.valence_arousal, batch["valence_arousal"])
    head = emotion_head_loss(encoding.emotion_logits, batch["emotion"])
    stop = stop_loss(stop_logits, batch["lengths"])
    total = palette_total + weights.va * va + weights.emotion_head * head + weights.stop * stop
    parts.update(
        total=float(total.detach()),
        va=float(va.detach()),
        emotion_head=float(head.detach()),
        stop=float(stop.detach()),
    )
    return total, parts


def free_running_loss(
    gen_lch: Tensor,
    encoding: Any,
    batch: Mapping[str, Tensor],
    weights: LossWeights,
    stop_logits: Tensor | None = None,
) -> tuple[Tensor, dict[str, float]]:
    """Set-level terms on a palette generated autoregressively (see the module docstring).

    Parameters
    ----------
    gen_lch
        (B, >= n, 3) generated colours (first ``lengths[b]`` count), with gradients.
    encoding
        The batch's ``MusicEncoding``.
    batch, weights
        As in :func:`total_loss`.
    stop_logits
        (B, S) stop logits of the generation steps (``generate(..., return_stop_logits=True)``);
        when given, the stop token is also supervised on the model's own colours: teacher
        forcing alone lets it learn to stop after ground-truth prefixes only, and generated
        palettes then run to ``max_colors``.

    Returns
    -------
    total, parts
        Unscaled sum ``colour + hue + emotion (+ stop)`` (weighted as in :func:`total_loss`)
        and the terms as floats, prefixed ``gen_``.
    """
    total, parts = _palette_terms(gen_lch, encoding, batch, weights)
    if stop_logits is not None:
        stop = stop_loss(stop_logits, batch["lengths"])
        total = total + weights.stop * stop
        parts["stop"] = float(stop.detach())
    return total, {f"gen_{name}": value for name, value in parts.items()}


def _palette_terms(
    pred_lch: Tensor, encoding: Any, batch: Mapping[str, Tensor], weights: LossWeights
) -> tuple[Tensor, dict[str, float]]:
    """The set-level terms shared by teacher-forced and generated palettes.

    Returns ``colour * w_colour + hue * w_hue + emotion`` and the unweighted terms
    ``colour``, ``hue``, ``emotion_music``, ``emotion_truth`` as floats.
    """
    target = batch["target_lch"]
    lengths = batch["lengths"]
    colour = matched_colour_loss(pred_lch, target, lengths)
    hue = hue_diversity_loss(pred_lch, target, lengths)
    emo, emo_music, emo_truth = emotion_consistency_loss(
        pred_lch, lengths, encoding.emotion, batch["emotion"],
        w_music=weights.emotion_music, w_truth=weights.emotion_truth,
    )
    total = weights.colour * colour + weights.hue * hue + emo
    return total, {
        "colour": float(colour.detach()),
        "hue": float(hue.detach()),
        "emotion_music": float(emo_music.detach()),
        "emotion_truth": float(emo_truth.detach()),
    }
