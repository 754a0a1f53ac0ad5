"""Analysis windows: their layout over the audio, their limits, and cutting them from a stream.

All lengths here are in samples at the rate the model's encoder hears
(``Music2Palette.input.sample_rate``, 22,050 Hz for the shipped model), and windows start on
its frame grid (``input.hop_length``, 512 samples).

Window layout (:func:`window_spans`)
    Windows of ``window`` seconds start at 0, ``hop``, ``2 hop``...; when the last of them
    ends before the audio does, one more window aligned with the end of the audio covers the
    tail. A clip shorter than one window gives a single window holding all of it; a clip
    shorter than :data:`MIN_AUDIO_SECONDS` is refused
    (:class:`~m2p.errors.AudioTooShortError`, by the engine).

Frame grid (:func:`window_layout`, :class:`Windower`)
    The hop is a whole number of the encoder's frames, so every window starts on the frame
    grid and is cut from one frame stream. A window whose start is off the grid (only with a
    hand-made hop) is analysed from the grid point before it (at most one frame, 23 ms at
    22,050 Hz, earlier); its span and time are unchanged. The end-aligned tail window, and a
    clip shorter than one window, are analysed alone from their exact samples. See
    ``docs/decisions.md`` for the effect.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from m2p.errors import InvalidArgumentError

if TYPE_CHECKING:
    from m2p.model.encoder import EncoderInput

__all__ = [
    "MIN_AUDIO_SECONDS",
    "MIN_HOP_SECONDS",
    "MAX_WINDOWS",
    "DEFAULT_WINDOW",
    "DEFAULT_HOP",
    "window_spans",
    "window_layout",
    "check_window_count",
    "Windower",
]

#: Shortest audio the model is asked to hear, in seconds.
MIN_AUDIO_SECONDS = 1.0
#: Smallest hop between window starts, seconds. Below this neighbouring windows differ by a
#: few feature frames (23 ms each), so the track gains nothing but run time.
MIN_HOP_SECONDS = 0.05
#: Most windows one call analyses (about 14 hours at the default hop); more is refused before
#: any work with the hop that would fit, so no argument can make a run without limit.
MAX_WINDOWS = 20_000
#: Default analysis window, seconds.
DEFAULT_WINDOW = 10.0
#: Default hop between window starts, seconds.
DEFAULT_HOP = 2.5


def window_spans(n_samples: int, *, window_samples: int, hop_samples: int) -> list[tuple[int, int]]:
    """Sample spans ``[start, end)`` of the analysis windows over ``n_samples`` samples.

    Windows start at 0, ``hop_samples``, ... while they fit; if the last one ends before
    ``n_samples`` a final window ``[n_samples - window_samples, n_samples)`` is added. Fewer
    samples than one window give the single span ``[0, n_samples)``. The streaming pass of
    :func:`m2p.inference.engine.run_inference` produces exactly these spans.
    """
    if n_samples <= 0:
        return []
    if n_samples <= window_samples:
        return [(0, n_samples)]
    spans = [(s, s + window_samples) for s in range(0, n_samples - window_samples + 1, hop_samples)]
    if spans[-1][1] < n_samples:
        spans.append((n_samples - window_samples, n_samples))
    return spans


def window_layout(window: float, hop: float, encoder_input: "EncoderInput | None" = None
                  ) -> tuple[int, int]:
    """Window and hop lengths in samples at the encoder's rate.

    Parameters
    ----------
    window, hop
        Seconds.
    encoder_input
        What the encoder hears (``Music2Palette.input``); None: the default encoder's
        (:data:`m2p.model.encoder.DEFAULT_INPUT`, 22,050 Hz, hop 512).

    Returns
    -------
    window_samples, hop_samples
        The hop is a whole number of the encoder's frames (the nearest one, at least
        :data:`MIN_HOP_SECONDS`; 2.5 s -> 108 frames of 512 samples, 2.5078 s), so every
        window starts on the frame grid and is cut from one frame stream.
    """
    if encoder_input is None:
        from m2p.model.encoder import DEFAULT_INPUT

        encoder_input = DEFAULT_INPUT
    rate, frame = encoder_input.sample_rate, encoder_input.hop_length
    window_samples = max(1, int(round(window * rate)))
    hop_frames = max(math.ceil(MIN_HOP_SECONDS * rate / frame), int(round(hop * rate / frame)))
    return window_samples, hop_frames * frame


def check_window_count(duration: float, *, sample_rate: int, window_samples: int,
                       hop_samples: int, source: str | None = None) -> None:
    """Refuse a run that would analyse more than :data:`MAX_WINDOWS` windows.

    Parameters
    ----------
    duration
        Length of the audio (from its header), seconds.
    sample_rate, window_samples, hop_samples
        The layout (samples at ``sample_rate``).
    source
        Named in the error.

    Raises
    ------
    InvalidArgumentError
        Naming the hop that would fit.
    """
    n = int(round(duration * sample_rate))
    count = 1 if n <= window_samples else (n - window_samples) // hop_samples + 2
    if count > MAX_WINDOWS:
        need = (n - window_samples) / (MAX_WINDOWS - 1) / sample_rate
        raise InvalidArgumentError(
            f"hop {hop_samples / sample_rate:g} s gives {count} windows over {duration:.0f} s; "
            f"at most {MAX_WINDOWS} are analysed per call (use a hop of at least {need:.3g} s)",
            source=source)


class Windower:
    """Cut a stream of sample blocks into the windows of :func:`window_spans`.

    Keeps only the samples that pending windows still need: from the next window start, or
    the last ``window`` samples (for a possible end-aligned tail window), whichever is earlier.

    With ``grid`` > 1 (the encoder's frame grid) the samples :meth:`feed` hands out with a
    window are those of its *analysis span*, ``window`` samples from the grid point at or
    before its start (``start - start % grid``); the spans themselves (and so the times of a
    track) are unchanged. :meth:`finish` hands out exact spans (those windows are analysed
    alone).
    """

    def __init__(self, window_samples: int, hop_samples: int, *, grid: int = 1) -> None:
        self.window = window_samples
        self.hop = hop_samples
        self.grid = max(1, int(grid))
        self.buffer = np.zeros(0, dtype=np.float32)
        self.buffer_start = 0  # absolute index of buffer[0]
        self.next_start = 0
        self.last_end = 0  # end of the last emitted window
        self.n_samples = 0
        self.emitted = 0

    def feed(self, block: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
        """Add samples; yield ``(start, samples)`` for each window that is now complete."""
        self.buffer = np.concatenate([self.buffer, np.asarray(block, dtype=np.float32)])
        self.n_samples += len(block)
        ready = []
        while self.next_start + self.window <= self.n_samples:
            ready.append((self.next_start, self._span(self.next_start, self.window)))
            self.last_end = self.next_start + self.window
            self.next_start += self.hop
            self.emitted += 1
        keep_from = min(self.next_start, self.n_samples - self.window)
        keep_from -= keep_from % self.grid  # the analysis span starts at a grid point
        drop = max(0, keep_from - self.buffer_start)
        if drop:
            self.buffer = self.buffer[drop:].copy()
            self.buffer_start += drop
        return iter(ready)

    def finish(self) -> list[tuple[int, np.ndarray]]:
        """The windows left at the end of the stream: the whole clip or the tail window."""
        n = self.n_samples
        if n == 0:
            return []
        if self.last_end == 0:  # shorter than one window: one window of what there is
            return [(0, self.buffer[: n].copy())]
        if self.last_end < n:  # its exact span: the tail window is analysed alone
            offset = n - self.window - self.buffer_start
            return [(n - self.window, self.buffer[offset:offset + self.window].copy())]
        return []

    def _span(self, start: int, length: int) -> np.ndarray:
        """A copy of the ``length`` samples of the analysis span of the window at ``start``."""
        offset = start - start % self.grid - self.buffer_start
        return self.buffer[offset:offset + length].copy()
