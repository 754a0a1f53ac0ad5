"""The pretrained musicnn music taggers (Pons & Serra 2019), ported to PyTorch.

musicnn ships four networks trained to predict the 50 most frequent tags of a music dataset from
3 s of audio: ``MTT_musicnn`` and ``MTT_vgg`` (MagnaTagATune: instruments, tempo, loudness,
voice, genre), ``MSD_musicnn`` and ``MSD_vgg`` (Million Song Dataset / Last.fm: genre, era, mood).
This module is a TensorFlow-free re-implementation: the front end (log-mel spectrogram), the two
architectures, and a loader for the converted weights in ``model/musicnn/*.safetensors``
(written by ``training/convert_musicnn.py`` from musicnn 0.1.0's checkpoints; ISC licence, see
``model/musicnn/LICENSE``).

Signal path (what musicnn's ``extractor.batch_data`` does with librosa 0.9, reproduced in torch):

1. mono float audio at 16,000 Hz (:func:`resample_to_16k` brings 22,050 Hz, the rate of
   :mod:`m2p.audio.decode`, or any other rate there);
2. power STFT: periodic Hann window of 512 samples, hop 256, centred frames padded with
   zeros (librosa >= 0.9; older librosa reflected, which changes only a piece's first frame:
   ``MelFrontEnd(pad_mode="reflect")``), so ``1 + samples // 256`` frames of 16 ms;
3. 96 Slaney mel bands, 0 to 8 kHz, Slaney area normalisation (:func:`m2p.features.frames.mel_filters`);
4. the power mel is rounded to float16 (musicnn trained on float16 spectrograms and rounds at
   inference too), then ``log10(10000 * p + 1)``;
5. non-overlapping patches of 187 frames (3 s); the remainder is dropped, as musicnn does.

Each patch gives 50 tag probabilities (sigmoid outputs) and an embedding: the penultimate layer
(200 units, batch-normalised dense layer) for the ``*_musicnn`` models, the flattened last
pooling layer (2 x 128 = 256 values) for the ``*_vgg`` models. Batch normalisation always uses
the moving statistics of training (eval mode, epsilon 1e-3 as in TensorFlow).

References
----------
.. [1] J. Pons and X. Serra, "musicnn: pre-trained convolutional neural networks for music audio
   tagging", Late-Breaking/Demo, ISMIR 2019. https://github.com/jordipons/musicnn
.. [2] J. Pons, O. Nieto, M. Prockup, E. M. Schmidt, A. F. Ehmann and X. Serra, "End-to-end
   learning for music audio tagging at scale", ISMIR 2018.

Examples
--------
>>> from m2p.model.musicnn import load_musicnn, tag_audio          # doctest: +SKIP
>>> out = tag_audio("song.mp3")                              # doctest: +SKIP
>>> out.tags.shape, out.embedding.shape, out.times[:2]       # doctest: +SKIP
(torch.Size([n, 50]), torch.Size([n, D]), array([0., 2.992]))
>>> tagger = load_musicnn("MTT_musicnn")                     # doctest: +SKIP
>>> tagger.tags[:3], tagger.embedding_dim                    # doctest: +SKIP
(('guitar', 'classical', 'slow'), 200)
>>> tags, embedding = tagger(tagger.patches(wave_16k))       # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
from functools import partial
from math import gcd
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from m2p.errors import InvalidArgumentError, InvalidAudioError, ModelFormatError, ModelNotFoundError

MUSICNN_SAMPLE_RATE = 16000
"""Sample rate (Hz) of the musicnn front end."""
N_FFT = 512
"""STFT size in samples (32 ms)."""
HOP_LENGTH = 256
"""STFT hop in samples (16 ms): one mel frame per 256 samples."""
N_MELS = 96
"""Mel bands, Slaney scale, 0 to 8,000 Hz."""
PATCH_FRAMES = 187
"""Frames per input patch: 3 s (``librosa.time_to_frames(3, 16000, 256, 512) + 1``)."""
PATCH_SECONDS = PATCH_FRAMES * HOP_LENGTH / MUSICNN_SAMPLE_RATE
"""Duration covered by one patch's frame hops: 2.992 s (patch ``i`` starts at ``i * 2.992`` s)."""
BN_EPS = 1e-3
"""Batch-normalisation epsilon of ``tf.compat.v1.layers.batch_normalization``."""
FLOAT16_MAX = 65504.0

