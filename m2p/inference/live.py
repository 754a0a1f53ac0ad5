"""Live palettes: feed audio as it arrives, get a palette each time a window completes.

>>> import m2p
>>> stream = m2p.PaletteStream(sample_rate=48000)                          # doctest: +SKIP
>>> for block in microphone_blocks():  # (samples,) or (samples, channels) # doctest: +SKIP
...     for window in stream.feed(block):
...         print(window.time, window.palette.hex)
>>> stream.close()                     # the tail window, if any           # doctest: +SKIP

The stream runs the offline pipeline's own stages (:class:`m2p.inference.engine.PaletteEngine`)
window by window, so for the same audio, model and seed its palettes are the offline track's
(up to float rounding of different batch sizes). A palette is ready as soon as the last sample
of its window has been fed: the latency is one window's encoding and decoding (see
``docs/performance.md``), plus about 0.1 s in the resampler when the input is not at the rate
the model's encoder hears (22,050 Hz for the shipped model).

Feeding it from a microphone needs an audio I/O library, which m2p does not depend on; with
``sounddevice`` (PortAudio)::

    import queue, sounddevice as sd, m2p
    blocks = queue.Queue()
    stream = m2p.PaletteStream(sample_rate=44100)
    with sd.InputStream(samplerate=44100, channels=1, blocksize=4410,
                        callback=lambda data, frames, t, status: blocks.put(data.copy())):
        while True:
            for window in stream.feed(blocks.get()):
                print(window.time, " ".join(window.palette.hex))

(do the model work in the loop, not in the callback: PortAudio's callback must return quickly).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from m2p.errors import InvalidArgumentError

if TYPE_CHECKING:
    import torch

    from m2p.inference.engine import WindowPalette
    from m2p.model.network import Music2Palette
    from m2p.rhythm.online import BeatEvent

__all__ = ["BeatLines", "PaletteStream", "live", "window_json", "read_pcm", "read_pipe", "PCM_FORMATS"]

#: Raw PCM sample formats ``read_pcm`` (and ``m2p live``) accept: ffmpeg's names -> NumPy dtypes.
PCM_FORMATS = {"f32le": "<f4", "s16le": "<i2", "s32le": "<i4", "f64le": "<f8"}


class PaletteStream:
    """Palettes from audio that arrives in blocks (a microphone, a pipe, a network stream).

    Parameters
    ----------
    sample_rate
        Rate of the blocks, Hz (resampled inside to the rate the model's encoder hears).
    window, hop
        Window length (>= 1 s) and hop between window starts (>= 0.05 s), in seconds, as in
        :func:`m2p.palette_track`.
    seed, noise, device, model
        As in :func:`m2p.palette_track`.
    label
        Name of the stream in error messages.
    beats
        Also track beats causally (:class:`m2p.rhythm.online.OnlineBeatTracker` on the
        rhythm's own 16 kHz mel frames): :meth:`take_beats` returns them as they are announced,
        :data:`m2p.rhythm.online.LATENCY` s after they sound (plus the block that carried them).

    Notes
    -----
    Only the samples that pending windows still need are kept, so memory does not grow with
    the length of the stream.
    """

    def __init__(self, *, sample_rate: int, window: float = 10.0, hop: float = 2.5,
                 seed: int = 0, noise: float | None = None, device: "str | torch.device" = "auto",
                 model: "Music2Palette | str | None" = None, label: str = "<stream>",
                 beats: bool = False) -> None:
        from m2p.api import check_options, load_for_inference
        from m2p.audio.sources import BlockConverter, check_sample_rate
        from m2p.inference.engine import PaletteEngine
        from m2p.inference.windows import window_layout

        from m2p._internal.checks import flag

        check_options(seed=seed, noise=noise, window=window, hop=hop)
        beats = flag(beats, "beats")
        check_sample_rate(sample_rate, label)  # before the model loads: the cheap check first
        net, dev, noise_scale = load_for_inference(model, device, noise)
        self.converter = BlockConverter(sample_rate, target_rate=net.input.sample_rate, label=label)
        window_samples, hop_samples = window_layout(window, hop, net.input)
        settings = dict(device=dev, seeds=[seed], noise_scale=noise_scale,
                        window_samples=window_samples, hop_samples=hop_samples, batch_size=64)
        # One window of silence through a throwaway engine: the first real window would
        # otherwise pay for torch's first-call set-up (about 70 ms) on top of its own latency.
        PaletteEngine(net, **settings).feed(np.zeros(window_samples, np.float32), flush=True)
        self.engine = PaletteEngine(net, **settings, rhythm="online" if beats else None)
        self.label = label
        self.closed = False

    @property
    def seconds(self) -> float:
        """Audio received so far (after resampling), s."""
        return self.engine.n_samples / self.engine.sample_rate

    def feed(self, block: Any) -> "list[WindowPalette]":
        """Add a block of samples; return the palettes of the windows it completed (often
        none, sometimes several), each with ``start``, ``end``, ``time`` (s) and ``palette``."""
        if self.closed:
            raise InvalidArgumentError("the stream is closed", source=self.label)
        return self.engine.feed(self.converter.push(block), flush=True)

    @property
    def next_beat(self) -> float | None:
        """Predicted stream time, s, of the next beat (with ``beats=True``, once locked on)."""
        return self.engine.next_beat

    def take_beats(self) -> "list[BeatEvent]":
        """The beats announced since the last call (with ``beats=True``), each with ``time``
        (when it sounds, s of stream time after resampling), ``bpm``, ``downbeat`` and
        ``announced`` (the stream time at which it was known)."""
        return self.engine.take_beats()

    def close(self) -> "list[WindowPalette]":
        """End the stream: the palettes of the windows completed by the resampler's last
        samples, then of the tail window (aligned with the end of the audio) when the last
        window did not reach it, or of the whole clip when it is shorter than one window;
        nothing when less than a second arrived."""
        from m2p.inference.windows import MIN_AUDIO_SECONDS

        if self.closed:
            return []
        self.closed = True
        last = self.engine.feed(self.converter.flush(), flush=True)  # the resampler's tail
        if self.engine.n_samples < MIN_AUDIO_SECONDS * self.engine.sample_rate:
            return []
        return last + self.engine.finish()


def live(blocks: Iterable[Any], **options: Any) -> Iterator["WindowPalette"]:
    """Yield a palette for each window of a stream of blocks as soon as it completes, then the
    tail window (the generator form of :class:`PaletteStream`; ``options`` are its keyword
    arguments, ``sample_rate`` required)."""
    stream = PaletteStream(**options)
    for block in blocks:
        yield from stream.feed(block)
    yield from stream.close()


def window_json(window: "WindowPalette") -> str:
    """One JSON line for a window: ``time``, ``start``, ``end`` (s), ``hex``, ``valence``,
    ``arousal`` (``m2p live`` prints these)."""
    va = np.asarray(window.palette.valence_arousal, dtype=float)
    return json.dumps({
        "time": round(window.time, 3), "start": round(window.start, 3), "end": round(window.end, 3),
        "hex": list(window.palette.hex), "valence": round(float(va[0]), 4),
        "arousal": round(float(va[1]), 4),
    })


class BeatLines:
    """``m2p live --sync``: one JSON line per beat (or downbeat), carrying the palette to show
    from that beat on.

    A window's palette is not printed when it completes but held until the next beat of the
    chosen kind, so a display that follows the lines changes colour on the beat. Each line:
    ``beat`` (true), ``downbeat``, ``time`` (when the beat sounded, s of stream time, plus
    ``offset``), ``bpm``, ``latency`` (s from the beat to the moment it was announced: the
    tracker's :data:`m2p.rhythm.online.LATENCY` and the block that carried it), ``hex`` (the
    palette in force, null before the first window completes) and ``change`` (whether it is
    new at this beat).

    Parameters
    ----------
    sync
        ``"beat"`` or ``"downbeat"``.
    offset
        Seconds added to ``time`` (``--latency-offset``: a display that shows lines late).
    """

    def __init__(self, sync: str, *, offset: float = 0.0) -> None:
        if sync not in ("beat", "downbeat"):
            raise InvalidArgumentError(f"sync must be 'beat' or 'downbeat', got {sync!r}")
        offset = float(offset)
        if not math.isfinite(offset):
            raise InvalidArgumentError(f"latency offset must be a finite number of seconds, "
                                       f"got {offset!r}")
        self.sync, self.offset = sync, offset
        self.waiting: "WindowPalette | None" = None
        self.shown: "tuple[str, ...] | None" = None

    def lines(self, windows: "list[WindowPalette]", beats: "list[BeatEvent]") -> list[str]:
        """The lines for the beats announced since the last call; ``windows``: the palettes
        completed meanwhile (the newest waits for the next beat)."""
        if windows:
            self.waiting = windows[-1]
        out = []
        for beat in beats:
            if self.sync == "downbeat" and not beat.downbeat:
                continue
            change = False
            if self.waiting is not None:
                hexes = tuple(self.waiting.palette.hex)
                change, self.shown, self.waiting = hexes != self.shown, hexes, None
            out.append(json.dumps({
                "beat": True, "downbeat": bool(beat.downbeat),
                "time": round(beat.time + self.offset, 4), "bpm": round(float(beat.bpm), 2),
                "latency": round(beat.announced - beat.time, 4),
                "hex": None if self.shown is None else list(self.shown), "change": change,
            }))
        return out


def read_pcm(fd: int, *, fmt: str = "f32le", channels: int = 1, block_frames: int = 2048,
             ) -> Iterator[np.ndarray]:
    """Blocks of raw interleaved PCM read from a file descriptor (a pipe) as they arrive.

    Yields ``(frames, channels)`` arrays of at most ``block_frames`` frames, as soon as any
    whole frames are available (``os.read`` returns what the pipe holds), until end of file.
    A partial frame at the end is dropped.
    """
    import os

    if fmt not in PCM_FORMATS:
        raise InvalidArgumentError(f"unknown PCM format {fmt!r}; one of {', '.join(PCM_FORMATS)}")
    dtype = np.dtype(PCM_FORMATS[fmt])
    frame_bytes = dtype.itemsize * int(channels)
    pending = b""
    while True:
        data = os.read(fd, block_frames * frame_bytes)
        if not data:
            return
        pending += data
        whole = len(pending) // frame_bytes * frame_bytes
        if whole:
            yield np.frombuffer(pending[:whole], dtype=dtype).reshape(-1, channels)
            pending = pending[whole:]


def read_pipe(fd: int, *, fmt: str = "f32le", channels: int = 1, rate: int = 22050,
              block_frames: int = 2048, label: str = "<stdin>",
              ) -> tuple[int, Iterator[np.ndarray]]:
    """``(sample rate, blocks)`` of a pipe: a WAV stream (``ffmpeg ... -f wav -``: its header
    gives rate, channels and sample format) or raw PCM laid out as ``fmt``, ``channels`` and
    ``rate`` say.

    A WAV stream is mixed down and resampled by m2p exactly as a file is, so its palettes are
    those of ``m2p track`` on the same audio. Raw PCM from ``ffmpeg -ac 1 -ar 22050`` is not
    the same audio: ffmpeg's ``-ac 1`` mixes stereo to ``(L + R) / sqrt 2``, 3 dB louder than
    m2p's mean of the channels, and its resampler differs near 11 kHz (see
    ``docs/decisions.md``, issue 24).

    Raises
    ------
    m2p.errors.InvalidAudioError
        A WAV header that cannot be read (a format other than PCM or float).
    """
    import os

    head = b""
    while len(head) < 12:
        data = os.read(fd, 12 - len(head))
        if not data:
            break
        head += data
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        wav_rate, wav_channels, dtype, width = _wav_header(fd, label)
        return wav_rate, _frames(fd, b"", dtype, wav_channels, block_frames, width)
    if fmt not in PCM_FORMATS:
        raise InvalidArgumentError(f"unknown PCM format {fmt!r}; one of {', '.join(PCM_FORMATS)}")
    return rate, _frames(fd, head, np.dtype(PCM_FORMATS[fmt]), int(channels), block_frames,
                         np.dtype(PCM_FORMATS[fmt]).itemsize)


def _read_exact(fd: int, size: int) -> bytes:
    import os

    out = b""
    while len(out) < size:
        data = os.read(fd, size - len(out))
        if not data:
            break
        out += data
    return out


def _wav_header(fd: int, label: str) -> tuple[int, int, np.dtype, int]:
    """Read WAV chunks up to ``data``: (rate, channels, sample dtype, bytes per sample)."""
    import struct

    from m2p.errors import InvalidAudioError

    layout = None
    while True:
        chunk = _read_exact(fd, 8)
        if len(chunk) < 8:
            raise InvalidAudioError("the WAV stream ended before its data", source=label)
        name, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if name == b"data":
            if layout is None:
                raise InvalidAudioError("the WAV stream has no format chunk", source=label)
            return layout
        body = _read_exact(fd, size + (size & 1)) if size < 1 << 20 else b""
        if name == b"fmt ":
            code, channels, rate = struct.unpack("<HHI", body[:8])
            bits = struct.unpack("<H", body[14:16])[0]
            if code == 0xFFFE and len(body) >= 26:  # WAVE_FORMAT_EXTENSIBLE: the sub-format
                code = struct.unpack("<H", body[24:26])[0]
            kinds = {(1, 16): "<i2", (1, 32): "<i4", (1, 24): "<i4", (1, 8): "u1",
                     (3, 32): "<f4", (3, 64): "<f8"}
            if (code, bits) not in kinds or not channels:
                raise InvalidAudioError(f"WAV format {code} with {bits}-bit samples is not "
                                        "PCM or float; use ffmpeg's -f wav defaults",
                                        source=label)
            layout = (int(rate), int(channels), np.dtype(kinds[code, bits]), bits // 8)


def _frames(fd: int, pending: bytes, dtype: np.dtype, channels: int, block_frames: int,
            width: int) -> Iterator[np.ndarray]:
    """``(frames, channels)`` blocks of interleaved samples (``width`` bytes each; 24-bit
    integers widened to 32) read from ``fd`` as they arrive, until end of file."""
    import os

    frame_bytes = width * channels
    while True:
        whole = len(pending) // frame_bytes * frame_bytes
        if whole:
            raw = pending[:whole]
            pending = pending[whole:]
            if width == 3:  # 24-bit: place each sample in the top bytes of an int32
                b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
                wide = np.zeros((len(b), 4), dtype=np.uint8)
                wide[:, 1:] = b
                yield wide.view("<i4").reshape(-1, channels)
            else:
                yield np.frombuffer(raw, dtype=dtype).reshape(-1, channels)
        data = os.read(fd, block_frames * frame_bytes)
        if not data:
            return
        pending += data
