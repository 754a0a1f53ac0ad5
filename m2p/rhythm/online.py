"""Beats of a live stream, causally: each beat is known (predicted) before it sounds.

:class:`OnlineBeatTracker` reads the stream's mel frames as they are computed (the same
:class:`~m2p.rhythm.mel_stream.MelStream` the engine feeds) and follows Stark, Davies &
Plumbley's real-time tracker (BTrack, 2009), on this package's envelope and tempo salience:

1. the envelope, causal (:func:`m2p.rhythm.envelope.beat_envelope` with ``causal=True``: the
   local mean and the sub-band scales look back only);
2. the tempo, every :data:`TEMPO_EVERY` s: the salience of each tempo in the last
   :data:`TEMPO_WINDOW` s (:func:`m2p.rhythm.tempo.tempo_salience`, with the prior), summed
   over the updates so far with the older ones fading over :data:`TEMPO_MEMORY` s; the tempo is
   that sum's peak (the offline main tempo's rule, :func:`m2p.rhythm.tempo.global_tempo`,
   made causal: the two agree on the octave once the stream has run a while);
3. a cumulative beat score, the causal half of Ellis's dynamic programme:
   ``C[n] = (1 - a) O[n] + a max_v W(n - v) C[v]`` over predecessors half to two periods back,
   ``W`` a log-Gaussian of the interval over the period;
4. half a period after each beat, the next beat is predicted: the cumulative score is run
   ahead with no onsets, weighted by a Gaussian around one period after the last beat, and its
   maximum is the next beat. When the stream reaches it, the beat is announced.

Latency: a frame exists once the 16 ms after its centre have arrived (the mel window), so a
beat is announced :data:`LATENCY` s after the time it is reported at (plus the length of the
block that carried it). Since it was predicted half a period earlier, a caller that can act
ahead of time (a display with its own latency) may read :attr:`OnlineBeatTracker.next_beat`.

The bar position is counted from the tempo: the beat whose low-frequency onset strength,
averaged over past bars for each position of a 4-beat (or 3-beat) bar, is highest starts the
bar.

References
----------
Stark, A. M., Davies, M. E. P. and Plumbley, M. D. (2009). Real-time beat-synchronous analysis
of musical audio. DAFx-09.
Ellis, D. P. W. (2007). Beat tracking by dynamic programming. J. New Music Research 36(1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from m2p.rhythm.envelope import FRAME_RATE, LOW_BAND, ONSET_DELAY, band_flux, beat_envelope
from m2p.rhythm.tempo import (
    PRIOR_BPM,
    WINDOW_SECONDS,
    _peak_bpm,
    bpm_grid,
    tempo_salience,
    tempogram,
)

if TYPE_CHECKING:
    from m2p.rhythm.mel_stream import MelStream

__all__ = ["LATENCY", "TEMPO_WINDOW", "TEMPO_EVERY", "BeatEvent", "OnlineBeatTracker"]

#: Seconds from a beat's reported time to the moment the tracker can announce it: the mel
#: frame's second half (16 ms) less the onset delay the reported time already includes.
LATENCY = 256 / 16000 - ONSET_DELAY
#: Seconds of envelope the tempo is read from (the offline tempogram's window).
TEMPO_WINDOW = WINDOW_SECONDS
#: Seconds between tempo updates.
TEMPO_EVERY = 0.5
#: Time constant, s, of the fading sum of the tempo salience.
TEMPO_MEMORY = 20.0

# Weight of the past in the cumulative score (BTrack's alpha) and the width of its interval
# window (BTrack's tightness).
_ALPHA = 0.9
_TIGHTNESS = 5.0
# Seconds of flux kept (the causal envelope's longest look-back is 8 s).
_KEEP_SECONDS = 10.0
_FADE = float(np.exp(-TEMPO_EVERY / TEMPO_MEMORY))
# Decay per bar of the bar-position strengths.
_BAR_MEMORY = 0.9


@dataclass(frozen=True)
class BeatEvent:
    """One beat of a live stream.

    Attributes
    ----------
    time
        When the beat sounds, s of stream time.
    bpm
        The tempo at that beat.
    downbeat
        Whether it starts a bar.
    announced
        Stream time at which the tracker knew it had happened (``time + LATENCY`` or a little
        more, up to the end of the block that carried it).
    """

    time: float
    bpm: float
    downbeat: bool
    announced: float


class OnlineBeatTracker:
    """A causal beat tracker over a stream's mel frames (see the module docstring).

    Feed it with :meth:`update` (after each push to the :class:`~m2p.rhythm.mel_stream.MelStream`) or
    :meth:`push_mel`; each call returns the beats it announced.
    """

    def __init__(self) -> None:
        self.grid = bpm_grid()
        self.bpm = PRIOR_BPM
        self.next_beat: float | None = None  # predicted time of the next beat, s
        self.n_frames = 0
        self._last_mel: np.ndarray | None = None
        keep = int(_KEEP_SECONDS * FRAME_RATE)
        self._flux = np.zeros((0, 4))
        self._keep = keep
        self._env: list[float] = []  # causal envelope, the last few periods
        self._low: list[float] = []
        self._score: list[float] = []  # cumulative score, same frames as _env
        self._env0 = 0  # frame index of _env[0]
        self._salience = np.zeros(len(self.grid))
        self._since_tempo = 0
        self._last_beat: int | None = None  # frame of the last beat
        self._predicted: int | None = None  # frame of the next beat
        self._bar = np.zeros(4)  # low-band strength by position in a 4-beat bar
        self._count = 0  # beats so far

    @property
    def period(self) -> float:
        """Beat period now, frames."""
        return 60.0 * FRAME_RATE / self.bpm

    def update(self, frames: "MelStream") -> list[BeatEvent]:
        """Read the mel frames computed since the last call; return the beats announced."""
        count = frames.n_mel_frames - self.n_frames
        return self.push_mel(frames.mel_frames(self.n_frames, count)) if count > 0 else []

    def push_mel(self, mel: np.ndarray) -> list[BeatEvent]:
        """Take (frames, 96) log-mel frames in stream order; return the beats announced."""
        mel = np.asarray(mel, dtype=np.float64)
        if not len(mel):
            return []
        flux = band_flux(mel, self._last_mel)
        self._last_mel = mel[-1].copy()
        first = self.n_frames
        self.n_frames += len(mel)
        self._flux = np.vstack([self._flux, flux])[-self._keep:]
        env = beat_envelope(self._flux, causal=True)[-len(mel):]
        low = beat_envelope(self._flux, causal=True, bands=(LOW_BAND,))[-len(mel):]
        events = []
        for k in range(len(mel)):
            event = self._step(first + k, float(env[k]), float(low[k]))
            if event is not None:
                events.append(event)
        return events

    # ------------------------------------------------------------------ internals

    def _step(self, n: int, onset: float, low: float) -> BeatEvent | None:
        self._env.append(onset)
        self._low.append(low)
        period = self.period
        self._score.append((1 - _ALPHA) * onset + _ALPHA * self._best_past(n, period))
        self._since_tempo += 1
        if self._since_tempo >= int(TEMPO_EVERY * FRAME_RATE):
            self._since_tempo = 0
            self._update_tempo()
        # Keep only what the cumulative score and the bar strength look back at.
        excess = len(self._env) - int(3 * 60.0 * FRAME_RATE / self.grid[0])
        if excess > 0:
            del self._env[:excess], self._low[:excess], self._score[:excess]
            self._env0 += excess
        if self._last_beat is None:
            if n >= int(2 * period) and self._score:  # a first beat once two periods are in
                recent = np.asarray(self._score[-int(period):])
                self._last_beat = n - int(period) + 1 + int(np.argmax(recent))
                self._predicted = None
            return None
        if self._predicted is None and n - self._last_beat >= period / 2:
            self._predicted = self._predict(n, period)
            self.next_beat = self._predicted / FRAME_RATE + ONSET_DELAY
        if self._predicted is not None and n >= self._predicted:
            return self._beat(n)
        return None

    def _best_past(self, n: int, period: float) -> float:
        """max over predecessors v of W(n - v) C[v] (0 with none yet)."""
        lo, hi = n - int(round(2 * period)), n - int(round(period / 2))
        a, b = max(lo, self._env0), min(hi, self._env0 + len(self._score) - 1)
        if b < a:
            return 0.0
        scores = np.asarray(self._score[a - self._env0:b - self._env0 + 1])
        gaps = n - np.arange(a, b + 1)
        weights = np.exp(-0.5 * (_TIGHTNESS * np.log(gaps / period)) ** 2)
        return float((weights * scores).max())

    def _predict(self, n: int, period: float) -> int:
        """The frame of the next beat (see step 4 of the module docstring)."""
        ahead = int(round(period))
        future = list(self._score)
        base = self._env0
        for m in range(1, ahead + 1):
            frame = n + m
            lo, hi = frame - int(round(2 * period)), frame - int(round(period / 2))
            a, b = max(lo, base), min(hi, base + len(future) - 1)
            if b < a:
                future.append(0.0)
                continue
            scores = np.asarray(future[a - base:b - base + 1])
            gaps = frame - np.arange(a, b + 1)
            weights = np.exp(-0.5 * (_TIGHTNESS * np.log(gaps / period)) ** 2)
            future.append(_ALPHA * float((weights * scores).max()))
        predicted = np.asarray(future[len(future) - ahead:])
        expected = self._last_beat + period - n  # frames ahead where the beat is due
        offsets = np.arange(1, ahead + 1)
        window = np.exp(-0.5 * ((offsets - expected) / (period / 4)) ** 2)
        return int(n + offsets[int(np.argmax(predicted * window))])

    def _beat(self, n: int) -> BeatEvent:
        beat = self._predicted
        assert beat is not None
        self._last_beat, self._predicted = beat, None
        # Until the next prediction (half a period on), one period ahead.
        self.next_beat = (beat + self.period) / FRAME_RATE + ONSET_DELAY
        # Bar position: the low band's strength at this beat, remembered per position.
        index = beat - self._env0
        reach = self._low[max(0, index - 2):index + 3] if 0 <= index < len(self._low) else [0.0]
        position = self._count % len(self._bar)
        self._bar *= _BAR_MEMORY ** (1 / len(self._bar))
        self._bar[position] += max(reach) if reach else 0.0
        self._count += 1
        downbeat = bool(self._count > len(self._bar) and position == int(np.argmax(self._bar)))
        time = beat / FRAME_RATE + ONSET_DELAY
        return BeatEvent(time=time, bpm=float(self.bpm), downbeat=downbeat,
                         announced=n / FRAME_RATE + 256 / 16000)

    def _update_tempo(self) -> None:
        width = int(TEMPO_WINDOW * FRAME_RATE)
        env = np.asarray(self._env[-width:])
        if len(env) < width // 2 or not np.any(env > 0):
            return
        _, ac = tempogram(env, window_seconds=TEMPO_WINDOW, hop_seconds=TEMPO_WINDOW)
        ac = ac[-1:]  # the latest window
        if not np.any(ac):
            return
        # The offline rule, causally: the peak of the salience summed over the windows so far,
        # the older ones fading (a piece that changes tempo is followed within ~ TEMPO_MEMORY).
        self._salience = self._salience * _FADE + tempo_salience(ac)[0]
        self.bpm = _peak_bpm(self._salience)