MTT_TAGS: tuple[str, ...] = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
)
"""The 50 MagnaTagATune tags, in output order (musicnn ``configuration.MTT_LABELS``)."""

MSD_TAGS: tuple[str, ...] = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic",
    "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
    "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock",
    "60s", "rnb", "indie pop", "sad", "House", "happy",
)
"""The 50 Million Song Dataset (Last.fm) tags, in output order (``configuration.MSD_LABELS``)."""

MODELS: dict[str, tuple[str, tuple[str, ...]]] = {
    "MTT_musicnn": ("musicnn", MTT_TAGS),
    "MSD_musicnn": ("musicnn", MSD_TAGS),
    "MTT_vgg": ("vgg", MTT_TAGS),
    "MSD_vgg": ("vgg", MSD_TAGS),
}
"""Variant name -> (architecture, tags). Which ones are shipped: ``model/musicnn/README.md``."""

DEFAULT_MODEL = "MSD_vgg"
"""The variant :func:`load_musicnn` and :func:`tag_audio` use by default: the cheapest per patch
(0.89 G multiply-adds, about 20 % less CPU time than ``*_musicnn``), with the Last.fm vocabulary
that names moods (happy, sad, Mellow, chill, beautiful, party...). See ``model/musicnn/README.md``."""

TAGS: tuple[str, ...] = MODELS[DEFAULT_MODEL][1]
"""Tag names of :data:`DEFAULT_MODEL`, in output order (other variants: ``tagger.tags``)."""

WEIGHTS_SUBDIR = "musicnn"
"""Folder of the converted weights inside the model folder (``model/musicnn/<name>.safetensors``)."""


# ------------------------------------------------------------------------------ front end


