"""Audio input: decode, mix down to mono, resample to 22,050 Hz, stream in bounded memory.

Every entry point takes a *source*: a path (``str`` or ``os.PathLike``) or a NumPy array of
samples, ``(samples,)`` or ``(samples, channels)``, with ``sample_rate=`` in Hz.

Files that libsndfile reads (wav, flac, ogg/vorbis, mp3, aiff, ...) are decoded with
:mod:`soundfile`; anything else (m4a/aac, opus, webm, video containers...) is decoded by the
ffmpeg binary shipped with :mod:`imageio_ffmpeg`, which also mixes down and resamples.

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
  nothing decodes, :class:`~m2p.errors.AudioDecodeError`.
* Errors are typed (:mod:`m2p.errors`) and read ``"<file>: <one-line reason>"``: a missing
  file is :class:`~m2p.errors.AudioFileNotFoundError`; empty, non-audio, undecodable files
  :class:`~m2p.errors.AudioDecodeError`; bad arrays and ``sample_rate=`` values (required
  for arrays, whole Hz in [1000, 1,000,000]; refused for files, which carry their own rate)
  :class:`~m2p.errors.InvalidAudioError`.
* Silence is valid audio.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from fractions import Fraction
from math import gcd
from pathlib import Path
from typing import Iterator

import numpy as np

from m2p.errors import (
    AudioDecodeError,
    AudioFileNotFoundError,
    InvalidAudioError,
)

SAMPLE_RATE = 22050
"""The sample rate (Hz) of everything this module returns."""

MIN_SAMPLE_RATE = 1000
"""Lowest accepted input sample rate in Hz (lower ones are almost surely kHz typed as Hz)."""

MAX_SAMPLE_RATE = 1_000_000
"""Highest accepted input sample rate in Hz."""

ARRAY_NAME = "<array>"
"""The name used in messages and :class:`AudioInfo` for array sources."""

# Frames read from soundfile per call: small enough that 8 channels of float32 stay < 2 MB.
_READ_FRAMES = 1 << 16
# Bytes read from ffmpeg's pipe per call (float32 mono at 22,050 Hz: about 3 s).
_PIPE_BYTES = 1 << 18
# More "channels" than this in an array means (channels, samples) was passed by mistake.
_MAX_CHANNELS_ARRAY = 64
# Largest polyphase factor (up or down) of the resampler. Common rates stay exact (96 kHz is
# 147/640, 768 kHz 147/5120); an odd rate such as 999,983 Hz is resampled by the nearest ratio
# within this bound (a speed error below 1e-4), so its filter never needs millions of taps.
_MAX_POLYPHASE = 8192
# Output samples per resampling segment: memory per step is set by what comes out, so no
# input rate can make a segment huge.
_SEGMENT_OUT = 1 << 17
# soundfile's name for MP3 files (older libsndfile builds say MPEG).
_MP3_FORMATS = ("MP3", "MPEG")
# A decode that ends this much before the header's length is reported (seconds; and relative,
# since compressed headers only estimate).
_SHORT_SECONDS, _SHORT_FRACTION = 0.5, 0.02


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` learns about a source without decoding it all.

    Attributes
    ----------
    name
        File name (without directories) or ``"<array>"``.
    duration
        Length in seconds (for some compressed files an estimate from the header).
    sample_rate
        The source's own sample rate in Hz (before resampling to 22,050 Hz).
    channels
        Number of channels in the source (before mix-down).
    """

    name: str
    duration: float
    sample_rate: int
    channels: int


def probe(source: str | os.PathLike[str] | np.ndarray, *, sample_rate: int | None = None) -> AudioInfo:
    """Describe a source: duration (s), native sample rate (Hz) and channel count.

    Parameters
    ----------
    source
        Path to an audio file, or an array ``(samples,)`` / ``(samples, channels)``.
    sample_rate
        Sample rate of an array source in Hz (required for arrays, not allowed for files).

    Returns
    -------
    AudioInfo

    Raises
    ------
    AudioFileNotFoundError, AudioDecodeError, InvalidAudioError
    """
    src = _open_source(source, sample_rate)
    return src.info


