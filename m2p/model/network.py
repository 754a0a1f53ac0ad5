"""The Music2Palette network: an AST-style music encoder and an autoregressive colour decoder.

Data flow (shapes with batch ``B``, frames ``T``, patches ``S = ceil(T / P)``, width ``d``)::

    features (B, T, 539) --standardise--> patches (B, S, P*539) --Linear--> (B, S, d)
    [CLS; patches] + sinusoidal time position --TransformerEncoder--> (B, 1+S, d)
    CLS output (+ summary branch: Linear of the frames' mean and std and the window's music
        cues, when ``summary_features``) = music embedding (B, d)
        --> emotion head: valence-arousal (B, 2), emotion (B, 8)
        --> teacher-tag head (``teacher_tags`` > 0): logits of pretrained musicnn taggers'
            tags, trained by distillation (``training.corpus.teachers``)
    memory = [embedding + noise_scale * N(0, 1); patch outputs]   (B, 1+S, d)
        (``decoder_conditioning="embedding"``: memory = [noisy embedding] alone, and the start
        token is shifted by a projection of it, so the noise cannot be ignored)
    [start; embed(c_1) ... embed(c_n)] + colour-index position --TransformerDecoder(memory)-->
        per step: LCh head (sigmoid * LCH_SCALE) and stop logit

Masks follow one convention throughout this module: ``True`` marks a **real** frame / patch,
``False`` padding (the opposite of PyTorch's ``key_padding_mask``, which is converted inside).

Colours enter and leave the network in CIELCh units (L in [0, 100], C in [0, 150],
h in degrees [0, 360)); the decoder works on them normalised by :data:`LCH_SCALE`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import torch
from torch import Tensor, nn

from m2p.colour.emotion import N_EMOTIONS
from m2p.errors import InvalidArgumentError, ModelFormatError
from m2p.features.frames import standardise
from m2p.features.cues import CUE_NAMES, window_cues

#: The decoder's sigmoid outputs times this are L, C and h (degrees).
LCH_SCALE: tuple[float, float, float] = (100.0, 150.0, 360.0)

#: Number of emotion categories predicted, in the order of ``m2p.colour.emotion.EMOTIONS``:
#: excited, happy, content, calm, depressed, sad, afraid, angry.
#: Families a ``component_head`` model offers as alternatives (seeds cycle through the best
#: ones): the paper's matcher keeps five candidate palettes per window.
ALTERNATIVES = 5

# Keys a saved config must state explicitly (they fix tensor shapes or decoding behaviour);
# the others fall back to their defaults when absent.
_REQUIRED_KEYS = (
    "feature_dim",
    "d_model",
    "encoder_layers",
    "encoder_heads",
    "decoder_layers",
    "decoder_heads",
    "ff_dim",
    "patch_frames",
    "min_colors",
    "max_colors",
)


@dataclass
class ModelConfig:
    """Sizes and decoding settings of a :class:`Music2Palette` network.

    Parameters
    ----------
    feature_dim
        Width of one feature frame (539, see ``m2p.features.frames.FEATURE_DIM``).
    d_model
        Width of every token in encoder and decoder.
    encoder_layers, encoder_heads
        Depth and attention heads of the music encoder.
    decoder_layers, decoder_heads
        Depth and attention heads of the colour decoder (4 and 8 in the paper).
    ff_dim
        Hidden width of the feed-forward blocks.
    patch_frames
        Frames per patch ``P``: ``P`` consecutive frames (about 23.2 ms each) are flattened and
        linearly projected to one token, as in the Audio Spectrogram Transformer.
    dropout
        Dropout probability used in training (inactive in ``eval()``).
    min_colors, max_colors
        Palette length bounds enforced by :meth:`Music2Palette.generate`.
    noise_scale
        Standard deviation of the Gaussian noise added to the music embedding by default at
        inference (callers pass it on; the network methods default to 0, i.e. deterministic).
    summary_features
        Add a summary branch to the music embedding: the mean and standard deviation over the
        window of every standardised feature and the music cues of ``m2p.features.cues`` (mode,
        register, loudness, pitch, voicing), linearly projected. Off in the paper's design.
    teacher_tags
        Width of a head on the music embedding that predicts the tag scores of pretrained
        taggers (``m2p.model.musicnn``; distillation in training). The taggers themselves cost far
        more CPU than the whole pipeline may (``model/musicnn/README.md``), so the network
        learns what they hear instead of running them. 0 = no such head.
    noise_components
        0: the embedding noise is ``noise_scale * N(0, I)`` (the paper). ``K`` > 0: a mixture of
        ``K`` learnt centres plus that Gaussian (``centre_k + noise_scale * N(0, I)``), each
        centre trained to reach a different one of the window's emotion-matched candidate
        palettes; a seed ``s`` uses centre ``s mod K`` (:meth:`Music2Palette.noise_offsets`).
    component_head
        With ``noise_components``: let the music choose the component. A head on the music
        embedding predicts which palette family (``K`` families of corpus palettes, clustered by
        hue content in training) the window's emotion-matched candidates come from; seed 0 uses
        the family most characteristic of the music (highest ``log p(k | music) -
        log p(k)``, i.e. pointwise mutual information against the training frequency),
        alternative ``a`` (seed ``a`` of ``m2p.palette``, palette ``a`` of ``m2p.palettes``) the
        ``(a mod ALTERNATIVES)``-th most characteristic (:meth:`Music2Palette.component_scores`,
        :meth:`Music2Palette.music_offsets`). False: seed ``s`` uses centre ``s mod K``.
    family_timbre_weight
        With ``component_head`` and ``teacher_tags``: weight ``lambda`` (nats) of the timbre
        term in the family scores, ``lambda * cos(t, u_k)``, ``t`` the tag logits standardised
        by their training mean and spread (what the distilled taggers hear: instruments, genre,
        as it differs from the training music) and ``u_k`` a fixed direction per family. Songs of the same mood but different sound then get different families among
        those that fit the mood about equally (within ``2 lambda``). 0: mood alone.
    stop_temperature
        Temperature of the stop token in the seeded stop-quantile rule of
        :meth:`Music2Palette.generate` (calibrated after training so that palette lengths
        spread like the training palettes'; 1 = the raw stop probabilities).
    length_keying
        Let the music, not only the seed, choose where in the decoder's length distribution a
        palette stops: the seed's stop quantile is combined with the music's standardised
        projection on one fixed direction of the embedding space
        (:meth:`Music2Palette.length_keys`, :meth:`Music2Palette.keyed_quantiles`), so songs
        get lengths drawn from the decoder's own distribution instead of all its median; the
        same song and seed always the same one. Its statistics are set by
        ``training.calibrate``. False: the seed alone.
    decoder_conditioning
        ``"memory"``: the decoder attends to the noisy embedding and the patch outputs (the
        paper's design). ``"embedding"``: it attends to the noisy embedding alone, which also
        shifts the start token; the noise then chooses among palettes instead of being
        averaged away by the noise-free patch memory.
    """

    feature_dim: int = 539
    d_model: int = 256
    encoder_layers: int = 4
    encoder_heads: int = 8
    decoder_layers: int = 4
    decoder_heads: int = 8
    ff_dim: int = 1024
    patch_frames: int = 16
    dropout: float = 0.1
    min_colors: int = 3
    max_colors: int = 8
    noise_scale: float = 0.1
    summary_features: bool = False
    teacher_tags: int = 0
    noise_components: int = 0
    decoder_conditioning: str = "memory"
    component_head: bool = False
    family_timbre_weight: float = 0.0
    stop_temperature: float = 1.0
    length_keying: bool = False

    def __post_init__(self) -> None:
        for name in ("feature_dim", "d_model", "encoder_layers", "encoder_heads",
                     "decoder_layers", "decoder_heads", "ff_dim", "patch_frames",
                     "min_colors", "max_colors"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgumentError(f"ModelConfig.{name} must be a positive integer, got {value!r}")
        if self.d_model % self.encoder_heads or self.d_model % self.decoder_heads:
            raise InvalidArgumentError(
                f"d_model={self.d_model} must be divisible by encoder_heads="
                f"{self.encoder_heads} and decoder_heads={self.decoder_heads}"
            )
        if self.d_model % 2:
            raise InvalidArgumentError(f"d_model must be even (sinusoidal positions), got {self.d_model}")
        if self.max_colors < self.min_colors:
            raise InvalidArgumentError(
                f"max_colors={self.max_colors} is smaller than min_colors={self.min_colors}"
            )
        if not 0.0 <= float(self.dropout) < 1.0:
            raise InvalidArgumentError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not float(self.noise_scale) >= 0.0:
            raise InvalidArgumentError(f"noise_scale must be >= 0, got {self.noise_scale!r}")
        if not isinstance(self.summary_features, bool):
            raise InvalidArgumentError(f"summary_features must be true or false, got {self.summary_features!r}")
        for name in ("teacher_tags", "noise_components"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidArgumentError(f"{name} must be an integer >= 0, got {value!r}")
        for name in ("component_head", "length_keying"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgumentError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.component_head and not self.noise_components:
            raise InvalidArgumentError("component_head needs noise_components > 0")
        for name in ("family_timbre_weight", "stop_temperature"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise InvalidArgumentError(f"{name} must be a number >= 0, got {value!r}")
        if not self.stop_temperature > 0:
            raise InvalidArgumentError(f"stop_temperature must be > 0, got {self.stop_temperature!r}")
        if self.decoder_conditioning not in ("memory", "embedding"):
            raise InvalidArgumentError(
                f"decoder_conditioning must be 'memory' or 'embedding', got {self.decoder_conditioning!r}"
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> "ModelConfig":
        """Build a config from a dict, ignoring unknown keys.

        Parameters
        ----------
        data
            Mapping as written by :meth:`to_dict` (extra keys are ignored, so newer files load).
        source
            File name used in error messages.

        Raises
        ------
        ModelFormatError
            A required key is missing or a value is invalid.
        """
        if not isinstance(data, Mapping):
            raise ModelFormatError("model config is not a JSON object", source=source)
        missing = [key for key in _REQUIRED_KEYS if key not in data]
        if missing:
            raise ModelFormatError(
                f"model config lacks required key(s): {', '.join(missing)}", source=source
            )
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except (TypeError, ValueError) as exc:  # InvalidArgumentError is a ValueError
            raise ModelFormatError(f"invalid model config: {exc}", source=source) from exc

    @classmethod
    def tiny(cls) -> "ModelConfig":
        """A very small configuration for fast tests (random weights only)."""
        return cls(
            d_model=32,
            encoder_layers=1,
            encoder_heads=2,
            decoder_layers=2,
            decoder_heads=2,
            ff_dim=64,
            patch_frames=4,
            dropout=0.0,
        )


@dataclass
class MusicEncoding:
    """Output of :meth:`Music2Palette.encode`.

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


class Music2Palette(nn.Module):
    """Music-to-palette transformer (encoder, emotion head, autoregressive colour decoder).

    Parameters
    ----------
    config
        Network sizes; ``ModelConfig()`` when omitted.

    Notes
    -----
    ``feature_mean`` and ``feature_std`` (buffers, shape (feature_dim,)) standardise raw
    features inside :meth:`encode`; with ``summary_features``, ``cue_mean`` and ``cue_std``
    (shape (5,)) do the same for the music cues. Training sets them from corpus statistics and
    they are saved with the weights.
    """

    def __init__(self, config: ModelConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else ModelConfig()
        #: Free-form information saved with the weights (``load_model`` fills it from config.json).
        self.metadata: dict[str, Any] = {}
        c = self.config
        d = c.d_model
        self.register_buffer("feature_mean", torch.zeros(c.feature_dim))
        self.register_buffer("feature_std", torch.ones(c.feature_dim))

        # Music encoder (AST-style patches along time).
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

        # Teacher-tag head: taggers trained on ~200k songs hear timbre and mood that 22 h of
        # game music cannot teach the encoder; predicting their tags passes that on (model v2).
        if c.teacher_tags:
            self.tag_head = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, c.teacher_tags))
        if c.decoder_conditioning == "embedding":
            self.start_shift = nn.Linear(d, d)
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

        # Emotion head on the music embedding: 2 valence-arousal values + 8 emotion logits.
        self.emotion_head = nn.Sequential(
            nn.Linear(d, d), nn.GELU(), nn.Linear(d, 2 + N_EMOTIONS)
        )

        # Colour decoder.
        self.start_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.colour_embed = nn.Linear(4, d)  # (L/100, C/150, cos h, sin h)
        dec_layer = nn.TransformerDecoderLayer(
            d, c.decoder_heads, c.ff_dim, c.dropout,
            activation="gelu", batch_first=True, norm_first=True,
        )
        self.decoder = nn.TransformerDecoder(dec_layer, c.decoder_layers)
        self.colour_head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 3))
        self.stop_head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 1))

        self.register_buffer("_lch_scale", torch.tensor(LCH_SCALE), persistent=False)

    # ------------------------------------------------------------------ public API

    def encode(self, features: Tensor, frame_mask: Tensor | None = None) -> MusicEncoding:
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
        MusicEncoding
            Embedding (B, d), patch memory (B, S, d) with S = ceil(T / patch_frames), its mask,
            and the emotion predictions.
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
        memory = out[:, 1:]
        head = self.emotion_head(embedding)
        logits = head[:, 2:]
        return MusicEncoding(
            embedding=embedding,
            memory=memory,
            memory_mask=patch_mask,
            valence_arousal=torch.tanh(head[:, :2]),
            emotion=torch.softmax(logits, dim=-1),
            emotion_logits=logits,
            tag_logits=self.tag_head(embedding) if c.teacher_tags else None,
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
        memory, memory_pad = self._decoder_memory(encoding, noise_scale, generator)
        hidden = self._decode(target_lch.to(memory.dtype), memory, memory_pad)
        return self._colour_from_hidden(hidden), self.stop_head(hidden).squeeze(-1)

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
        memory, memory_pad = self._decoder_memory(encoding, noise_scale, generator)
        batch = memory.shape[0]
        device = memory.device
        colours = memory.new_zeros(batch, 0, 3)
        lengths = torch.full((batch,), c.max_colors, dtype=torch.long, device=device)
        done = torch.zeros(batch, dtype=torch.bool, device=device)
        step_logits = []
        ended = memory.new_zeros(batch)  # probability that the palette has ended by this step
        # In eval mode each step feeds only the newest token and reuses the earlier tokens'
        # layer inputs (a key-value cache); training keeps the full pass (dropout, autograd).
        cache = None if self.training else _StepCache(self, memory, memory_pad)
        for step in range(c.max_colors):
            if cache is None:
                hidden = self._decode(colours, memory, memory_pad)[:, -1]
            else:
                hidden = cache.step(colours[:, -1:] if step else None)
            stop_logit = self.stop_head(hidden).squeeze(-1)
            step_logits.append(stop_logit)
            if num_colors is not None:
                stop_now = torch.full_like(done, step >= num_colors)
            elif step >= c.min_colors and stop_quantile is not None:
                ended = ended + (1.0 - ended) * torch.sigmoid(stop_logit / c.stop_temperature)
                stop_now = ended >= stop_quantile.to(ended)
            elif step >= c.min_colors:
                stop_now = torch.sigmoid(stop_logit) > 0.5
            else:
                stop_now = torch.zeros_like(done)
            newly = stop_now & ~done
            lengths = torch.where(newly, torch.full_like(lengths, step), lengths)
            done = done | newly
            if bool(done.all()):
                break
            colours = torch.cat([colours, self._colour_from_hidden(hidden).unsqueeze(1)], dim=1)

        out = memory.new_zeros(batch, c.max_colors, 3)
        out[:, : colours.shape[1]] = colours
        keep = torch.arange(c.max_colors, device=device).unsqueeze(0) < lengths.unsqueeze(1)
        out = out * keep.unsqueeze(-1).to(out.dtype)
        if return_stop_logits:
            return out, lengths, torch.stack(step_logits, dim=1)
        return out, lengths

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
        device = self.cls_token.device
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

    def music_offsets(self, scores: "Tensor | None", alternatives: "list[int] | tuple[int, ...]",
                      ) -> Tensor:
        """Centres chosen by the music, (B, S, d): for alternative number ``a`` (0 = the default
        palette), the centre of the ``(a mod ALTERNATIVES)``-th best family of each row of
        ``scores`` (B, K) from :meth:`component_scores` (possibly smoothed over time). Zeros
        (1, S, d) when ``scores`` is None.
        """
        alternatives = [int(a) for a in alternatives]
        if scores is None:
            return torch.zeros(1, len(alternatives), self.config.d_model, device=self.cls_token.device)
        ranks = torch.tensor([a % ALTERNATIVES for a in alternatives], device=scores.device)
        order = torch.argsort(scores, dim=-1, descending=True, stable=True)  # (B, K)
        choice = order[:, ranks.clamp_max(scores.shape[-1] - 1)]  # (B, S)
        return self.noise_centres[choice.to(self.noise_centres.device)]

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
        if not self.config.length_keying:
            return None
        projection = embedding @ self.length_direction.to(embedding)
        return (projection - self.length_key_mean) / self.length_key_std.clamp_min(1e-6)

    @staticmethod
    def keyed_quantiles(quantiles: Tensor, keys: "Tensor | None") -> Tensor:
        """Stop quantiles (B,) moved by the music's length keys (B,): ``Phi((Phi^-1(q) + z) /
        sqrt 2)``, uniform again when ``q`` is uniform and ``z`` standard normal; ``quantiles``
        unchanged when ``keys`` is None.
        """
        if keys is None:
            return quantiles
        normal = torch.distributions.Normal(0.0, 1.0)
        q = quantiles.to(keys.dtype).clamp(1e-4, 1 - 1e-4)
        return normal.cdf((normal.icdf(q) + keys) / math.sqrt(2.0)).clamp(0.02, 0.98)

    def noise_offsets(self, choices: Tensor) -> Tensor:
        """Mixture centres (B, d) for component indices ``choices`` (B,) (taken modulo ``K``).

        Zeros without mixture components (``noise_components == 0``). Add them to the
        embedding together with the Gaussian noise: ``embedding + offsets + sigma * N(0, I)``.
        """
        d = self.config.d_model
        choices = torch.as_tensor(choices, dtype=torch.long).reshape(-1)
        if not self.config.noise_components:
            return torch.zeros(choices.shape[0], d, device=self.cls_token.device)
        return self.noise_centres[choices.to(self.noise_centres.device) % self.config.noise_components]

    # ------------------------------------------------------------------ internals

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

    def _decoder_memory(
        self,
        encoding: MusicEncoding,
        noise_scale: float,
        generator: torch.Generator | None,
    ) -> tuple[Tensor, Tensor | None]:
        """Return memory (B, 1+S, d) = [noisy embedding; patches] and its key padding mask.

        With ``decoder_conditioning="embedding"`` the memory is the noisy embedding alone
        (B, 1, d), and no mask.
        """
        embedding = add_noise(encoding.embedding, noise_scale, generator)
        if self.config.decoder_conditioning == "embedding":
            return embedding.unsqueeze(1), None
        memory = torch.cat([embedding.unsqueeze(1), encoding.memory], dim=1)
        if encoding.memory_mask is None:
            return memory, None
        first = torch.ones(memory.shape[0], 1, dtype=torch.bool, device=memory.device)
        return memory, ~torch.cat([first, encoding.memory_mask.to(torch.bool)], dim=1)

    def _decode(self, colours: Tensor, memory: Tensor, memory_pad: Tensor | None) -> Tensor:
        """Run the decoder on [start; colours] (B, n, 3 LCh) -> hidden states (B, n+1, d)."""
        n = colours.shape[1]
        tgt = torch.cat([self._start(memory), self._embed_colours(colours)], dim=1)
        tgt = tgt + sinusoidal_encoding(torch.arange(n + 1, device=tgt.device), tgt.shape[-1]).to(
            tgt.dtype
        )
        causal = torch.triu(
            torch.ones(n + 1, n + 1, dtype=torch.bool, device=tgt.device), diagonal=1
        )
        return self.decoder(tgt, memory, tgt_mask=causal, memory_key_padding_mask=memory_pad)

    def _embed_colours(self, colours: Tensor) -> Tensor:
        """Decoder input tokens (B, n, d) of LCh colours (B, n, 3), without positions."""
        scale = self._lch_scale.to(colours.dtype)
        hue = torch.deg2rad(colours[..., 2])
        inputs = torch.stack(
            [colours[..., 0] / scale[0], colours[..., 1] / scale[1], torch.cos(hue), torch.sin(hue)],
            dim=-1,
        )
        return self.colour_embed(inputs)

    def _start(self, memory: Tensor) -> Tensor:
        """The start token (B, 1, d), shifted by the noisy embedding when the decoder is
        conditioned on it alone (the first colour then depends on the noise directly)."""
        start = self.start_token.expand(memory.shape[0], -1, -1).to(memory.dtype)
        if self.config.decoder_conditioning == "embedding":
            start = start + self.start_shift(memory[:, :1])
        return start

    def _colour_from_hidden(self, hidden: Tensor) -> Tensor:
        """Map decoder states (..., d) to LCh colours (..., 3)."""
        return torch.sigmoid(self.colour_head(hidden)) * self._lch_scale.to(hidden.dtype)


class _StepCache:
    """Incremental decoding for :meth:`Music2Palette.generate` in eval mode.

    ``nn.TransformerDecoder`` recomputes every earlier token at every step. Here each step
    runs the decoder layers on the newest token only; its self-attention reads the earlier
    tokens' normalised layer inputs, kept per layer (the keys and values are projections of
    them). Same result as the full pass up to float rounding (tested), about
    ``max_colors / 2`` times less decoder work.
    """

    def __init__(self, model: "Music2Palette", memory: Tensor, memory_pad: Tensor | None) -> None:
        self.model, self.memory, self.memory_pad = model, memory, memory_pad
        self.layer_inputs: list[Tensor | None] = [None] * len(model.decoder.layers)
        self.position = 0

    def step(self, newest: Tensor | None) -> Tensor:
        """Hidden state (B, d) after the start token (``newest`` None) or after the newest
        colour (B, 1, 3) LCh."""
        model = self.model
        token = model._start(self.memory) if newest is None else model._embed_colours(newest)
        x = token + sinusoidal_encoding(
            torch.tensor([self.position], device=token.device), token.shape[-1]).to(token.dtype)
        self.position += 1
        for i, layer in enumerate(model.decoder.layers):  # norm_first layers, eval mode
            h = layer.norm1(x)
            past = self.layer_inputs[i]
            past = h if past is None else torch.cat([past, h], dim=1)
            self.layer_inputs[i] = past
            x = x + layer.self_attn(h, past, past, need_weights=False)[0]
            x = x + layer.multihead_attn(layer.norm2(x), self.memory, self.memory,
                                         key_padding_mask=self.memory_pad, need_weights=False)[0]
            x = x + layer.linear2(layer.activation(layer.linear1(layer.norm3(x))))
        if model.decoder.norm is not None:
            x = model.decoder.norm(x)
        return x[:, -1]


def sinusoidal_encoding(positions: Tensor, dim: int) -> Tensor:
    """Transformer sine/cosine position encoding, computed for any positions.

    Parameters
    ----------
    positions
        (n,) integer or float positions.
    dim
        Even encoding width.

    Returns
    -------
    Tensor
        (n, dim) float32; columns alternate sin and cos with wavelengths 2 pi to 2 pi * 10^4.
    """
    pos = positions.to(torch.float32).unsqueeze(-1)
    freq = torch.exp(
        torch.arange(0, dim, 2, dtype=torch.float32, device=positions.device)
        * (-math.log(10000.0) / dim)
    )
    angles = pos * freq
    out = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1)
    return out.reshape(positions.shape[0], dim)


def add_noise(embedding: Tensor, noise_scale: float, generator: torch.Generator | None) -> Tensor:
    """Return ``embedding + noise_scale * N(0, 1)`` with the noise drawn from ``generator``.

    The noise is drawn on the generator's device and moved, so a CPU generator gives the same
    noise whatever device the model runs on. ``noise_scale == 0`` returns the input unchanged.
    """
    if noise_scale < 0:
        raise InvalidArgumentError(f"noise_scale must be >= 0, got {noise_scale}")
    if noise_scale == 0:
        return embedding
    noise_device = generator.device if generator is not None else embedding.device
    noise = torch.randn(
        embedding.shape, generator=generator, device=noise_device, dtype=torch.float32
    )
    return embedding + noise_scale * noise.to(device=embedding.device, dtype=embedding.dtype)


__all__ = [
    "ALTERNATIVES",
    "LCH_SCALE",
    "N_EMOTIONS",
    "ModelConfig",
    "MusicEncoding",
    "Music2Palette",
    "sinusoidal_encoding",
    "add_noise",
]
