"""The offline rhythm analysis of a piece: frames -> tempo -> beats -> downbeats -> sections.

:func:`analyze` runs over what :class:`~m2p.rhythm.frames.RhythmFrames` kept of the 16 kHz
frames (the engine's one pass over the audio); :func:`analyze_audio` does the same for a file
or an array on its own (the frames computed here)::

    envelope (m2p.rhythm.envelope)  -> main tempo, tempo curve near it (m2p.rhythm.tempo)
      -> beats, by dynamic programming with the local period (m2p.rhythm.beats)
      -> tempo at each beat (a line through the neighbouring beats)
      -> meter and downbeats (m2p.rhythm.downbeats)
      -> section boundaries, on downbeats (m2p.rhythm.sections); the bar phase is then chosen
         again within each section
      -> drops and builds, when asked (m2p.rhythm.drops)

>>> import numpy as np
>>> sr = 16000
>>> clicks = np.zeros(sr * 12, np.float32)
>>> for t in np.arange(0.25, 12, 0.5):              # 120 BPM
...     clicks[int(t * sr):int(t * sr) + 64] = 0.5
>>> rhythm = analyze_audio(clicks, sample_rate=sr)
>>> round(rhythm.bpm)
120
"""

from __future__ import annotations

from typing import Any

import numpy as np

from m2p.rhythm.beats import beat_period_frames, local_tempo, track_beats
from m2p.rhythm.downbeats import beat_scores, choose_meter, downbeat_indices
from m2p.rhythm.drops import find_drops
from m2p.rhythm.envelope import FRAME_RATE, LOW_BAND, ONSET_DELAY, SUB_BANDS, beat_envelope
from m2p.rhythm.frames import RhythmFrames
from m2p.rhythm.rhythm_types import Rhythm
from m2p.rhythm.sections import find_sections
from m2p.rhythm.tempo import global_tempo, tempo_curve

__all__ = ["CHROMA_RATE", "analyze", "analyze_audio"]

#: Chroma frames per second (:mod:`m2p.features.tonality`: a frame every 2048 samples at 16 kHz).
CHROMA_RATE = 16000 / 2048
# How far, octaves, the tempo curve may stray from the main tempo.
_CURVE_REACH = 0.25


def analyze(frames: RhythmFrames, duration: float, *, drops: bool = False) -> Rhythm:
    """The rhythm of a piece from its kept frames.

    Parameters
    ----------
    frames
        Filled by :meth:`RhythmFrames.update` over the whole piece.
    duration
        Length of the piece, s (> 0).
    drops
        Also look for builds and drops (off by default).

    Returns
    -------
    Rhythm
        Empty events (and meter 0) for silence or a piece too short to hold two beats.
    """
    flux = frames.flux()
    env = beat_envelope(flux)
    empty = Rhythm(beats=[], downbeats=[], tempo_times=[], tempo_bpm=[], sections=[],
                   duration=duration)
    if len(env) < 2 * FRAME_RATE or not np.any(env > 0):
        return empty
    main = global_tempo(env)
    period = _period_per_frame(env, main)
    beat_frames = track_beats(env, period)
    beat_frames = beat_frames[beat_frames / FRAME_RATE + ONSET_DELAY <= duration]
    if len(beat_frames) < 2:
        return empty
    beats = beat_frames / FRAME_RATE + ONSET_DELAY
    bpm = local_tempo(beats)

    low = beat_envelope(flux, bands=(LOW_BAND,))
    chroma = frames.chroma()
    scores = beat_scores(beat_frames, low, chroma, CHROMA_RATE, FRAME_RATE)
    meter, phase, _ = choose_meter(scores)
    down = beats[downbeat_indices(scores, meter, phase)]
    sections = find_sections(beats, float(np.median(bpm)), frames.timbre(), FRAME_RATE, chroma,
                             CHROMA_RATE, duration, down)
    # Each section chooses its own bar phase (a bar may restart at a section change).
    starts = np.searchsorted(beats, sections - 1e-9)
    down = beats[downbeat_indices(scores, meter, phase, starts)]

    drop_times, builds = np.zeros(0), np.zeros((0, 2))
    if drops:
        bars = down if len(down) >= 2 else beats[::4]
        upper = beat_envelope(flux, bands=tuple(range(1, len(SUB_BANDS))))
        drop_times, builds = find_drops(bars, frames.levels(), upper, FRAME_RATE, duration)
    return Rhythm(beats=beats, downbeats=down, tempo_times=beats, tempo_bpm=bpm,
                  sections=sections, duration=duration, meter=meter, drops=drop_times,
                  builds=builds)


def analyze_audio(source: Any, *, sample_rate: int | None = None, drops: bool = False) -> Rhythm:
    """The rhythm of an audio file or array alone (no palettes): decoded as the palette engine
    decodes it, its 16 kHz mel and chroma frames computed in one streaming pass, then
    :func:`analyze`.

    Parameters
    ----------
    source
        Audio path, or a NumPy array ``(samples,)`` / ``(samples, channels)`` with
        ``sample_rate``.
    sample_rate
        Rate of an array source, Hz.
    drops
        Also look for builds and drops.

    Raises
    ------
    AudioFileNotFoundError, AudioDecodeError, InvalidAudioError
        From :func:`m2p.audio.decode.stream`.
    """
    from m2p.audio.decode import SAMPLE_RATE as DECODE_RATE
    from m2p.audio.decode import stream
    from m2p.rhythm.mel_stream import MelStream

    # Decoded at the rate the palette engine decodes at, then resampled to 16 kHz by the
    # MelStream, as in the engine: a track's rhythm equals this one exactly.
    music, kept, n_samples = MelStream(DECODE_RATE), RhythmFrames(), 0
    for block in stream(source, sample_rate=sample_rate, target_rate=DECODE_RATE):
        music.push(block)
        n_samples += len(block)
        kept.update(music)
        music.forget_before(music.n_samples)
    music.finish()
    kept.update(music)
    return analyze(kept, max(n_samples, 1) / DECODE_RATE, drops=drops)


def _period_per_frame(env: np.ndarray, main_bpm: float) -> np.ndarray:
    """(frames,) beat period, frames: the tempo curve kept within :data:`_CURVE_REACH`
    octaves of the main tempo (the curve follows a piece that speeds up or slows down; the
    main tempo decides the octave)."""
    curve = tempo_curve(env, near_bpm=main_bpm, reach_octaves=_CURVE_REACH)
    frame_times = np.arange(len(env)) / FRAME_RATE
    bpm = np.interp(frame_times, curve.times, curve.bpm)
    return beat_period_frames(bpm)
