"""The music side of a video: where the song starts, the palette track the picture needs, the
soundtrack clip.

``m2p grade`` and ``m2p race`` both use a song from ``music_start`` seconds on, without cutting
the file; the picture reads the palette track from ``music_start`` on (:class:`.timeline.LutTrack`
``start``). Only the part of the song the clip uses is analysed (:func:`clip_track`): that
passage plus :data:`CONTEXT_WINDOWS` windows of music before it (the model's palette family has a
memory of the preceding windows) and half a window after, on the whole song's window grid, so a
20 s clip of a 5-minute song runs the model on about 15 windows, not 120. A passage that is most
of the song is analysed whole (through :func:`m2p.resolve.resolve_track`, cached per file), and
a whole-song track already in the cache (``m2p recolor`` or a race of the same song) is used as
it is.

A clip so short that fewer than :data:`MIN_WINDOWS` window centres fall inside the part of the
song it uses would get one frozen grade. Then, unless the caller chose ``window`` / ``hop``,
:func:`plan_windows` picks shorter ones for that passage alone, and a warning says so.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from m2p import cache
from m2p._internal.warn import warn
from m2p.errors import InvalidArgumentError
from m2p.palette_types import PaletteTrack
from m2p.resolve import resolve_track

MIN_WINDOWS = 3
"""Fewest window centres a clip's passage of music should hold for its grade to move."""

CONTEXT_WINDOWS = 1.0
"""Windows of music analysed before the passage a clip uses (the model's choice of palette
family depends on the windows before; the grade's smoothing reads a little before too)."""

WHOLE_SONG_SHARE = 0.8
"""A passage (with its context) longer than this share of the song is analysed whole: the
track is then the one every other command of the song shares through the cache."""


def check_music_start(music_start: Any, duration: float, *, source: Any = None) -> float:
    """``music_start`` as seconds inside a song of ``duration`` seconds.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Not a number, NaN, negative, or at / past the end of the song (names ``source``).
    """
    if isinstance(music_start, bool):
        raise InvalidArgumentError(f"music_start must be seconds, got {music_start!r}",
                                   source=source)
    try:
        start = float(music_start)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"music_start must be seconds, got {music_start!r}",
                                   source=source) from None
    if not (math.isfinite(start) and 0.0 <= start < duration):
        raise InvalidArgumentError(f"music_start {music_start!r} s is outside the song, which "
                                   f"lasts {duration:.2f} s", source=source)
    return start


def music_duration(music: Any, *, sample_rate: int | None = None) -> float:
    """Length of the song in seconds (a header probe for a file, no decoding)."""
    from m2p.audio.decode import probe

    return float(probe(music, sample_rate=sample_rate).duration)


def plan_windows(*, duration: float, start: float, span: float, window: float | None = None,
                 hop: float | None = None) -> tuple[float, float, bool]:
    """Analysis window and hop for a clip using ``span`` seconds of a song from ``start``.

    Parameters
    ----------
    duration
        Length of the song, seconds.
    start, span
        The passage the clip uses, seconds.
    window, hop
        The caller's choice (kept as given); ``None`` means the defaults, which are shortened
        when fewer than :data:`MIN_WINDOWS` window centres would fall inside the passage.

    Returns
    -------
    window, hop : float
        Seconds.
    adapted : bool
        True when the defaults were shortened (then analyse the passage alone).
    """
    from m2p.inference import (
        DEFAULT_HOP,
        DEFAULT_WINDOW,
        MIN_AUDIO_SECONDS,
        MIN_HOP_SECONDS,
        window_layout,
        window_spans,
    )
    chosen = window is not None or hop is not None
    window = DEFAULT_WINDOW if window is None else float(window)
    hop = DEFAULT_HOP if hop is None else float(hop)
    if chosen:
        return window, hop, False
    from m2p.model.encoder import DEFAULT_INPUT  # not needed when the windows are chosen
    # The default encoder's layout: close enough to count the window centres in a passage.
    rate = DEFAULT_INPUT.sample_rate
    w_samples, h_samples = window_layout(window, hop, DEFAULT_INPUT)
    spans = window_spans(int(round(duration * rate)), window_samples=w_samples,
                         hop_samples=h_samples)
    centres = np.array([(a + b) / 2 / rate for a, b in spans])
    inside = int(np.count_nonzero((centres >= start) & (centres <= start + span)))
    if inside >= MIN_WINDOWS or span < MIN_AUDIO_SECONDS:  # under 1 s: one window anyway
        return window, hop, False
    # Centres every span / (MIN_WINDOWS + 1) s, each window hearing two hops of music.
    short_hop = max(MIN_HOP_SECONDS, span / (MIN_WINDOWS + 1))
    short_window = min(window, max(MIN_AUDIO_SECONDS, 2.0 * short_hop))
    return short_window, short_hop, True


