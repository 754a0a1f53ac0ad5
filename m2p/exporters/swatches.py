"""Palette files for other tools: JSON, CSS custom properties, GIMP/Inkscape ``.gpl``, Adobe
``.ase``, SVG and PNG swatches.

The ``to_*`` functions are pure: named palettes in, file content out. :func:`write_swatches`
writes one of them atomically (:mod:`m2p._internal.outputs`), and :func:`export_palette` is the whole job
from a song (the ``m2p export --format json|css|gpl|ase|svg|png`` command): the whole-piece
palette, the palette at a time, or one palette per section (:mod:`m2p.exporters.sections`).

Every format holds several named palettes in one file, so ``--sections`` writes one file:
JSON as a list, CSS as numbered properties per section, ``.gpl`` as one row of colours per
section (``Columns:`` = the longest palette), ``.ase`` as one group per section, SVG and PNG as
one row per section.

References
----------
GIMP palette: the "GIMP Palette" text format read by GIMP and Inkscape (``GIMP Palette``,
``Name:``, ``Columns:``, ``#`` comments, then ``R G B name`` lines, 0-255).
Adobe Swatch Exchange: not published by Adobe; the layout used here is the one documented by
reverse engineering (C. Camera, "ASE File Specification"; R. Moss, cyotek.com, "Reading Adobe
Swatch Exchange (ase) files using C#", 2015): big-endian, ``ASEF``, version 1.0, a block count,
then blocks ``0xC001`` (group start), ``0x0001`` (colour) and ``0xC002`` (group end), each
with its byte length; names UTF-16BE with a terminating null and their length in code units;
colours as ``"RGB "`` and three float32 in [0, 1], then a colour type (2 = normal).
CSS Custom Properties for Cascading Variables Module Level 1 (W3C).
"""

from __future__ import annotations

import io
import json
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple
from xml.sax.saxutils import escape

from m2p.errors import InvalidArgumentError
from m2p._internal.outputs import atomic_output, check_output
from m2p.palette_types import Palette, PaletteTrack

SWATCH_FORMATS = ("json", "css", "gpl", "ase", "svg", "png")
"""Formats of :func:`write_swatches` (each is also the usual file suffix)."""

JSON_FORMAT = "music2palette.palettes"
"""``"format"`` value of the JSON document (version :data:`JSON_VERSION`)."""
JSON_VERSION = 1

SWATCH_PX = 64
"""Side of one swatch in the SVG and PNG sheets, in pixels."""

_ASE_GROUP_START, _ASE_GROUP_END, _ASE_COLOUR = 0xC001, 0xC002, 0x0001
_ASE_NORMAL = 2  # colour type: 0 global, 1 spot, 2 normal


class NamedPalette(NamedTuple):
    """A palette with the name it gets in a file, and its span of the song if any.

    Attributes
    ----------
    name
        Group name (``"song"``, ``"song at 30 s"``, ``"song 0:32-1:05"``).
    palette
        The colours.
    start, end
        Seconds of the song the palette stands for, or ``None``.
    """

    name: str
    palette: Palette
    start: float | None = None
    end: float | None = None


def export_palette(source: Any, output: str | os.PathLike[str], *,
                   format: str | None = None, at: float | None = None,
                   sections: int | Literal["auto"] | None = None, name: str | None = None,
                   **inference: Any) -> Path:
    """Write the palette(s) of a song as a swatch file.

    Parameters
    ----------
    source
        Audio path, NumPy samples (``sample_rate=``), :class:`~m2p.palette_types.Palette` or
        :class:`~m2p.palette_types.PaletteTrack`.
    output
        The file to write (atomically).
    format
        One of :data:`SWATCH_FORMATS`; default from ``output``'s suffix.
    at
        Seconds: the palette in force then (default: the whole-piece palette).
    sections
        ``"auto"`` or a number of sections: one palette per section (:mod:`m2p.exporters.sections`).
    name
        Palette name in the file (default: the audio file's stem, else ``"m2p"``).
    **inference
        Passed to :func:`m2p.palette_track` / :func:`m2p.palette` for audio.

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Unknown format or suffix, ``at`` with ``sections``, ``sections`` of a single Palette.
    m2p.errors.OutputError
        The output cannot be written, or its suffix is not the format's (``.json``...);
        checked before inference.
    """
    fmt = swatch_format(output, format)
    inputs = (source,) if isinstance(source, (str, os.PathLike)) else ()
    out = check_output(output, inputs=inputs, suffixes=("." + fmt,))
    groups = palette_groups(source, at=at, sections=sections, name=name, **inference)
    title = name if name is not None else default_name(source)
    return write_swatches(out, groups, format=fmt, title=title)


