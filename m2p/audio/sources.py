"""Opened audio sources: an array, a file libsndfile reads, a file ffmpeg decodes, and live
blocks pushed one at a time. Each knows its :class:`AudioInfo` once opened (a header probe, no
decoding) and yields mono float32 blocks at any output rate; :mod:`m2p.audio.decode` is the
public face (``probe``, ``stream``, ``load``), and the conventions are its docstring's.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Generator, Iterator

import numpy as np

from m2p._internal.ffmpeg import failure_reason, ffmpeg_exe, input_arg
from m2p._internal.inputs import check_regular
from m2p._internal.streams import Captured, captured_stderr
from m2p._internal.text import first_line
from m2p._internal.warn import warn
from m2p.audio.repair import read_past_header, wav_announced_frames, wav_past_header
from m2p.audio.resample import StreamResampler, resample_stream
from m2p.errors import (
    AudioDecodeError,
    AudioFileNotFoundError,
    InvalidAudioError,
)

__all__ = ["SAMPLE_RATE", "MIN_SAMPLE_RATE", "MAX_SAMPLE_RATE", "ARRAY_NAME", "AudioInfo",
           "Source", "open_source", "check_sample_rate", "BlockConverter"]

SAMPLE_RATE = 22050
"""The sample rate (Hz) of decoded audio unless a caller asks for another (``target_rate=``): the
rate the shipped model's encoder hears."""

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
# soundfile's name for MP3 files (older libsndfile builds say MPEG).
_MP3_FORMATS = ("MP3", "MPEG")
# Largest float32: a float64 sample beyond it would turn into inf on the way to float32.
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# libmpg123 complains about every granule of a valid LAME MPEG-2 layer III file (LAME lets
# part2_3_length reach past one granule's bits); it decodes them exactly as ffmpeg does, so
# the line says nothing about damage.
_BENIGN_DECODER = re.compile(r"part2_3_length \(\d+\) too large for available bit count")
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
        The source's own sample rate in Hz (before resampling).
    channels
        Number of channels in the source (before mix-down).
    """

    name: str
    duration: float
    sample_rate: int
    channels: int


class Source:
    """An opened source: its :class:`AudioInfo` (known once opened) and its samples.

    Open one with :func:`open_source`; :func:`m2p.audio.decode.stream` takes it in place of a
    path or an array, so a caller that probed a source streams it without opening it again.
    """

    info: AudioInfo
    label: str  # what errors print in front of the reason

    def blocks(self, rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:  # pragma: no cover
        """Mono float32 pieces (of any length) at ``rate`` Hz, from the start; each call decodes
        anew."""
        raise NotImplementedError


def open_source(source: object, sample_rate: object = None) -> Source:
    """Open a path or an array: checks, header probe, no decoding (except for a raw stream
    whose header states no duration, which is decoded once to count its samples).

    Parameters
    ----------
    source
        Path to an audio file, or an array ``(samples,)`` / ``(samples, channels)``.
    sample_rate
        Sample rate of an array source in Hz (required for arrays, not allowed for files).

    Raises
    ------
    AudioFileNotFoundError, AudioDecodeError, InvalidAudioError
    """
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


def check_sample_rate(sample_rate: object, label: str) -> int:
    """``sample_rate`` as whole Hz in [:data:`MIN_SAMPLE_RATE`, :data:`MAX_SAMPLE_RATE`];
    :class:`~m2p.errors.InvalidAudioError` naming ``label`` otherwise."""
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


class _ArraySource(Source):
    def __init__(self, data: object, sample_rate: object) -> None:
        self.label = ARRAY_NAME
        self.rate = check_sample_rate(sample_rate, self.label)
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
                bad += int(np.count_nonzero(~_usable(arr[start : start + _READ_FRAMES])))
        if bad == arr.size:
            raise _all_bad(self.label)
        self.data = arr
        self.bad = bad
        self.info = AudioInfo(self.label, arr.shape[0] / self.rate, self.rate, arr.shape[1])

    def blocks(self, rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
        # Warned here, not when opened: a probe opens the source too, and one warning per
        # decode is the promise.
        if self.bad:
            _warn_non_finite(self.label, self.bad, self.data.size)

        def native() -> Iterator[np.ndarray]:
            for start in range(0, self.data.shape[0], _READ_FRAMES):
                chunk = self.data[start : start + _READ_FRAMES]
                if self.bad:
                    chunk = np.where(_usable(chunk), chunk, 0.0)
                if self.scale != 1.0:
                    chunk = (chunk.astype(np.float64) - self.offset) * self.scale
                yield _mix(chunk)

        return resample_stream(native(), self.rate, rate)


def _open_file(path: Path) -> Source:
    # A FIFO or a device may block forever or never end: only regular files are read.
    check_regular(path, error=AudioDecodeError, missing=AudioFileNotFoundError, empty_ok=False,
                  noun="an audio file")
    try:
        return _SoundFileSource(path)
    except _NotForSoundFile:
        pass
    return _FfmpegSource(path)


class _NotForSoundFile(Exception):
    pass


class _SoundFileSource(Source):
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
        self.raw = wav_past_header(path, subtype, channels, rate, self.frames) if fmt in (
            "WAV", "WAVEX") else None
        if self.raw is not None:
            self.frames = self.raw.frames
        # libsndfile counts the frames a cut WAV still holds; its header says what was meant.
        self.announced = wav_announced_frames(path, subtype, channels) if fmt in (
            "WAV", "WAVEX") and self.raw is None else None
        self.info = AudioInfo(path.name, self.frames / rate, rate, channels)

    def blocks(self, rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
        native = self._native() if self.raw is None else self._raw()
        return resample_stream(_sanitise(native, self.label), self.rate, rate)

    def _raw(self) -> Iterator[np.ndarray]:
        raw = self.raw
        assert raw is not None
        _warn_once(self.label, f"the WAV header announces {raw.announced / self.rate:.2f} s but "
                               f"the file holds {raw.frames / self.rate:.2f} s (size fields "
                               "broken, as in a WAV over 4 GB); reading to the end of the file")
        yield from read_past_header(self.path, raw, self.channels, block_frames=_READ_FRAMES)

    def _native(self) -> Iterator[np.ndarray]:
        import soundfile as sf

        # libmpg123 (MP3) writes its complaints straight to the stderr file descriptor; they
        # are captured and become part of the one warning below.
        noise = _Captured() if self.format in _MP3_FORMATS else None
        try:
            with _quiet_stderr(noise):
                f = sf.SoundFile(str(self.path))
        except Exception as exc:
            raise AudioDecodeError(first_line(exc), source=self.label) from None
        decoded = 0
        problem = None
        with f:
            while True:
                try:
                    with _quiet_stderr(noise):
                        chunk = f.read(_READ_FRAMES, dtype="float32", always_2d=True)
                except Exception as exc:  # a truncated/corrupt file: keep what was decoded
                    problem = first_line(exc)
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
        said = [line for line in (noise.lines() if noise is not None else [])
                if not _BENIGN_DECODER.search(line)]
        if said:
            notes.append(f"decoder: {said[0]}")
        if problem:
            notes.append(problem)
        if decoded > stopped:
            notes.append(f"libsndfile stopped at {stopped / self.rate:.2f} s, ffmpeg recovered "
                         f"{(decoded - stopped) / self.rate:.2f} s more")
        if _short(decoded, self.frames, self.rate):
            notes.append(f"decoded {decoded / self.rate:.2f} s of the {self.frames / self.rate:.2f} s "
                         "its header announces (truncated or corrupt)")
        elif self.announced is not None and _short(decoded, self.announced, self.rate):
            notes.append(f"the WAV header announces {self.announced / self.rate:.2f} s but the "
                         f"file holds {decoded / self.rate:.2f} s (truncated)")
        if notes:
            _warn_once(self.label, "damaged audio (" + "; ".join(notes) + "); using what decodes")


_DURATION_RE = re.compile(r"Duration:\s*(\d+):(\d+):(\d+(?:\.\d+)?)")
_AUDIO_RE = re.compile(r"Stream #\S+.*?: Audio: ([^\n]*)")
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "3.0": 3, "quad": 4, "4.0": 4, "4.1": 5,
            "5.0": 5, "5.1": 6, "6.0": 6, "6.1": 7, "7.0": 7, "7.1": 8, "octagonal": 8}


def _ffmpeg_exe(path: Path) -> str:
    try:
        return ffmpeg_exe()
    except FileNotFoundError as exc:  # pragma: no cover - imageio-ffmpeg is a dependency
        raise AudioDecodeError(f"format not readable by soundfile, and {exc}", source=path) from None


class _FfmpegSource(Source):
    """Decode through ``ffmpeg ... -f f32le -ac 1 -ar RATE pipe:1``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        exe = _ffmpeg_exe(path)
        try:
            # "-i" alone prints the stream description on stderr and exits 1 (no output given).
            proc = subprocess.run(
                [exe, "-hide_banner", "-nostdin", "-i", input_arg(path)],
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
                reason = f"not a recognised audio format ({failure_reason(text, path)})"
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
            duration = sum(len(b) for b in self._decode(SAMPLE_RATE)) / SAMPLE_RATE
        self.info = AudioInfo(path.name, duration, rate, channels)

    def blocks(self, rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
        return _sanitise(self._decode(rate), self.label, mix=False)

    def _decode(self, rate: int) -> Iterator[np.ndarray]:
        """ffmpeg mixes down and resamples to ``rate`` itself."""
        exe = _ffmpeg_exe(self.path)
        cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", input_arg(self.path),
               "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", "1", "-ar", str(rate),
               "-f", "f32le", "pipe:1"]
        # stderr goes to a file, not a pipe: an unread stderr pipe can fill and hang ffmpeg.
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
            decoded = 0
            pieces = _pipe_frames(proc, 1)
            try:
                for frames in pieces:
                    decoded += len(frames)
                    yield frames[:, 0].astype(np.float32)  # a writable copy
            finally:
                pieces.close()  # reaps ffmpeg now when the consumer stops early
            rc = proc.returncode
            err.seek(0)
            text = err.read().decode("utf-8", "replace")
        notes = []
        if rc != 0 or text.strip():
            reason = failure_reason(text, self.path) if text.strip() else f"ffmpeg exit status {rc}"
            if decoded == 0:
                raise AudioDecodeError(f"cannot decode audio ({reason})", source=self.label)
            notes.append(f"decoder: {reason}")
        if decoded == 0:
            raise AudioDecodeError("file contains no audio samples", source=self.label)
        expected = getattr(self, "info", None)
        if expected is not None and _short(decoded, expected.duration * rate, rate):
            notes.append(f"decoded {decoded / rate:.2f} s of the {expected.duration:.2f} s "
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


def _sanitise(pieces: Generator[np.ndarray, None, None], label: str, *, mix: bool = True) -> Iterator[np.ndarray]:
    """Replace non-finite samples by 0 (before mixing, so one bad channel spoils nothing else).

    Every sample bad is :class:`~m2p.errors.InvalidAudioError`, also when the consumer stops
    early (a passage read with ``max_seconds``): a passage of NaN is no music either.
    """
    bad = total = 0
    try:
        for piece in pieces:
            total += piece.size
            finite = _usable(piece)
            if not finite.all():
                bad += piece.size - int(np.count_nonzero(finite))
                piece = np.where(finite, piece, np.float32(0.0))
            yield _mix(piece) if mix else piece
    except GeneratorExit:
        if total and bad == total:
            raise _all_bad(label, complete=False) from None
        raise
    finally:
        pieces.close()  # now, not at garbage collection: it may own an ffmpeg process
    if total and bad == total:
        raise _all_bad(label)
    if bad:
        _warn_non_finite(label, bad, total)


def _all_bad(label: str, *, complete: bool = True) -> InvalidAudioError:
    what = "every sample" if complete else "every sample read (the part of the file used)"
    return InvalidAudioError(f"{what} is NaN or infinite", source=label)


def _usable(samples: np.ndarray) -> np.ndarray:
    """Finite samples that also fit float32 (1e300 in a float64 array would become inf)."""
    if samples.dtype == np.float64 or samples.dtype.itemsize > 8:
        return np.abs(samples) <= _FLOAT32_MAX
    return np.isfinite(samples)


def _warn_non_finite(label: str, bad: int, total: int) -> None:
    warn(f"{label}: replaced {bad} non-finite sample(s) ({100.0 * bad / total:.3g}%) by 0 (NaN, "
         "infinite, or too large for float32)")


class BlockConverter:
    """Push-style conversion of raw sample blocks to mono float32 at ``target_rate`` (live input).

    Each block is ``(samples,)`` or ``(samples, channels)``, float or integer (integers scaled
    like soundfile: full scale to [-1, 1)); non-finite samples become 0 (one warning per
    stream); channels are averaged; other rates are resampled exactly as
    :func:`m2p.audio.decode.stream` resamples a whole array, with short segments (about 0.1 s)
    so that little audio waits in the resampler.

    Parameters
    ----------
    sample_rate
        Rate of the incoming blocks, Hz.
    target_rate
        Rate of the converted samples, Hz.
    label
        Name used in error messages and warnings.
    """

    #: Output samples per resampling segment (latency of the resampler, about 93 ms at 22,050 Hz).
    LIVE_SEGMENT = 2048

    def __init__(self, sample_rate: int, *, target_rate: int = SAMPLE_RATE,
                 label: str = "<stream>") -> None:
        self.label = label
        self.rate = check_sample_rate(sample_rate, label)
        self.target_rate = int(target_rate)
        self.channels: int | None = None
        self.resampler = StreamResampler(self.rate, self.target_rate, segment_out=self.LIVE_SEGMENT)
        self.warned = False

    def push(self, block: object) -> np.ndarray:
        """Convert one block; returns the mono samples at ``target_rate`` ready now (maybe none)."""
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
        finite = _usable(arr)
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
    warn(f"{label}: {text}")


class _Captured(Captured):
    """Decoder lines (libmpg123's, without their ``[src/libmpg123/x.c:f():12]`` prefix)."""

    def lines(self) -> list[str]:
        out = []
        for line in self.text.splitlines():
            line = re.sub(r"^\[[^\]]*\]\s*", "", line.strip())
            if line:
                out.append(line[:160])
        return out


_quiet_stderr = captured_stderr
"""libmpg123 (MP3) writes its complaints straight to the stderr file descriptor."""


def _ffmpeg_native(path: Path, rate: int, channels: int, *, skip: int) -> Iterator[np.ndarray]:
    """Decode ``path`` with ffmpeg at its own rate and channel count, dropping the first
    ``skip`` frames; yields (frames, channels) float32. Yields nothing if ffmpeg fails."""
    try:
        exe = ffmpeg_exe()
    except FileNotFoundError:
        return
    cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "quiet", "-i", input_arg(path),
           "-map", "0:a:0", "-vn", "-sn", "-dn", "-ac", str(channels), "-ar", str(rate),
           "-f", "f32le", "pipe:1"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    yield from _pipe_frames(proc, channels, skip=skip)


def _pipe_frames(proc: subprocess.Popen, channels: int, *, skip: int = 0
                 ) -> Generator[np.ndarray, None, None]:
    """float32 ``(frames, channels)`` blocks of ffmpeg's ``f32le`` output as they arrive, the
    first ``skip`` frames dropped; ffmpeg is waited for at the end of its output and reaped
    (killed if need be) also when the consumer stops early or an error is raised."""
    frame_bytes = 4 * channels
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
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


