"""The music encoder: from a window of audio samples to a music embedding and a patch memory.

An encoder states what it hears (:class:`EncoderInput`: sample rate, hop between feature
frames, feature width) and computes its own features from the samples; the palette engine
reads those from the model (``Music2Palette.encoder.input``) to decode the audio, lay out the
windows on the frame grid and cut them, so swapping the encoder touches this folder and a
config (``ModelConfig.encoder``), nothing else.

The contract (:class:`MusicEncoder`)::

    encoder.input                  EncoderInput(sample_rate, hop_length, feature_dim)
    encoder.features(waves)        (B, n) samples at input.sample_rate -> (B, T, feature_dim)
    encoder.frame_stream(device)   optional: frames computed once over a stream (or None)
    encoder(features, frame_mask)  -> EncoderOutput: embedding (B, d), memory (B, S, d), mask

:class:`~m2p.model.network.Music2Palette` adds the heads' predictions and hands on a
:class:`MusicEncoding`.

The shipped encoder, :class:`AstEncoder` (``"ast"``), data flow (shapes with batch ``B``,
frames ``T``, patches ``S = ceil(T / P)``, width ``d``)::

    features (B, T, 539) --standardise--> patches (B, S, P*539) --Linear--> (B, S, d)
    [CLS; patches] + sinusoidal time position --TransformerEncoder--> (B, 1+S, d)
    CLS output (+ summary branch: Linear of the frames' mean and std and the window's music
        cues, when ``summary_features``) = music embedding (B, d); patch outputs = memory

Masks follow one convention throughout this package: ``True`` marks a **real** frame / patch,
``False`` padding (the opposite of PyTorch's ``key_padding_mask``, which is converted inside).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from m2p.errors import InvalidArgumentError
from m2p.features.cues import CUE_NAMES, window_cues
from m2p.features.frames import FEATURE_DIM, HOP_LENGTH, SAMPLE_RATE, extract_features, standardise
from m2p.model.config import ModelConfig
from m2p.model.layers import sinusoidal_encoding

__all__ = [
    "EncoderInput",
    "EncoderOutput",
    "MusicEncoding",
    "MusicEncoder",
    "AstEncoder",
    "ENCODERS",
    "DEFAULT_INPUT",
    "build_encoder",
]


@dataclass(frozen=True)
class EncoderInput:
    """What an encoder hears.

    Attributes
    ----------
    sample_rate
        Rate of the mono samples it takes, Hz (the audio is decoded or resampled to it).
    hop_length
        Samples between its feature frames: windows start on this grid, and a track's hop is
        a whole number of it.
    feature_dim
        Width of one of its feature frames.
    """

    sample_rate: int
    hop_length: int
    feature_dim: int


#: What the default encoder (``"ast"``, :class:`AstEncoder`) hears: 22,050 Hz, frames every 512
#: samples, the 539 features of :mod:`m2p.features.frames`.
DEFAULT_INPUT = EncoderInput(SAMPLE_RATE, HOP_LENGTH, FEATURE_DIM)


@dataclass
class EncoderOutput:
    """What an encoder returns.

    Attributes
    ----------
    embedding
        (B, d) music embedding, without noise.
    memory
        (B, S, d) outputs of the S time patches (what a memory-conditioned decoder attends to).
    memory_mask
        (B, S) bool, True for patches holding at least one real frame; None when all are real.
    """

    embedding: Tensor
    memory: Tensor
    memory_mask: Tensor | None


@dataclass
class MusicEncoding:
    """Output of :meth:`Music2Palette.encode <m2p.model.network.Music2Palette.encode>`: the
    encoder's output and the heads' predictions.

    Attributes
    ----------
    embedding
        (B, d) music embedding (encoder output at the CLS token), without noise.
    memory
        (B, S, d) encoder outputs of the S time patches.
    memory_mask
        (B, S) bool, True for patches holding at least one real frame; None when all are real.
    valence_arousal
        (B, 2) predicted valence and arousal in [-1, 1].
    emotion
        (B, 8) predicted emotion distribution (sums to 1), ``m2p.colour.emotion.EMOTIONS`` order.
    emotion_logits
        (B, 8) the logits behind ``emotion`` (for cross-entropy losses in training).
    tag_logits
        (B, teacher_tags) logits of the pretrained taggers' tags, or None without that head.
    """

    embedding: Tensor
    memory: Tensor
    memory_mask: Tensor | None
    valence_arousal: Tensor
    emotion: Tensor
    emotion_logits: Tensor = field(repr=False)
    tag_logits: Tensor | None = field(default=None, repr=False)

    def select(self, index: Tensor | slice | int) -> "MusicEncoding":
        """Return the encoding of a subset of the batch (index along dimension 0)."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return MusicEncoding(
            embedding=self.embedding[index],
            memory=self.memory[index],
            memory_mask=None if self.memory_mask is None else self.memory_mask[index],
            valence_arousal=self.valence_arousal[index],
            emotion=self.emotion[index],
            emotion_logits=self.emotion_logits[index],
            tag_logits=None if self.tag_logits is None else self.tag_logits[index],
        )


