"""The public functions: music in, palettes out.

>>> import m2p
>>> m2p.palette("song.mp3")                       # whole-piece palette        # doctest: +SKIP
Palette(#2b2d42 #8d99ae #edf2f4 #ef233c #d90429, mood=excited)
>>> track = m2p.palette_track("song.mp3")         # one palette per window     # doctest: +SKIP
>>> track.at(42.0)                                # palette in force at 42 s   # doctest: +SKIP
>>> m2p.palettes("song.mp3", n=5)                 # five different takes       # doctest: +SKIP

Every option is keyword-only. Times are in seconds. ``source`` is a path to an audio file
(anything libsndfile or ffmpeg decodes) or a NumPy array of samples ``(samples,)`` /
``(samples, channels)`` together with ``sample_rate=`` in Hz.

Bad arguments raise ``TypeError`` (wrong kind) or ``ValueError`` (bad value); problems with the
audio or the model raise :class:`m2p.errors.M2PError` subclasses (see :mod:`m2p.errors`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from m2p import cache
from m2p._internal.checks import check_options, flag as _flag, integer as _int
from m2p.audio.sources import open_source
from m2p.inference.engine import DEFAULT_BATCH_SIZE, DIVERSITY_NOISE, resolve_model, run_inference
from m2p.inference.windows import DEFAULT_HOP, DEFAULT_WINDOW

if TYPE_CHECKING:
    import torch

    from m2p.audio.sources import Source
    from m2p.model.network import Music2Palette
    from m2p.palette_types import Palette, PaletteTrack

__all__ = ["palette", "palette_track", "palettes"]

AudioSource = Union[str, "os.PathLike[str]", np.ndarray]
ModelArg = Union["Music2Palette", str, "os.PathLike[str]", None]

#: Most palettes one :func:`palettes` call makes (they are decoded in bounded batches; the cap
#: bounds the time: about 3.5-10 ms a palette after the encoding, so 1,000 take 4-10 s on a
#: 2-core machine, where 100,000 took 17 minutes; docs/reliability.md).
MAX_PALETTES = 1_000


def palette(
    source: AudioSource,
    *,
    seed: int = 0,
    noise: float | None = None,
    device: "str | torch.device" = "auto",
    model: ModelArg = None,
    window: float = DEFAULT_WINDOW,
    hop: float = DEFAULT_HOP,
    batch_size: int = DEFAULT_BATCH_SIZE,
    sample_rate: int | None = None,
    progress: bool = False,
) -> "Palette":
    """The palette of a whole piece of music.

    The music is heard in sliding windows; the mean of the windows' music embeddings (and
    encoder memories) is decoded once. It is ``palette_track(...).overall`` for the same
    arguments: one run of the model gives both, and the result is kept in memory per audio
    content and arguments (:mod:`m2p.cache`), so ``palette``, ``palette`` again,
    ``palette_track``, ``m2p.style`` and ``m2p.style(at=30)`` on one file run the model once
    (the whole piece costs about a fifth more than without the windows' palettes).

    Parameters
    ----------
    source
        Audio file path, or a NumPy array ``(samples,)`` / ``(samples, channels)`` with
        ``sample_rate``. At least 1 s of audio.
    seed
        Seed of the Gaussian noise added to the music embedding (non-negative int).
    noise
        Standard deviation of that noise (>= 0); None uses the model's default
        (``model.config.noise_scale``); 0 makes the result independent of ``seed``.
    device
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a
        ``torch.device``. With a model instance, ``"auto"`` keeps the model's device.
    model
        A ``Music2Palette`` instance, a model directory, or None for the shipped weights
        (``$M2P_MODEL_DIR`` first; see :func:`m2p.model.weights.find_model_dir`).
    window, hop
        Analysis window length (>= 1 s) and hop between window starts (>= 0.05 s), in
        seconds. Both are rounded to whole samples at the rate the model's encoder hears
        (22,050 Hz for the shipped model; the track records the values used), and a call
        analyses at most 20,000 windows (:data:`m2p.inference.windows.MAX_WINDOWS`).
    batch_size
        Windows per model batch (>= 1); larger is faster on a GPU and uses more memory.
    sample_rate
        Sample rate in Hz of an array ``source`` (required for arrays, not allowed for files).
    progress
        Show a progress bar on stderr (for long files).

    Returns
    -------
    Palette
        3 to 8 colours (CIELCh, gamut-mapped into sRGB) and the music's predicted emotion.

    Raises
    ------
    AudioFileNotFoundError, AudioDecodeError, InvalidAudioError, AudioTooShortError
        The audio cannot be used.
    ModelNotFoundError, ModelFormatError
        No usable weights.
    TypeError, ValueError
        Bad arguments.
    """
    return palette_track(source, window=window, hop=hop, seed=seed, noise=noise, device=device,
                         model=model, batch_size=batch_size, sample_rate=sample_rate,
                         progress=progress).overall


def palette_track(
    source: AudioSource,
    *,
    window: float = DEFAULT_WINDOW,
    hop: float = DEFAULT_HOP,
    seed: int = 0,
    noise: float | None = None,
    device: "str | torch.device" = "auto",
    model: ModelArg = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    sample_rate: int | None = None,
    progress: bool = False,
    drops: bool = False,
) -> "PaletteTrack":
    """One palette per sliding window of the music: a palette track.

    Windows of ``window`` seconds start every ``hop`` seconds (the tail gets one window
    aligned with the end; a clip shorter than one window gets one window). Results are kept
    in memory per audio content and arguments (:mod:`m2p.cache`; ``progress`` aside). One noise vector,
    drawn from ``seed``, is shared by every window so the track is coherent in time; colour
    slots are aligned between neighbouring windows so each colour keeps its place.

    Parameters
    ----------
    source, seed, noise, device, model, batch_size, sample_rate, progress
        As in :func:`palette`.
    window
        Window length in seconds (>= 1).
    hop
        Seconds between window starts (>= 0.05; rounded to whole analysis frames of the
        model's encoder, 512 samples or 23.2 ms for the shipped model, so 2.5 becomes 2.5078;
        the track's ``hop`` is the value used).
    drops
        Also mark builds and drops in ``track.rhythm`` (off by default).

    Returns
    -------
    PaletteTrack
        ``.times`` (window centres, s), ``.palettes``, ``.overall``, ``.at(t)``, and
        ``.rhythm`` (beats, downbeats, tempo over time, sections: :mod:`m2p.rhythm`, found in
        the same pass over the audio), so ``.at(t, sync="downbeat")`` changes on the bar.
    """
    options = dict(window=window, hop=hop, seed=seed, noise=noise, device=device, model=model,
                   batch_size=batch_size, sample_rate=sample_rate, drops=drops)

    def compute() -> "PaletteTrack":
        audio, net, dev, noise_scale = _prepare(source, sample_rate, model, device, seed, noise,
                                                window, hop, batch_size)
        result = run_inference(
            source, model=net, device=dev, seeds=[seed], noise_scale=noise_scale,
            window=window, hop=hop, batch_size=batch_size, per_window=True,
            sample_rate=sample_rate, progress=_flag(progress, "progress"), opened=audio,
            drops=_flag(drops, "drops"),
        )
        assert result.track is not None
        return result.track

    return cache.cached("palette_track", source, compute, **options)


def palettes(
    source: AudioSource,
    *,
    n: int = 5,
    seed: int = 0,
    noise: float | None = None,
    device: "str | torch.device" = "auto",
    model: ModelArg = None,
    window: float = DEFAULT_WINDOW,
    hop: float = DEFAULT_HOP,
    batch_size: int = DEFAULT_BATCH_SIZE,
    sample_rate: int | None = None,
    progress: bool = False,
) -> list["Palette"]:
    """``n`` different whole-piece palettes for the same music.

    The music is encoded once; each palette decodes it with its own noise vector, from ``n``
    seeds derived from ``seed`` (:class:`numpy.random.SeedSequence`; asking for more keeps the
    first ones unchanged).

    Parameters
    ----------
    n
        Number of palettes (1 to :data:`MAX_PALETTES`, 1,000); they are decoded in bounded
        batches.
    noise
        Noise standard deviation (> 0 for different palettes); None uses the model's default,
        or 0.5 when that default is 0.
    source, seed, device, model, window, hop, batch_size, sample_rate, progress
        As in :func:`palette`.

    Returns
    -------
    list of Palette
        ``n`` palettes sharing the music's predicted emotion.
    """
    count = _int(n, "n", minimum=1, maximum=MAX_PALETTES)
    audio, net, dev, noise_scale = _prepare(source, sample_rate, model, device, seed, noise,
                                            window, hop, batch_size)
    if noise is None and noise_scale == 0:
        noise_scale = DIVERSITY_NOISE
    seeds = [int(s) for s in np.random.SeedSequence(seed).generate_state(count, dtype=np.uint32)]
    # A family-choosing model gives palette i the (seed + i)-th most characteristic family.
    result = run_inference(
        source, model=net, device=dev, seeds=seeds, noise_scale=noise_scale, window=window,
        hop=hop, batch_size=batch_size, per_window=False, sample_rate=sample_rate,
        progress=_flag(progress, "progress"), alternatives=[seed + i for i in range(count)],
        opened=audio,
    )
    return list(result.overall)


# ----------------------------------------------------------------------------------------------
# Argument checks
# ----------------------------------------------------------------------------------------------


def _prepare(
    source: AudioSource, sample_rate: int | None, model: ModelArg, device: Any, seed: Any,
    noise: Any, window: Any, hop: Any, batch_size: Any,
) -> tuple["Source", "Music2Palette", "torch.device", float]:
    """Validate the shared arguments and open the source, then load the model (cheap checks
    first); returns the opened source too, so that the run does not open it again.

    The source is opened (its header probed) before the model is loaded so that a missing or
    broken file is reported as such, not hidden behind a missing-model error.
    """
    check_options(seed=seed, noise=noise, window=window, hop=hop)
    _int(batch_size, "batch_size", minimum=1)
    if source is None or isinstance(source, (bool, int, float, dict, set)):
        raise TypeError("source must be an audio file path or a NumPy array of samples, "
                        f"got {type(source).__name__}")
    audio = open_source(source, sample_rate)
    return (audio, *load_for_inference(model, device, noise))


def load_for_inference(model: ModelArg, device: Any, noise: Any
                       ) -> tuple["Music2Palette", "torch.device", float]:
    """The model on its device, and the noise scale to use (the model's default when None)."""
    net, dev = resolve_model(model, device)
    noise_scale = float(net.config.noise_scale) if noise is None else float(noise)
    return net, dev, noise_scale


# The cache keys a call that spells out a default as one that leaves it out.
cache.register_defaults("palette_track", palette_track)