def stream(
    source: str | os.PathLike[str] | np.ndarray,
    *,
    sample_rate: int | None = None,
    block_seconds: float = 30.0,
) -> Iterator[np.ndarray]:
    """Yield the audio as consecutive mono float32 blocks at 22,050 Hz, in bounded memory.

    Every block but the last has exactly ``round(block_seconds * 22050)`` samples; the
    concatenation of the blocks equals :func:`load`'s result. Memory use does not grow with
    the length of the source (a few blocks' worth at most).

    Parameters
    ----------
    source
        Path to an audio file, or an array ``(samples,)`` / ``(samples, channels)``.
    sample_rate
        Sample rate of an array source in Hz (required for arrays, not allowed for files).
    block_seconds
        Length of each yielded block in seconds (> 0).

    Yields
    ------
    numpy.ndarray
        float32 array ``(block_samples,)`` at 22,050 Hz.

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
    block = max(1, int(round(block_seconds * SAMPLE_RATE)))
    return _rechunk(_open_source(source, sample_rate), block)


def load(
    source: str | os.PathLike[str] | np.ndarray,
    *,
    sample_rate: int | None = None,
    max_seconds: float | None = None,
) -> np.ndarray:
    """Decode a whole source (or its first ``max_seconds``) to mono float32 at 22,050 Hz.

    Parameters
    ----------
    source
        Path to an audio file, or an array ``(samples,)`` / ``(samples, channels)``.
    sample_rate
        Sample rate of an array source in Hz (required for arrays, not allowed for files).
    max_seconds
        Stop after this many seconds (> 0); None reads everything.

    Returns
    -------
    numpy.ndarray
        float32 array ``(samples,)`` at 22,050 Hz.

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
        limit = int(round(max_seconds * SAMPLE_RATE))
    src = _open_source(source, sample_rate)
    parts: list[np.ndarray] = []
    n = 0
    gen = src.blocks()
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


# --------------------------------------------------------------------------------------------
# Sources


class _Source:
    """An opened source: ``info`` and a generator of mono float32 pieces at 22,050 Hz."""

    info: AudioInfo
    label: str  # what errors print in front of the reason

    def blocks(self) -> Iterator[np.ndarray]:  # pragma: no cover - abstract
        raise NotImplementedError


def _open_source(source: object, sample_rate: object) -> _Source:
    if isinstance(source, (str, os.PathLike)):
        if sample_rate is not None:
            raise InvalidAudioError(
                "sample_rate= is only for array sources; a file carries its own rate",
                source=source,
            )
        return _open_file(Path(source))
    if isinstance(source, (bytes, bytearray)):
        raise InvalidAudioError(
            "bytes are not accepted; pass a path or a NumPy array of samples", source=ARRAY_NAME
        )
    return _ArraySource(source, sample_rate)


def _check_rate(sample_rate: object, label: str) -> int:
    if sample_rate is None:
        raise InvalidAudioError("sample_rate= (Hz) is required for an array source", source=label)
    if isinstance(sample_rate, (bool, np.bool_)) or not isinstance(
        sample_rate, (int, float, np.integer, np.floating)
    ):
        raise InvalidAudioError(f"sample_rate must be a number of Hz, got {sample_rate!r}", source=label)
    rate = float(sample_rate)
    if not np.isfinite(rate) or rate != int(rate):
        raise InvalidAudioError(f"sample_rate must be a whole number of Hz, got {sample_rate!r}", source=label)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(
            f"sample_rate {sample_rate!r} Hz is outside [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}] Hz",
            source=label,
        )
    return int(rate)


