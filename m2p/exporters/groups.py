"""The palettes an export writes, each with the name it gets in the file: the whole piece, the
palette ``at`` a time, or one per section of the song (:mod:`m2p.exporters.sections`).

Every export format receives these (:mod:`m2p.exporters.formats`); audio is resolved once,
through the cache (:mod:`m2p.resolve`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from m2p.errors import InvalidArgumentError

if TYPE_CHECKING:
    from m2p.palette_types import Palette

__all__ = ["NamedPalette", "checked_groups", "default_name", "default_title", "palette_groups"]


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
    palette: "Palette"
    start: float | None = None
    end: float | None = None


def palette_groups(source: Any, *, at: float | None = None,
                   sections: int | Literal["auto"] | None = None, name: str | None = None,
                   **inference: Any) -> list[NamedPalette]:
    """The named palettes an export writes: one (whole piece or ``at``), or one per section.

    Parameters are those of :func:`m2p.exporters.formats.export`. Audio is resolved through :mod:`m2p.resolve`
    (cached per content, so a LUT export after a swatch export of the same song runs the model
    once).
    """
    from m2p import resolve
    from m2p.palette_types import Palette

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


def default_name(source: Any) -> str:
    """The name a source's palettes get: the audio (or track) file's stem, else ``"m2p"``."""
    from m2p.palette_types import PaletteTrack

    origin = source.source if isinstance(source, PaletteTrack) else source
    if isinstance(origin, (str, os.PathLike)):
        stem = Path(os.fspath(origin)).stem
        if stem:
            return stem
    return "m2p"


def default_title(groups: Sequence[NamedPalette]) -> str:
    """A file's title when none is given: the one palette's name, else ``"m2p"``."""
    return groups[0].name if len(groups) == 1 else "m2p"


def checked_groups(groups: Sequence[NamedPalette]) -> list[NamedPalette]:
    """``groups`` as a list, refusing an empty one or anything but :class:`NamedPalette` of a
    :class:`~m2p.palette_types.Palette`."""
    from m2p.palette_types import Palette

    groups = list(groups)
    if not groups:
        raise InvalidArgumentError("nothing to export: no palettes")
    for group in groups:
        if not isinstance(group, NamedPalette) or not isinstance(group.palette, Palette):
            raise InvalidArgumentError(f"expected NamedPalette(name, Palette), got {group!r:.80}")
    return groups
