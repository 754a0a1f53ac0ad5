"""The network's configuration: sizes, the encoder's name, decoding settings, named presets.

A :class:`ModelConfig` is what ``config.json`` of a model folder stores (``to_dict`` /
``from_dict``); :class:`m2p.model.network.Music2Palette` is built from one. NumPy-free and
torch-free, so reading a config costs nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Mapping

from m2p.errors import InvalidArgumentError, ModelFormatError

__all__ = ["ModelConfig", "PRESETS"]

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
    encoder
        Which music encoder (:data:`m2p.model.encoder.ENCODERS`): ``"ast"``, the AST-style
        transformer over the 539 feature frames of :mod:`m2p.features.frames`. The encoder
        states what it hears (sample rate, hop, feature width) and the engine follows it.
        ``feature_dim``, ``encoder_layers``, ``encoder_heads``, ``patch_frames`` and
        ``summary_features`` configure this encoder.
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
    encoder: str = "ast"

    def __post_init__(self) -> None:
        if not isinstance(self.encoder, str) or not self.encoder:
            raise InvalidArgumentError(f"encoder must be the name of an encoder, got {self.encoder!r}")
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
    def preset(cls, name: str, **changes: Any) -> "ModelConfig":
        """A named configuration (:data:`PRESETS`), with ``changes`` on top.

        Raises
        ------
        InvalidArgumentError
            Unknown name.
        """
        if name not in PRESETS:
            raise InvalidArgumentError(f"unknown model preset {name!r}; one of {', '.join(PRESETS)}")
        return cls(**{**PRESETS[name], **changes})

    @classmethod
    def tiny(cls) -> "ModelConfig":
        """The ``"tiny"`` preset: a very small configuration for fast tests (random weights only)."""
        return cls.preset("tiny")


#: Named configurations: field values on top of the defaults. ``"paper"`` is the defaults (the
#: paper's sizes), ``"tiny"`` a network small enough for tests.
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {},
    "tiny": {
        "d_model": 32,
        "encoder_layers": 1,
        "encoder_heads": 2,
        "decoder_layers": 2,
        "decoder_heads": 2,
        "ff_dim": 64,
        "patch_frames": 4,
        "dropout": 0.0,
    },
}
