"""The grade of a song as LUT files: ``.cube``, ``.3dl`` and Hald CLUT images, per section too.

The LUT formats are export formats like the core's swatches (:mod:`m2p.exporters.formats`): the
adapter registers them through the ``register_formats`` hook (:func:`m2p_plugins.video.lut_registration`),
so ``m2p export --format cube|3dl|haldclut`` and :func:`m2p.exporters.export` reach
:func:`write_lut` here. The palettes come from the same place as every export
(:func:`m2p.exporters.groups.palette_groups`: whole piece, ``at`` a time, or one per section),
and each becomes a LUT by the transfer of :func:`m2p_plugins.video.recolor.grade_lut`. With
sections, every LUT is its own file (``look-1.cube``, ``look-2.cube``...), all written together
or none.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from m2p._internal.outputs import check_output, path_inputs
from m2p.errors import InvalidArgumentError, VideoError
from m2p.exporters.formats import ExportFormat, write
from m2p.exporters.groups import NamedPalette, default_name, palette_groups
from m2p_plugins.video import LUT_FORMATS, lut_registration
from m2p_plugins.video.lut import (
    DEFAULT_HALD_LEVEL,
    DEFAULT_SIZE,
    THREEDL_SIZE,
    check_lut_size,
    resample_lut,
    write_3dl,
    write_cube,
    write_haldclut,
)
from m2p_plugins.video.recolor import grade_lut
from m2p_plugins.video.transfer import check_strength


def export_lut(music: Any, output: str | os.PathLike[str], *, format: str = "cube",
               reference: Any = None, at: float | None = None,
               sections: int | Literal["auto"] | None = None, strength: float = 0.6,
               size: int = DEFAULT_SIZE, palette: Any = None, name: str | None = None,
               **inference: Any) -> list[Path]:
    """Export the grade of a song as LUT file(s).

    Parameters
    ----------
    music
        Audio file or array (``sample_rate=``), or a ``PaletteTrack`` / ``Palette``; ignored
        when ``palette`` is given.
    output
        The file to write; with ``sections`` the files are ``<stem>-<k><suffix>`` next to it.
    format
        ``"cube"`` (Adobe/Resolve, ``size`` nodes), ``"3dl"`` (Lustre, resampled to
        :data:`~m2p_plugins.video.lut.THREEDL_SIZE` nodes) or ``"haldclut"`` (level-8 PNG,
        resampled to 64 nodes).
    reference
        Image or video whose colours the LUT is tuned for (see
        :func:`~m2p_plugins.video.recolor.grade_lut`); default a neutral split-tone.
    at
        Seconds: the palette in force then (default: the whole-piece palette).
    sections
        ``"auto"`` or a number: one LUT per section of the song (:mod:`m2p.exporters.sections`).
    strength
        0 (unchanged) to 1: the reference (or, without one, the whole sRGB cube) moves by
        ``STRENGTH_DELTA_E * strength`` CIEDE2000 on average (:mod:`.transfer`).
    size
        Nodes per axis of the computed grade, 2 to 65.
    palette
        A ready :class:`~m2p.palette_types.Palette` (skips inference; no ``at``/``sections``).
    name
        Name in the files' comments (default: the song's stem).
    **inference
        Passed to :func:`m2p.palette` / :func:`m2p.palette_track`.

    Returns
    -------
    list of pathlib.Path
        The written files, in section order.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Unknown format, bad strength or size, ``at`` with ``sections``.
    m2p.errors.VideoError
        An output cannot be written or has another suffix than the format's (checked before
        inference), or the reference cannot be read.
    """
    if format not in LUT_FORMATS:
        raise InvalidArgumentError(f"unknown LUT format {format!r}; use one of "
                                   f"{', '.join(LUT_FORMATS)}")
    check_strength(strength)
    size = check_lut_size(size)
    if sections is not None and at is not None:
        raise InvalidArgumentError("give either at= (one time) or sections=, not both")
    if sections is not None and palette is not None:
        raise InvalidArgumentError("sections= needs the song's palette track, not one palette=")
    inputs = path_inputs(music, reference)
    writer, fields = lut_registration(format)
    fmt = ExportFormat(format, writer, **fields)
    first = check_output(output, inputs=inputs, suffixes=(fmt.suffix,), error=VideoError)
    if palette is not None:
        groups = [NamedPalette(name or default_name(music), palette)]
    else:
        groups = palette_groups(music, at=at, sections=sections, name=name, **inference)
    return write(fmt, first, groups, numbered=sections is not None, inputs=inputs,
                 error=VideoError, reference=reference, strength=strength, size=size)


def export_cube(music: Any, output: str | os.PathLike[str], *, reference: Any = None,
                at: float | None = None, strength: float = 0.6, size: int = DEFAULT_SIZE,
                palette: Any = None, **inference: Any) -> Path:
    """Export the grade of a song as one ``.cube`` 3-D LUT: :func:`export_lut` with
    ``format="cube"`` and no sections (parameters as there).

    Returns
    -------
    pathlib.Path
    """
    return export_lut(music, output, format="cube", reference=reference, at=at,
                      strength=strength, size=size, palette=palette, **inference)[0]


def write_lut(format: str, path: str | os.PathLike[str], groups: Sequence[NamedPalette], *,
              title: str | None = None, reference: Any = None, strength: float = 0.6,
              size: int = DEFAULT_SIZE) -> None:
    """The writer of the LUT export formats: the grade toward the one palette of ``groups``,
    as a ``format`` file at ``path`` (``title`` is unused: a LUT names its palette in comments).
    """
    (group,) = groups
    lut = grade_lut(group.palette, reference=reference, strength=check_strength(strength),
                    size=check_lut_size(size))
    comments = _comments(group, strength, size)
    if format == "cube":
        write_cube(path, lut, title=comments[0].replace('"', "'"), comments=comments)
    elif format == "3dl":
        write_3dl(path, resample_lut(lut, THREEDL_SIZE), comments=comments)
    else:
        write_haldclut(path, lut, level=DEFAULT_HALD_LEVEL)


def _comments(group: NamedPalette, strength: float, size: int) -> tuple[str, ...]:
    # Names carry the span ("song 0:32-1:05", "song at 30 s").
    return (f"music2palette grade: {' '.join(group.name.split())}",
            f"palette {' '.join(group.palette.hex)}",
            f"strength {strength:g}, computed on {size}^3 nodes, sRGB in/out")


__all__ = ["export_cube", "export_lut", "write_lut"]
