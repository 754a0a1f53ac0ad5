"""Bar-chart race coloured by the music, with the music as soundtrack.

>>> import m2p
>>> m2p.video.bar_chart_race("gdp.csv", "song.mp3", "race.mp4")          # doctest: +SKIP

The data is a *wide* table: one row per time step (period), one column per entity. Each frame
interpolates values linearly between periods; a bar changes place when its value overtakes
another's, gliding there over :data:`SWAP_SECONDS` with an ease-in-out (bars share a row only
while they pass each other, and the label of the bar behind is hidden then), and the race is
stretched to the length of the song (``fit="stretch"``) or the song is trimmed to
the race (``fit="trim"``, ``period_seconds`` per period). Entity ``e`` keeps colour slot
``e mod n`` of the palette in force at the frame's time, so every bar keeps its identity while
the palette shifts with the music.

Speed: the figure is built once and every frame only moves artists (``Rectangle.set_width`` /
``set_y``, ``Text.set_position`` / ``set_text``) before one Agg draw; text that never changes
(entity names, period labels) is rasterised once and pasted as sprites, since Agg text layout
dominates a frame. The ``bar_chart_race`` package instead clears and re-plots the axes every
frame.
"""

from __future__ import annotations

import csv
import math
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from m2p.colour.distinct import EntityColors
from m2p._internal import checks
from m2p._internal.outputs import atomic_output, check_output, path_inputs
from m2p._internal.text import first_line
from m2p.errors import InvalidArgumentError, VideoError
from m2p.palette_types import MAX_COLORS
from m2p.resolve import resolve_track
from m2p_plugins.video.media import (
    VIDEO_SUFFIXES,
    check_encoder,
    close_quietly,
    encoding_logger,
    even_size_params,
    open_audio,
)
from m2p_plugins.video.soundtrack import check_music_start, clip_track, fit_audio

MAX_VALUE = 1e15
"""Largest value a bar may have. Matplotlib lays out ticks and labels in float arithmetic that
overflows (or FreeType rasters that overflow) long before 1e308."""
MIN_SIZE, MAX_SIZE = (16, 16), (7680, 4320)
"""Smallest and largest frame, ``(width, height)`` in pixels."""
MAX_FPS = 240
SWAP_SECONDS = 0.5
"""Time a bar takes to glide to its new row after an overtake (at most 90% of a period)."""
THEMES = {
    "light": {"face": "#ffffff", "name": "#222222", "value": "#333333", "period": "#8a8a8a",
              "ticks": "#555555", "grid": "#000000", "title": "#222222"},
    "dark": {"face": "#15171c", "name": "#e8e8ea", "value": "#d0d0d4", "period": "#7d7f88",
             "ticks": "#a0a2aa", "grid": "#ffffff", "title": "#f0f0f2"},
}
"""Colours of everything but the bars, per ``theme``."""
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?([eE][+-]?\d+)?")
# A number whose commas group thousands: 1,234 or 12,345,678.9 (fullmatch: nothing else)
_LABEL_GAP = 0.75  # rows: closer value labels / names would print over each other


@dataclass(frozen=True)
class RaceData:
    """A wide table: ``values[t, e]`` for period ``periods[t]`` and entity ``entities[e]``."""

    periods: tuple[str, ...]
    entities: tuple[str, ...]
    values: np.ndarray
    period_values: tuple[Any, ...] | None = None
    """The periods as given (datetimes, numbers) when they came from a DataFrame index."""


