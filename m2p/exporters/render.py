"""Drawing palettes and palette tracks: PNG (Pillow), HTML swatches, terminal swatches.

Pillow only (no matplotlib) so the core stays light. Every swatch is filled with exactly the
palette's 8-bit sRGB colour (:attr:`m2p.palette_types.Palette.rgb8`), so a picture read back with
Pillow gives the palette's hex codes.

Layout of the palette strip (:func:`palette_strip`): swatch ``i`` covers
``x in [i * size, (i + 1) * size)``, ``y in [0, size)``; hex labels sit in a band below.

Layout of the timeline (:func:`track_timeline`): see :func:`timeline_layout`.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from m2p.palette_types import Palette, PaletteTrack

__all__ = [
    "palette_strip",
    "track_timeline",
    "timeline_layout",
    "TimelineLayout",
    "save_image",
    "palette_html",
    "track_html",
    "mood_summary",
    "ansi_swatches",
]

BACKGROUND = (250, 250, 249)
INK = (40, 40, 44)
FAINT_INK = (130, 130, 136)

_LABEL_BAND = 26  # px under each swatch of a strip for its hex code
_MARGIN = 16
_TITLE_BAND = 34
_AXIS_BAND = 34
_OVERALL_GAP = 22
_OVERALL_WIDTH = 56
_MIN_LABEL_SPACING = 64  # px between labelled ticks, so "10:00" labels never touch
_TICK_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


# ----------------------------------------------------------------------------------------------
# PNG
# ----------------------------------------------------------------------------------------------


def palette_strip(palette: "Palette", *, swatch_size: int = 120, labels: bool = True) -> Image.Image:
    """Draw a palette as a row of square swatches.

    Parameters
    ----------
    palette
        The palette.
    swatch_size
        Side of each square swatch in pixels (>= 8).
    labels
        Add a band under the swatches with each hex code.

    Returns
    -------
    PIL.Image.Image
        RGB image ``(len(palette) * swatch_size) x (swatch_size [+ label band])``.
    """
    size = max(8, int(swatch_size))
    n = len(palette)
    band = _LABEL_BAND if labels else 0
    pixels = np.empty((size + band, n * size, 3), dtype=np.uint8)
    pixels[:] = BACKGROUND
    for i, rgb in enumerate(palette.rgb8):
        pixels[:size, i * size:(i + 1) * size] = rgb
    image = Image.fromarray(pixels)
    if labels:
        draw = ImageDraw.Draw(image)
        font = _font(max(9, min(14, size // 8)))
        for i, code in enumerate(palette.hex):
            _text_centred(draw, (i * size + size / 2, size + band / 2), code, font, INK)
    return image


@dataclass(frozen=True)
class TimelineLayout:
    """Pixel geometry of :func:`track_timeline` (x to the right, y down).

    Attributes
    ----------
    left, top
        Top-left corner of the colour area.
    width, height
        Size of the colour area; column ``x`` shows the track at
        ``t = (x - left + 0.5) / width * duration`` seconds.
    overall_left
        x of the whole-piece palette column (same top and height as the colour area).
    image_size
        (width, height) of the whole picture.
    """

    left: int
    top: int
    width: int
    height: int
    overall_left: int
    overall_width: int
    image_size: tuple[int, int]

    def column_time(self, x: int | np.ndarray, duration: float) -> float | np.ndarray:
        """Time in seconds shown by picture column ``x``."""
        return (np.asarray(x) - self.left + 0.5) / self.width * duration


def timeline_layout(duration: float, *, width: int | None = None, height: int = 220) -> TimelineLayout:
    """Geometry of the timeline picture for a track of ``duration`` seconds."""
    if width is None:
        width = int(np.clip(round(duration * 24), 480, 1600))
    width, height = max(16, int(width)), max(16, int(height))
    left, top = _MARGIN, _TITLE_BAND
    overall_left = left + width + _OVERALL_GAP
    size = (overall_left + _OVERALL_WIDTH + _MARGIN, top + height + _AXIS_BAND + _MARGIN // 2)
    return TimelineLayout(left, top, width, height, overall_left, _OVERALL_WIDTH, size)


def track_timeline(track: "PaletteTrack", *, width: int | None = None, height: int = 220) -> Image.Image:
    """Draw a palette track as a timeline.

    Time runs left to right. Each pixel column shows the palette in force at that time
    (:meth:`PaletteTrack.at`, so colours glide between windows) as horizontal bands, one per
    colour slot, slot 0 on top; bands split the full height equally, so a window with fewer
    colours shows wider bands. Where the palette length changes between windows, the band of
    the colour that comes or goes grows or shrinks over half a hop, never a hard stripe.
    Underneath, a time axis with a tick every second (when there
    is room) and labelled ticks every 1, 2, 5, 10, 15, 30... seconds. On the right, the
    whole-piece palette. Above, the source name, duration and seed.

    Parameters
    ----------
    track
        The palette track.
    width
        Width of the colour area in pixels (default: 24 px per second, 480 to 1600).
    height
        Height of the colour area in pixels.

    Returns
    -------
    PIL.Image.Image
        RGB image; its geometry is :func:`timeline_layout`.
    """
    from m2p.colour.gamut import lch_to_rgb8

    layout = timeline_layout(track.duration, width=width, height=height)
    W, H = layout.width, layout.height
    pixels = np.empty((layout.image_size[1], layout.image_size[0], 3), dtype=np.uint8)
    pixels[:] = BACKGROUND

    # Sample the track once per column, convert all colours in one call.
    times = np.clip(layout.column_time(np.arange(layout.left, layout.left + W), track.duration),
                    0.0, track.duration)
    lch, counts, _, _ = track.sample(times)
    px_per_second = W / track.duration
    widths, lch = _band_widths(counts, lch, radius=int(np.clip(0.5 * track.hop * px_per_second,
                                                              1, 40)))
    rgb = lch_to_rgb8(lch.reshape(-1, 3)).reshape(lch.shape)
    body = pixels[layout.top:layout.top + H, layout.left:layout.left + W]
    rows = np.arange(H)
    # Row r of a column shows the band whose cumulative width passes r (integer arithmetic for
    # whole widths, so equal bands split the height exactly as rows * n // H).
    edges = np.cumsum(widths, axis=1)  # (W, S)
    total = edges[:, -1:]
    slot = (rows[None, :, None] * total[:, None, :] >= H * edges[:, None, :]).sum(-1)
    slot = np.minimum(slot, widths.shape[1] - 1)  # (W, H)
    body[:] = rgb[np.arange(W)[:, None], slot].transpose(1, 0, 2)

    overall = track.overall
    n = len(overall)
    slot = np.minimum(rows * n // H, n - 1)
    pixels[layout.top:layout.top + H, layout.overall_left:layout.overall_left + layout.overall_width] = (
        overall.rgb8[slot][:, None, :]
    )

    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    _draw_title(draw, track, layout)
    _draw_time_axis(draw, track.duration, layout)
    return image


def _band_widths(counts: np.ndarray, lch: np.ndarray, *,
                 radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Band widths per column ``(W, S)`` that ease in and out where the palette length changes,
    and the colours ``(W, S, 3)`` with a slot a column lacks taken from the nearest column that
    has it (so a growing band shows its colour from its first pixel).

    Widths are 1 per present slot, smoothed along x by two box filters of ``radius`` columns
    (a triangle): columns away from a change keep exactly 1 or 0.
    """
    n_cols, n_slots = lch.shape[0], lch.shape[1]
    present = (np.arange(n_slots)[None, :] < counts[:, None]).astype(np.float64)
    if np.all(present == present[:1]):
        return present, lch
    lch = lch.copy()
    cols = np.arange(n_cols)
    for k in range(n_slots):
        have = np.flatnonzero(present[:, k])
        if have.size in (0, n_cols):
            continue
        right = np.clip(np.searchsorted(have, cols), 0, have.size - 1)
        left = np.clip(right - 1, 0, have.size - 1)
        nearest = np.where(np.abs(have[left] - cols) <= np.abs(have[right] - cols),
                           have[left], have[right])
        lch[:, k] = lch[nearest, k]
    widths = present
    for _ in range(2):
        padded = np.pad(widths, ((radius, radius), (0, 0)), mode="edge")
        sums = np.cumsum(np.pad(padded, ((1, 0), (0, 0))), axis=0)
        widths = (sums[2 * radius + 1:] - sums[:-2 * radius - 1]) / (2 * radius + 1)
    widths = np.where(np.abs(widths - np.rint(widths)) < 1e-9, np.rint(widths), widths)
    return widths, lch