def clip_track(music: Any, *, start: float, span: float, track: Any = None,
               label: str = "the clip", **inference: Any) -> Any:
    """The palette track a clip reads from ``start`` seconds of the song on.

    Parameters
    ----------
    music
        Audio path or samples (with ``sample_rate=`` in ``inference``).
    start, span
        The passage the clip uses, seconds (``start`` already checked).
    track
        A precomputed track (or a single Palette), returned as is.
    label
        How the warning names the clip.
    **inference
        For :func:`m2p.palette_track`; ``window`` / ``hop`` of ``None`` mean "choose".

    Returns
    -------
    PaletteTrack
        The track of the passage the clip uses, with its context (:func:`passage_bounds`),
        placed at its time in the song; the whole song's when that is most of it; for a short
        clip with shortened windows, the passage's track (``times`` from ``start`` on).
    """
    if track is not None:
        return track
    window, hop = inference.pop("window", None), inference.pop("hop", None)
    sample_rate = inference.get("sample_rate")
    duration = music_duration(music, sample_rate=sample_rate)
    window_s, hop_s, adapted = plan_windows(duration=duration, start=start, span=span,
                                            window=window, hop=hop)
    if not adapted:
        chosen = {k: v for k, v in (("window", window), ("hop", hop)) if v is not None}
        first, last = passage_bounds(duration=duration, start=start, span=span, window=window_s,
                                     hop=hop_s)
        if last - first >= WHOLE_SONG_SHARE * duration:
            return resolve_track(music, **chosen, **inference)
        whole = cache.peek("palette_track", music, **chosen, **inference)
        if whole is not None:  # the whole song was analysed already (m2p recolor, a race...)
            return whole
        samples, rate = _passage(music, first, last - first, sample_rate)
        inference.pop("sample_rate", None)
        part = resolve_track(samples, sample_rate=rate, **chosen, **inference)
        source = str(music) if isinstance(music, (str, os.PathLike)) else part.source
        return PaletteTrack(part.times + first, part.palettes, window=part.window, hop=part.hop,
                            duration=first + part.duration, source=source, seed=part.seed,
                            overall=part.overall)
    warn(f"{label} uses {span:.1f} s of music, fewer than {MIN_WINDOWS} analysis windows: "
         f"using --window {window_s:.3g} --hop {hop_s:.3g} on that passage so the grade moves")
    passage, rate = _passage(music, start, span, sample_rate)
    inference.pop("sample_rate", None)
    part = resolve_track(passage, sample_rate=rate, window=window_s, hop=hop_s, **inference)
    source = str(music) if isinstance(music, (str, os.PathLike)) else part.source
    rhythm = None if part.rhythm is None else part.rhythm.shifted(start)  # beats in song time
    return PaletteTrack(part.times + start, part.palettes, window=part.window, hop=part.hop,
                        duration=start + part.duration, source=source, seed=part.seed,
                        overall=part.overall, rhythm=rhythm)


def passage_bounds(*, duration: float, start: float, span: float, window: float,
                   hop: float) -> tuple[float, float]:
    """The music, in seconds, analysed for a clip using ``[start, start + span]`` of a song.

    From :data:`CONTEXT_WINDOWS` windows before ``start``, moved back onto the whole song's
    window grid (a multiple of the hop the model uses), to half a window plus a hop after the
    end, within ``[0, duration]``.

    Returns
    -------
    first, last : float
        Seconds.
    """
    from m2p.inference import window_layout
    from m2p.model.encoder import DEFAULT_INPUT

    _, hop_samples = window_layout(window, hop, DEFAULT_INPUT)
    grid = hop_samples / DEFAULT_INPUT.sample_rate  # the hop the model really uses
    first = max(0.0, math.floor((start - CONTEXT_WINDOWS * window) / grid) * grid)
    last = min(duration, start + span + 0.5 * window + grid)
    return first, last


def fit_audio(audio: Any, *, start: float, duration: float, music_end: str = "hold") -> Any:
    """The music from ``start`` s, trimmed (or, for ``"loop"``, looped) to ``duration`` s.

    ``audio`` is a MoviePy audio clip; music shorter than ``duration`` ends early with
    ``"hold"`` (the picture keeps the last palette's grade).
    """
    if start > 0:
        audio = audio.subclipped(start)
    if audio.duration >= duration:
        return audio.subclipped(0, duration)
    if music_end == "loop":
        from moviepy.audio.fx import AudioLoop

        return audio.with_effects([AudioLoop(duration=duration)])
    return audio


def _passage(music: Any, start: float, span: float,
             sample_rate: int | None) -> tuple[np.ndarray, int]:
    """Samples of ``[start, start + span]`` of the song (22,050 Hz mono) and their rate."""
    from m2p.audio.decode import SAMPLE_RATE, load

    samples = load(music, sample_rate=sample_rate, max_seconds=start + span)
    first = int(round(start * SAMPLE_RATE))
    return np.ascontiguousarray(samples[first:first + int(round(span * SAMPLE_RATE))]), SAMPLE_RATE


__all__ = ["CONTEXT_WINDOWS", "MIN_WINDOWS", "WHOLE_SONG_SHARE", "check_music_start",
           "clip_track", "fit_audio", "music_duration", "passage_bounds", "plan_windows"]