def read_wide_csv(path: str | os.PathLike[str]) -> RaceData:
    """Read a wide CSV: a header row, then one row per period.

    The first column holds the period labels (dates, years...), each other column one entity's
    values. Blank cells take the entity's previous value (0 before its first value).

    Numbers may group thousands with commas (``1,234,567.5``); any other comma (``1,5``, a
    decimal comma) is refused rather than read as 15 or guessed to be 1.5.

    Raises
    ------
    m2p.errors.VideoError
        Missing file, fewer than one entity or two periods, or a cell that is not a number,
        not finite, negative or above :data:`MAX_VALUE`, or with a comma that is not a
        thousands separator (the message names row and column).
    """
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    except OSError as exc:
        raise VideoError(f"cannot read CSV ({exc.strerror or exc})", source=path) from exc
    except UnicodeDecodeError as exc:
        raise VideoError("not a UTF-8 text CSV file", source=path) from exc
    if len(rows) < 3 or len(rows[0]) < 2:
        raise VideoError("need a header, at least two rows (periods) and one entity column",
                         source=path)
    header = [h.strip() for h in rows[0]]
    values = np.full((len(rows) - 1, len(header) - 1), np.nan)
    for i, row in enumerate(rows[1:]):
        for j, cell in enumerate(row[1:len(header)]):
            cell = cell.strip()
            if cell:
                if "," in cell and not _THOUSANDS.fullmatch(cell):
                    # "1,5" is 1.5 to half the world and 15 to the other half: say so, never guess
                    raise VideoError(f"row {i + 2}, column {header[j + 1]!r}: {cell[:30]!r} has "
                                     "a comma that is not a thousands separator (a decimal "
                                     "comma? write a point, as in 1.5)", source=path)
                try:
                    values[i, j] = float(cell.replace(",", "").replace("_", ""))
                except ValueError:
                    raise VideoError(f"row {i + 2}, column {header[j + 1]!r}: not a number "
                                     f"({cell[:30]!r})", source=path) from None
    _check_values(values, header[1:], path, first_row=2)
    return RaceData(tuple(r[0].strip() for r in rows[1:]), tuple(header[1:]), _fill(values))


def _check_values(values: np.ndarray, entities: Any, source: Any, *, first_row: int) -> None:
    """Refuse cells a bar cannot show: inf, negative, or so large the axis arithmetic overflows
    (blank cells are NaN here and are filled later)."""
    bad = ~np.isnan(values) & ~((values >= 0) & (values <= MAX_VALUE))
    if bad.any():
        i, j = (int(v) for v in np.argwhere(bad)[0])
        raise VideoError(f"row {i + first_row}, column {str(list(entities)[j])!r}: value "
                         f"{float(values[i, j])!r} is not a number in [0, {MAX_VALUE:g}] "
                         "(bars start at 0)", source=source)


