"""Bar-chart race coloured by the music, with the music as soundtrack.

>>> import m2p
>>> m2p.video.bar_chart_race("gdp.csv", "song.mp3", "race.mp4")          # doctest: +SKIP

The data is a *wide* table, one row per time step (period) and one column per entity
(:mod:`m2p_plugins.video.race_data` reads it: delimiter sniffed, long tables refused with the
``pivot`` hint or pivoted with ``long=True``). Each frame interpolates values linearly between
periods; a bar changes row when its value overtakes another's, gliding there over
:data:`SWAP_SECONDS` with an ease-in-out, and the race is stretched to the length of the song
(``fit="stretch"``) or the song is trimmed to the race (``fit="trim"``, ``period_seconds`` per
period).

What a viewer can rely on, in every frame (:meth:`BarChartRace.layout`):

* **No two bars overlap**, and no sliver of a hidden bar shows: a bar is never taller than its
  distance to the nearest bar minus the usual gap, so two bars that pass each other thin out as
  they cross and grow back (a bar entering at the bottom grows from the axes' edge).
* **Every bar in the chart has its name and value**, also through an overtake: labels keep a
  text height apart (moved as little as possible), so they never print over each other.
* **One colour per entity for the whole race**: entities seen together get different colours
  (a colouring of who is ever on screen with whom), chosen by the legibility rule
  (:class:`m2p.colour.legibility.TrackColors`): 3:1 on the background, at most two near-black
  (near-white on the dark theme), 20 CIEDE2000 apart also for colour-blind viewers while at most
  8 bars show (:data:`DEFAULT_BARS`). The music moves lightness and chroma within that, never hue.

Speed: frames are drawn with NumPy into a cached background (bars as anti-aliased rectangles,
text rasterised once per string by FreeType through Matplotlib's font machinery and pasted),
not by a Matplotlib draw per frame; ``benchmarks/video.py --race`` compares it with the
``bar_chart_race`` package, which clears and re-plots the axes every frame.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from m2p._internal import checks
from m2p._internal.outputs import atomic_output, check_output, path_inputs
from m2p._internal.text import first_line
from m2p.errors import InvalidArgumentError, VideoError
from m2p.resolve import resolve_track
from m2p.rhythm.rhythm_types import check_sync
from m2p_plugins.video.media import (
    VIDEO_SUFFIXES,
    check_encoder,
    close_quietly,
    encoding_logger,
    even_size_params,
    open_audio,
)
from m2p_plugins.video.race_data import MAX_VALUE, RaceData, as_race_data, read_csv, read_wide_csv
from m2p_plugins.video.soundtrack import check_music_start, clip_track, fit_audio

MIN_SIZE, MAX_SIZE = (16, 16), (7680, 4320)
"""Smallest and largest frame, ``(width, height)`` in pixels."""
MAX_FPS = 240
MAX_SECONDS = 4 * 3600.0
"""Longest race, seconds (a longer one is refused before any work)."""
MAX_PERIOD_FMT = 100
"""Longest ``period_fmt`` (characters); period labels are cut at twice that."""
DEFAULT_BARS = 8
"""Bars shown by default: the most whose colours keep 20 CIEDE2000 apart in normal vision and
for colour-blind viewers on a chart background (see :mod:`m2p.colour.legibility`)."""
SWAP_SECONDS = 0.5
"""Time a bar takes to glide to its new row after an overtake (at most 90% of a period)."""
BAR_HEIGHT = 0.8
"""Height of a bar, in rows (the gap between neighbours is the rest of the row)."""
THEMES = {
    "light": {"face": "#ffffff", "name": "#222222", "value": "#333333", "period": "#6b6b6b",
              "ticks": "#555555", "grid": "#d9d9d9", "title": "#222222"},
    "dark": {"face": "#15171c", "name": "#e8e8ea", "value": "#d0d0d4", "period": "#9a9ca6",
             "ticks": "#a0a2aa", "grid": "#2f323a", "title": "#f0f0f2"},
}
"""Colours of everything but the bars, per ``theme`` (text at WCAG >= 4.5:1 on the face)."""
_MIN_VISIBLE = 0.5  # pixels: a thinner bar is not drawn


@dataclass(frozen=True)
class Layout:
    """Where everything of one frame goes, in rows and data units (see
    :meth:`BarChartRace.layout`).

    Attributes
    ----------
    values
        (E,) each entity's value.
    y
        (E,) row of each bar's centre (``n_bars - 1`` is the top row; below -0.5 it is out of
        the chart).
    height
        (E,) bar heights in rows (0 for bars not drawn).
    visible
        (E,) bars drawn.
    labelled
        (E,) bars whose name and value are printed (every bar in the chart).
    label_y
        (E,) row of each label's centre (text height apart from every other label).
    x_max
        Right end of the value axis.
    """

    values: np.ndarray
    y: np.ndarray
    height: np.ndarray
    visible: np.ndarray
    labelled: np.ndarray
    label_y: np.ndarray
    x_max: float


class BarChartRace:
    """Renders race frames with NumPy into a cached background (see the module docstring).

    Parameters
    ----------
    data
        The table.
    duration
        Length of the race in seconds (periods evenly spaced over it).
    colours
        ``colours(t) -> (k, 3)`` sRGB floats in ``[0, 1]``: the colours in force at ``t``.
    n_bars
        Bars shown.
    size
        ``(width, height)`` in pixels.
    title
        Chart title.
    period_fmt
        How the period label is written: ``None`` (dates get a format that fits their spacing,
        e.g. ``"%b %Y"`` for monthly data; other labels as given), a ``strftime`` format for
        date periods (``"%d %b %Y"``), or a format with ``x`` (``"{x:.0f}"``) for numbers,
        as in the ``bar_chart_race`` package.
    theme
        ``"light"`` or ``"dark"`` (:data:`THEMES`).
    classes
        (E,) the colour (row of ``colours(t)``) of each entity; default entity ``e`` takes
        ``e mod k``.
    """

    def __init__(self, data: RaceData, duration: float, colours: Any, *,
                 n_bars: int = DEFAULT_BARS, size: tuple[int, int] = (1280, 720),
                 title: str | None = None, dpi: int = 100, period_fmt: str | None = None,
                 theme: str = "light", classes: Any = None) -> None:
        self.data = data
        self.duration = float(duration)
        self.colours = colours
        self.n_bars = max(1, min(int(n_bars), len(data.entities)))
        self.size = (int(size[0]), int(size[1]))
        self.classes = None if classes is None else np.asarray(classes, dtype=np.int64)
        look = _theme(theme)
        self.look = {k: np.array(_rgb(v)) for k, v in look.items()}
        self._swaps = RankTimeline(data.values, self.duration)
        self._period_labels = period_labels(data, period_fmt)
        width, height = self.size
        self.text = _Text(dpi)
        # Layout in pixels (y down), as the Matplotlib layout of earlier versions: names left
        # of the axes, ticks above, the period label in a band under the axes.
        counter_size = max(8, min(32, int(height / 24)))
        band = min(0.3, counter_size * 1.6 / 72 * dpi / height) + 0.02
        top = 0.82 if title else 0.9
        self.box = (0.2 * width, (1 - top) * height, 0.92 * width, (1 - band) * height)
        self.label_size = max(7, min(13, int(0.45 * height / (self.n_bars + 2) / 1.4)))
        self.counter_size = counter_size
        row_px = (self.box[3] - self.box[1]) / self.n_bars
        text_px = (self.label_size - 1) * dpi / 72.0 * 1.25
        self.label_gap = min(1.0, (text_px + 2.0) / row_px)  # rows between label centres
        self.background = np.empty((height, width, 3), dtype=np.uint8)
        self.background[:] = np.round(self.look["face"]).astype(np.uint8)
        if title:
            sprite = self.text.sprite(title, min(20, int(height / 30)), look["title"])
            _paste(self.background, sprite, left=width / 2 - sprite.shape[1] / 2,
                   middle=0.025 * height + sprite.shape[0] / 2)
        x0, y0, x1, y1 = self.box
        _fill_rect(self.background, x0, x1, y1 - 0.5, y1 + 0.5, self.look["ticks"])  # x axis

    # -- geometry ---------------------------------------------------------------------------

    def layout(self, t: float) -> Layout:
        """Every bar's row, height and label position at ``t`` seconds."""
        n_periods = len(self.data.periods)
        u = 0.0 if self.duration <= 0 else np.clip(t / self.duration, 0.0, 1.0) * (n_periods - 1)
        i = min(int(u), n_periods - 2)
        f = u - i
        values = (1 - f) * self.data.values[i] + f * self.data.values[i + 1]
        y = self.n_bars - 1 - self._swaps.ranks(t)
        inside = y > -0.5
        # Each bar at most as tall as its distance to the nearest bar in the chart minus the
        # usual gap, and inside the chart's bottom edge (row -0.5): no two ever overlap.
        height = np.zeros_like(y)
        idx = np.flatnonzero(inside)
        if len(idx):
            order = idx[np.argsort(y[idx], kind="stable")]
            ys = y[order]
            gaps = np.diff(ys)
            nearest = np.minimum(np.append(gaps, np.inf), np.insert(gaps, 0, np.inf))
            room = np.minimum(nearest - (1.0 - BAR_HEIGHT), 2.0 * (ys + 0.5))
            height[order] = np.clip(np.minimum(room, BAR_HEIGHT), 0.0, BAR_HEIGHT)
        row_px = (self.box[3] - self.box[1]) / self.n_bars
        visible = inside & (height * row_px >= _MIN_VISIBLE)
        shown = values[inside]
        x_max = max(float(shown.max(initial=0.0)), 1e-12) * 1.12
        label_y = np.array(y, dtype=np.float64)
        if len(idx):
            label_y[order] = _spread(ys, self.label_gap, low=-0.5 + self.label_gap / 2,
                                     high=self.n_bars - 0.5 - self.label_gap / 2)
        return Layout(values, y, np.where(visible, height, 0.0), visible, inside.copy(), label_y,
                      x_max)

    def colour_indices(self, k: int) -> np.ndarray:
        """(E,) the row of ``colours(t)`` each entity takes."""
        if self.classes is None:
            return np.arange(len(self.data.entities)) % max(k, 1)
        return self.classes % max(k, 1)

    # -- drawing ----------------------------------------------------------------------------

    def frame(self, t: float) -> np.ndarray:
        """The frame at ``t`` seconds, uint8 ``(height, width, 3)``."""
        lay = self.layout(t)
        palette = np.asarray(self.colours(t), dtype=np.float64).reshape(-1, 3) * 255.0
        index = self.colour_indices(len(palette))
        x0, y0, x1, y1 = self.box
        image = self.background.copy()
        to_x = (x1 - x0) / lay.x_max
        row_px = (y1 - y0) / self.n_bars

        def to_y(row: float) -> float:  # row -> pixel (rows count up from the bottom)
            return y1 - (row + 0.6) * row_px

        from matplotlib.ticker import MaxNLocator

        ticks = MaxNLocator(nbins=5).tick_values(0.0, lay.x_max / 1.12)
        step = float(ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
        for v in ticks:
            if 0.0 <= v <= lay.x_max:
                col = int(round(x0 + v * to_x))
                image[int(y0):int(y1), col:col + 1] = np.round(self.look["grid"]).astype(np.uint8)
                px = x0 + v * to_x
                sprite = self.text.sprite(_format_tick(float(v), step), 9, self.look["ticks"])
                _paste(image, sprite, left=px - sprite.shape[1] / 2,
                       middle=y0 - 4 - sprite.shape[0] / 2)
        for e in np.flatnonzero(lay.visible):
            half = lay.height[e] / 2
            _fill_rect(image, x0, x0 + lay.values[e] * to_x, to_y(lay.y[e] + half),
                       to_y(lay.y[e] - half), palette[index[e]])
        pad = 0.01 * (x1 - x0)
        for e in np.flatnonzero(lay.labelled):
            middle = to_y(lay.label_y[e])
            name = self.text.sprite(self.data.entities[e], self.label_size, self.look["name"])
            _paste(image, name, left=x0 - 6 - name.shape[1], middle=middle)
            value = self.text.sprite(_format_value(float(lay.values[e])), self.label_size - 1,
                                     self.look["value"])
            left = min(x0 + lay.values[e] * to_x + pad, image.shape[1] - value.shape[1] - 2)
            _paste(image, value, left=left, middle=middle)
        n_periods = len(self.data.periods)
        u = 0.0 if self.duration <= 0 else np.clip(t / self.duration, 0.0, 1.0) * (n_periods - 1)
        period = self._period_labels[int(round(u))]
        size = self.counter_size
        sprite = self.text.sprite(period, size, self.look["period"], bold=True)
        if sprite.shape[1] > 0.45 * (x1 - x0):  # a long label gets smaller, not wider
            size = size * 0.45 * (x1 - x0) / sprite.shape[1]
            sprite = self.text.sprite(period, size, self.look["period"], bold=True)
        _paste(image, sprite, left=x1 - sprite.shape[1], middle=y1 + (image.shape[0] - y1) / 2)
        return image

    def close(self) -> None:
        """Release cached text."""
        self.text.cache.clear()


def race_colours(data: RaceData, track: Any, duration: float, *, n_bars: int,
                 theme: str = "light", start: float = 0.0, fps: float = 30.0,
                 sync: str | None = None) -> tuple[np.ndarray, Callable[[float], np.ndarray]]:
    """The colour of each entity: ``(classes, colours)`` with ``colours(t)`` the (k, 3) sRGB
    colours at race time ``t`` and ``classes[e]`` the row entity ``e`` takes.

    Entities that are ever in the chart at the same moment (sampled at the frame rate and
    through every overtake) get different rows (a greedy colouring, most constrained entity
    first); the rows are :class:`m2p.colour.legibility.TrackColors` of the song on the theme's
    background, so every frame keeps the legibility rule and every entity its hue. With
    ``sync`` (``"beat"``, ``"downbeat"``, ``"section"``) the colours hold between those events
    of the music and change on them (:func:`on_the_music`).
    """
    from m2p.colour.distinct import MAX_DISTINCT
    from m2p.colour.legibility import TrackColors

    timeline = RankTimeline(data.values, duration)
    n = max(1, min(int(n_bars), len(data.entities)))
    times = np.arange(0.0, duration + 1e-9, 1.0 / max(fps, 1.0))
    extra = (timeline.times[:, None] + timeline.swap * np.linspace(-0.5, 0.5, 9)[None]).ravel()
    times = np.concatenate([times, extra[(extra >= 0) & (extra <= duration)]])
    together = np.zeros((len(data.entities),) * 2, dtype=bool)
    for chunk in np.array_split(times, max(1, len(times) // 512)):
        inside = np.stack([n - 1 - timeline.ranks(float(t)) > -0.5 for t in chunk]).astype(np.int64)
        together |= (inside.T @ inside) > 0
    classes = _colour_graph(together, data.values.max(axis=0))
    k = int(min(classes.max(initial=0) + 1, MAX_DISTINCT))
    face = THEMES[theme]["face"]
    held = on_the_music(TrackColors(track, k, background=face), track, sync)
    return classes % k, lambda t: held(start + t)


def _colour_graph(together: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A colouring of the entities with few colours: DSatur (most constrained entity first,
    then most neighbours, then largest value), then iterated greedy (Culberson 1992): greedy
    colouring in the order of the last colouring's classes, largest class first or last in
    turn, which never uses more colours and often fewer."""
    n = len(together)
    adjacent = together & ~np.eye(n, dtype=bool)
    colour = np.full(n, -1, dtype=np.int64)
    degree = adjacent.sum(axis=1)
    for _ in range(n):
        left = np.flatnonzero(colour < 0)
        saturation = [len({int(c) for c in colour[adjacent[e]] if c >= 0}) for e in left]
        pick = left[max(range(len(left)), key=lambda k: (saturation[k], degree[left[k]],
                                                        weight[left[k]], -left[k]))]
        colour[pick] = _smallest_free(colour, adjacent[pick])
    for round_ in range(_RECOLOUR_ROUNDS):
        classes = sorted(set(colour.tolist()), key=lambda c: (int((colour == c).sum()), -c),
                         reverse=bool(round_ % 2))
        order = [int(e) for c in classes for e in np.flatnonzero(colour == c)]
        again = np.full(n, -1, dtype=np.int64)
        for e in order:
            again[e] = _smallest_free(again, adjacent[e])
        colour = again
    return colour


_RECOLOUR_ROUNDS = 40


def _smallest_free(colour: np.ndarray, neighbours: np.ndarray) -> int:
    used = {int(c) for c in colour[neighbours] if c >= 0}
    return next(c for c in range(len(colour) + 1) if c not in used)


def bar_chart_race(data: Any, music: Any, output: str | os.PathLike[str], *,
                   fit: str = "stretch", period_seconds: float = 1.0,
                   n_bars: int = DEFAULT_BARS, fps: int = 30,
                   size: tuple[int, int] = (1280, 720), title: str | None = None,
                   track: Any = None, codec: str = "libx264", preset: str = "medium",
                   music_start: float = 0.0, period_fmt: str | None = None,
                   theme: str = "light", long: bool = False, progress: bool = False,
                   on_track: Callable[[Any], None] | None = None, sync: str | None = None,
                   **inference: Any) -> Path:
    """Render a palette-coloured bar-chart race with the music as soundtrack.

    Parameters
    ----------
    data
        Wide CSV path (or long, with ``long=True``), a :class:`RaceData`, or a pandas
        ``DataFrame`` (index = periods, columns = entities).
    music
        Audio file: palette track and soundtrack.
    output
        Video file (written to a temporary name, renamed when complete).
    fit
        ``"stretch"``: the race lasts as long as the song. ``"trim"``: ``period_seconds`` per
        period and the song is cut to the race (a shorter song ends early and its last palette
        holds).
    period_seconds
        Seconds per period with ``fit="trim"`` (the race may last at most
        :data:`MAX_SECONDS`).
    n_bars
        Bars shown (default :data:`DEFAULT_BARS`; more are allowed, their colours then come as
        far apart as they can, with a warning).
    size, title, period_fmt, theme
        See :class:`BarChartRace`.
    fps
        Frames per second.
    track
        A precomputed :class:`m2p.palette_types.PaletteTrack` (skips inference).
    codec, preset
        ffmpeg encoder settings.
    music_start
        Seconds into the song at the race's start (the file is not cut; with
        ``fit="stretch"`` the race lasts from there to the end of the song).
    long
        ``data`` is a long CSV (period, entity, value rows): pivot it.
    progress
        A progress bar (MoviePy's own messages are never printed).
    on_track
        Called with the palette track the race uses, before rendering.
    sync
        ``"beat"``, ``"downbeat"`` or ``"section"``: the bars keep their colours from one such
        event of the music to the next and are recoloured on it (:func:`on_the_music`); None
        (default): the colours glide with the music.
    **inference
        Passed to :func:`m2p.palette_track`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    m2p.errors.VideoError
        Bad table, no encoder, unwritable output, a race longer than :data:`MAX_SECONDS`
        (checked before rendering).
    """
    out = check_output(output, inputs=path_inputs(music, data), suffixes=VIDEO_SUFFIXES,
                       error=VideoError)
    _check_frame(size, fps, n_bars, period_seconds, out)
    check_encoder(codec)
    if fit not in ("stretch", "trim"):
        raise InvalidArgumentError(f"fit must be 'stretch' or 'trim', got {fit!r}")
    check_sync(sync)
    table = as_race_data(data, long=long)
    period_labels(table, period_fmt)  # a format or theme that does not fit fails before work
    _theme(theme)
    if fit == "trim":
        _check_duration((len(table.periods) - 1) * float(period_seconds), out)
    if track is not None:
        track = resolve_track(track)  # a PaletteTrack (a single Palette has no time)
    audio = clip = race = None
    tmpdir = tempfile.mkdtemp(prefix="m2p-race-")
    try:
        audio = open_audio(music)
        length = float(audio.duration)
        start = check_music_start(music_start, length, source=music)
        if fit == "stretch":
            duration = length - start
        else:
            duration = (len(table.periods) - 1) * float(period_seconds)
        if not math.isfinite(duration) or duration <= 0:
            raise VideoError("race duration must be positive", source=out)
        _check_duration(duration, out)
        track = clip_track(music, start=start, span=min(duration, length - start), track=track,
                           label=f"the race ({duration:.1f} s)", progress=progress, **inference)
        if on_track is not None:
            on_track(track)
        classes, colours = race_colours(table, track, duration, n_bars=n_bars, theme=theme,
                                        start=start, fps=fps, sync=sync)
        race = BarChartRace(table, duration, colours, n_bars=n_bars, size=size, title=title,
                            period_fmt=period_fmt, theme=theme, classes=classes)
        from moviepy import VideoClip

        clip = VideoClip(race.frame, duration=duration)
        clip = clip.with_audio(fit_audio(audio, start=start, duration=duration))
        with atomic_output(out, error=VideoError) as tmp:
            try:
                clip.write_videofile(str(tmp), fps=fps, codec=codec, preset=preset,
                                     audio_codec="aac", ffmpeg_params=even_size_params(size, codec),
                                     temp_audiofile_path=tmpdir,
                                     logger=encoding_logger(progress, label="race"))
            except OSError as exc:
                raise VideoError(f"encoding failed ({first_line(exc, limit=200)})",
                                 source=out) from exc
    finally:
        close_quietly(clip, audio)
        if race is not None:
            race.close()
        shutil.rmtree(tmpdir, ignore_errors=True)
    return out


def _check_duration(seconds: float, out: Path) -> None:
    if not (math.isfinite(seconds) and seconds <= MAX_SECONDS):
        raise InvalidArgumentError(f"the race would last {seconds:.4g} s; at most "
                                   f"{MAX_SECONDS:g} s (lower --period-seconds)", source=out)


def on_the_music(colours: Callable[[float], np.ndarray], track: Any, sync: str | None
                 ) -> Callable[[float], np.ndarray]:
    """``colours`` (music time -> colours) held between the track's ``sync`` events.

    Between two consecutive beats (downbeats, section boundaries) of ``track.rhythm`` the
    colours are those of the span's middle, and they change at the event, as
    :meth:`m2p.palette_types.PaletteTrack.at` with ``sync`` does for palettes. ``sync=None``
    returns ``colours`` itself.

    Raises
    ------
    m2p.errors.TrackError
        ``sync`` given and the track carries no rhythm.
    """
    if sync is None:
        return colours
    from m2p.rhythm.sync import hold_plan

    track.at(0.0, sync=sync)  # no rhythm, or an unknown event: the track's one clear error
    events = np.asarray(track.rhythm.events(sync), dtype=np.float64)
    duration = float(track.duration)

    def held(t: float) -> np.ndarray:
        u = min(max(float(t), 0.0), duration)
        return colours(float(hold_plan(events, duration, np.array([u]))[0][0]))

    return held


def period_labels(data: RaceData, period_fmt: str | None = None) -> list[str]:
    """The period labels a race shows (see ``period_fmt`` of :class:`BarChartRace`).

    Raises
    ------
    m2p.errors.InvalidArgumentError
        ``period_fmt`` does not fit the periods (a date format for labels that are not dates).
    """
    if period_fmt is not None:  # a million-character format is no label
        checks.label(period_fmt, "period_fmt", max_length=MAX_PERIOD_FMT)
    raw = list(data.period_values) if data.period_values is not None else list(data.periods)
    dates = _as_datetimes(raw)
    if period_fmt is None:
        return [d.strftime(_date_format(dates)) for d in dates] if dates else list(data.periods)
    if "{" in period_fmt:
        numbers = [_as_number(v) for v in raw]
        try:
            return [_cut(period_fmt.format(x=x if x is not None else v))
                    for x, v in zip(numbers, raw)]
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
            raise InvalidArgumentError(f"period_fmt {period_fmt!r} does not fit the periods "
                                       f"({exc}); use x, as in '{{x:.0f}}'") from None
    elif not dates:
        raise InvalidArgumentError(f"period_fmt {period_fmt!r} is a date format but the periods "
                                   f"are not dates (first: {data.periods[0]!r:.60})")
    try:
        return [_cut(d.strftime(period_fmt)) for d in dates]
    except ValueError as exc:
        raise InvalidArgumentError(f"period_fmt {period_fmt!r} is not a date format ({exc})"
                                   ) from None


def _cut(label: str) -> str:
    """A period label no longer than twice :data:`MAX_PERIOD_FMT` characters (``"{x:>9999}"``
    fits in a format but in no frame)."""
    limit = 2 * MAX_PERIOD_FMT
    return label if len(label) <= limit else label[:limit - 1] + "\u2026"


def _theme(theme: str) -> dict[str, str]:
    if theme not in THEMES:
        raise InvalidArgumentError(f"theme must be one of {sorted(THEMES)}, got {theme!r}")
    return THEMES[theme]


def _as_datetimes(values: list[Any]) -> list[Any]:
    """The periods as ``datetime`` objects when every one is a date, else ``[]``."""
    from datetime import date, datetime

    out = []
    for value in values:
        if hasattr(value, "to_pydatetime"):  # pandas Timestamp
            value = value.to_pydatetime()
        elif isinstance(value, np.datetime64):
            value = value.astype("datetime64[us]").item()
        if isinstance(value, datetime):
            out.append(value)
        elif isinstance(value, date):
            out.append(datetime(value.year, value.month, value.day))
        elif isinstance(value, str) and len(value) >= 8 and "-" in value:
            try:
                out.append(datetime.fromisoformat(value.strip()))
            except ValueError:
                return []
        else:
            return []
    return out


def _date_format(dates: list[Any]) -> str:
    """A strftime format that shows what changes between these dates and nothing more."""
    if any((d.hour, d.minute, d.second) != (0, 0, 0) for d in dates):
        return "%Y-%m-%d %H:%M"
    if all(d.day == 1 for d in dates):
        return "%Y" if all(d.month == 1 for d in dates) else "%b %Y"
    return "%Y-%m-%d"


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class RankTimeline:
    """Each entity's row over time: it changes when its value overtakes another's, eased.

    Ranks are taken on a fine grid of the linearly interpolated values (``steps`` per period),
    so an overtake happens when the values cross, not at a period boundary; every change of
    rank then becomes a smoothstep of :data:`SWAP_SECONDS` centred on that time. Stateless, so
    any frame can be drawn in any order (MoviePy seeks).
    """

    def __init__(self, values: np.ndarray, duration: float) -> None:
        periods, entities = values.shape
        steps = int(np.clip(2_000_000 // max(1, periods * entities), 4, 32))
        u = np.linspace(0.0, periods - 1.0, (periods - 1) * steps + 1)
        i = np.minimum(u.astype(np.int64), periods - 2)
        f = (u - i)[:, None]
        ranks = _ranks((1 - f) * values[i] + f * values[i + 1])  # (G, E)
        self.start = ranks[0].astype(np.float64)
        step, entity = np.nonzero(np.diff(ranks, axis=0))
        self.entity = entity
        self.delta = (ranks[step + 1, entity] - ranks[step, entity]).astype(np.float64)
        seconds_per_period = duration / max(periods - 1, 1)
        self.times = 0.5 * (u[step] + u[step + 1]) * seconds_per_period  # within 1/64 period
        self.swap = max(min(SWAP_SECONDS, 0.9 * seconds_per_period), 1e-6)

    def ranks(self, t: float) -> np.ndarray:
        """``(E,)`` fractional rank of each entity at ``t`` seconds (0 = top row)."""
        x = np.clip((t - self.times) / self.swap + 0.5, 0.0, 1.0)
        eased = x * x * (3.0 - 2.0 * x)
        return self.start + np.bincount(self.entity, weights=self.delta * eased,
                                        minlength=self.start.size)



def _check_frame(size: Any, fps: Any, n_bars: Any, period_seconds: Any, out: Path) -> None:
    """Frame size, rate and bar count in range, before any work (errors name the output)."""
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"size must be (width, height) in pixels, got {size!r}") from None
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise InvalidArgumentError(f"size {width}x{height} is outside {MIN_SIZE[0]}x{MIN_SIZE[1]} "
                                   f"to {MAX_SIZE[0]}x{MAX_SIZE[1]} pixels", source=out)
    if isinstance(fps, bool) or not isinstance(fps, (int, np.integer)) or not 1 <= fps <= MAX_FPS:
        raise InvalidArgumentError(f"fps must be a whole number from 1 to {MAX_FPS}, got {fps!r}",
                                   source=out)
    if isinstance(n_bars, bool) or not isinstance(n_bars, (int, np.integer)) or n_bars < 1:
        raise InvalidArgumentError(f"n_bars must be a whole number >= 1, got {n_bars!r}", source=out)
    seconds = float(period_seconds)
    if not (math.isfinite(seconds) and seconds > 0):
        raise InvalidArgumentError(f"period_seconds must be > 0, got {period_seconds!r}", source=out)




def _spread(ys: np.ndarray, gap: float, *, low: float, high: float) -> np.ndarray:
    """Positions as close as possible (least squares) to sorted ``ys`` that keep ``gap``
    between neighbours, within ``[low, high]`` when there is room: pool-adjacent-violators on
    ``ys - k gap`` (an isotonic regression)."""
    n = len(ys)
    if n == 0:
        return ys
    shifted = np.asarray(ys, dtype=np.float64) - gap * np.arange(n)
    blocks: list[list[float]] = []  # [mean, count]
    for value in shifted:
        blocks.append([float(value), 1.0])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, count = blocks.pop()
            prev = blocks[-1]
            prev[0] = (prev[0] * prev[1] + mean * count) / (prev[1] + count)
            prev[1] += count
    fitted = np.concatenate([np.full(int(c), m) for m, c in blocks]) + gap * np.arange(n)
    span = fitted[-1] - fitted[0]
    if span <= high - low:  # slide the group inside the chart without changing its gaps
        fitted += max(0.0, low - fitted[0]) - max(0.0, fitted[-1] - high)
    return fitted


class _Text:
    """Text rasterised by FreeType (Matplotlib's fonts, with fallbacks for other scripts),
    cached per string: float32 ``(h, w, 4)`` premultiplied RGBA sprites."""

    def __init__(self, dpi: int) -> None:
        self.dpi = dpi
        self.cache: OrderedDict[tuple, np.ndarray] = OrderedDict()

    def sprite(self, text: str, size: float, colour: Any, *, bold: bool = False) -> np.ndarray:
        rgb = tuple(float(c) for c in (_rgb(colour) if isinstance(colour, str) else colour))
        key = (text, round(float(size), 2), rgb, bold)
        found = self.cache.get(key)
        if found is not None:
            self.cache.move_to_end(key)
            return found
        from matplotlib.font_manager import FontProperties, fontManager, get_font

        prop = FontProperties(size=size, weight="bold" if bold else "normal")
        font = get_font(fontManager._find_fonts_by_props(prop))
        font.clear()
        font.set_size(float(size), self.dpi)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
            font.set_text(str(text), 0.0)
            font.draw_glyphs_to_bitmap(antialiased=True)
        alpha = np.asarray(font.get_image(), dtype=np.float32) / 255.0
        rows = np.flatnonzero(alpha.max(axis=1) > 0)
        cols = np.flatnonzero(alpha.max(axis=0) > 0)
        if rows.size == 0:
            out = np.zeros((1, 1, 4), dtype=np.float32)
        else:
            alpha = alpha[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
            out = np.concatenate([np.asarray(rgb, np.float32) * alpha[..., None],
                                  alpha[..., None]], axis=-1)
        self.cache[key] = out
        if len(self.cache) > 4096:
            self.cache.popitem(last=False)
        return out


def _rgb(colour: str) -> tuple[float, float, float]:
    """A hex colour as 0-255 floats."""
    from m2p.colour.convert_np import as_srgb

    return tuple(float(v) * 255.0 for v in as_srgb(colour).reshape(3))  # type: ignore[return-value]


def _fill_rect(image: np.ndarray, x0: float, x1: float, y0: float, y1: float,
               colour: Any) -> None:
    """Paint the rectangle ``[x0, x1] x [y0, y1]`` (pixels, y down) into a uint8 image in
    ``colour`` (0-255): whole pixels are set, edge pixels blended by how much of them the
    rectangle covers (anti-aliased)."""
    h, w = image.shape[:2]
    x0, x1 = max(float(x0), 0.0), min(float(x1), float(w))
    y0, y1 = max(float(y0), 0.0), min(float(y1), float(h))
    if x1 <= x0 or y1 <= y0:
        return
    colour = np.asarray(colour, dtype=np.float32)
    c0, c1 = int(math.floor(x0)), int(math.ceil(x1))
    r0, r1 = int(math.floor(y0)), int(math.ceil(y1))
    cols = np.clip(np.minimum(np.arange(c0, c1) + 1, x1) - np.maximum(np.arange(c0, c1), x0),
                   0, 1).astype(np.float32)
    rows = np.clip(np.minimum(np.arange(r0, r1) + 1, y1) - np.maximum(np.arange(r0, r1), y0),
                   0, 1).astype(np.float32)
    full_r = np.flatnonzero(rows >= 1.0)
    full_c = np.flatnonzero(cols >= 1.0)
    if full_r.size and full_c.size:  # the inside: set, no blending
        image[r0 + full_r[0]:r0 + full_r[-1] + 1, c0 + full_c[0]:c0 + full_c[-1] + 1] = \
            np.round(colour).astype(np.uint8)
    # The partly covered rim: at most two rows and two columns.
    for r in {0, len(rows) - 1} | ({int(i) for i in np.flatnonzero(rows < 1.0)}):
        _blend(image[r0 + r:r0 + r + 1, c0:c1], colour, rows[r] * cols[None, :])
    for c in {0, len(cols) - 1} | ({int(i) for i in np.flatnonzero(cols < 1.0)}):
        inner = slice(1, len(rows) - 1)
        _blend(image[r0 + 1:r1 - 1, c0 + c:c0 + c + 1], colour, rows[inner, None] * cols[c])


def _blend(region: np.ndarray, colour: np.ndarray, alpha: Any) -> None:
    """``region`` (uint8) = ``alpha`` of ``colour`` over it; ``alpha`` broadcasts to (h, w)."""
    if region.size == 0:
        return
    alpha = np.broadcast_to(np.asarray(alpha, dtype=np.float32), region.shape[:2])[..., None]
    mixed = region.astype(np.float32) * (1.0 - alpha) + colour * alpha
    region[:] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def _paste(image: np.ndarray, sprite: np.ndarray, *, left: float, middle: float) -> None:
    """Blend a premultiplied sprite into ``image`` (uint8) at ``left``, centred on
    ``middle`` (pixels)."""
    h, w = sprite.shape[:2]
    top, left = int(round(middle - h / 2)), int(round(left))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, image.shape[0]), min(left + w, image.shape[1])
    if r0 >= r1 or c0 >= c1:
        return
    part = sprite[r0 - top:r1 - top, c0 - left:c1 - left]
    alpha = part[..., 3:4]
    region = image[r0:r1, c0:c1]
    mixed = region.astype(np.float32) * (1.0 - alpha) + part[..., :3]
    region[:] = np.clip(mixed + 0.5, 0, 255).astype(np.uint8)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank of each entity per period (0 = largest; ties keep column order)."""
    order = np.argsort(-values, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(values.shape[0])[:, None]
    ranks[rows, order] = np.arange(values.shape[1])[None, :]
    return ranks.astype(np.float64)


def _format_value(v: float) -> str:
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:,.1f}B"
    if a >= 1e6:
        return f"{v / 1e6:,.1f}M"
    if a >= 1e4:
        return f"{v:,.0f}"
    return f"{v:,.1f}"


def _format_tick(v: float, step: float) -> str:
    """A tick label: as many decimals as the tick step needs, B/M for large values."""
    for scale, suffix in ((1e9, "B"), (1e6, "M")):
        if abs(v) >= scale or step >= scale:
            digits = max(0, -int(math.floor(math.log10(step / scale)))) if step < scale else 0
            return f"{v / scale:,.{digits}f}{suffix}"
    digits = max(0, -int(math.floor(math.log10(step)))) if 0 < step < 1 else 0
    return f"{v:,.{digits}f}"


__all__ = ["BAR_HEIGHT", "DEFAULT_BARS", "MAX_SECONDS", "SWAP_SECONDS", "THEMES",
           "BarChartRace", "Layout", "RaceData", "RankTimeline", "bar_chart_race",
           "on_the_music", "period_labels", "race_colours", "read_csv", "read_wide_csv", "MAX_VALUE"]
