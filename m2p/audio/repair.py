"""WAV files whose data runs past what their header announces (size fields broken, as in a WAV
over 4 GB that ffmpeg cannot fix): finding them and reading their samples to the end of the
file, scaled as soundfile scales them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["PastHeader", "wav_announced_frames", "wav_past_header", "read_past_header"]

# Data sizes that mean "unknown" (a WAV streamed to a pipe: ffmpeg, sox, arecord write these).
_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF, 0x7FFFFFFF, 0x7FFFF000, 0xFFFFFFFF - 0xFF})

_PCM_DTYPES = {"PCM_U8": "u1", "PCM_16": "<i2", "PCM_24": "<i3", "PCM_32": "<i4",
               "FLOAT": "<f4", "DOUBLE": "<f8"}


class PastHeader(NamedTuple):
    """Where a WAV's samples are when its header under-states them."""

    offset: int  # first byte of the data chunk's samples
    dtype: str  # NumPy dtype of one sample ("<i3": 24-bit little-endian)
    frames: int  # frames in the file
    announced: int  # frames the header announces


def wav_past_header(path: Path, subtype: str, channels: int, rate: int,
                    frames: int) -> PastHeader | None:
    """A :class:`PastHeader` when the WAV's data runs more than a second past what its header
    announces (``frames``; and what follows the announced end is not a chain of valid
    chunks); None for a sound WAV."""
    dtype = _PCM_DTYPES.get(subtype)
    if dtype is None:
        return None
    width = _width(dtype)
    size = path.stat().st_size
    if size - frames * width * channels < rate * width * channels:  # cheap: nothing to find
        return None
    chunk = _data_chunk(path)
    if chunk is None:
        return None
    offset = chunk[0]
    in_file = (size - offset) // (width * channels)
    if in_file - frames < rate or _chunks_to_end(path, offset + frames * width * channels, size):
        return None
    return PastHeader(offset, dtype, in_file, frames)


def wav_announced_frames(path: Path, subtype: str, channels: int) -> int | None:
    """Frames the data chunk of a PCM WAV's header announces (None when unknown: not PCM, no
    data chunk, or a size meaning "streamed, length unknown"). A file cut short holds fewer."""
    dtype = _PCM_DTYPES.get(subtype)
    chunk = _data_chunk(path) if dtype is not None and channels > 0 else None
    if chunk is None or chunk[1] in _UNKNOWN_SIZES:
        return None
    return chunk[1] // (_width(dtype) * channels)


def _data_chunk(path: Path) -> tuple[int, int] | None:
    """``(offset of the samples, announced byte length)`` of a RIFF WAV's data chunk, from
    its first 64 KB; None for another layout (RF64 keeps its size elsewhere)."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        kind, length = head[pos:pos + 4], int.from_bytes(head[pos + 4:pos + 8], "little")
        if kind == b"data":
            return pos + 8, (None if head[:4] == b"RF64" else length) or 0
        pos += 8 + length + (length & 1)
    return None


def read_past_header(path: Path, where: PastHeader, channels: int, *,
                     block_frames: int) -> Iterator[np.ndarray]:
    """The file's samples from ``where.offset`` to its end: float32 ``(frames, channels)``
    blocks of at most ``block_frames`` frames."""
    frame_bytes = _width(where.dtype) * channels
    with open(path, "rb") as handle:
        handle.seek(where.offset)
        for _ in range(0, where.frames, block_frames):
            data = handle.read(block_frames * frame_bytes)
            data = data[: len(data) - len(data) % frame_bytes]
            if not data:
                break
            yield _pcm_to_float(data, where.dtype).reshape(-1, channels)


def _width(dtype: str) -> int:
    return 3 if dtype == "<i3" else np.dtype(dtype).itemsize


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