class BarChartRace:
    """Renders race frames with Matplotlib (Agg), updating artists in place.

    Parameters
    ----------
    data
        The table.
    duration
        Length of the race in seconds (periods evenly spaced over it).
    colours
        ``colours(t) -> (n, 3)`` sRGB floats in ``[0, 1]``: the palette in force at ``t``.
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
    """

    def __init__(self, data: RaceData, duration: float, colours: Any, *, n_bars: int = 10,
                 size: tuple[int, int] = (1280, 720), title: str | None = None,
                 dpi: int = 100, period_fmt: str | None = None, theme: str = "light") -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.data = data
        self.duration = float(duration)
        self.colours = colours
        self.n_bars = max(1, min(int(n_bars), len(data.entities)))
        self.size = (int(size[0]), int(size[1]))
        look = _theme(theme)
        n_ent = len(data.entities)
        self._swaps = _RankTimeline(data.values, self.duration)
        self._period_labels = period_labels(data, period_fmt)
        self.fig = Figure(figsize=(self.size[0] / dpi, self.size[1] / dpi), dpi=dpi,
                          facecolor=look["face"])
        self.canvas = FigureCanvasAgg(self.fig)
        # The period label gets its own band under the bars, so it never covers a bar's label.
        counter_size = max(8, min(32, int(self.size[1] / 24)))
        band = min(0.3, counter_size * 1.6 / 72 * dpi / self.size[1]) + 0.02
        top = 0.82 if title else 0.9
        ax = self.fig.add_axes((0.2, band, 0.72, top - band))
        ax.set_facecolor(look["face"])
        self.ax = ax
        ax.set_ylim(-0.6, self.n_bars - 0.4)
        ax.set_yticks([])
        ax.yaxis.set_visible(False)  # names are sprites pasted next to their bars
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(nbins=5))  # few tick labels: text is the cost
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        ax.grid(axis="x", alpha=0.3 if theme == "light" else 0.15, color=look["grid"])
        ax.spines["bottom"].set_color(look["ticks"])
        ax.set_axisbelow(True)
        ax.xaxis.set_ticks_position("top")
        ax.tick_params(axis="x", labelsize=9, colors=look["ticks"])
        self.bars = ax.barh(np.full(n_ent, -5.0), np.zeros(n_ent), height=0.8)
        label_size = max(7, min(13, int(0.45 * self.size[1] / (self.n_bars + 2) / 1.4)))
        # Text that never changes (entity names, period labels) is rasterised once into
        # sprites and pasted after each draw: Agg text layout is most of a frame's cost.
        self._name_sprites = [_text_sprite(name, label_size, look["name"], dpi) for name in
                              data.entities]
        self._period_sprites: dict[str, np.ndarray] = {}
        self._counter_style = (counter_size, look["period"], dpi)
        self.labels = [ax.text(0, -5, "", ha="left", va="center", fontsize=label_size - 1,
                               color=look["value"], clip_on=False) for _ in data.entities]
        if title:
            self.fig.suptitle(title, fontsize=min(20, int(self.size[1] / 30)), y=0.975,
                              color=look["title"])

    def frame(self, t: float) -> np.ndarray:
        """The frame at ``t`` seconds, uint8 ``(height, width, 3)``."""
        n_periods = len(self.data.periods)
        u = 0.0 if self.duration <= 0 else np.clip(t / self.duration, 0.0, 1.0) * (n_periods - 1)
        i = min(int(u), n_periods - 2)
        f = u - i
        values = (1 - f) * self.data.values[i] + f * self.data.values[i + 1]
        ranks = self._swaps.ranks(t)
        y = self.n_bars - 1 - ranks
        shown = _labelled(y, values, n_rows=self.n_bars)
        palette = np.asarray(self.colours(t), dtype=np.float64).reshape(-1, 3)
        top = max(float(values[ranks < self.n_bars].max(initial=0.0)), 1e-12)
        self.ax.set_xlim(0, top * 1.12)
        pad = top * 0.01
        for e, bar in enumerate(self.bars):
            visible = bool(y[e] > -1.0)
            bar.set_y(y[e] - 0.4)
            bar.set_width(values[e])
            bar.set_color(palette[e % len(palette)])
            bar.set_visible(visible)
            bar.set_zorder(2.0 + values[e] / top * 1e-3)  # the overtaking bar passes in front
            self.labels[e].set_position((values[e] + pad, y[e]))
            self.labels[e].set_text(_format_value(values[e]))
            self.labels[e].set_visible(bool(shown[e]))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
            self.canvas.draw()
        image = np.asarray(self.canvas.buffer_rgba())[..., :3].copy()
        height = image.shape[0]
        to_pixels = self.ax.transData.transform
        x0 = self.ax.bbox.x0
        for e in np.flatnonzero(shown):
            _, py = to_pixels((0.0, y[e]))
            _paste(image, self._name_sprites[e], right=x0 - 6, middle=height - py)
        period = self._period_labels[int(round(u))]
        box = self.ax.bbox
        sprite = self._period_sprites.get(period)
        if sprite is None:
            size, colour, dpi = self._counter_style
            sprite = _text_sprite(period, size, colour, dpi, bold=True)
            if sprite.shape[1] > 0.45 * box.width:  # a long label gets smaller, not wider
                sprite = _text_sprite(period, size * 0.45 * box.width / sprite.shape[1], colour,
                                      dpi, bold=True)
            self._period_sprites[period] = sprite
        _paste(image, sprite, right=box.x1, middle=height - box.y0 / 2)
        return image

    def close(self) -> None:
        """Release the figure."""
        self.fig.clear()