def save_image(image: Image.Image, path: str | os.PathLike[str]) -> None:
    """Save ``image`` as PNG at ``path`` (any extension), creating no directories.

    Written atomically (:func:`m2p._internal.outputs.atomic_output`): an interrupted save leaves the
    previous file; errors are :class:`~m2p.errors.OutputError` naming ``path``.
    """
    from m2p._internal.outputs import atomic_output

    with atomic_output(path) as tmp:
        image.save(tmp, format="PNG", optimize=True)


# ----------------------------------------------------------------------------------------------
# HTML
# ----------------------------------------------------------------------------------------------


NOTEBOOK_WIDTH = 860
"""Widest picture the notebook HTML embeds, px: classic Jupyter's output area is about 880 px,
and a wider picture is scaled down until its labels are unreadable."""


def palette_html(palette: "Palette", *, swatch_px: int = 64) -> str:
    """HTML swatches and the mood as text (inline styles only, so it renders in notebooks and
    e-mail alike)."""
    cells = "".join(
        f'<div style="display:inline-block;margin-right:4px;text-align:center;'
        f'font:11px monospace;color:#333">'
        f'<div title="{code}" style="width:{swatch_px}px;height:{swatch_px}px;'
        f'background:{code};border-radius:4px;border:1px solid rgba(0,0,0,.12)"></div>{code}</div>'
        for code in palette.hex
    )
    mood = html.escape(palette.dominant_emotion)
    return (f'<div class="m2p-palette" title="mood: {mood}">{cells}'
            f'<div style="font:12px sans-serif;color:#555;margin-top:2px">mood: {mood}</div></div>')