def palette_groups(source: Any, *, at: float | None = None,
                   sections: int | Literal["auto"] | None = None, name: str | None = None,
                   **inference: Any) -> list[NamedPalette]:
    """The named palettes an export writes: one (whole piece or ``at``), or one per section.

    Parameters are those of :func:`export_palette`. Audio is resolved through
    :mod:`m2p.resolve` (cached per content, so a LUT export after a swatch export of the same
    song runs the model once).
    """
    from m2p import resolve

    base = name if name is not None else default_name(source)
    if sections is None:
        palette = resolve.resolve_palette(source, at=at, **inference)
        return [NamedPalette(base if at is None else f"{base} at {float(at):g} s", palette,
                             None if at is None else float(at),
                             None if at is None else float(at))]
    if at is not None:
        raise InvalidArgumentError("give either at= (one time) or sections=, not both")
    if isinstance(source, Palette):
        raise InvalidArgumentError("sections= needs a song or a PaletteTrack; a single Palette "
                                   "has no time")
    from m2p.exporters.sections import track_sections

    track = resolve.resolve_track(source, **inference)
    return [NamedPalette(f"{base} {s.label}", s.palette, s.start, s.end)
            for s in track_sections(track, sections)]


def write_swatches(path: str | os.PathLike[str], groups: Sequence[NamedPalette], *,
                   format: str | None = None, title: str | None = None) -> Path:
    """Write named palettes as a swatch file, atomically.

    Parameters
    ----------
    path
        Output file.
    groups
        One or more :class:`NamedPalette`.
    format
        One of :data:`SWATCH_FORMATS`; default from ``path``'s suffix.
    title
        Name of the whole file where the format has one (JSON ``name``, GPL ``Name:``);
        default :func:`default_title`.

    Returns
    -------
    pathlib.Path
    """
    fmt = swatch_format(path, format)
    groups = _checked(groups)
    writer = _WRITERS[fmt]
    content = writer(groups, title=title) if fmt in ("json", "gpl") else writer(groups)
    path = Path(path)
    with atomic_output(path) as tmp:
        if isinstance(content, bytes):
            tmp.write_bytes(content)
        else:
            tmp.write_text(content, encoding="utf-8", newline="\n")
    return path


def swatch_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """``format`` checked, or the format named by ``path``'s suffix.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Not one of :data:`SWATCH_FORMATS`.
    """
    fmt = (str(format) if format is not None else Path(path).suffix.lstrip(".")).lower()
    if fmt not in SWATCH_FORMATS:
        what = f"format {format!r}" if format is not None else \
            f"suffix {Path(path).suffix or '(none)'!r}"
        raise InvalidArgumentError(f"unknown swatch {what}; use one of "
                                   f"{', '.join(SWATCH_FORMATS)}", source=path)
    return fmt


def default_name(source: Any) -> str:
    """The name a source's palettes get: the audio (or track) file's stem, else ``"m2p"``."""
    origin = source.source if isinstance(source, PaletteTrack) else source
    if isinstance(origin, (str, os.PathLike)):
        stem = Path(os.fspath(origin)).stem
        if stem:
            return stem
    return "m2p"


def default_title(groups: Sequence[NamedPalette]) -> str:
    """A file's title when none is given: the one palette's name, else ``"m2p"``."""
    return groups[0].name if len(groups) == 1 else "m2p"


# ---------------------------------------------------------------------------------- writers


def to_json(groups: Sequence[NamedPalette], *, title: str | None = None) -> str:
    """JSON: ``{"format", "version", "name", "palettes": [{"name", "start", "end", "hex",
    "lch", "emotion", "valence_arousal"}]}`` (each palette readable by ``Palette.from_dict``)."""
    groups = _checked(groups)
    palettes = [{"name": g.name, "start": g.start, "end": g.end, **g.palette.to_dict()}
                for g in groups]
    doc = {"format": JSON_FORMAT, "version": JSON_VERSION,
           "name": default_title(groups) if title is None else title, "palettes": palettes}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_css(groups: Sequence[NamedPalette], *, prefix: str = "m2p") -> str:
    """CSS custom properties on ``:root``: ``--m2p-1`` ... for one palette, ``--m2p-s2-1`` ...
    (section 2, colour 1) for several; a comment names each palette."""
    groups = _checked(groups)
    if not prefix.replace("-", "").replace("_", "").isalnum():
        raise InvalidArgumentError(f"CSS prefix must be letters, digits, - or _, got {prefix!r}")
    lines = [":root {"]
    for j, group in enumerate(groups, start=1):
        lines.append(f"  /* {_comment(group)} */")
        stem = f"--{prefix}-" if len(groups) == 1 else f"--{prefix}-s{j}-"
        lines += [f"  {stem}{i}: {code};" for i, code in enumerate(group.palette.hex, start=1)]
    return "\n".join(lines) + "\n}\n"


def to_gpl(groups: Sequence[NamedPalette], *, title: str | None = None) -> str:
    """GIMP/Inkscape palette: one row of ``Columns:`` colours per palette, named by hex code
    (prefixed ``s<section>`` when there are several palettes)."""
    groups = _checked(groups)
    columns = max(len(g.palette) for g in groups)
    title = default_title(groups) if title is None else title
    lines = ["GIMP Palette", f"Name: {_one_line(title)}", f"Columns: {columns}", "#"]
    for j, group in enumerate(groups, start=1):
        lines.append(f"# {_comment(group)}")
        tag = "" if len(groups) == 1 else f"s{j} "
        lines += [f"{r:3d} {g:3d} {b:3d}\t{tag}{code}"
                  for (r, g, b), code in zip(group.palette.rgb8.tolist(), group.palette.hex)]
    return "\n".join(lines) + "\n"