class _ArraySource(_Source):
    def __init__(self, data: object, sample_rate: object) -> None:
        self.label = ARRAY_NAME
        self.rate = _check_rate(sample_rate, self.label)
        try:
            arr = np.asarray(data)
        except Exception as exc:  # e.g. a CUDA tensor, a ragged list
            raise InvalidAudioError(
                f"cannot read samples from {type(data).__name__}: {exc}", source=self.label
            ) from None
        # Applied per chunk, so an int16 hour is never copied whole to float64.
        self.offset, self.scale = _int_scaling(arr.dtype, self.label)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise InvalidAudioError(
                f"array must have shape (samples,) or (samples, channels), got {arr.shape}",
                source=self.label,
            )
        if arr.shape[1] == 0 or arr.shape[1] > _MAX_CHANNELS_ARRAY:
            raise InvalidAudioError(
                f"array of shape {arr.shape} has {arr.shape[1]} channels; expected (samples, channels)"
                " (transpose a librosa-style (channels, samples) array with .T)",
                source=self.label,
            )
        if arr.shape[0] == 0:
            raise InvalidAudioError("array has no samples", source=self.label)
        bad = 0
        if arr.dtype.kind == "f":
            for start in range(0, arr.shape[0], _READ_FRAMES):
                bad += int(np.count_nonzero(~np.isfinite(arr[start : start + _READ_FRAMES])))
        if bad == arr.size:
            raise InvalidAudioError("every sample is NaN or infinite", source=self.label)
        self.data = arr
        self.bad = bad
        self.info = AudioInfo(self.label, arr.shape[0] / self.rate, self.rate, arr.shape[1])

    def blocks(self) -> Iterator[np.ndarray]:
        # Warned here, not when opened: probe() opens the source too, and one warning per
        # decode is the promise.
        if self.bad:
            _warn_non_finite(self.label, self.bad, self.data.size)

        def native() -> Iterator[np.ndarray]:
            for start in range(0, self.data.shape[0], _READ_FRAMES):
                chunk = self.data[start : start + _READ_FRAMES]
                if self.scale != 1.0:
                    chunk = (chunk.astype(np.float64) - self.offset) * self.scale
                if self.bad:
                    chunk = np.where(np.isfinite(chunk), chunk, 0.0)
                yield _mix(chunk)

        return _resample_stream(native(), self.rate, SAMPLE_RATE)


def _open_file(path: Path) -> _Source:
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            if os.path.islink(path):
                raise AudioFileNotFoundError("broken symbolic link (its target does not exist)",
                                             source=path) from None
            raise AudioFileNotFoundError("no such file", source=path) from None
        if exc.errno == errno.ELOOP:
            raise AudioDecodeError("symbolic link loop (the link leads back to itself)",
                                   source=path) from None
        raise AudioDecodeError(f"cannot read file: {exc.strerror or exc}", source=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioDecodeError("is a directory, not an audio file", source=path)
    if not stat.S_ISREG(st.st_mode):
        # A FIFO or a device may block forever or never end: only regular files are read.
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else
                "a socket" if stat.S_ISSOCK(st.st_mode) else "a device")
        raise AudioDecodeError(f"is {kind}, not a regular audio file", source=path)
    size = st.st_size
    if size == 0:
        raise AudioDecodeError("file is empty (0 bytes)", source=path)
    if not os.access(path, os.R_OK):
        raise AudioDecodeError("permission denied", source=path)
    try:
        return _SoundFileSource(path)
    except _NotForSoundFile:
        pass
    return _FfmpegSource(path)


class _NotForSoundFile(Exception):
    pass


