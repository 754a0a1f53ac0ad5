"""The Music2Palette network: a music encoder, heads on its embedding, a colour decoder.

The parts live in their own modules, as in Whisper's split of encoder, decoder and decoding:

* :mod:`m2p.model.encoder`: the music encoder (AST-style by default), which states what it
  hears (sample rate, hop, feature width);
* :mod:`m2p.model.heads`: emotion, teacher tags, palette families, length keys;
* :mod:`m2p.model.decoder`: the autoregressive colour decoder and its step cache;
* :mod:`m2p.model.decoding`: the one decode policy (seeds -> noise and stop quantiles ->
  family choice -> length keys -> generate), used by the engine for windows and whole pieces;
* :mod:`m2p.model.config`: :class:`~m2p.model.config.ModelConfig` and named presets.

:class:`Music2Palette` assembles them and keeps the methods training and the decode policy
call. Its state dict is *flat*, as the model folders on disk have always been
(``patch_embed.weight``, ``emotion_head.0.bias``, ``decoder.layers.0...``): the parts' own
names are dropped on saving and restored on loading, so every saved model loads unchanged.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import Tensor, nn

from m2p.errors import InvalidArgumentError
from m2p.model.config import ModelConfig
from m2p.model.decoder import LCH_SCALE, ColourDecoder
from m2p.model.encoder import EncoderInput, MusicEncoder, MusicEncoding, build_encoder
from m2p.model.heads import ALTERNATIVES, MusicHeads, keyed_quantiles

__all__ = ["ALTERNATIVES", "LCH_SCALE", "ModelConfig", "MusicEncoding", "Music2Palette"]

# The parts, in construction order (which fixes the order fresh weights are drawn in).
_PARTS = ("encoder", "heads", "decoder")


class Music2Palette(nn.Module):
    """Music-to-palette transformer (encoder, heads, autoregressive colour decoder).

    Parameters
    ----------
    config
        Network sizes; ``ModelConfig()`` when omitted.
    encoder
        The music encoder; by default the one ``config.encoder`` names
        (:func:`m2p.model.encoder.build_encoder`). Its embedding width must be
        ``config.d_model``.

    Attributes
    ----------
    encoder, heads, decoder
        The parts (:class:`~m2p.model.encoder.MusicEncoder`,
        :class:`~m2p.model.heads.MusicHeads`, :class:`~m2p.model.decoder.ColourDecoder`).
    metadata
        Free-form information saved with the weights (``load_model`` fills it from config.json).
    """

    def __init__(self, config: ModelConfig | None = None, *,
                 encoder: MusicEncoder | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else ModelConfig()
        self.metadata: dict[str, Any] = {}
        self.encoder = encoder if encoder is not None else build_encoder(self.config)
        self.heads = MusicHeads(self.config)
        self.decoder = ColourDecoder(self.config)
        self._owners = _owners(self)
        self._register_state_dict_hook(_flat_state_dict)
        self._register_load_state_dict_pre_hook(_nested_state_dict, with_module=True)

    @property
    def input(self) -> EncoderInput:
        """What the encoder hears: sample rate, hop between frames, feature width."""
        return self.encoder.input

    # ------------------------------------------------------------------ public API

    def encode(self, features: Tensor, frame_mask: Tensor | None = None) -> MusicEncoding:
        """Encode raw feature frames and run the heads.

        Parameters
        ----------
        features, frame_mask
            Raw features (B, T, feature_dim) from the encoder's ``features`` and the mask of
            the real frames, as the encoder takes them (:meth:`AstEncoder.forward
            <m2p.model.encoder.AstEncoder.forward>` for the shipped one).

        Returns
        -------
        MusicEncoding
            Embedding (B, d), patch memory (B, S, d), its mask, and the heads' predictions.
        """
        out = self.encoder(features, frame_mask)
        valence_arousal, emotion, logits = self.heads.emotion(out.embedding)
        return MusicEncoding(
            embedding=out.embedding,
            memory=out.memory,
            memory_mask=out.memory_mask,
            valence_arousal=valence_arousal,
            emotion=emotion,
            emotion_logits=logits,
            tag_logits=self.heads.tags(out.embedding),
        )

    def forward(
        self,
        features: Tensor,
        frame_mask: Tensor | None,
        target_lch: Tensor,
        *,
        noise_scale: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor, MusicEncoding]:
        """Teacher-forced pass for training.

        Parameters
        ----------
        features, frame_mask
            As in :meth:`encode`.
        target_lch
            (B, n, 3) ground-truth palette in LCh units (L, C, h in degrees); colour ``i`` is
            fed to predict colour ``i + 1``.
        noise_scale
            Standard deviation of the Gaussian noise added to the music embedding.
        generator
            Source of that noise (seeded runs are reproducible).

        Returns
        -------
        lch
            (B, n + 1, 3) predicted colour at each step in LCh units; step ``i`` predicts
            colour ``i`` (0-based); step ``n`` has no target.
        stop_logits
            (B, n + 1) logit that the palette ends after ``i`` colours, at step ``i``
            (target 0 for ``i < n``, 1 at ``i = n``).
        encoding
            The :class:`MusicEncoding` (embedding without noise).
        """
        if target_lch.dim() != 3 or target_lch.shape[-1] != 3:
            raise InvalidArgumentError(f"target_lch must have shape (B, n, 3), got {tuple(target_lch.shape)}")
        encoding = self.encode(features, frame_mask)
        lch, stop_logits = self.teacher_forced(encoding, target_lch, noise_scale=noise_scale,
                                               generator=generator)
        return lch, stop_logits, encoding

    def teacher_forced(
        self,
        encoding: MusicEncoding,
        target_lch: Tensor,
        *,
        noise_scale: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Teacher-forced decoding of an existing encoding (see :meth:`forward`).

        Training decodes one encoding against several targets and noise draws with this,
        without encoding the audio again.

        Returns
        -------
        lch, stop_logits
            (B, n + 1, 3) and (B, n + 1), as in :meth:`forward`.
        """
        if target_lch.dim() != 3 or target_lch.shape[-1] != 3:
            raise InvalidArgumentError(f"target_lch must have shape (B, n, 3), got {tuple(target_lch.shape)}")
        memory, memory_pad = self.decoder.memory(encoding, noise_scale, generator)
        hidden = self.decoder(target_lch.to(memory.dtype), memory, memory_pad)
        return self.decoder.colours(hidden), self.decoder.stop_head(hidden).squeeze(-1)

    def generate(
        self,
        encoding: MusicEncoding,
        *,
        noise_scale: float = 0.0,
        generator: torch.Generator | None = None,
        num_colors: int | None = None,
        return_stop_logits: bool = False,
        stop_quantile: Tensor | None = None,
    ) -> tuple[Tensor, Tensor] | tuple[Tensor, Tensor, Tensor]:
        """Decode palettes autoregressively (greedy; the noise supplies diversity).

        Parameters
        ----------
        encoding
            From :meth:`encode`.
        noise_scale
            Standard deviation of the Gaussian noise added to the music embedding
            (0 = deterministic).
        generator
            Source of that noise; the same seed gives the same palettes.
        num_colors
            Force exactly this many colours (1 to ``max_colors``) instead of letting the stop
            token decide.
        return_stop_logits
            Also return the stop logit of every decoded step (training supervises the stop
            token on the model's own colours with it).
        stop_quantile
            (B,) numbers in (0, 1): stop at the first step where the probability that the
            palette has ended by then (from the stop token's per-step probabilities, steps from
            ``min_colors`` on) reaches this quantile, i.e. draw the length from the decoder's own
            length distribution with a fixed uniform number (:meth:`stop_quantiles`). None: stop
            when the stop probability exceeds 0.5 (always the most common length).

        Returns
        -------
        lch
            (B, max_colors, 3) colours in LCh units; entries at and after ``lengths[b]`` are 0.
        lengths
            (B,) int64 palette lengths. Item ``b`` stops at the first step ``i`` with
            ``min_colors <= i`` and stop probability > 0.5 (or, with ``stop_quantile``, the
            quantile rule), else at ``max_colors``.
        stop_logits
            Only with ``return_stop_logits``: (B, S) logit that the palette ends after ``i``
            colours, for the S steps decoded (S <= max_colors).

        Notes
        -----
        Runs with gradients if they are enabled; wrap in ``torch.inference_mode()`` for speed.
        """
        c = self.config
        if num_colors is not None and not 1 <= num_colors <= c.max_colors:
            raise InvalidArgumentError(f"num_colors must be in [1, {c.max_colors}], got {num_colors}")
        memory, memory_pad = self.decoder.memory(encoding, noise_scale, generator)
        lch, lengths, stop_logits = self.decoder.generate(memory, memory_pad, num_colors=num_colors,
                                                          stop_quantile=stop_quantile)
        if return_stop_logits:
            return lch, lengths, stop_logits
        return lch, lengths

    def noise_for(self, seeds: "list[int] | tuple[int, ...]", noise_scale: float) -> Tensor:
        """One embedding noise vector per seed, (len(seeds), d), on the model's device.

        ``noise_scale * N(0, I)`` drawn on the CPU from ``torch.Generator().manual_seed(seed)``
        (the same seed gives the same noise on any device), plus, for mixture models without
        ``component_head``, centre ``seed mod K``; with ``noise_scale == 0`` the result does not
        depend on the seed (zeros, or centre 0 for those mixture models, whose decoder was never
        trained without a centre). Add it to ``MusicEncoding.embedding`` (with
        :meth:`music_offsets`) and decode with ``noise_scale=0``.
        """
        d = self.config.d_model
        device = self._device()
        seeds = [int(s) for s in seeds]
        seed_centres = self.config.noise_components and not self.config.component_head
        if noise_scale > 0:
            gauss = torch.stack([torch.randn(d, generator=torch.Generator().manual_seed(s))
                                 for s in seeds]).to(device) * float(noise_scale)
            if seed_centres:
                gauss = gauss + self.noise_offsets(torch.tensor(seeds)).to(gauss)
            return gauss
        if seed_centres:
            return self.noise_offsets(torch.zeros(len(seeds), dtype=torch.long)).detach().clone()
        return torch.zeros(len(seeds), d, device=device)

    def component_scores(self, embedding: Tensor) -> "Tensor | None":
        """How characteristic each palette family is of the music, (B, K), or None.

        ``log p(k | music) - log p(k)`` from the component head (pointwise mutual information
        with the family's share of the training candidates): a family that fits the music no
        better than it fits music in general scores 0; plus, with ``family_timbre_weight``
        ``lambda``, ``lambda * cos(t, u_k)`` for the music's standardised tag logits ``t`` and
        the family's fixed direction ``u_k``. None without ``component_head``.

        Parameters
        ----------
        embedding
            (B, d) music embeddings (``MusicEncoding.embedding``, without noise).
        """
        return self.heads.family_scores(embedding)

    def music_offsets(self, scores: "Tensor | None", alternatives: "list[int] | tuple[int, ...]",
                      ) -> Tensor:
        """Centres chosen by the music, (B, S, d): for alternative number ``a`` (0 = the default
        palette), the centre of the ``(a mod ALTERNATIVES)``-th best family of each row of
        ``scores`` (B, K) from :meth:`component_scores` (possibly smoothed over time). Zeros
        (1, S, d) when ``scores`` is None.
        """
        return self.heads.music_offsets(scores, alternatives)

    @staticmethod
    def stop_quantiles(seeds: "list[int] | tuple[int, ...]", noise_scale: float) -> Tensor:
        """The ``stop_quantile`` of :meth:`generate` for each seed, (len(seeds),) on the CPU.

        A uniform number in (0.05, 0.95) drawn from the seed (the same for every window of a
        track, so a steady passage keeps its length); 0.5 (the median length) for every seed
        when ``noise_scale == 0``.
        """
        if noise_scale <= 0:
            return torch.full((len(seeds),), 0.5)
        draws = [torch.rand(1, generator=torch.Generator().manual_seed(int(s) + 7919))
                 for s in seeds]
        return 0.05 + 0.9 * torch.cat(draws)

    def length_keys(self, embedding: Tensor) -> "Tensor | None":
        """The music's length key, (B,) about standard normal over training music, or None
        without ``length_keying``.

        Parameters
        ----------
        embedding
            (B, d) music embeddings (``MusicEncoding.embedding``, without noise).
        """
        return self.heads.length_keys(embedding)

    @staticmethod
    def keyed_quantiles(quantiles: Tensor, keys: "Tensor | None") -> Tensor:
        """Stop quantiles (B,) moved by the music's length keys (B,): ``Phi((Phi^-1(q) + z) /
        sqrt 2)``, uniform again when ``q`` is uniform and ``z`` standard normal; ``quantiles``
        unchanged when ``keys`` is None.
        """
        return keyed_quantiles(quantiles, keys)

    def noise_offsets(self, choices: Tensor) -> Tensor:
        """Mixture centres (B, d) for component indices ``choices`` (B,) (taken modulo ``K``).

        Zeros without mixture components (``noise_components == 0``). Add them to the
        embedding together with the Gaussian noise: ``embedding + offsets + sigma * N(0, I)``.
        """
        return self.heads.noise_offsets(choices)

    def _device(self) -> torch.device:
        return self.decoder.start_token.device


