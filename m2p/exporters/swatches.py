"""Palette files for other tools: JSON, CSS custom properties, GIMP/Inkscape ``.gpl``, Adobe
``.ase``, SVG and PNG swatches.

The ``to_*`` functions are pure: named palettes in, file content out. The decorator above each
(:func:`swatch_writer`) makes it a format of ``m2p export --format`` and
:func:`m2p.exporters.export` (:mod:`m2p.exporters.formats`), so a new swatch format is one
decorated function here. :func:`write_swatches` writes one file atomically;
:func:`m2p.exporters.export_palette` is the whole job from a song.

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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

from m2p._internal.checks import MAX_LABEL, label
from m2p._internal.outputs import atomic_output
from m2p.errors import InvalidArgumentError
from m2p.exporters.groups import NamedPalette, checked_groups, default_title

JSON_FORMAT = "music2palette.palettes"
"""``"format"`` value of the JSON document (version :data:`JSON_VERSION`)."""
JSON_VERSION = 1

SWATCH_PX = 64
"""Side of one swatch in the SVG and PNG sheets, in pixels."""

_ASE_GROUP_START, _ASE_GROUP_END, _ASE_COLOUR = 0xC001, 0xC002, 0x0001
_ASE_NORMAL = 2  # colour type: 0 global, 1 spot, 2 normal


class SwatchWriter(NamedTuple):
    """One swatch format: its ``to_*`` function and the line ``m2p export --help`` shows."""

    content: Callable[..., str | bytes]
    description: str
    titled: bool = False

    def write(self, path: str | os.PathLike[str], groups: Sequence[NamedPalette], *,
              title: str | None = None) -> None:
        """Write the content to ``path`` (UTF-8 text or bytes), not atomically: the caller
        gives a temporary file (:mod:`m2p._internal.outputs`)."""
        content = self.content(groups, title=title) if self.titled else self.content(groups)
        if isinstance(content, bytes):
            Path(path).write_bytes(content)
        else:
            Path(path).write_text(content, encoding="utf-8", newline="\n")


SWATCHES: dict[str, SwatchWriter] = {}
"""The swatch formats by name (also their suffix), in the order they are defined below: each
``to_*`` function is added by the :func:`swatch_writer` decorator above it."""


def write_swatches(path: str | os.PathLike[str], groups: Sequence[NamedPalette], *,
                   format: str | None = None, title: str | None = None) -> Path:
    """Write named palettes as a swatch file, atomically.

    Parameters
    ----------
    path
        Output file.
    groups
        One or more :class:`~m2p.exporters.groups.NamedPalette`.
    format
        One of :data:`SWATCH_FORMATS`; default from ``path``'s suffix.
    title
        Name of the whole file where the format has one (JSON ``name``, GPL ``Name:``);
        default :func:`~m2p.exporters.groups.default_title`.

    Returns
    -------
    pathlib.Path
    """
    writer = SWATCHES[swatch_format(path, format)]
    groups = checked_groups(groups)
    for name in [group.name for group in groups] + ([] if title is None else [title]):
        label(name, "a palette's name", max_length=MAX_LABEL + 64)  # sections add their span
    path = Path(path)
    with atomic_output(path) as tmp:
        writer.write(tmp, groups, title=title)
    return path


def swatch_format(path: str | os.PathLike[str], format: str | None = None) -> str:
    """``format`` checked, or the format named by ``path``'s suffix.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Not one of :data:`SWATCH_FORMATS`.
    """
    fmt = (str(format) if format is not None else Path(path).suffix.lstrip(".")).lower()
    if fmt not in SWATCHES:
        what = f"format {format!r}" if format is not None else \
            f"suffix {Path(path).suffix or '(none)'!r}"
        raise InvalidArgumentError(f"unknown swatch {what}; use one of "
                                   f"{', '.join(SWATCH_FORMATS)}", source=path)
    return fmt


def swatch_writer(name: str, description: str, *, titled: bool = False
                  ) -> Callable[[Callable[..., str | bytes]], Callable[..., str | bytes]]:
    """Add the decorated ``to_<name>(groups) -> str | bytes`` to :data:`SWATCHES` as the swatch
    format ``name`` (suffix ``.<name>``); ``titled``: it also takes ``title=``, the file's
    name. ``m2p export --format`` and :func:`m2p.exporters.export` offer it from then on."""

    def decorate(content: Callable[..., str | bytes]) -> Callable[..., str | bytes]:
        SWATCHES[name] = SwatchWriter(content, description, titled)
        return content

    return decorate


# ---------------------------------------------------------------------------------- writers


@swatch_writer("json", "palettes with hex, LCh and emotion (Palette.from_dict reads them)",
               titled=True)
def to_json(groups: Sequence[NamedPalette], *, title: str | None = None) -> str:
    """JSON: ``{"format", "version", "name", "palettes": [{"name", "start", "end", "hex",
    "lch", "emotion", "valence_arousal"}]}`` (each palette readable by ``Palette.from_dict``)."""
    groups = checked_groups(groups)
    palettes = [{"name": g.name, "start": g.start, "end": g.end, **g.palette.to_dict()}
                for g in groups]
    doc = {"format": JSON_FORMAT, "version": JSON_VERSION,
           "name": default_title(groups) if title is None else title, "palettes": palettes}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@swatch_writer("css", "CSS custom properties --m2p-1... for web pages")
def to_css(groups: Sequence[NamedPalette], *, prefix: str = "m2p") -> str:
    """CSS custom properties on ``:root``: ``--m2p-1`` ... for one palette, ``--m2p-s2-1`` ...
    (section 2, colour 1) for several; a comment names each palette."""
    groups = checked_groups(groups)
    if not prefix.replace("-", "").replace("_", "").isalnum():
        raise InvalidArgumentError(f"CSS prefix must be letters, digits, - or _, got {prefix!r}")
    lines = [":root {"]
    for j, group in enumerate(groups, start=1):
        lines.append(f"  /* {_comment(group)} */")
        stem = f"--{prefix}-" if len(groups) == 1 else f"--{prefix}-s{j}-"
        lines += [f"  {stem}{i}: {code};" for i, code in enumerate(group.palette.hex, start=1)]
    return "\n".join(lines) + "\n}\n"


@swatch_writer("gpl", "GIMP palette (GIMP, Inkscape, Krita)", titled=True)
def to_gpl(groups: Sequence[NamedPalette], *, title: str | None = None) -> str:
    """GIMP/Inkscape palette: one row of ``Columns:`` colours per palette, named by hex code
    (prefixed ``s<section>`` when there are several palettes)."""
    groups = checked_groups(groups)
    columns = max(len(g.palette) for g in groups)
    title = default_title(groups) if title is None else title
    lines = ["GIMP Palette", f"Name: {_one_line(title)}", f"Columns: {columns}", "#"]
    for j, group in enumerate(groups, start=1):
        lines.append(f"# {_comment(group)}")
        tag = "" if len(groups) == 1 else f"s{j} "
        lines += [f"{r:3d} {g:3d} {b:3d}\t{tag}{code}"
                  for (r, g, b), code in zip(group.palette.rgb8.tolist(), group.palette.hex)]
    return "\n".join(lines) + "\n"


@swatch_writer("ase", "Adobe Swatch Exchange, one group per palette (Illustrator, Photoshop)")
def to_ase(groups: Sequence[NamedPalette]) -> bytes:
    """Adobe Swatch Exchange 1.0: one group per palette, RGB colours named ``"<i> #rrggbb"``
    (``"s<j>.<i> #rrggbb"`` with several palettes: Adobe tools want unique swatch names)."""
    groups = checked_groups(groups)
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


@swatch_writer("svg", "swatch sheet with hex codes, vector")
def to_svg(groups: Sequence[NamedPalette], *, swatch: int = SWATCH_PX) -> str:
    """SVG sheet: per palette a title line, then one ``<rect fill="#rrggbb">`` per colour
    (with a ``<title>`` tooltip) and its hex code underneath."""
    groups = checked_groups(groups)
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


@swatch_writer("png", "swatch sheet with hex codes, picture")
def to_png(groups: Sequence[NamedPalette], *, swatch: int = SWATCH_PX) -> bytes:
    """PNG sheet: per palette a title band and :func:`m2p.exporters.render.palette_strip` (swatches with
    hex codes), rows left-aligned on the strip background."""
    from PIL import Image, ImageDraw

    from m2p.exporters.render import BACKGROUND, INK, _font, palette_strip

    groups = checked_groups(groups)
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


SWATCH_FORMATS = tuple(SWATCHES)
"""Names of the swatch formats (each is also the file suffix)."""


# ---------------------------------------------------------------------------------- helpers


def _comment(group: NamedPalette) -> str:
    """The palette's name on one line, safe inside a CSS comment (names carry the span:
    ``"song 0:32-1:05"``, ``"song at 30 s"``)."""
    return _one_line(group.name).replace("*/", "* /")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _ase_name(text: str) -> bytes:
    encoded = (_one_line(text) + "\0").encode("utf-16-be", "surrogatepass")
    if len(encoded) // 2 > 0xFFFF:  # the length field is 16 bits
        raise InvalidArgumentError(f"a name of {len(text):,} characters does not fit an ASE file "
                                   f"(at most {MAX_LABEL})")
    return struct.pack(">H", len(encoded) // 2) + encoded


def _ase_block(kind: int, body: bytes) -> bytes:
    return struct.pack(">HI", kind, len(body)) + body


__all__ = [
    "JSON_FORMAT",
    "JSON_VERSION",
    "SWATCHES",
    "SWATCH_FORMATS",
    "SWATCH_PX",
    "SwatchWriter",
    "swatch_format",
    "swatch_writer",
    "to_ase",
    "to_css",
    "to_gpl",
    "to_json",
    "to_png",
    "to_svg",
    "write_swatches",
]