class _SoundFileSource(_Source):
    def __init__(self, path: Path) -> None:
        import soundfile as sf

        self.path = path
        self.label = str(path)
        try:
            with _quiet_stderr(), sf.SoundFile(str(path)) as f:  # libmpg123 prints on open
                rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
                fmt, subtype = str(f.format), str(f.subtype)
        except Exception:  # libsndfile does not know this format: let ffmpeg try
            raise _NotForSoundFile from None
        if rate <= 0 or channels <= 0:
            raise _NotForSoundFile
        _check_header_rate(rate, path)
        self.rate, self.channels, self.frames, self.format = rate, channels, max(frames, 0), fmt
        # A WAV whose size fields under-state its data (ffmpeg cannot fix them past 4 GB):
        # the samples after the announced end are read too, straight from the file.
        self.raw = _wav_past_header(path, subtype, channels, rate, self.frames) if fmt in (
            "WAV", "WAVEX") else None
        if self.raw is not None:
            self.frames = self.raw[2]
        self.info = AudioInfo(path.name, self.frames / rate, rate, channels)

    def blocks(self) -> Iterator[np.ndarray]:
        native = self._native() if self.raw is None else self._raw()
        return _resample_stream(_sanitise(native, self.label), self.rate, SAMPLE_RATE)

    def _raw(self) -> Iterator[np.ndarray]:
        offset, dtype, frames, announced = self.raw  # type: ignore[misc]
        _warn_once(self.label, f"the WAV header announces {announced / self.rate:.2f} s but the "
                               f"file holds {frames / self.rate:.2f} s (size fields broken, as "
                               "in a WAV over 4 GB); reading to the end of the file")
        width = 3 if dtype == "<i3" else np.dtype(dtype).itemsize
        frame_bytes = width * self.channels
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            for _ in range(0, frames, _READ_FRAMES):
                data = handle.read(_READ_FRAMES * frame_bytes)
                data = data[: len(data) - len(data) % frame_bytes]
                if not data:
                    break
                yield _pcm_to_float(data, dtype).reshape(-1, self.channels)

    def _native(self) -> Iterator[np.ndarray]:
        import soundfile as sf

        # libmpg123 (MP3) writes its complaints straight to the stderr file descriptor; they
        # are captured and become part of the one warning below.
        noise = _Captured() if self.format in _MP3_FORMATS else None
        try:
            with _quiet_stderr(noise):
                f = sf.SoundFile(str(self.path))
        except Exception as exc:
            raise AudioDecodeError(_one_line(exc), source=self.label) from None
        decoded = 0
        problem = None
        with f:
            while True:
                try:
                    with _quiet_stderr(noise):
                        chunk = f.read(_READ_FRAMES, dtype="float32", always_2d=True)
                except Exception as exc:  # a truncated/corrupt file: keep what was decoded
                    problem = _one_line(exc)
                    break
                if chunk.shape[0] == 0:
                    break
                decoded += chunk.shape[0]
                yield chunk
        stopped = decoded
        if self.format in _MP3_FORMATS and _short(decoded, self.frames, self.rate):
            # libsndfile gives up at the first bad MP3 frame; ffmpeg resynchronises and goes
            # on, so it decodes the rest (from the same sample position, at the same rate).
            for chunk in _ffmpeg_native(self.path, self.rate, self.channels, skip=decoded):
                decoded += chunk.shape[0]
                yield chunk
        if decoded == 0:
            reason = f"cannot decode audio: {problem}" if problem else "file contains no audio samples"
            raise AudioDecodeError(reason, source=self.label)
        notes = []
        if noise is not None and noise.lines():
            notes.append(f"decoder: {noise.lines()[0]}")
        if problem:
            notes.append(problem)
        if decoded > stopped:
            notes.append(f"libsndfile stopped at {stopped / self.rate:.2f} s, ffmpeg recovered "
                         f"{(decoded - stopped) / self.rate:.2f} s more")
        if _short(decoded, self.frames, self.rate):
            notes.append(f"decoded {decoded / self.rate:.2f} s of the {self.frames / self.rate:.2f} s "
                         "its header announces (truncated or corrupt)")
        if notes:
            _warn_once(self.label, "damaged audio (" + "; ".join(notes) + "); using what decodes")


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO_RE = re.compile(r"Stream #\S+.*?: Audio: ([^\n]*)")
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "4.1": 5,
            "5.0": 5, "5.1": 6, "6.0": 6, "6.1": 7, "7.0": 7, "7.1": 8, "octagonal": 8}


def _ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - a declared dependency
        raise AudioDecodeError("format not readable by soundfile and imageio-ffmpeg is not installed") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def _ffmpeg_input(path: Path) -> str:
    # The file: protocol keeps ffmpeg from reading names like "pipe:1" or "concat:a|b" as URLs.
    return "file:" + str(path.absolute())


