"""Audio input: decode, mix down to mono, resample, stream in bounded memory.

Every entry point takes a *source*: a path (``str`` or ``os.PathLike``) or a NumPy array of
samples, ``(samples,)`` or ``(samples, channels)``, with ``sample_rate=`` in Hz; or a source
already opened by :func:`open_source` (then it is not opened again). The output is mono
float32 at ``target_rate`` Hz, by default :data:`SAMPLE_RATE` (22,050 Hz); the palette engine
asks for the rate its model's encoder hears.

Files that libsndfile reads (wav, flac, ogg/vorbis, mp3, aiff, ...) are decoded with
:mod:`soundfile`; anything else (m4a/aac, opus, webm, video containers...) is decoded by
ffmpeg (:mod:`m2p._internal.ffmpeg`: the binary of :mod:`imageio_ffmpeg` unless
``$FFMPEG_BINARY`` names another), which also mixes down and resamples. The sources
themselves are in :mod:`m2p.audio.sources`.

Conventions
-----------
* Mono mix-down is the plain mean of the channels (for soundfile and arrays; ffmpeg uses its
  own ``-ac 1`` down-mix matrix).
* Resampling uses a polyphase FIR filter (:func:`m2p.audio.resample.resample_poly`, equal to
  ``scipy.signal.resample_poly`` with its defaults: Kaiser window). It is done block-wise with
  overlapping context aligned on the polyphase grid, so the streamed result equals the one-shot
  result to float rounding: there are no seams.
* Non-finite samples (NaN, +-inf) are replaced by 0 with a :class:`UserWarning`; a source
  where *every* sample is non-finite raises :class:`~m2p.errors.InvalidAudioError` (for a
  streamed file, when the stream reaches its end).
* Integer arrays are scaled to [-1, 1) by their dtype's range, as soundfile does.
* A truncated or partly corrupt file keeps what decodes, with a :class:`UserWarning`; if
  nothing decodes, :class:`~m2p.errors.AudioDecodeError`. A WAV whose data runs past what its
  header announces is read to its end (:mod:`m2p.audio.repair`).
* Errors are typed (:mod:`m2p.errors`) and read ``"<file>: <one-line reason>"``: a missing
  file is :class:`~m2p.errors.AudioFileNotFoundError`; empty, non-audio, undecodable files
  :class:`~m2p.errors.AudioDecodeError`; bad arrays and ``sample_rate=`` values (required
  for arrays, whole Hz in [1000, 1,000,000]; refused for files, which carry their own rate)
  :class:`~m2p.errors.InvalidAudioError`.
* Silence is valid audio.
"""

from __future__ import annotations

import os
from typing import Iterator, Union

import numpy as np

from m2p.audio.sources import SAMPLE_RATE, AudioInfo, BlockConverter, Source, open_source
from m2p.errors import InvalidAudioError

__all__ = ["SAMPLE_RATE", "AudioInfo", "Source", "open_source", "probe", "stream", "load",
           "BlockConverter"]

AudioSource = Union[str, "os.PathLike[str]", np.ndarray, Source]


def probe(source: AudioSource, *, sample_rate: int | None = None) -> AudioInfo:
    """Describe a source: duration (s), native sample rate (Hz) and channel count.

    Parameters
    ----------
    source
        Path to an audio file, or an array ``(samples,)`` / ``(samples, channels)``, or an
        opened :class:`~m2p.audio.sources.Source`.
    sample_rate
        Sample rate of an array source in Hz (required for arrays, not allowed for files).

    Returns
    -------
    AudioInfo

    Raises
    ------
    AudioFileNotFoundError, AudioDecodeError, InvalidAudioError
    """
    return _opened(source, sample_rate).info