def resample_to_16k(wave: np.ndarray | Tensor, sample_rate: int = 22050) -> np.ndarray | Tensor:
    """Resample mono audio to 16,000 Hz with a polyphase filter (deterministic).

    Parameters
    ----------
    wave
        Samples ``(n,)`` or ``(batch, n)``, float, at ``sample_rate``.
    sample_rate
        Input rate in Hz; 22,050 (the rate of :mod:`m2p.audio.decode`) becomes 16,000 with
        ``resample_poly(x, 320, 441)`` (:mod:`m2p.audio.resample`, equal to SciPy's), other rates
        with their reduced ratio.

    Returns
    -------
    numpy.ndarray or torch.Tensor
        float32 samples ``(ceil(n * 16000 / sample_rate),)`` (or with the batch axis); a tensor
        input gives a tensor on the same device (the filtering itself runs in NumPy, float64).
    """
    from m2p.audio.resample import resample_poly

    rate = int(sample_rate)
    if rate <= 0:
        raise InvalidArgumentError(f"sample_rate must be positive, got {sample_rate!r}")
    is_tensor = isinstance(wave, Tensor)
    x = wave.detach().to("cpu", torch.float64).numpy() if is_tensor else np.asarray(wave, np.float64)
    if rate == MUSICNN_SAMPLE_RATE:
        y = x.astype(np.float32)
    else:
        g = gcd(rate, MUSICNN_SAMPLE_RATE)
        y = resample_poly(x, MUSICNN_SAMPLE_RATE // g, rate // g).astype(np.float32)
    if is_tensor:
        return torch.from_numpy(np.ascontiguousarray(y)).to(wave.device)
    return y


class MelFrontEnd(nn.Module):
    """musicnn's log-mel spectrogram, ``log10(10000 * float16(mel power) + 1)``, in torch.

    Reproduces ``librosa.feature.melspectrogram(y, sr=16000, n_fft=512, hop_length=256,
    n_mels=96)`` (librosa 0.9.2, the reference of the tests: power spectrogram, centred frames,
    Slaney mel filters with area normalisation), the float16 rounding and the
    ``log10(10000 x + 1)`` compression of musicnn's ``extractor.batch_data``. Power values above
    the float16 range (65,504; not reached by audio in [-1, 1] with these filters) are clipped
    where musicnn would give ``inf``.

    Parameters
    ----------
    pad_mode
        Centre padding of the first and last frame: ``"constant"`` (zeros; librosa >= 0.9, what
        ``pip install musicnn`` runs with today) or ``"reflect"`` (librosa 0.6 to 0.8, what
        musicnn's training data used). Only the first and last frame of a piece differ.
    """

    def __init__(self, pad_mode: str = "constant") -> None:
        super().__init__()
        if pad_mode not in ("constant", "reflect"):
            raise InvalidArgumentError(f"pad_mode must be 'constant' or 'reflect', got {pad_mode!r}")
        self.pad_mode = pad_mode
        from m2p.features.frames import mel_filters

        fb = mel_filters(sr=MUSICNN_SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=0.0,
                         fmax=MUSICNN_SAMPLE_RATE / 2)
        self.register_buffer("mel_basis", torch.from_numpy(fb.astype(np.float32)), persistent=False)
        self.register_buffer("window", torch.hann_window(N_FFT, periodic=True), persistent=False)

    def forward(self, wave: Tensor) -> Tensor:
        """Log-mel frames of 16 kHz audio.

        Parameters
        ----------
        wave
            float samples ``(n,)`` or ``(batch, n)`` at 16,000 Hz, nominally in [-1, 1];
            ``n > 256`` (torch's centre padding needs more samples than half a window).

        Returns
        -------
        Tensor
            ``(frames, 96)`` or ``(batch, frames, 96)`` float32, ``frames = 1 + n // 256``
            (one per 16 ms), values ``log10(10000 p + 1) >= 0`` where ``p`` is the power mel.
        """
        squeeze = wave.dim() == 1
        x = wave.reshape(1, -1) if squeeze else wave
        x = x.to(self.window.device, torch.float32)
        spec = torch.stft(x, N_FFT, hop_length=HOP_LENGTH, window=self.window, center=True,
                          pad_mode=self.pad_mode, return_complex=True)
        power = spec.real.square() + spec.imag.square()  # (batch, 257, frames)
        mel = torch.matmul(self.mel_basis, power).transpose(1, 2)  # (batch, frames, 96)
        mel = mel.clamp(max=FLOAT16_MAX).to(torch.float16).to(torch.float32)
        out = torch.log10(10000.0 * mel + 1.0)
        return out[0] if squeeze else out


def split_patches(mel: Tensor, hop: int = PATCH_FRAMES) -> Tensor:
    """Cut a log-mel spectrogram into musicnn's 187-frame (3 s) input patches.

    Parameters
    ----------
    mel
        ``(frames, 96)`` log-mel frames (:class:`MelFrontEnd`).
    hop
        Frames between patch starts; 187 (the default) gives musicnn's non-overlapping patches,
        smaller values overlap, larger ones skip audio (e.g. ``625`` = one patch per 10 s).

    Returns
    -------
    Tensor
        ``(n_patches, 187, 96)``: patch ``i`` holds frames ``i * hop ... i * hop + 186``, for
        every ``i`` with ``i * hop + 187 <= frames`` (a trailing remainder is dropped, as musicnn
        does). A spectrogram shorter than one patch is padded with zeros (= silence, whose
        log-mel is exactly 0) to one patch, where musicnn would fail.
    """
    if mel.dim() != 2 or mel.shape[-1] != N_MELS:
        raise InvalidArgumentError(f"mel must be (frames, {N_MELS}), got {tuple(mel.shape)}")
    if int(hop) < 1:
        raise InvalidArgumentError(f"hop must be a positive number of frames, got {hop!r}")
    if mel.shape[0] < PATCH_FRAMES:
        mel = F.pad(mel, (0, 0, 0, PATCH_FRAMES - mel.shape[0]))
    return mel.unfold(0, PATCH_FRAMES, int(hop)).transpose(1, 2).contiguous()


# ------------------------------------------------------------------------------ networks


class _ConvReluBN(nn.Module):
    """``conv -> ReLU -> batch norm``, TensorFlow musicnn's layer order."""

    def __init__(self, conv: nn.Conv1d | nn.Conv2d, bn: nn.BatchNorm1d | nn.BatchNorm2d) -> None:
        super().__init__()
        self.conv = conv
        self.bn = bn

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(F.relu(self.conv(x)))

    def pooled(self, x: Tensor, pool: Callable[[Tensor], Tensor]) -> Tensor:
        """``pool(bn(relu(conv(x))))`` for a max-pooling ``pool``, computed cheaply in eval mode.

        With the moving statistics, batch norm is the per-channel map ``a * r + c`` with
        ``sign(a) = sign(gamma)``; ReLU and that map are monotone, so max-pooling commutes with
        them when ``a >= 0`` and turns into min-pooling when ``a < 0``. Convolving with the
        kernel and bias multiplied by ``sign(gamma)`` and multiplying the max-pooled result by
        the same sign gives exactly max- or min-pooling per channel, so ReLU and batch norm run
        on the pooled (small) tensor. Same result as the plain order up to float rounding.
        """
        if self.training:
            return pool(self(x))
        sign = torch.where(self.bn.weight < 0, -1.0, 1.0).to(x.dtype)
        view = (-1,) + (1,) * (self.conv.weight.dim() - 1)
        weight = self.conv.weight * sign.view(view)
        bias = self.conv.bias * sign
        z = self.conv._conv_forward(x, weight, bias)
        pooled = pool(z)
        pooled = F.relu(pooled * sign.view((1, -1) + (1,) * (pooled.dim() - 2)))
        bn = self.bn  # functional form: the pooled tensor may have fewer dimensions
        return F.batch_norm(pooled, bn.running_mean, bn.running_var, bn.weight, bn.bias,
                            training=False, eps=bn.eps)


def _max_over_frequency(z: Tensor) -> Tensor:
    """``(B, C, T, F) -> (B, C, T)``: max-pooling over the whole frequency axis."""
    return z.amax(dim=3)


class MusicnnNet(nn.Module):
    """The musicnn architecture [1]_: musically motivated front end, dense mid end, pooling back end.

    * front end on the batch-normalised log-mel ``(1, T, 96)``: two *timbral* convolutions
      spanning 7 frames x 38 and x 67 mel bands (204 filters each) and three *temporal* ones
      spanning 128, 64 and 32 frames x 1 band (51 filters each); each is ReLU'd,
      batch-normalised and max-pooled over frequency -> 561 features per frame;
    * mid end: three 1-D convolutions over time (7 frames, 64 filters), the last two residual;
      front- and mid-end features are concatenated -> 753 features per frame;
    * back end: max and mean over time (1,506 values, interleaved max/mean per feature as
      TensorFlow flattens them), batch norm, a 200-unit dense ReLU layer plus batch norm (the
      *penultimate* embedding), and a dense layer to 50 tag logits.

    Parameters
    ----------
    n_tags
        Output tags (50 for the shipped checkpoints).
    n_mels
        Mel bands of the input (96).
    midend_filters, backend_units
        64 and 200 for ``MTT_musicnn`` / ``MSD_musicnn``.
    """

    embedding_dim: int

    def __init__(self, n_tags: int = 50, n_mels: int = N_MELS, midend_filters: int = 64,
                 backend_units: int = 200) -> None:
        super().__init__()
        timbral_filters, temporal_filters = int(1.6 * 128), int(1.6 * 32)  # 204, 51
        self.input_bn = nn.BatchNorm2d(1, eps=BN_EPS)
        self.timbral = nn.ModuleList(
            _ConvReluBN(nn.Conv2d(1, timbral_filters, (7, int(frac * n_mels))),
                        nn.BatchNorm2d(timbral_filters, eps=BN_EPS))
            for frac in (0.4, 0.7)
        )
        self.temporal_lengths = (128, 64, 32)
        self.temporal = nn.ModuleList(
            _ConvReluBN(nn.Conv2d(1, temporal_filters, (k, 1)),
                        nn.BatchNorm2d(temporal_filters, eps=BN_EPS))
            for k in self.temporal_lengths
        )
        front = 2 * timbral_filters + 3 * temporal_filters  # 561
        self.midend = nn.ModuleList(
            _ConvReluBN(nn.Conv1d(c, midend_filters, 7, padding=3),
                        nn.BatchNorm1d(midend_filters, eps=BN_EPS))
            for c in (front, midend_filters, midend_filters)
        )
        pooled = 2 * (front + 3 * midend_filters)  # 1506
        self.pool_bn = nn.BatchNorm1d(pooled, eps=BN_EPS)
        self.dense = nn.Linear(pooled, backend_units)
        self.dense_bn = nn.BatchNorm1d(backend_units, eps=BN_EPS)
        self.out = nn.Linear(backend_units, n_tags)
        self.embedding_dim = backend_units

    def features(self, mel: Tensor) -> dict[str, Tensor]:
        """Every intermediate representation musicnn's ``extractor`` exposes, plus the logits.

        Parameters
        ----------
        mel
            ``(batch, T, 96)`` log-mel patches (T = 187 for the trained models; any T >= 1 runs).

        Returns
        -------
        dict of Tensor
            ``timbral`` (batch, T, 408), ``temporal`` (batch, T, 153), ``cnn1``/``cnn2``/``cnn3``
            (batch, T, 64), ``mean_pool``/``max_pool`` (batch, 753), ``penultimate``
            (batch, 200), ``logits`` (batch, 50); time-major like musicnn's outputs.
        """
        x = self.input_bn(mel.unsqueeze(1))  # (B, 1, T, F)
        padded = F.pad(x, (0, 0, 3, 3))  # 'same' in time for the 7-frame timbral kernels
        timbral = [blk.pooled(padded, _max_over_frequency) for blk in self.timbral]  # (B, 204, T)
        temporal = []
        for k, blk in zip(self.temporal_lengths, self.temporal):
            before = (k - 1) // 2  # TensorFlow 'same': the extra padding goes after
            temporal.append(blk.pooled(F.pad(x, (0, 0, before, k - 1 - before)), _max_over_frequency))
        front = torch.cat(timbral + temporal, dim=1)  # (B, 561, T)
        cnn1 = self.midend[0](front)
        cnn2 = self.midend[1](cnn1) + cnn1
        cnn3 = self.midend[2](cnn2) + cnn2
        fmap = torch.cat([front, cnn1, cnn2, cnn3], dim=1)  # (B, 753, T)
        max_pool, mean_pool = fmap.amax(dim=2), fmap.mean(dim=2)
        pooled = torch.stack([max_pool, mean_pool], dim=2).flatten(1)  # TF order: max, mean per feature
        penultimate = self.dense_bn(F.relu(self.dense(self.pool_bn(pooled))))
        return {
            "timbral": torch.cat(timbral, 1).transpose(1, 2),
            "temporal": torch.cat(temporal, 1).transpose(1, 2),
            "cnn1": cnn1.transpose(1, 2),
            "cnn2": cnn2.transpose(1, 2),
            "cnn3": cnn3.transpose(1, 2),
            "mean_pool": mean_pool,
            "max_pool": max_pool,
            "penultimate": penultimate,
            "logits": self.out(penultimate),
        }

    def forward(self, mel: Tensor) -> tuple[Tensor, Tensor]:
        """``(batch, T, 96)`` log-mel -> (tag logits ``(batch, 50)``, embedding ``(batch, 200)``)."""
        f = self.features(mel)
        return f["logits"], f["penultimate"]


class VggNet(nn.Module):
    """The VGG-like baseline of musicnn [1]_, [2]_: five 3x3 convolution blocks and a dense layer.

    Each block is conv (128 filters, 'same') -> ReLU -> batch norm -> max-pool; the pools are
    (4, 1) stride (2, 2), then (2, 2) three times, then (4, 4), taking a (187, 96) patch to
    (2, 1) x 128. The flattened last pool (time-major: 2 x 128 = 256 values) is the embedding;
    a dense layer maps it to 50 tag logits. Only 187-frame inputs are valid.
    """

    _POOLS = (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4)))

    def __init__(self, n_tags: int = 50, filters: int = 128) -> None:
        super().__init__()
        self.input_bn = nn.BatchNorm2d(1, eps=BN_EPS)
        self.convs = nn.ModuleList(
            _ConvReluBN(nn.Conv2d(1 if i == 0 else filters, filters, 3, padding=1),
                        nn.BatchNorm2d(filters, eps=BN_EPS))
            for i in range(5)
        )
        self.embedding_dim = 2 * 1 * filters
        self.out = nn.Linear(self.embedding_dim, n_tags)

    def features(self, mel: Tensor) -> dict[str, Tensor]:
        """Intermediate representations.

        Parameters
        ----------
        mel
            ``(batch, 187, 96)`` log-mel patches.

        Returns
        -------
        dict of Tensor
            ``pool1`` ... ``pool5`` as ``(batch, 128, T', F')`` (channels first; musicnn returns
            them channels last), ``penultimate`` ``(batch, 256)`` (``pool5`` flattened
            time-major as TensorFlow does) and ``logits`` ``(batch, 50)``.
        """
        if mel.shape[-2:] != (PATCH_FRAMES, N_MELS):
            raise InvalidArgumentError(
                f"the vgg models take (batch, {PATCH_FRAMES}, {N_MELS}) patches, got {tuple(mel.shape)}"
            )
        x = self.input_bn(mel.unsqueeze(1))
        out: dict[str, Tensor] = {}
        for i, (blk, (kernel, stride)) in enumerate(zip(self.convs, self._POOLS)):
            x = blk.pooled(x, partial(F.max_pool2d, kernel_size=kernel, stride=stride))
            out[f"pool{i + 1}"] = x
        out["penultimate"] = x.permute(0, 2, 3, 1).flatten(1)
        out["logits"] = self.out(out["penultimate"])
        return out

    def forward(self, mel: Tensor) -> tuple[Tensor, Tensor]:
        """``(batch, 187, 96)`` log-mel -> (tag logits ``(batch, 50)``, embedding ``(batch, 256)``)."""
        f = self.features(mel)
        return f["logits"], f["penultimate"]