class _FfmpegSource(_Source):
    """Decode through ``ffmpeg ... -f f32le -ac 1 -ar 22050 pipe:1``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        exe = _ffmpeg_exe()
        try:
            # "-i" alone prints the stream description on stderr and exits 1 (no output given).
            proc = subprocess.run(
                [exe, "-hide_banner", "-nostdin", "-i", _ffmpeg_input(path)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                timeout=60,
            )
        except subprocess.TimeoutExpired:
            raise AudioDecodeError("ffmpeg timed out reading the file header", source=path) from None
        text = proc.stderr.decode("utf-8", "replace")
        match = _AUDIO_RE.search(text)
        if match is None:
            if "Stream #" in text:
                reason = "no audio stream found (not an audio file?)"
            else:
                reason = f"not a recognised audio format ({_last_line(text, path)})"
            raise AudioDecodeError(reason, source=path)
        desc = match.group(1)
        rate_m = re.search(r"(\d+) Hz", desc)
        rate = int(rate_m.group(1)) if rate_m else SAMPLE_RATE
        _check_header_rate(rate, path)
        channels = 1
        parts = [p.strip() for p in desc.split(",")]
        for p in parts:
            key = p.split("(")[0].strip()
            if key in _LAYOUTS:
                channels = _LAYOUTS[key]
                break
            m = re.match(r"(\d+) channels", p)
            if m:
                channels = int(m.group(1))
                break
        dur_m = _DURATION_RE.search(text)
        if dur_m:
            h, m_, s = dur_m.groups()
            duration = int(h) * 3600 + int(m_) * 60 + float(s)
        else:  # no duration in the header (a raw stream): count the decoded samples
            duration = sum(len(b) for b in self._decode()) / SAMPLE_RATE
        self.info = AudioInfo(path.name, duration, rate, channels)

    def blocks(self) -> Iterator[np.ndarray]:
        return _sanitise(self._decode(), self.label, mix=False)

    def _decode(self) -> Iterator[np.ndarray]:
        exe = _ffmpeg_exe()
        cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", _ffmpeg_input(self.path),
               "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(SAMPLE_RATE),
               "-f", "f32le", "pipe:1"]
        # stderr goes to a file, not a pipe: an unread stderr pipe can fill and hang ffmpeg.
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
            decoded = 0
            leftover = b""
            try:
                assert proc.stdout is not None
                while True:
                    data = proc.stdout.read(_PIPE_BYTES)
                    if not data:
                        break
                    data = leftover + data
                    usable = len(data) - len(data) % 4
                    leftover = data[usable:]
                    if usable:
                        decoded += usable // 4
                        yield np.frombuffer(data[:usable], dtype="<f4").astype(np.float32)
                rc = proc.wait()
            finally:
                # Always reap ffmpeg, also when the consumer stops early or an error is raised.
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
                if proc.stdout is not None:
                    proc.stdout.close()
            err.seek(0)
            text = err.read().decode("utf-8", "replace")
        notes = []
        if rc != 0 or text.strip():
            reason = _last_line(text, self.path) if text.strip() else f"ffmpeg exit status {rc}"
            if decoded == 0:
                raise AudioDecodeError(f"cannot decode audio ({reason})", source=self.label)
            notes.append(f"decoder: {reason}")
        if decoded == 0:
            raise AudioDecodeError("file contains no audio samples", source=self.label)
        expected = getattr(self, "info", None)
        if expected is not None and _short(decoded, expected.duration * SAMPLE_RATE, SAMPLE_RATE):
            notes.append(f"decoded {decoded / SAMPLE_RATE:.2f} s of the {expected.duration:.2f} s "
                         "its header announces (truncated or corrupt)")
        if notes:
            _warn_once(self.label, "damaged audio (" + "; ".join(notes) + "); using what decodes")


# --------------------------------------------------------------------------------------------
# Block processing


def _mix(chunk: np.ndarray) -> np.ndarray:
    """(frames, channels) -> (frames,) float32, the mean of the channels."""
    channels = chunk.shape[1]
    if channels == 1:
        return np.asarray(chunk[:, 0], dtype=np.float32)
    if channels > 7:
        return chunk.mean(axis=1, dtype=np.float64).astype(np.float32)
    # Column by column: equal bit for bit to the mean above (NumPy sums fewer than 8 values
    # in order), and 10x faster than a reduction over a short inner axis.
    total = chunk[:, 0].astype(np.float64)
    for k in range(1, channels):
        total += chunk[:, k]
    return (total / channels).astype(np.float32)


def _sanitise(pieces: Iterator[np.ndarray], label: str, *, mix: bool = True) -> Iterator[np.ndarray]:
    """Replace non-finite samples by 0 (before mixing, so one bad channel spoils nothing else)."""
    bad = total = 0
    try:
        for piece in pieces:
            total += piece.size
            finite = np.isfinite(piece)
            if not finite.all():
                bad += piece.size - int(np.count_nonzero(finite))
                piece = np.where(finite, piece, np.float32(0.0))
            yield _mix(piece) if mix else piece
    finally:
        _close(pieces)
    if total and bad == total:
        raise InvalidAudioError("every sample is NaN or infinite", source=label)
    if bad:
        _warn_non_finite(label, bad, total)


def _warn_non_finite(label: str, bad: int, total: int) -> None:
    warnings.warn(
        f"{label}: replaced {bad} non-finite sample(s) ({100.0 * bad / total:.3g}%) by 0",
        UserWarning,
        stacklevel=5,
    )


class BlockConverter:
    """Push-style conversion of raw sample blocks to mono float32 at 22,050 Hz (live input).

    Each block is ``(samples,)`` or ``(samples, channels)``, float or integer (integers scaled
    like soundfile: full scale to [-1, 1)); non-finite samples become 0 (one warning per
    stream); channels are averaged; other rates are resampled exactly as :func:`stream`
    resamples a whole array, with short segments (about 0.1 s) so that little audio waits in
    the resampler.

    Parameters
    ----------
    sample_rate
        Rate of the incoming blocks, Hz.
    label
        Name used in error messages and warnings.
    """

    #: Output samples per resampling segment (latency of the resampler, about 93 ms).
    LIVE_SEGMENT = 2048

    def __init__(self, sample_rate: int, *, label: str = "<stream>") -> None:
        self.label = label
        self.rate = _check_rate(sample_rate, label)
        self.channels: int | None = None
        self.resampler = _StreamResampler(self.rate, SAMPLE_RATE, segment_out=self.LIVE_SEGMENT)
        self.warned = False

    def push(self, block: object) -> np.ndarray:
        """Convert one block; returns the mono 22,050 Hz samples ready now (maybe none)."""
        try:
            arr = np.asarray(block)
        except Exception as exc:
            raise InvalidAudioError(f"cannot read samples from {type(block).__name__}: {exc}",
                                    source=self.label) from None
        offset, scale = _int_scaling(arr.dtype, self.label)
        if scale != 1.0:
            arr = (arr.astype(np.float64) - offset) * scale
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or not 1 <= arr.shape[1] <= _MAX_CHANNELS_ARRAY:
            raise InvalidAudioError(f"a block must have shape (samples,) or (samples, channels), "
                                    f"got {arr.shape}", source=self.label)
        if self.channels is None:
            self.channels = arr.shape[1]
        elif arr.shape[1] != self.channels:
            raise InvalidAudioError(f"block has {arr.shape[1]} channels, the stream {self.channels}",
                                    source=self.label)
        finite = np.isfinite(arr)
        if not finite.all():
            if not self.warned:
                _warn_non_finite(self.label, int(arr.size - np.count_nonzero(finite)), arr.size)
                self.warned = True
            arr = np.where(finite, arr, 0.0)
        return _join(self.resampler.push(_mix(arr)))

    def flush(self) -> np.ndarray:
        """The samples still in the resampler at the end of the stream."""
        return self.resampler.flush()


def _int_scaling(dtype: np.dtype, label: str) -> tuple[float, float]:
    """``(offset, scale)`` mapping integer samples to [-1, 1) like soundfile does
    (``(x - offset) * scale``); ``(0, 1)`` for floats; other dtypes are refused."""
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        offset = (int(info.max) + int(info.min) + 1) / 2.0
        return offset, 1.0 / (float(info.max) - offset + 1.0)
    if dtype.kind != "f":
        raise InvalidAudioError(f"samples must be a real float or integer array, got dtype {dtype}",
                                source=label)
    return 0.0, 1.0


def _join(pieces: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(pieces) if pieces else np.zeros(0, np.float32)


def _resample_stream(pieces: Iterator[np.ndarray], rate_in: int, rate_out: int) -> Iterator[np.ndarray]:
    """Polyphase resampling of a stream of mono pieces, identical to a one-shot resample_poly
    (:class:`_StreamResampler` pulled by a generator)."""
    resampler = _StreamResampler(rate_in, rate_out)
    if resampler.up == resampler.down:
        try:
            yield from pieces
        finally:
            _close(pieces)
        return
    try:
        for piece in pieces:
            yield from resampler.push(piece)
    finally:
        _close(pieces)
    tail = resampler.flush()
    if len(tail):
        yield tail


class _StreamResampler:
    """Push-style polyphase resampling, identical to a one-shot ``resample_poly``.

    Output sample ``n`` sits at input time ``n * down / up``. Segments start on multiples of
    ``down`` input samples, so each segment's output lies exactly on the global output grid;
    ``context`` extra input samples on both sides cover the filter's half-length, so the
    samples kept from each segment are the same as the one-shot result. ``segment_out`` (output
    samples per segment) trades per-call overhead against latency (a live stream wants small).
    """

    def __init__(self, rate_in: int, rate_out: int, *, segment_out: int = _SEGMENT_OUT) -> None:
        self.up, self.down = _ratio(rate_in, rate_out)
        half_len = 10 * max(self.up, self.down)  # resample_poly's filter half-length (upsampled)
        reach = half_len // self.up + 2  # ... in input samples, plus a margin
        self.context = -(-max(reach, 64) // self.down) * self.down
        # Input samples per segment: a multiple of down giving about segment_out output samples.
        self.seg = max(1, -(-int(segment_out) // self.up)) * self.down
        self.buf = np.zeros(0, np.float64)
        self.buf_start = 0  # global input index of buf[0]
        self.pos = 0  # next input index to produce output for (a multiple of down)

    def push(self, piece: np.ndarray) -> list[np.ndarray]:
        """Add mono input samples; return the output segments now complete (float32)."""
        from m2p.audio.resample import resample_poly

        up, down, seg, context = self.up, self.down, self.seg, self.context
        if up == down:
            return [np.asarray(piece, dtype=np.float32)]
        self.buf = np.concatenate([self.buf, np.asarray(piece, dtype=np.float64)])
        out = []
        while self.buf_start + len(self.buf) >= self.pos + seg + context:
            lo = max(0, self.pos - context)
            x = self.buf[lo - self.buf_start : self.pos + seg + context - self.buf_start]
            y = resample_poly(x, up, down)
            off = (self.pos - lo) * up // down
            out.append(y[off : off + seg * up // down].astype(np.float32))
            self.pos += seg
            cut = max(0, self.pos - context) - self.buf_start
            self.buf = self.buf[cut:]
            self.buf_start += cut
        return out

    def flush(self) -> np.ndarray:
        """The output for the input left at the end of the stream (float32, maybe empty)."""
        from m2p.audio.resample import resample_poly

        up, down = self.up, self.down
        total = self.buf_start + len(self.buf)
        if up == down or total <= self.pos:
            return np.zeros(0, np.float32)
        lo = max(0, self.pos - self.context)
        y = resample_poly(self.buf[lo - self.buf_start :], up, down)
        off = (self.pos - lo) * up // down
        n_out = -(-total * up // down) - self.pos * up // down
        self.buf, self.buf_start, self.pos = np.zeros(0, np.float64), total, total
        return y[off : off + n_out].astype(np.float32)


def _ratio(rate_in: int, rate_out: int) -> tuple[int, int]:
    """(up, down) of the polyphase resampler, both at most :data:`_MAX_POLYPHASE`."""
    g = gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    if max(up, down) <= _MAX_POLYPHASE:
        return up, down
    exact = Fraction(rate_out, rate_in)
    approx = exact.limit_denominator(max(1, int(_MAX_POLYPHASE / max(1.0, float(exact)))))
    return approx.numerator, approx.denominator


def _rechunk(src: _Source, block: int) -> Iterator[np.ndarray]:
    gen = src.blocks()
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
        gen.close()


_PCM_DTYPES = {"PCM_U8": "u1", "PCM_16": "<i2", "PCM_24": "<i3", "PCM_32": "<i4",
               "FLOAT": "<f4", "DOUBLE": "<f8"}


def _wav_past_header(path: Path, subtype: str, channels: int, rate: int,
                     frames: int) -> tuple[int, str, int, int] | None:
    """``(data offset, dtype, frames in the file, frames announced)`` when the WAV's data runs
    more than a second past what its header announces (and what follows the announced end is
    not a chain of valid chunks); None for a sound WAV."""
    dtype = _PCM_DTYPES.get(subtype)
    if dtype is None:
        return None
    width = 3 if dtype == "<i3" else np.dtype(dtype).itemsize
    size = path.stat().st_size
    if size - frames * width * channels < rate * width * channels:  # cheap: nothing to find
        return None
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        kind, length = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "little")
        if kind == b"data":
            offset = pos + 8
            break
        pos += 8 + length + (length & 1)
    else:
        return None
    in_file = (size - offset) // (width * channels)
    if in_file - frames < rate or _chunks_to_end(path, offset + frames * width * channels, size):
        return None
    return offset, dtype, in_file, frames


def _chunks_to_end(path: Path, pos: int, size: int) -> bool:
    """Do valid chunks (four printable ASCII bytes, a size that fits) fill ``pos`` to the end?"""
    with open(path, "rb") as handle:
        for _ in range(64):
            if size - pos < 8:
                return True
            handle.seek(pos)
            header = handle.read(8)
            kind, length = header[:4], int.from_bytes(header[4:], "little")
            if not all(32 <= b < 127 for b in kind) or pos + 8 + length > size:
                return False
            pos += 8 + length + (length & 1)
    return False


def _pcm_to_float(data: bytes, dtype: str) -> np.ndarray:
    """Little-endian PCM bytes -> float32 in [-1, 1) (soundfile's scaling)."""
    if dtype == "<i3":
        b = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = (b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)
        return (values.astype(np.float64) / 2.0**31).astype(np.float32)
    raw = np.frombuffer(data, dtype=dtype)
    if dtype == "u1":
        return ((raw.astype(np.float32) - 128.0) / 128.0).astype(np.float32)
    if raw.dtype.kind == "i":
        return (raw.astype(np.float64) / float(-np.iinfo(raw.dtype).min)).astype(np.float32)
    return raw.astype(np.float32)


def _check_header_rate(rate: int, path: Path) -> None:
    """A header's sample rate outside [1 kHz, 1 MHz] is corrupt (or a joke): refuse it before
    the resampler plans around it."""
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise InvalidAudioError(
            f"header sample rate {rate} Hz is outside [{MIN_SAMPLE_RATE}, {MAX_SAMPLE_RATE}] Hz "
            "(corrupt header?)", source=path)


def _short(decoded: float, expected: float, rate: float) -> bool:
    """Did a decode end clearly before the length its header announced?"""
    missing = expected - decoded
    return missing > _SHORT_SECONDS * rate and missing > _SHORT_FRACTION * expected


def _warn_once(label: str, text: str) -> None:
    warnings.warn(f"{label}: {text}", UserWarning, stacklevel=5)


class _Captured:
    """Text a C library wrote to the stderr file descriptor while :func:`_quiet_stderr` held it."""

    def __init__(self) -> None:
        self.text = ""

    def lines(self) -> list[str]:
        out = []
        for line in self.text.splitlines():
            line = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())  # "[src/libmpg123/x.c:f():12] "
            if line:
                out.append(line[:160])
        return out