def _owners(model: Music2Palette) -> dict[str, str]:
    """Top-level state name (a part's own parameter, buffer or submodule) -> the part holding
    it; the names must be unique over the parts, since saved state dicts are flat."""
    owners: dict[str, str] = {}
    for part in _PARTS:
        module = getattr(model, part)
        names = ({n for n, _ in module.named_children()}
                 | {n for n, _ in module.named_parameters(recurse=False)}
                 | {n for n, _ in module.named_buffers(recurse=False)})
        for name in names:
            if name in owners:
                raise InvalidArgumentError(f"the {part} and the {owners[name]} both hold {name!r}; "
                                           "state names must differ between the parts")
            owners[name] = part
    return owners


def _flat_state_dict(module: Music2Palette, state: "OrderedDict[str, Tensor]", prefix: str,
                     local_metadata: Any) -> None:
    """State-dict hook: ``encoder.patch_embed.weight`` is saved as ``patch_embed.weight``."""
    items = list(state.items())
    state.clear()
    for key, value in items:
        if key.startswith(prefix):
            part, dot, rest = key[len(prefix):].partition(".")
            if dot and part in _PARTS:
                key = prefix + rest
        state[key] = value


def _nested_state_dict(module: Music2Palette, state: "dict[str, Tensor]", prefix: str,
                       *args: Any) -> None:
    """Load pre-hook: the inverse of :func:`_flat_state_dict` (each key goes to the part that
    holds its first name; unknown names are left for ``load_state_dict`` to report)."""
    for key in [k for k in state if k.startswith(prefix)]:
        owner = module._owners.get(key[len(prefix):].split(".", 1)[0])
        if owner is not None:
            state[prefix + owner + "." + key[len(prefix):]] = state.pop(key)
