"""Beats, downbeats and sections drawn on a palette track's timeline picture.

:func:`add_rhythm_lane` takes the picture :func:`m2p.exporters.render.track_timeline` drew and
adds, under its time axis, a lane on the same time scale: the sections as alternating bands
(numbered), a short tick at every beat and a tall one at every downbeat, a triangle at each
drop; and across the colour area a thin line at each section boundary, white between two black
lines so that it reads on any colour. The caption gives the tempo and the meter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image, ImageDraw

if TYPE_CHECKING:
    from m2p.exporters.render import TimelineLayout
    from m2p.rhythm.rhythm_types import Rhythm

__all__ = ["LANE_HEIGHT", "add_rhythm_lane"]

#: Height of the rhythm lane, px.
LANE_HEIGHT = 48
# The two shades of alternating section bands, and the boundary line's colours.
_BANDS = ((226, 226, 230), (238, 238, 241))
_LIGHT, _DARK = (255, 255, 255), (20, 20, 24)


def add_rhythm_lane(image: Image.Image, rhythm: "Rhythm", layout: "TimelineLayout") -> Image.Image:
    """A copy of a track's timeline picture with its rhythm drawn (see the module docstring).

    Parameters
    ----------
    image
        From :func:`m2p.exporters.render.track_timeline`.
    rhythm
        The track's rhythm.
    layout
        The picture's geometry (:func:`m2p.exporters.render.timeline_layout`).

    Returns
    -------
    PIL.Image.Image
        RGB, :data:`LANE_HEIGHT` px taller.
    """
    from m2p.exporters.render import BACKGROUND, FAINT_INK, INK, _font

    width, height = image.size
    out = Image.new("RGB", (width, height + LANE_HEIGHT), BACKGROUND)
    out.paste(image, (0, 0))
    draw = ImageDraw.Draw(out)
    x0, span = layout.left, layout.width
    scale = span / rhythm.duration

    def x_of(t: float) -> float:
        return min(x0 + t * scale, x0 + span - 1)

    top, bottom = height, height + LANE_HEIGHT - 20
    edges = [0.0, *rhythm.sections.tolist(), rhythm.duration]
    font = _font(10)
    for k, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        draw.rectangle([x_of(a), top, x_of(b), bottom], fill=_BANDS[k % 2])
        if (b - a) * scale >= 14:
            draw.text((x_of(a) + 3, top + 2), str(k + 1), font=font, fill=FAINT_INK)
    downbeats = set(rhythm.downbeats.tolist())
    for t in rhythm.beats.tolist():
        tall = t in downbeats
        draw.line([(x_of(t), bottom - (12 if tall else 5)), (x_of(t), bottom)],
                  fill=INK if tall else FAINT_INK)
    for t in rhythm.drops.tolist():
        x = x_of(t)
        draw.polygon([(x - 4, top + 1), (x + 4, top + 1), (x, top + 8)], fill=INK)
    # Section boundaries across the colour area.
    for t in rhythm.sections.tolist():
        x = round(x_of(t))
        y_top, y_bottom = layout.top, layout.top + layout.height - 1
        draw.line([(x - 1, y_top), (x - 1, y_bottom)], fill=_DARK)
        draw.line([(x + 1, y_top), (x + 1, y_bottom)], fill=_DARK)
        draw.line([(x, y_top), (x, y_bottom)], fill=_LIGHT)
    meter = f", {rhythm.meter} beats a bar" if rhythm.meter else ""
    caption = (f"{rhythm.bpm:.0f} BPM{meter}, {len(rhythm.sections) + 1} sections"
               if len(rhythm.beats) else "no beats found")
    draw.text((x0, bottom + 2), caption, font=font, fill=INK)
    return out