class MusicEncoder(nn.Module):
    """Base class of the music encoders (the contract is the module docstring's).

    Subclasses set :attr:`input`, implement :meth:`features` and :meth:`forward`, and may offer
    a :meth:`frame_stream`. Their parameters and buffers are saved with the model's (under
    their own names, which must differ from the heads' and the decoder's).
    """

    input: EncoderInput

    def features(self, waves: Tensor) -> Tensor:  # pragma: no cover - abstract
        """Raw features ``(B, T, input.feature_dim)`` of windows ``(B, n)`` analysed alone
        (mono samples at ``input.sample_rate``, on the model's device)."""
        raise NotImplementedError

    def frame_stream(self, device: torch.device) -> Any | None:
        """An object computing each feature frame once over a stream, from which windows on the
        ``input.hop_length`` grid are cut with the features each would have alone
        (:class:`m2p.features.stream.FrameStream` is the model: ``push``, ``forget_before``,
        ``edges``, ``window_features``, ``min_window_samples``); None (the default) analyses
        every window alone."""
        return None

    def forward(self, features: Tensor, frame_mask: Tensor | None = None
                ) -> EncoderOutput:  # pragma: no cover - abstract
        raise NotImplementedError


class AstEncoder(MusicEncoder):
    """AST-style transformer over the 539 feature frames (the module docstring's data flow).

    Parameters
    ----------
    config
        ``feature_dim``, ``d_model``, ``encoder_layers``, ``encoder_heads``, ``ff_dim``,
        ``patch_frames``, ``dropout`` and ``summary_features`` are read.

    Notes
    -----
    ``feature_mean`` and ``feature_std`` (buffers, shape (feature_dim,)) standardise raw
    features inside :meth:`forward`; with ``summary_features``, ``cue_mean`` and ``cue_std``
    (shape (5,)) do the same for the music cues. Training sets them from corpus statistics and
    they are saved with the weights.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = self.config = config
        d = c.d_model
        self.input = EncoderInput(SAMPLE_RATE, HOP_LENGTH, c.feature_dim)
        self.register_buffer("feature_mean", torch.zeros(c.feature_dim))
        self.register_buffer("feature_std", torch.ones(c.feature_dim))
        self.patch_embed = nn.Linear(c.patch_frames * c.feature_dim, d)
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        enc_layer = nn.TransformerEncoderLayer(
            d, c.encoder_heads, c.ff_dim, c.dropout,
            activation="gelu", batch_first=True, norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            enc_layer, c.encoder_layers, norm=nn.LayerNorm(d), enable_nested_tensor=False
        )
        # Summary branch: whole-window statistics that patch attention learns poorly from little
        # data (key-profile mode above all), added to the CLS output.
        if c.summary_features:
            self.register_buffer("cue_mean", torch.zeros(len(CUE_NAMES)))
            self.register_buffer("cue_std", torch.ones(len(CUE_NAMES)))
            self.summary_proj = nn.Sequential(
                nn.Dropout(c.dropout), nn.Linear(2 * c.feature_dim + len(CUE_NAMES), d)
            )

    def features(self, waves: Tensor) -> Tensor:
        """:func:`m2p.features.frames.extract_features` of each window."""
        return extract_features(waves)

    def frame_stream(self, device: torch.device) -> Any:
        """A :class:`m2p.features.stream.FrameStream` on ``device``."""
        from m2p.features.stream import FrameStream

        return FrameStream(device)

    def forward(self, features: Tensor, frame_mask: Tensor | None = None) -> EncoderOutput:
        """Encode raw feature frames.

        Parameters
        ----------
        features
            (B, T, feature_dim) raw (not standardised) features from ``m2p.features.frames``.
        frame_mask
            (B, T) bool, True for real frames, False for padding; None when all are real.
            Padded frames do not influence the result: a window padded with masked frames
            encodes like the unpadded window.

        Returns
        -------
        EncoderOutput
            Embedding (B, d), patch memory (B, S, d) with S = ceil(T / patch_frames), its mask.
        """
        c = self.config
        if features.dim() != 3 or features.shape[-1] != c.feature_dim:
            raise InvalidArgumentError(
                f"features must have shape (B, T, {c.feature_dim}), got {tuple(features.shape)}"
            )
        batch, frames, _ = features.shape
        if frame_mask is not None and frame_mask.shape != (batch, frames):
            raise InvalidArgumentError(
                f"frame_mask must have shape {(batch, frames)}, got {tuple(frame_mask.shape)}"
            )
        x = standardise(features.to(self.feature_mean.dtype), self.feature_mean, self.feature_std)
        if frame_mask is not None:
            frame_mask = frame_mask.to(torch.bool)
            x = x * frame_mask.unsqueeze(-1).to(x.dtype)

        # Patch along time: zero-pad to a multiple of P, flatten P frames, project.
        p = c.patch_frames
        n_patches = -(-frames // p)
        pad = n_patches * p - frames
        padded = nn.functional.pad(x, (0, 0, 0, pad)) if pad else x
        tokens = self.patch_embed(padded.reshape(batch, n_patches, p * c.feature_dim))
        tokens = tokens + sinusoidal_encoding(
            torch.arange(n_patches, device=tokens.device), c.d_model
        ).to(tokens.dtype)

        patch_mask: Tensor | None = None
        if frame_mask is not None:
            fm = nn.functional.pad(frame_mask, (0, pad), value=False)
            patch_mask = fm.reshape(batch, n_patches, p).any(dim=-1)
            if bool(patch_mask.all()):
                patch_mask = None

        seq = torch.cat([self.cls_token.expand(batch, -1, -1).to(tokens.dtype), tokens], dim=1)
        key_padding = None
        if patch_mask is not None:
            cls_valid = torch.ones(batch, 1, dtype=torch.bool, device=seq.device)
            key_padding = ~torch.cat([cls_valid, patch_mask], dim=1)
        out = self.encoder(seq, src_key_padding_mask=key_padding)

        embedding = out[:, 0]
        if c.summary_features:
            embedding = embedding + self.summary_proj(self._summary(features, x, frame_mask))
        return EncoderOutput(embedding=embedding, memory=out[:, 1:], memory_mask=patch_mask)

    def _summary(self, features: Tensor, standardised: Tensor, frame_mask: Tensor | None) -> Tensor:
        """(B, 2 * feature_dim + 5): mean and std of the standardised frames, standardised cues.

        ``standardised`` is the (B, T, feature_dim) input with padded frames zeroed.
        """
        if frame_mask is None:
            valid = standardised.new_ones(*standardised.shape[:2], 1)
        else:
            valid = frame_mask.unsqueeze(-1).to(standardised.dtype)
        count = valid.sum(dim=1).clamp_min(1.0)
        mean = standardised.sum(dim=1) / count
        var = (((standardised - mean.unsqueeze(1)) * valid) ** 2).sum(dim=1) / count
        cues = window_cues(features, frame_mask).to(standardised.dtype)
        cues = (cues - self.cue_mean) / self.cue_std.clamp_min(1e-8)
        return torch.cat([mean, torch.sqrt(var + 1e-8), cues], dim=-1)


#: The encoders a config can name (``ModelConfig.encoder``) -> a constructor taking the config.
#: A new pretrained encoder is a :class:`MusicEncoder` subclass added here.
ENCODERS: dict[str, Callable[[ModelConfig], MusicEncoder]] = {
    "ast": AstEncoder,
}


def build_encoder(config: ModelConfig) -> MusicEncoder:
    """The encoder ``config.encoder`` names.

    Raises
    ------
    InvalidArgumentError
        No such encoder.
    """
    try:
        factory = ENCODERS[config.encoder]
    except KeyError:
        raise InvalidArgumentError(f"unknown encoder {config.encoder!r}; one of "
                                   f"{', '.join(sorted(ENCODERS))}") from None
    return factory(config)