def track_html(track: "PaletteTrack") -> str:
    """The timeline PNG inline (base64), drawn at most :data:`NOTEBOOK_WIDTH` px wide so it is
    shown at its own size, with a caption and the mood over time as text."""
    layout = timeline_layout(track.duration)
    spare = layout.image_size[0] - layout.width
    width = min(layout.width, NOTEBOOK_WIDTH - spare)
    buffer = io.BytesIO()
    image = track_timeline(track, width=width, height=160)
    image.save(buffer, format="PNG")
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    caption = html.escape(
        f"{len(track)} palettes over {track.duration:.1f} s "
        f"(window {track.window:g} s, hop {track.hop:g} s)"
    )
    mood = html.escape(mood_summary(track))
    return (
        f'<figure class="m2p-track" style="margin:0"><img alt="palette track" '
        f'src="data:image/png;base64,{data}" width="{image.width}" height="{image.height}" '
        f'style="max-width:100%;height:auto"/>'
        f'<figcaption style="font:12px sans-serif;color:#555">{caption}<br/>mood: {mood}'
        f'</figcaption></figure>'
    )


def mood_summary(track: "PaletteTrack", *, limit: int = 6) -> str:
    """The dominant mood over time as text: ``"calm (0:00) → tense (1:05) → ..."``, one entry
    per change (at most ``limit``; the whole piece's mood when it never changes)."""
    names = [palette.dominant_emotion for palette in track.palettes]
    changes = [(t, n) for k, (t, n) in enumerate(zip(track.times, names))
               if k == 0 or n != names[k - 1]]
    if len(changes) == 1:
        return names[0]
    shown = " → ".join(f"{n} ({_clock(max(0.0, t - track.window / 2))})"
                       for t, n in changes[:limit])
    return shown + (" → …" if len(changes) > limit else "")


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"