# ------------------------------------------------------------------------------ tagger


class MusicnnOutput(NamedTuple):
    """Result of :func:`tag_audio`.

    Attributes
    ----------
    tags
        ``(n_patches, 50)`` tag probabilities in [0, 1] (sigmoid outputs; tags are independent,
        rows do not sum to 1), columns in ``tag_names`` order.
    embedding
        ``(n_patches, D)``: D = 200 (``*_musicnn``) or 256 (``*_vgg``).
    times
        ``(n_patches,)`` start of each patch in seconds; a patch covers 3 s.
    tag_names
        The 50 tag names.
    """

    tags: Tensor
    embedding: Tensor
    times: np.ndarray
    tag_names: tuple[str, ...]


class MusicnnTagger(nn.Module):
    """A musicnn variant with its front end: 16 kHz audio -> patches -> tags and embeddings.

    Parameters
    ----------
    name
        One of :data:`MODELS`.
    net
        The network (:class:`MusicnnNet` or :class:`VggNet`) holding the weights.

    Attributes
    ----------
    name : str
    tags : tuple of str
        The 50 tag names in output order.
    embedding_dim : int
        200 for ``*_musicnn``, 256 for ``*_vgg``.
    front_end : MelFrontEnd
    net : MusicnnNet or VggNet
    """

    def __init__(self, name: str, net: MusicnnNet | VggNet) -> None:
        super().__init__()
        self.name = name
        self.tags = MODELS[name][1]
        self.front_end = MelFrontEnd()
        self.net = net
        self.embedding_dim = int(net.embedding_dim)

    @property
    def device(self) -> torch.device:
        return self.front_end.window.device

    @torch.no_grad()
    def mel(self, wave_16k: np.ndarray | Tensor) -> Tensor:
        """Log-mel frames ``(1 + n // 256, 96)`` of mono 16 kHz samples ``(n,)`` (see :class:`MelFrontEnd`)."""
        wave = _as_mono_tensor(wave_16k, self.device)
        if wave.numel() <= N_FFT // 2:  # torch.stft's centre padding needs > 256 samples
            wave = F.pad(wave, (0, N_FFT // 2 + 1 - wave.numel()))
        return self.front_end(wave)

    @torch.no_grad()
    def patches(self, wave_16k: np.ndarray | Tensor, hop: int = PATCH_FRAMES) -> Tensor:
        """Non-overlapping 3 s log-mel patches as musicnn cuts them.

        Parameters
        ----------
        wave_16k
            Mono float samples ``(n,)`` at 16,000 Hz (:func:`resample_to_16k`).
        hop
            Frames between patch starts (187: non-overlapping, musicnn's default; see
            :func:`split_patches`).

        Returns
        -------
        Tensor
            ``(n_patches, 187, 96)`` float32 on the tagger's device, ``n_patches =
            (1 + n // 256 - 187) // hop + 1`` (at least 1: shorter audio is padded with silence).
        """
        return split_patches(self.mel(wave_16k), hop)

    def forward(self, patches: Tensor) -> tuple[Tensor, Tensor]:
        """Tag probabilities and embeddings of log-mel patches.

        Parameters
        ----------
        patches
            ``(n, 187, 96)`` (or one patch ``(187, 96)``) from :meth:`patches`.

        Returns
        -------
        tags : Tensor
            ``(n, 50)`` probabilities in [0, 1], columns in :attr:`tags` order.
        embedding : Tensor
            ``(n, embedding_dim)``.
        """
        single = patches.dim() == 2
        x = patches.unsqueeze(0) if single else patches
        if x.dim() != 3 or x.shape[-1] != N_MELS:
            raise InvalidArgumentError(f"patches must be (n, T, {N_MELS}), got {tuple(patches.shape)}")
        logits, embedding = self.net(x.to(self.device, torch.float32))
        tags = torch.sigmoid(logits)
        return (tags[0], embedding[0]) if single else (tags, embedding)

    @torch.no_grad()
    def features(self, patches: Tensor) -> dict[str, Tensor]:
        """All intermediate layers of the network (``MusicnnNet.features`` / ``VggNet.features``)."""
        return self.net.features(patches.to(self.device, torch.float32))

    @torch.no_grad()
    def tag_audio(self, source: str | os.PathLike[str] | np.ndarray | Tensor,
                  sample_rate: int | None = None, *, hop: int = PATCH_FRAMES,
                  batch_size: int = 4) -> MusicnnOutput:
        """Tags and embeddings of a whole piece, one row per 3 s patch.

        Parameters
        ----------
        source
            An audio file (anything :func:`m2p.audio.decode.load` reads; decoded to 22,050 Hz, then
            resampled to 16 kHz) or mono samples ``(n,)`` with ``sample_rate`` in Hz.
        sample_rate
            Rate of an array source (required for arrays).
        hop
            Frames between patch starts (187 = non-overlapping 3 s patches).
        batch_size
            Patches per network call; results do not depend on it (to float rounding). On CPU
            small batches are fastest per patch (activations stay in cache).

        Returns
        -------
        MusicnnOutput
            ``tags`` (n, 50) in [0, 1], ``embedding`` (n, D), ``times`` (n,) in seconds,
            ``tag_names``.
        """
        wave = _load_16k(source, sample_rate)
        patches = self.patches(wave, hop)
        tags, embs = [], []
        for start in range(0, patches.shape[0], max(1, int(batch_size))):
            t, e = self(patches[start : start + batch_size])
            tags.append(t)
            embs.append(e)
        times = np.arange(patches.shape[0]) * (int(hop) * HOP_LENGTH / MUSICNN_SAMPLE_RATE)
        return MusicnnOutput(torch.cat(tags), torch.cat(embs), times, self.tags)


def build_network(name: str) -> MusicnnNet | VggNet:
    """An untrained network with the architecture of variant ``name`` (see :data:`MODELS`)."""
    arch, tags = _check_name(name)
    return MusicnnNet(len(tags)) if arch == "musicnn" else VggNet(len(tags))


# ------------------------------------------------------------------------------ loading

_CACHE: dict[tuple[str, str, int, int], MusicnnTagger] = {}
_LOCK = threading.Lock()


def find_musicnn_weights(name: str = DEFAULT_MODEL) -> Path:
    """Locate ``<name>.safetensors``.

    Looked for in ``musicnn/`` under ``$M2P_MODEL_DIR`` (when set) and then under the places
    :mod:`m2p.model.weights` searches for the shipped model: ``m2p/_model`` in an installed wheel,
    the checkout's ``model/``.

    Raises
    ------
    ModelNotFoundError
        Not found; the message names every place searched.
    """
    from m2p.model.weights import MODEL_DIR_ENV, _default_search_dirs

    _check_name(name)
    places = []
    env = os.environ.get(MODEL_DIR_ENV, "").strip()
    if env:
        places.append((Path(env).expanduser(), f"${MODEL_DIR_ENV}"))
    places += _default_search_dirs()
    searched = []
    for directory, label in places:
        candidate = directory / WEIGHTS_SUBDIR / f"{name}.safetensors"
        if candidate.is_file():
            return candidate.resolve()
        searched.append(f"{candidate} ({label})")
    raise ModelNotFoundError(
        f"no musicnn weights {name!r}; searched: " + "; ".join(searched)
        + ". Convert them with training/convert_musicnn.py (see model/musicnn/README.md)"
    )


def load_musicnn(name: str = DEFAULT_MODEL, *, device: str | torch.device = "cpu",
                 path: str | os.PathLike[str] | None = None) -> MusicnnTagger:
    """Load a pretrained musicnn tagger in eval mode, cached per file and device.

    Parameters
    ----------
    name
        ``"MSD_vgg"`` (default, :data:`DEFAULT_MODEL`), ``"MTT_vgg"``, ``"MSD_musicnn"`` or
        ``"MTT_musicnn"``.
    device
        ``"cpu"``, ``"cuda"``, ``"auto"`` or a ``torch.device`` (:func:`m2p.model.weights.resolve_device`).
    path
        An explicit ``.safetensors`` file; by default :func:`find_musicnn_weights`.

    Returns
    -------
    MusicnnTagger
        In eval mode with gradients off. Repeated calls with the same arguments return the same
        object: do not modify it in place.

    Raises
    ------
    ModelNotFoundError, ModelFormatError
    """
    from m2p.model.weights import resolve_device

    _check_name(name)
    file = Path(path).expanduser().resolve() if path is not None else find_musicnn_weights(name)
    if not file.is_file():
        raise ModelNotFoundError(f"no musicnn weights file for {name!r}", source=file)
    dev = resolve_device(device)
    stat = file.stat()
    key = (f"{name}|{file}", str(dev), stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        tagger = _CACHE.get(key)
        if tagger is None:
            tagger = _load_uncached(name, file, dev)
            _CACHE[key] = tagger
    return tagger


def tag_audio(source: str | os.PathLike[str] | np.ndarray | Tensor, sample_rate: int | None = None,
              *, model: str = DEFAULT_MODEL, device: str | torch.device = "cpu",
              hop: int = PATCH_FRAMES) -> MusicnnOutput:
    """Tag a file or array with a pretrained musicnn model: ``load_musicnn(model).tag_audio(...)``.

    See :meth:`MusicnnTagger.tag_audio` for the parameters and the result.
    """
    return load_musicnn(model, device=device).tag_audio(source, sample_rate, hop=hop)


def clear_cache() -> None:
    """Forget every tagger loaded by :func:`load_musicnn`."""
    with _LOCK:
        _CACHE.clear()


# ------------------------------------------------------------------------------ internals


def _check_name(name: str) -> tuple[str, tuple[str, ...]]:
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise InvalidArgumentError(
            f"unknown musicnn model {name!r}; choose one of {', '.join(MODELS)}"
        ) from None


def _load_uncached(name: str, file: Path, device: torch.device) -> MusicnnTagger:
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(file), device="cpu")
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ModelFormatError(f"cannot read musicnn weights: {exc}", source=file) from exc
    net = build_network(name)
    expected = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise ModelFormatError(
            f"weights do not match the {name} architecture: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}", source=file)
    for key, ref in expected.items():
        if tuple(tensors[key].shape) != tuple(ref.shape):
            raise ModelFormatError(
                f"tensor {key!r} has shape {tuple(tensors[key].shape)}, expected {tuple(ref.shape)}",
                source=file)
        tensors[key] = tensors[key].to(ref.dtype)
    net.load_state_dict(tensors, strict=False)
    tagger = MusicnnTagger(name, net).to(device).eval()
    for p in tagger.parameters():
        p.requires_grad_(False)
    return tagger


def _as_mono_tensor(wave: np.ndarray | Tensor, device: torch.device) -> Tensor:
    x = wave if isinstance(wave, Tensor) else torch.from_numpy(np.asarray(wave, dtype=np.float32))
    if x.dim() != 1:
        raise InvalidAudioError(f"expected mono samples (n,), got shape {tuple(x.shape)}")
    if x.numel() == 0:
        raise InvalidAudioError("no samples")
    return x.to(device, torch.float32)


def _load_16k(source: object, sample_rate: int | None) -> np.ndarray | Tensor:
    if isinstance(source, Tensor):
        if sample_rate is None:
            raise InvalidAudioError("sample_rate= is required for a tensor of samples")
        if source.dim() != 1:
            raise InvalidAudioError(f"expected mono samples (n,), got shape {tuple(source.shape)}")
        return resample_to_16k(source, int(sample_rate))
    from m2p.audio.decode import SAMPLE_RATE, load

    wave = load(source, sample_rate=sample_rate)  # mono float32 at 22,050 Hz, validated
    return resample_to_16k(wave, SAMPLE_RATE)


__all__ = [
    "MUSICNN_SAMPLE_RATE",
    "PATCH_FRAMES",
    "PATCH_SECONDS",
    "N_MELS",
    "MODELS",
    "DEFAULT_MODEL",
    "TAGS",
    "MTT_TAGS",
    "MSD_TAGS",
    "MelFrontEnd",
    "MusicnnNet",
    "VggNet",
    "MusicnnTagger",
    "MusicnnOutput",
    "resample_to_16k",
    "split_patches",
    "build_network",
    "find_musicnn_weights",
    "load_musicnn",
    "tag_audio",
    "clear_cache",
]