def to_ase(groups: Sequence[NamedPalette]) -> bytes:
    """Adobe Swatch Exchange 1.0: one group per palette, RGB colours named ``"<i> #rrggbb"``
    (``"s<j>.<i> #rrggbb"`` with several palettes: Adobe tools want unique swatch names)."""
    groups = _checked(groups)
    blocks = []
    for j, group in enumerate(groups, start=1):
        blocks.append(_ase_block(_ASE_GROUP_START, _ase_name(group.name)))
        tag = "" if len(groups) == 1 else f"s{j}."
        for i, (code, rgb) in enumerate(zip(group.palette.hex, group.palette.rgb.tolist()),
                                        start=1):
            body = (_ase_name(f"{tag}{i} {code}") + b"RGB " + struct.pack(">3f", *rgb)
                    + struct.pack(">H", _ASE_NORMAL))
            blocks.append(_ase_block(_ASE_COLOUR, body))
        blocks.append(_ase_block(_ASE_GROUP_END, b""))
    return b"ASEF" + struct.pack(">HHI", 1, 0, len(blocks)) + b"".join(blocks)


def to_svg(groups: Sequence[NamedPalette], *, swatch: int = SWATCH_PX) -> str:
    """SVG sheet: per palette a title line, then one ``<rect fill="#rrggbb">`` per colour
    (with a ``<title>`` tooltip) and its hex code underneath."""
    groups = _checked(groups)
    gap, title_h, label_h = swatch // 4, 22, 18
    row_h = title_h + swatch + label_h + gap
    width = gap * 2 + max(len(g.palette) for g in groups) * swatch
    height = gap + row_h * len(groups)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif">',
           f'<rect width="{width}" height="{height}" fill="#fafaf9"/>']
    for j, group in enumerate(groups):
        y = gap + j * row_h
        out.append(f'<text x="{gap}" y="{y + 15}" font-size="14" fill="#28282c">'
                   f'{escape(_comment(group))}</text>')
        for i, code in enumerate(group.palette.hex):
            x = gap + i * swatch
            out.append(f'<rect x="{x}" y="{y + title_h}" width="{swatch}" height="{swatch}" '
                       f'fill="{code}"><title>{code}</title></rect>')
            out.append(f'<text x="{x + swatch // 2}" y="{y + title_h + swatch + 13}" '
                       f'font-size="11" text-anchor="middle" fill="#28282c">{code}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def to_png(groups: Sequence[NamedPalette], *, swatch: int = SWATCH_PX) -> bytes:
    """PNG sheet: per palette a title band and :func:`m2p.exporters.render.palette_strip` (swatches with
    hex codes), rows left-aligned on the strip background."""
    from PIL import Image, ImageDraw

    from m2p.exporters.render import BACKGROUND, INK, _font, palette_strip

    groups = _checked(groups)
    title_h = 22
    strips = [palette_strip(g.palette, swatch_size=swatch) for g in groups]
    width = max(s.width for s in strips)
    sheet = Image.new("RGB", (width, sum(title_h + s.height for s in strips)), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = _font(13)
    y = 0
    for group, strip in zip(groups, strips):
        draw.text((4, y + 5), _comment(group), font=font, fill=INK)
        sheet.paste(strip, (0, y + title_h))
        y += title_h + strip.height
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()


_WRITERS = {"json": to_json, "css": to_css, "gpl": to_gpl, "ase": to_ase, "svg": to_svg,
            "png": to_png}


# ---------------------------------------------------------------------------------- helpers


def _checked(groups: Sequence[NamedPalette]) -> list[NamedPalette]:
    groups = list(groups)
    if not groups:
        raise InvalidArgumentError("nothing to export: no palettes")
    for group in groups:
        if not isinstance(group, NamedPalette) or not isinstance(group.palette, Palette):
            raise InvalidArgumentError(f"expected NamedPalette(name, Palette), got {group!r:.80}")
    return groups


def _comment(group: NamedPalette) -> str:
    """The palette's name on one line, safe inside a CSS comment (names carry the span:
    ``"song 0:32-1:05"``, ``"song at 30 s"``)."""
    return _one_line(group.name).replace("*/", "* /")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _ase_name(text: str) -> bytes:
    encoded = (_one_line(text) + "\0").encode("utf-16-be")
    return struct.pack(">H", len(encoded) // 2) + encoded


def _ase_block(kind: int, body: bytes) -> bytes:
    return struct.pack(">HI", kind, len(body)) + body


__all__ = [
    "JSON_FORMAT",
    "JSON_VERSION",
    "NamedPalette",
    "SWATCH_FORMATS",
    "default_name",
    "default_title",
    "export_palette",
    "palette_groups",
    "swatch_format",
    "to_ase",
    "to_css",
    "to_gpl",
    "to_json",
    "to_png",
    "to_svg",
    "write_swatches",
]