# ----------------------------------------------------------------------------------------------
# Terminal
# ----------------------------------------------------------------------------------------------


def ansi_swatches(palette: "Palette", *, width: int = 4, labels: bool = False) -> str:
    """One line of true-colour (24-bit ANSI) background blocks, one per colour.

    Parameters
    ----------
    palette
        The palette.
    width
        Characters per swatch.
    labels
        Follow each swatch with its hex code.
    """
    parts = []
    for code, (r, g, b) in zip(palette.hex, palette.rgb8):
        block = f"\x1b[48;2;{r};{g};{b}m{' ' * width}\x1b[0m"
        parts.append(f"{block} {code}" if labels else block)
    return (" " if labels else "").join(parts)


def ansi_swatch(code: str, rgb: tuple[int, int, int] | np.ndarray, *, width: int = 4) -> str:
    """One true-colour block followed by its hex code (for one-colour-per-line listings)."""
    r, g, b = (int(v) for v in rgb)
    return f"\x1b[48;2;{r};{g};{b}m{' ' * width}\x1b[0m {code}"


# ----------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # scalable with FreeType (Pillow >= 10.1)
    except (TypeError, OSError):  # older Pillow or no FreeType: the fixed bitmap font
        return ImageFont.load_default()


def _text_centred(draw: ImageDraw.ImageDraw, centre: tuple[float, float], text: str, font, fill) -> None:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    x = centre[0] - (right - left) / 2 - left
    y = centre[1] - (bottom - top) / 2 - top
    draw.text((x, y), text, font=font, fill=fill)


def _draw_title(draw: ImageDraw.ImageDraw, track: "PaletteTrack", layout: TimelineLayout) -> None:
    name = os.path.basename(track.source) if track.source else "palette track"
    details = f"{_format_duration(track.duration)}  ·  window {track.window:g} s, hop {track.hop:g} s"
    if track.seed is not None:
        details += f"  ·  seed {track.seed}"
    y = layout.top - 10
    title_font, small = _font(14), _font(11)
    room = layout.overall_left - layout.left - 24
    if draw.textlength(name, font=title_font) > room:  # long names: keep the end (the file)
        while len(name) > 1 and draw.textlength("…" + name, font=title_font) > room:
            name = name[1:]
        name = "…" + name
    draw.text((layout.left, y), name, font=title_font, fill=INK, anchor="ls")
    name_right = draw.textbbox((layout.left, y), name, font=title_font, anchor="ls")[2]
    if draw.textlength(details, font=small) <= layout.overall_left - name_right - 24:
        draw.text((name_right + 12, y), details, font=small, fill=FAINT_INK, anchor="ls")
    centre = layout.overall_left + layout.overall_width / 2
    draw.text((centre, y), "overall", font=small, fill=FAINT_INK, anchor="ms")


def _draw_time_axis(draw: ImageDraw.ImageDraw, duration: float, layout: TimelineLayout) -> None:
    y0 = layout.top + layout.height
    x0, W = layout.left, layout.width
    px_per_second = W / duration
    draw.line([(x0, y0), (x0 + W - 1, y0)], fill=FAINT_INK, width=1)
    # A small tick at every second when they are at least 4 px apart.
    if px_per_second >= 4:
        for s in range(int(math.floor(duration)) + 1):
            x = x0 + s * px_per_second
            draw.line([(x, y0), (x, y0 + 3)], fill=FAINT_INK)
    step = next((s for s in _TICK_STEPS if s * px_per_second >= _MIN_LABEL_SPACING), _TICK_STEPS[-1])
    font = _font(11)
    long_form = duration >= 60
    for k in range(int(duration // step) + 1):
        s = k * step
        x = min(x0 + s * px_per_second, x0 + W - 1)
        draw.line([(x, y0), (x, y0 + 7)], fill=INK)
        label = _clock(s) if long_form else f"{s} s"
        anchor = "la" if k == 0 else "ma"
        draw.text((x, y0 + 10), label, font=font, fill=INK, anchor=anchor)


def _format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes}:{rest:02d}"
