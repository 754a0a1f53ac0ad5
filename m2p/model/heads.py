"""The heads on the music embedding: emotion, teacher tags, palette families, length keys.

* emotion: valence-arousal (B, 2) and the 8 Russell categories (``m2p.colour.emotion``);
* teacher tags (``teacher_tags`` > 0): logits of pretrained musicnn taggers' tags, trained by
  distillation (``training.corpus.teachers``);
* palette families (``noise_components`` > 0): the mixture centres added to the embedding's
  noise and, with ``component_head``, how characteristic each family is of the music, which
  chooses the centre (alternative ``a`` is the ``(a mod ALTERNATIVES)``-th best family);
* length keys (``length_keying``): the music's standardised projection on a fixed direction,
  which moves the seed's stop quantile (:func:`keyed_quantiles`).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from m2p.colour.emotion import N_EMOTIONS
from m2p.model.config import ModelConfig

__all__ = ["ALTERNATIVES", "MusicHeads", "keyed_quantiles"]

#: Families a ``component_head`` model offers as alternatives (seeds cycle through the best
#: ones): the paper's matcher keeps five candidate palettes per window.
ALTERNATIVES = 5


class MusicHeads(nn.Module):
    """Every head on the music embedding (which exist depends on the config).

    Parameters
    ----------
    config
        ``d_model``, ``teacher_tags``, ``noise_components``, ``component_head``,
        ``family_timbre_weight`` and ``length_keying`` are read.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = self.config = config
        d = c.d_model
        # Teacher-tag head: taggers trained on ~200k songs hear timbre and mood that 22 h of
        # game music cannot teach the encoder; predicting their tags passes that on (model v2).
        if c.teacher_tags:
            self.tag_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, c.teacher_tags))
        if c.noise_components:
            # Centres as far apart as unit Gaussian draws, so each starts on its own palette.
            self.noise_centres = nn.Parameter(torch.randn(c.noise_components, d))
        if c.component_head:
            self.component_head = nn.Sequential(
                nn.Linear(d, d), nn.GELU(), nn.Linear(d, c.noise_components)
            )
            # log of each family's share of the training candidates (set by training).
            self.register_buffer(
                "component_log_prior",
                torch.full((c.noise_components,), -math.log(c.noise_components)),
            )
            if c.teacher_tags and c.family_timbre_weight > 0:
                # Fixed unit directions in tag space, one per family (seeded: the same on every
                # machine, never trained, so not saved with the weights).
                directions = torch.randn(c.noise_components, c.teacher_tags,
                                         generator=torch.Generator().manual_seed(2025))
                self.register_buffer("family_directions",
                                     directions / directions.norm(dim=1, keepdim=True),
                                     persistent=False)
                # Mean and spread of the tag logits over the training windows (set by
                # training.calibrate): the timbre is how a song differs from training music.
                self.register_buffer("tag_logit_mean", torch.zeros(c.teacher_tags))
                self.register_buffer("tag_logit_std", torch.ones(c.teacher_tags))
        if c.length_keying:
            # A fixed unit direction of the embedding space (seeded, never trained, not saved)
            # and the mean and spread of the music's projection on it over the training windows
            # (set by training.calibrate).
            direction = torch.randn(d, generator=torch.Generator().manual_seed(2026))
            self.register_buffer("length_direction", direction / direction.norm(), persistent=False)
            self.register_buffer("length_key_mean", torch.zeros(()))
            self.register_buffer("length_key_std", torch.ones(()))
        # Emotion head: 2 valence-arousal values + 8 emotion logits.
        self.emotion_head = nn.Sequential(
            nn.Linear(d, d), nn.GELU(), nn.Linear(d, 2 + N_EMOTIONS)
        )

    def emotion(self, embedding: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Valence-arousal (B, 2) in [-1, 1], emotion distribution (B, 8) and its logits (B, 8)."""
        head = self.emotion_head(embedding)
        logits = head[:, 2:]
        return torch.tanh(head[:, :2]), torch.softmax(logits, dim=-1), logits

    def tags(self, embedding: Tensor) -> Tensor | None:
        """Teacher-tag logits (B, teacher_tags), or None without that head."""
        return self.tag_head(embedding) if self.config.teacher_tags else None

    def family_scores(self, embedding: Tensor) -> Tensor | None:
        """How characteristic each palette family is of the music, (B, K), or None without
        ``component_head`` (:meth:`m2p.model.network.Music2Palette.component_scores`)."""
        if not self.config.component_head:
            return None
        log_p = torch.log_softmax(self.component_head(embedding), dim=-1)
        scores = log_p - self.component_log_prior.to(log_p)
        weight = float(self.config.family_timbre_weight)
        if weight and self.config.teacher_tags:
            tags = (self.tag_head(embedding) - self.tag_logit_mean) / self.tag_logit_std.clamp_min(1e-6)
            timbre = tags / tags.norm(dim=-1, keepdim=True).clamp_min(1e-6)
            scores = scores + weight * timbre @ self.family_directions.to(timbre).T
        return scores

    def music_offsets(self, scores: Tensor | None, alternatives: list[int] | tuple[int, ...]
                      ) -> Tensor:
        """Centres chosen by the music, (B, S, d), for the S alternative numbers; zeros
        (1, S, d) when ``scores`` is None
        (:meth:`m2p.model.network.Music2Palette.music_offsets`)."""
        alternatives = [int(a) for a in alternatives]
        if scores is None:
            return torch.zeros(1, len(alternatives), self.config.d_model, device=self._device())
        ranks = torch.tensor([a % ALTERNATIVES for a in alternatives], device=scores.device)
        order = torch.argsort(scores, dim=-1, descending=True, stable=True)  # (B, K)
        choice = order[:, ranks.clamp_max(scores.shape[-1] - 1)]  # (B, S)
        return self.noise_centres[choice.to(self.noise_centres.device)]

    def noise_offsets(self, choices: Tensor) -> Tensor:
        """Mixture centres (B, d) for component indices ``choices`` (B,) (taken modulo ``K``);
        zeros without mixture components."""
        d = self.config.d_model
        choices = torch.as_tensor(choices, dtype=torch.long).reshape(-1)
        if not self.config.noise_components:
            return torch.zeros(choices.shape[0], d, device=self._device())
        return self.noise_centres[choices.to(self.noise_centres.device) % self.config.noise_components]

    def length_keys(self, embedding: Tensor) -> Tensor | None:
        """The music's length key, (B,) about standard normal over training music, or None
        without ``length_keying``."""
        if not self.config.length_keying:
            return None
        projection = embedding @ self.length_direction.to(embedding)
        return (projection - self.length_key_mean) / self.length_key_std.clamp_min(1e-6)

    def _device(self) -> torch.device:
        return self.emotion_head[0].weight.device


def keyed_quantiles(quantiles: Tensor, keys: Tensor | None) -> Tensor:
    """Stop quantiles (B,) moved by the music's length keys (B,): ``Phi((Phi^-1(q) + z) /
    sqrt 2)``, uniform again when ``q`` is uniform and ``z`` standard normal; ``quantiles``
    unchanged when ``keys`` is None.
    """
    if keys is None:
        return quantiles
    normal = torch.distributions.Normal(0.0, 1.0)
    q = quantiles.to(keys.dtype).clamp(1e-4, 1 - 1e-4)
    return normal.cdf((normal.icdf(q) + keys) / math.sqrt(2.0)).clamp(0.02, 0.98)