def bar_chart_race(data: Any, music: Any, output: str | os.PathLike[str], *,
                   fit: str = "stretch", period_seconds: float = 1.0, n_bars: int = 10,
                   fps: int = 30, size: tuple[int, int] = (1280, 720), title: str | None = None,
                   track: Any = None, codec: str = "libx264", preset: str = "medium",
                   music_start: float = 0.0, period_fmt: str | None = None,
                   theme: str = "light", progress: bool = False,
                   on_track: Callable[[Any], None] | None = None, **inference: Any) -> Path:
    """Render a palette-coloured bar-chart race with the music as soundtrack.

    Parameters
    ----------
    data
        Wide CSV path, a :class:`RaceData`, or a pandas ``DataFrame`` (index = periods,
        columns = entities).
    music
        Audio file: palette track and soundtrack.
    output
        Video file (written to a temporary name, renamed when complete).
    fit
        ``"stretch"``: the race lasts as long as the song. ``"trim"``: ``period_seconds`` per
        period and the song is cut to the race (a shorter song ends early and its last palette
        holds).
    period_seconds
        Seconds per period with ``fit="trim"``.
    n_bars, size, title, period_fmt, theme
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
    progress
        A progress bar (MoviePy's own messages are never printed).
    on_track
        Called with the palette track the race uses, before rendering.
    **inference
        Passed to :func:`m2p.palette_track`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    m2p.errors.VideoError
        Bad table, no encoder, unwritable output (checked before rendering).
    """
    out = check_output(output, inputs=path_inputs(music, data), suffixes=VIDEO_SUFFIXES,
                       error=VideoError)
    _check_frame(size, fps, n_bars, period_seconds, out)
    check_encoder(codec)
    if fit not in ("stretch", "trim"):
        raise InvalidArgumentError(f"fit must be 'stretch' or 'trim', got {fit!r}")
    table = _as_race_data(data)
    period_labels(table, period_fmt)  # a format or theme that does not fit fails before work
    _theme(theme)
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
        track = clip_track(music, start=start, span=min(duration, length - start), track=track,
                           label=f"the race ({duration:.1f} s)", progress=progress, **inference)
        if on_track is not None:
            on_track(track)

        # One distinct colour per entity (a Palette holds at most 64; more entities share),
        # read from the song at the race's time plus the music start.
        entity_colours = EntityColors(track, min(len(table.entities), MAX_COLORS),
                                       progress=progress)

        def colours(t: float) -> np.ndarray:
            return entity_colours(start + t)

        race = BarChartRace(table, duration, colours, n_bars=n_bars, size=size, title=title,
                            period_fmt=period_fmt, theme=theme)
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


def period_labels(data: RaceData, period_fmt: str | None = None) -> list[str]:
    """The period labels a race shows (see ``period_fmt`` of :class:`BarChartRace`).

    Raises
    ------
    m2p.errors.InvalidArgumentError
        ``period_fmt`` does not fit the periods (a date format for labels that are not dates).
    """
    raw = list(data.period_values) if data.period_values is not None else list(data.periods)
    dates = _as_datetimes(raw)
    if period_fmt is None:
        return [d.strftime(_date_format(dates)) for d in dates] if dates else list(data.periods)
    checks.label(period_fmt, "period_fmt")  # a million-character format is no label
    if "{" in period_fmt:
        numbers = [_as_number(v) for v in raw]
        try:
            labels = [period_fmt.format(x=x if x is not None else v) for x, v in zip(numbers, raw)]
        except (ValueError, KeyError, IndexError, AttributeError) as exc:
            raise InvalidArgumentError(f"period_fmt {period_fmt!r} does not fit the periods "
                                       f"({exc}); use x, as in '{{x:.0f}}'") from None
    elif not dates:
        raise InvalidArgumentError(f"period_fmt {period_fmt!r} is a date format but the periods "
                                   f"are not dates (first: {data.periods[0]!r:.60})")
    else:
        labels = [d.strftime(period_fmt) for d in dates]
    for label in labels:  # "{x:>99999}" fits in a format but in no frame
        checks.label(label, "a period label made by period_fmt")
    return labels


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


class _RankTimeline:
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