@contextlib.contextmanager
def _quiet_stderr(capture: "_Captured | None" = None) -> Iterator[None]:
    """Point file descriptor 2 at a temporary file while C code runs (libmpg123 prints there
    directly, past Python); what it wrote goes to ``capture`` (or is dropped)."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to silence
        yield
        return
    with tempfile.TemporaryFile() as sink:
        try:
            import sys

            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - a replaced or closed sys.stderr
            pass
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            if capture is not None and len(capture.text) < 4096:
                sink.seek(0)
                capture.text += sink.read(4096).decode("utf-8", "replace")


def _ffmpeg_native(path: Path, rate: int, channels: int, *, skip: int) -> Iterator[np.ndarray]:
    """Decode ``path`` with ffmpeg at its own rate and channel count, dropping the first
    ``skip`` frames; yields (frames, channels) float32. Yields nothing if ffmpeg fails."""
    try:
        exe = _ffmpeg_exe()
    except AudioDecodeError:
        return
    cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "quiet", "-i", _ffmpeg_input(path),
           "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", str(channels), "-ar", str(rate),
           "-f", "f32le", "pipe:1"]
    frame_bytes = 4 * channels
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    leftover = b""
    to_skip = skip * frame_bytes
    try:
        assert proc.stdout is not None
        while True:
            data = proc.stdout.read(_PIPE_BYTES)
            if not data:
                break
            if to_skip:
                cut = min(to_skip, len(data))
                data, to_skip = data[cut:], to_skip - cut
            data = leftover + data
            usable = len(data) - len(data) % frame_bytes
            leftover = data[usable:]
            if usable:
                yield np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _close(gen: object) -> None:
    """Close an inner generator now (not at garbage collection): it may own an ffmpeg process."""
    close = getattr(gen, "close", None)
    if close is not None:
        close()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else type(exc).__name__


def _last_line(text: str, path: Path) -> str:
    """ffmpeg's most telling stderr line, without the file path it repeats."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.startswith("At least one output file")] or lines
    if not lines:
        return "unknown ffmpeg error"
    line = lines[-1]
    for name in (_ffmpeg_input(path), str(path.absolute()), str(path)):
        line = line.replace(name + ": ", "").replace(name, "")
    line = line.strip()
    return line or "unknown ffmpeg error"


__all__ = ["SAMPLE_RATE", "AudioInfo", "probe", "stream", "load", "BlockConverter"]
