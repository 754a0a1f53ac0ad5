"""One-to-many palette training: the embedding noise chooses among several valid palettes.

Many palettes fit one emotion, and each window has ``K`` emotion-matched, refined candidates
(``targets_lch``). A deterministic decoder trained on one of them (v1) learns their average: one
hue template for every song. Here the decoder sees ``M`` noise draws per window and every
candidate is charged only to the draw that reproduces it best::

    cost[b, m, k] = w_colour * CIEDE2000(draw m, candidate k) + w_stop * stop BCE
    loss          = mean_{b,k} min_m cost[b, m, k] + relax * mean_{b,m,k} cost[b, m, k]

(implicit maximum likelihood estimation, Li & Malik 2019: each data point pulls its nearest
sample, so the draws spread over the candidates instead of collapsing onto their mean; the small
``relax`` term keeps every draw near the set, as in relaxed winner-takes-all, Rupprecht et al.
2017). The same rule is applied to palettes generated freely (with gradients), where every draw
also gets the set-level emotion and hue terms of :mod:`training.losses` against the candidate
it is closest to.

Mixture noise (``noise_components = K`` in the model config): draw ``m`` is centre ``m`` plus
the Gaussian, and draws and candidates are paired one-to-one by the Hungarian algorithm on
``cost[b]`` (set prediction as in DETR, Carion et al. 2020) instead of "nearest draw": every
centre must reach a different candidate, so the components cannot collapse onto one palette.

Family-conditioned mixture (``component_head`` in the model config; ``training.families``):
every candidate ``k`` has a known family ``f[b, k]``; its draw is centre ``f[b, k]`` plus the
Gaussian and is trained toward that candidate alone (no pairing is needed), and the component
head learns the share of each family among the window's candidates (cross-entropy with that
soft target, weight ``component``). The decoder so learns one palette per (music, family) and
the head which families suit the music, instead of centres that are the same for every song.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import torch
from torch import Tensor
from torch.nn import functional as F

from training.losses import (
    LossWeights,
    emotion_consistency_loss,
    emotion_head_loss,
    hue_diversity_loss,
    matched_delta_e,
    teacher_tag_loss,
    va_loss,
)

__all__ = ["palette_colour_costs", "palette_stop_costs", "one_to_many_loss"]


def palette_colour_costs(pred_lch: Tensor, target_lch: Tensor, lengths: Tensor) -> Tensor:
    """Per-palette mean CIEDE2000 after Hungarian matching, (B,).

    Parameters
    ----------
    pred_lch
        (B, >= n, 3) predicted LCh (steps after ``n`` are ignored).
    target_lch
        (B, n, 3) candidates, zero-padded after ``lengths[b]``.
    lengths
        (B,) valid colour counts (>= 1).
    """
    de, mask = matched_delta_e(pred_lch, target_lch, lengths)
    return (de * mask).sum(-1) / mask.sum(-1).clamp_min(1.0)


def palette_stop_costs(stop_logits: Tensor, lengths: Tensor) -> Tensor:
    """Per-palette stop-token BCE, (B,): target 0 before ``lengths[b]``, 1 at it, rest ignored."""
    steps = torch.arange(stop_logits.shape[1], device=stop_logits.device).unsqueeze(0)
    target = (steps == lengths.unsqueeze(1)).to(stop_logits.dtype)
    valid = (steps <= lengths.unsqueeze(1)).to(stop_logits.dtype)
    bce = F.binary_cross_entropy_with_logits(stop_logits, target, reduction="none")
    return (bce * valid).sum(-1) / valid.sum(-1).clamp_min(1.0)


def one_to_many_loss(
    model: Any,
    batch: Mapping[str, Any],
    weights: LossWeights,
    *,
    draws: int,
    noise_scale: float,
    generator: torch.Generator | None,
    relax: float = 0.05,
) -> tuple[Tensor, dict[str, float]]:
    """Loss of one batch with ``draws`` noise draws against all ``K`` candidates per window.

    Parameters
    ----------
    model
        A ``Music2Palette``.
    batch
        From ``training.dataset.collate`` (``targets_lch`` (B, K, n, 3), ``targets_lengths``
        (B, K), ``valence_arousal``, ``emotion``, ``features``, ``frame_mask``,
        ``teacher_tags``).
    weights
        Loss weights (``colour``, ``stop``, ``hue``, ``emotion_*``, ``va``, ``emotion_head``,
        ``free_running``, ``tags``).
    draws
        Noise draws ``M`` per window.
    noise_scale
        Standard deviation of the embedding noise in training.
    generator
        CPU generator for the noise (seeded, so runs repeat).
    relax
        Weight of the mean over all (draw, candidate) pairs.

    Returns
    -------
    total, parts
        The scalar to minimise and its unweighted terms as floats (``colour`` is the winning
        draws' CIEDE2000, ``spread`` the mean CIEDE2000 between the free-running draws).
    """
    enc = model.encode(batch["features"], batch["frame_mask"])
    targets, t_len = batch["targets_lch"], batch["targets_lengths"]
    b, k, n, _ = targets.shape
    if model.config.component_head:
        return _family_loss(model, enc, batch, weights, noise_scale=noise_scale,
                            generator=generator)
    mixture = int(model.config.noise_components)
    m = mixture or int(draws)
    d = enc.embedding.shape[-1]
    eps = torch.randn(b, m, d, generator=generator).to(enc.embedding)
    noisy = enc.embedding.unsqueeze(1) + float(noise_scale) * eps  # (B, M, d)
    if mixture:
        noisy = noisy + model.noise_offsets(torch.arange(m)).to(noisy).unsqueeze(0)

    # Teacher forcing on the (B, M, K) grid.
    rows = torch.arange(b, device=noisy.device).repeat_interleave(m * k)
    grid = dataclasses.replace(
        enc.select(rows), embedding=noisy.unsqueeze(2).expand(b, m, k, d).reshape(-1, d)
    )
    flat_targets = targets.unsqueeze(1).expand(b, m, k, n, 3).reshape(-1, n, 3)
    flat_len = t_len.unsqueeze(1).expand(b, m, k).reshape(-1)
    lch, stop_logits = model.teacher_forced(grid, flat_targets)
    colour = palette_colour_costs(lch, flat_targets, flat_len).view(b, m, k)
    stop = palette_stop_costs(stop_logits, flat_len).view(b, m, k)
    cost = weights.colour * colour + weights.stop * stop
    if mixture:
        pairs = _one_to_one(cost)  # (B, M, K) 0/1
        teacher = (cost * pairs).sum() / pairs.sum() + relax * cost.mean()
        won = pairs.bool()
        parts = {"colour": float(colour[won].mean().detach()), "stop": float(stop[won].mean().detach())}
    else:
        best = cost.min(dim=1).values  # (B, K): every candidate charged to its nearest draw
        teacher = best.mean() + relax * cost.mean()
        winner = cost.argmin(dim=1, keepdim=True)
        parts = {
            "colour": float(colour.gather(1, winner).mean().detach()),
            "stop": float(stop.gather(1, winner).mean().detach()),
        }

    total = teacher
    if weights.free_running > 0:
        free, free_parts = _free_running(model, enc, noisy, targets, t_len, batch, weights, relax,
                                         pairing="hungarian" if mixture else "nearest")
        total = total + weights.free_running * free
        parts.update(free_parts)

    return _with_music_heads(total, parts, enc, batch, weights)


def _family_loss(model, enc, batch, weights, *, noise_scale, generator):
    """The family-conditioned mixture (see the module docstring): draw ``k`` = centre of
    candidate ``k``'s family + Gaussian, trained toward candidate ``k``."""
    targets, t_len, family = batch["targets_lch"], batch["targets_lengths"], batch["targets_family"]
    b, k, n, _ = targets.shape
    d = enc.embedding.shape[-1]
    eps = torch.randn(b, k, d, generator=generator).to(enc.embedding)
    noisy = (enc.embedding.unsqueeze(1) + float(noise_scale) * eps
             + model.noise_offsets(family.reshape(-1)).to(eps).view(b, k, d))

    rows = torch.arange(b, device=noisy.device).repeat_interleave(k)
    grid = dataclasses.replace(enc.select(rows), embedding=noisy.reshape(-1, d))
    flat_targets, flat_len = targets.reshape(-1, n, 3), t_len.reshape(-1)
    lch, stop_logits = model.teacher_forced(grid, flat_targets)
    colour = palette_colour_costs(lch, flat_targets, flat_len)
    stop = palette_stop_costs(stop_logits, flat_len)
    total = weights.colour * colour.mean() + weights.stop * stop.mean()
    parts = {"colour": float(colour.mean().detach()), "stop": float(stop.mean().detach())}
    if weights.free_running > 0:
        free, free_parts = _free_running(model, enc, noisy, targets, t_len, batch, weights, 0.0,
                                         pairing="own")
        total = total + weights.free_running * free
        parts.update(free_parts)

    share = F.one_hot(family, model.config.noise_components).to(enc.embedding).mean(1)  # (B, K')
    log_p = torch.log_softmax(model.heads.component_head(enc.embedding), dim=-1)
    component = -(share * log_p).sum(-1).mean()
    total = total + weights.component * component
    parts["component"] = float(component.detach())
    return _with_music_heads(total, parts, enc, batch, weights)


def _with_music_heads(total, parts, enc, batch, weights):
    """Add the valence-arousal, emotion-head and teacher-tag terms; finish ``parts``."""
    va = va_loss(enc.valence_arousal, batch["valence_arousal"])
    head = emotion_head_loss(enc.emotion_logits, batch["emotion"])
    total = total + weights.va * va + weights.emotion_head * head
    parts.update(va=float(va.detach()), emotion_head=float(head.detach()))
    if enc.tag_logits is not None and weights.tags > 0:
        tags = teacher_tag_loss(enc.tag_logits, batch["teacher_tags"])
        total = total + weights.tags * tags
        parts["tags"] = float(tags.detach())
    parts["total"] = float(total.detach())
    return total, parts


def _free_running(model, enc, noisy, targets, t_len, batch, weights, relax, *, pairing="nearest"):
    """Set-level terms on freely generated palettes, one per draw (see the module docstring).

    ``pairing``: ``"nearest"`` (each draw follows its nearest candidate), ``"hungarian"``
    (one-to-one) or ``"own"`` (draw ``m`` belongs to candidate ``m``).
    """
    b, m, d = noisy.shape
    k, n = targets.shape[1], targets.shape[2]
    rows = torch.arange(b, device=noisy.device).repeat_interleave(m)
    enc_draws = dataclasses.replace(enc.select(rows), embedding=noisy.reshape(-1, d))
    gen, _, gen_stop = model.generate(enc_draws, num_colors=n, return_stop_logits=True)

    if pairing == "own":
        own = palette_colour_costs(gen, targets.reshape(-1, n, 3), t_len.reshape(-1)).view(b, m)
        colour = coverage = fit = own.mean()
        nearest = torch.arange(m, device=noisy.device).expand(b, m)
        return _draw_terms(model, gen, gen_stop, enc_draws, targets, t_len, batch, weights,
                           nearest, colour, coverage, fit, relax, b, m)

    # Colour cost of every draw against every candidate: (B, M, K).
    gen_grid = gen.unsqueeze(1).expand(-1, k, -1, -1).reshape(-1, gen.shape[1], 3)
    t_grid = targets.unsqueeze(1).expand(b, m, k, n, 3).reshape(-1, n, 3)
    len_grid = t_len.unsqueeze(1).expand(b, m, k).reshape(-1)
    colour = palette_colour_costs(gen_grid, t_grid, len_grid).view(b, m, k)
    if pairing == "hungarian":
        pairs = _one_to_one(colour)
        coverage = fit = (colour * pairs).sum() / pairs.sum()
        # Draws left without a candidate (M > K) follow their nearest one.
        nearest = torch.where(pairs.sum(2) > 0, pairs.argmax(2), colour.argmin(2))
    else:
        coverage = colour.min(dim=1).values.mean()  # every candidate reachable by some draw
        nearest = colour.argmin(dim=2)  # (B, M): the candidate each draw is closest to
        fit = colour.min(dim=2).values.mean()  # every draw close to some candidate
    return _draw_terms(model, gen, gen_stop, enc_draws, targets, t_len, batch, weights,
                       nearest, colour.mean(), coverage, fit, relax, b, m)


def _draw_terms(model, gen, gen_stop, enc_draws, targets, t_len, batch, weights, nearest,
                mean_colour, coverage, fit, relax, b, m):
    """Emotion, hue and stop of each draw against the candidate ``nearest`` (B, M) names."""
    k, n = targets.shape[1], targets.shape[2]
    pick = nearest.reshape(-1)
    draw_rows = torch.arange(b * m, device=gen.device)
    own_target = targets.unsqueeze(1).expand(b, m, k, n, 3).reshape(b * m, k, n, 3)[draw_rows, pick]
    own_len = t_len.unsqueeze(1).expand(b, m, k).reshape(b * m, k)[draw_rows, pick]
    hue = hue_diversity_loss(gen, own_target, own_len)
    emo, emo_music, emo_truth = emotion_consistency_loss(
        gen, own_len, enc_draws.emotion, batch["emotion"].repeat_interleave(m, dim=0),
        w_music=weights.emotion_music, w_truth=weights.emotion_truth,
    )
    stop = palette_stop_costs(gen_stop, own_len).mean()
    total = (weights.colour * (0.5 * coverage + 0.5 * fit + relax * mean_colour)
             + weights.hue * hue + emo + weights.stop * stop)
    with torch.no_grad():
        spread = _draw_spread(gen, own_len, b, m)
    return total, {
        "gen_colour": float(fit.detach()),
        "gen_coverage": float(coverage.detach()),
        "gen_hue": float(hue.detach()),
        "gen_emotion_music": float(emo_music.detach()),
        "gen_emotion_truth": float(emo_truth.detach()),
        "gen_stop": float(stop.detach()),
        "spread": spread,
    }


def _one_to_one(cost: Tensor) -> Tensor:
    """(B, M, K) 0/1 float: the Hungarian pairing of draws and candidates of each window."""
    from scipy.optimize import linear_sum_assignment

    c = cost.detach().cpu().numpy()
    out = torch.zeros_like(cost)
    for i in range(c.shape[0]):
        rows, cols = linear_sum_assignment(c[i])
        out[i, rows, cols] = 1.0
    return out


def _draw_spread(gen: Tensor, lengths: Tensor, b: int, m: int) -> float:
    """Mean matched CIEDE2000 between the first two draws of each window (a Multimodality)."""
    if m < 2:
        return 0.0
    g = gen.view(b, m, *gen.shape[1:])
    ln = lengths.view(b, m)
    common = torch.minimum(ln[:, 0], ln[:, 1]).clamp_min(1)
    n = int(common.max())
    return float(palette_colour_costs(g[:, 0, :n], g[:, 1, :n], common).mean())