def stream(
    source: AudioSource,
    *,
    sample_rate: int | None = None,
    block_seconds: float = 30.0,
    target_rate: int = SAMPLE_RATE,
) -> Iterator[np.ndarray]:
    """Yield the audio as consecutive mono float32 blocks at ``target_rate``, in bounded memory.

    Every block but the last has exactly ``round(block_seconds * target_rate)`` samples; the
    concatenation of the blocks equals :func:`load`'s result. Memory use does not grow with
    the length of the source (a few blocks' worth at most).

    Parameters
    ----------
    source
        Path to an audio file, or an array ``(samples,)`` / ``(samples, channels)``, or an
        opened :class:`~m2p.audio.sources.Source` (streamed without opening it again).
    sample_rate
        Sample rate of an array source in Hz (required for arrays, not allowed for files).
    block_seconds
        Length of each yielded block in seconds (> 0).
    target_rate
        Sample rate of the blocks, Hz (default 22,050).

    Yields
    ------
    numpy.ndarray
        float32 array ``(block_samples,)`` at ``target_rate``.

    Raises
    ------
    AudioFileNotFoundError, AudioDecodeError, InvalidAudioError
        Opening errors (missing file, unknown format, bad arguments) are raised by the call
        itself; decoding errors when the stream reaches them.
    """
    try:
        block_seconds = float(block_seconds)
    except (TypeError, ValueError):
        raise InvalidAudioError(f"block_seconds must be a number, got {block_seconds!r}") from None
    if not np.isfinite(block_seconds) or block_seconds <= 0:
        raise InvalidAudioError(f"block_seconds must be positive, got {block_seconds!r}")
    block = max(1, int(round(block_seconds * target_rate)))
    return _rechunk(_opened(source, sample_rate).blocks(target_rate), block)


def load(
    source: AudioSource,
    *,
    sample_rate: int | None = None,
    max_seconds: float | None = None,
    target_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Decode a whole source (or its first ``max_seconds``) to mono float32 at ``target_rate``.

    Parameters
    ----------
    source
        Path to an audio file, or an array ``(samples,)`` / ``(samples, channels)``, or an
        opened :class:`~m2p.audio.sources.Source`.
    sample_rate
        Sample rate of an array source in Hz (required for arrays, not allowed for files).
    max_seconds
        Stop after this many seconds (> 0); None reads everything.
    target_rate
        Sample rate of the result, Hz (default 22,050).

    Returns
    -------
    numpy.ndarray
        float32 array ``(samples,)`` at ``target_rate``.

    Raises
    ------
    AudioFileNotFoundError, AudioDecodeError, InvalidAudioError
    """
    limit = None
    if max_seconds is not None:
        try:
            max_seconds = float(max_seconds)
        except (TypeError, ValueError):
            raise InvalidAudioError(f"max_seconds must be a number, got {max_seconds!r}") from None
        if not max_seconds > 0:
            raise InvalidAudioError(f"max_seconds must be positive, got {max_seconds!r}")
        limit = int(round(max_seconds * target_rate))
    src = _opened(source, sample_rate)
    parts: list[np.ndarray] = []
    n = 0
    gen = src.blocks(target_rate)
    try:
        for piece in gen:
            parts.append(piece)
            n += len(piece)
            if limit is not None and n >= limit:
                break
    finally:
        gen.close()  # reaps ffmpeg when we stop early
    out = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    if limit is not None:
        out = out[:limit]
    return np.ascontiguousarray(out, dtype=np.float32)


def _opened(source: object, sample_rate: object) -> Source:
    """``source`` itself when it is already opened, else :func:`open_source` of it."""
    if isinstance(source, Source):
        if sample_rate is not None:
            raise InvalidAudioError("sample_rate= is only for array sources; an opened source "
                                    "knows its rate", source=source.label)
        return source
    return open_source(source, sample_rate)


def _rechunk(gen: Iterator[np.ndarray], block: int) -> Iterator[np.ndarray]:
    parts: list[np.ndarray] = []
    have = 0
    try:
        for piece in gen:
            parts.append(piece)
            have += len(piece)
            while have >= block:
                joined = np.concatenate(parts) if len(parts) > 1 else parts[0]
                yield np.ascontiguousarray(joined[:block], dtype=np.float32)
                rest = joined[block:]
                parts = [rest] if len(rest) else []
                have = len(rest)
        if have:
            yield np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
    finally:
        gen.close()  # type: ignore[attr-defined]