def _labelled(y: np.ndarray, values: np.ndarray, *, n_rows: int) -> np.ndarray:
    """Which bars get their name and value printed: visible ones, except a bar passing behind
    a larger one (their labels would print over each other)."""
    shown = np.zeros(y.size, dtype=bool)
    taken: list[float] = []
    for e in np.argsort(-values, kind="stable"):
        if y[e] <= -1.0 or y[e] > n_rows:
            continue
        if all(abs(y[e] - other) >= _LABEL_GAP for other in taken):
            shown[e] = True
            taken.append(float(y[e]))
    return shown


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


def _text_sprite(text: str, size: float, colour: str, dpi: int, *,
                 bold: bool = False) -> np.ndarray:
    """Rasterise ``text`` once: float32 ``(h, w, 4)`` premultiplied RGBA in ``[0, 1]``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(max(1.0, 0.012 * size * len(text) + 0.5), 0.03 * size + 0.3), dpi=dpi)
    fig.patch.set_alpha(0.0)
    canvas = FigureCanvasAgg(fig)
    fig.text(0.02, 0.5, text, fontsize=size, color=colour, va="center",
             fontweight="bold" if bold else "normal")
    with warnings.catch_warnings():
        # A name in a script the font lacks is drawn as boxes; the warning per glyph is noise.
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba()).astype(np.float32) / 255.0
    # One colour of text: only its coverage (alpha) is taken from Agg, whose edge colours on a
    # transparent figure are blended with the figure's (white or black) and would fringe.
    from matplotlib.colors import to_rgb

    rgba[..., :3] = np.asarray(to_rgb(colour), dtype=np.float32) * rgba[..., 3:4]
    rows = np.flatnonzero(rgba[..., 3].max(1) > 0)
    cols = np.flatnonzero(rgba[..., 3].max(0) > 0)
    if rows.size == 0:
        return np.zeros((1, 1, 4), dtype=np.float32)
    return rgba[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy()


def _paste(image: np.ndarray, sprite: np.ndarray, *, right: float, middle: float) -> None:
    """Alpha-blend ``sprite`` into ``image`` (uint8 RGB) with its right edge and centre given."""
    h, w = sprite.shape[:2]
    top, left = int(round(middle - h / 2)), int(round(right - w))
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, image.shape[0]), min(left + w, image.shape[1])
    if r0 >= r1 or c0 >= c1:
        return
    part = sprite[r0 - top:r1 - top, c0 - left:c1 - left]
    alpha = part[..., 3:4]
    region = image[r0:r1, c0:c1].astype(np.float32)
    # Agg's buffer is premultiplied on a transparent figure: unpremultiply colour first.
    colour = np.where(alpha > 0, part[..., :3] / np.maximum(alpha, 1e-6), 0.0) * 255.0
    image[r0:r1, c0:c1] = np.clip(region * (1.0 - alpha) + colour * alpha + 0.5, 0, 255)


def _as_race_data(data: Any) -> RaceData:
    if isinstance(data, RaceData):
        return data
    if isinstance(data, (str, os.PathLike)):
        return read_wide_csv(data)
    if hasattr(data, "columns") and hasattr(data, "index"):  # pandas DataFrame
        try:
            values = np.asarray(data.to_numpy(dtype=float), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidArgumentError(f"every DataFrame column must hold numbers ({exc})",
                                       source="<DataFrame>") from None
        _check_values(values, data.columns, "<DataFrame>", first_row=0)
        return RaceData(tuple(str(i) for i in data.index), tuple(str(c) for c in data.columns),
                        _fill(values), period_values=tuple(data.index))
    raise InvalidArgumentError(
        f"data must be a wide CSV file, a RaceData or a pandas DataFrame (index = periods, one "
        f"column per entity; DataFrames need 'pip install pandas'), got {type(data).__name__}")


def _fill(values: np.ndarray) -> np.ndarray:
    """Forward-fill NaN down each column, then 0."""
    out = np.array(values, dtype=np.float64)
    for t in range(1, out.shape[0]):
        gap = np.isnan(out[t])
        out[t, gap] = out[t - 1, gap]
    return np.nan_to_num(out, nan=0.0)


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


__all__ = ["SWAP_SECONDS", "THEMES", "BarChartRace", "RaceData", "bar_chart_race",
           "period_labels", "read_wide_csv"]
