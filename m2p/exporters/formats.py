"""Export formats by name: one registry behind ``m2p export`` and :func:`export`.

An :class:`ExportFormat` is a name, a file suffix, a description and a *writer*: named palettes
in, one file out. The core's swatch formats (json, css, gpl, ase, svg, png) are registered in
:mod:`m2p.exporters.swatches`; adapters add theirs through the ``register_formats`` hook
(:mod:`m2p.hooks.specs`; the video adapter adds the ``cube``, ``3dl`` and ``haldclut`` LUTs).
Everything else is shared: which palettes a song gives (:mod:`m2p.exporters.groups`), the
checks of the output before any work, and writing all files of one export atomically
(:func:`write`).

>>> from m2p.exporters.formats import export_formats
>>> export_formats()["css"].suffix
'.css'

Importing this module imports neither NumPy nor an adapter; :func:`export_formats` reads the adapters'
registrations from the plugin manager on first use.
"""

from __future__ import annotations

import keyword
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from m2p._internal.warn import warn
from m2p.errors import InvalidArgumentError, M2PError, OutputError, PluginWarning
from m2p.exporters.groups import (
    NamedPalette,
    checked_groups,
    default_name,
    default_title,
    palette_groups,
)

__all__ = ["RESERVED", "ExportFormat", "FormatOption", "check_options", "export",
           "export_formats", "export_palette", "find_format", "output_name", "section_path", "write"]

RESERVED = frozenset({"source", "output", "format", "at", "sections", "name", "title",
                      "options", "seed", "noise", "device", "model", "window", "hop",
                      "batch_size", "sample_rate", "progress", "quiet", "help"})
"""Names a format option cannot take: :func:`export`'s own arguments and the inference options
(the command line has flags of these names already)."""

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@dataclass(frozen=True)
class FormatOption:
    """An option of some formats: a keyword of their writer and a flag of ``m2p export``.

    Attributes
    ----------
    name
        The writer's keyword; the flag is ``--name`` (``_`` written ``-``).
    parse
        The flag's text to a value (an argparse ``type``; raises
        :class:`argparse.ArgumentTypeError`).
    help
        The flag's help line.
    metavar
        The flag's placeholder in ``--help``.
    check
        Validates a value given from Python before any work (returns it, converted); the
        default accepts anything.
    """

    name: str
    parse: Callable[[str], Any] = str
    help: str = ""
    metavar: str | None = None
    check: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or keyword.iskeyword(self.name) or self.name in RESERVED:
            raise InvalidArgumentError(f"a format option needs a free identifier for a name, "
                                       f"got {self.name!r}")


@dataclass(frozen=True)
class ExportFormat:
    """One export format.

    Attributes
    ----------
    name
        What ``--format`` and ``format=`` take (lower-case letters, digits, ``-``, ``_``).
    write
        ``write(path, groups, *, title, **options)``: write the :class:`NamedPalette` ``groups``
        to the file ``path`` (a temporary sibling, renamed into place when every file of the
        export is complete). ``title`` names the whole file; ``options`` are those of
        :attr:`options` the caller gave.
    suffix
        The file suffix (``".css"``); outputs must have it.
    description
        One line for ``m2p export --help`` and ``m2p plugins --verbose``.
    sections
        True: one file holds several palettes (``--sections`` writes one file); False: a file
        holds one palette, and sections are written to ``<stem>-1<suffix>``, ``-2``...
    options
        The :class:`FormatOption` s the writer takes.
    family
        What formats sharing options are called (``"LUT formats"``), for the help and the
        message when an option is given to another format.
    default_output
        The output file name when none is given, a template of ``{stem}`` (the song's) and
        ``{suffix}``; default ``"{stem}{suffix}"``.
    """

    name: str
    write: Callable[..., Any]
    suffix: str
    description: str = ""
    sections: bool = True
    options: tuple[FormatOption, ...] = ()
    family: str = ""
    default_output: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise InvalidArgumentError(f"a format name is lower-case letters, digits, - and _, "
                                       f"got {self.name!r}")
        if not callable(self.write):
            raise InvalidArgumentError(f"format {self.name!r}: write must be callable")
        if not (isinstance(self.suffix, str) and self.suffix.startswith(".") and len(self.suffix) > 1):
            raise InvalidArgumentError(f"format {self.name!r}: suffix must look like '.ext', "
                                       f"got {self.suffix!r}")
        object.__setattr__(self, "suffix", self.suffix.lower())
        object.__setattr__(self, "options", tuple(self.options))
        if not all(isinstance(option, FormatOption) for option in self.options):
            raise InvalidArgumentError(f"format {self.name!r}: options must be FormatOption")


def export_formats() -> dict[str, ExportFormat]:
    """Every export format, ``{name: ExportFormat}``: the core's swatch formats, then the ones
    adapters registered (which loads the adapters on first use).

    An adapter's format that is malformed, or named like one already there, is skipped with a
    :class:`~m2p.errors.PluginWarning`.
    """
    from m2p.exporters.swatches import SWATCHES
    from m2p.hooks.manager import registered

    table = {name: ExportFormat(name, swatch.write, "." + name, swatch.description)
             for name, swatch in SWATCHES.items()}
    for name, entry in registered("format").items():
        try:
            if name in table:
                raise InvalidArgumentError("a core format has that name; keeping the core's")
            table[name] = ExportFormat(name, entry.obj, description=entry.help, **entry.details)
        except (InvalidArgumentError, TypeError) as exc:
            warn(f"m2p plugin {entry.plugin!r}: the format {name!r} is skipped: {exc}",
                 PluginWarning)
    return table


def find_format(format: str | None = None, path: str | os.PathLike[str] | None = None
                ) -> ExportFormat:
    """The format named ``format``, or else the first whose suffix is ``path``'s.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        No such format (the message lists them, and says which adapter would add it when a
        built-in adapter is left out).
    """
    table = export_formats()
    if format is not None:
        fmt = table.get(str(format).lower())
        if fmt is not None:
            return fmt
        what = f"format {format!r}"
    else:
        suffix = Path(os.fspath(path)).suffix.lower() if path is not None else ""
        fmt = next((f for f in table.values() if f.suffix == suffix), None)
        if fmt is not None:
            return fmt
        what = f"suffix {suffix or '(none)'!r}"
    from m2p.hooks.manager import unavailable_reason

    reason = unavailable_reason(str(format), kind="format") if format is not None else None
    raise InvalidArgumentError(reason or f"unknown export {what}; use one of {', '.join(table)}",
                               source=path)


def export(source: Any, output: str | os.PathLike[str], *, format: str | None = None,
           at: float | None = None, sections: int | Literal["auto"] | None = None,
           name: str | None = None, options: Mapping[str, Any] | None = None,
           **inference: Any) -> list[Path]:
    """Write the palette(s) of a song in any registered format.

    Parameters
    ----------
    source
        Audio path, NumPy samples (``sample_rate=``), :class:`~m2p.palette_types.Palette` or
        :class:`~m2p.palette_types.PaletteTrack`.
    output
        The file to write (with ``sections`` and a one-palette format, the files are
        ``<stem>-<k><suffix>`` next to it).
    format
        A name of :func:`export_formats`; default from ``output``'s suffix.
    at
        Seconds: the palette in force then (default: the whole-piece palette).
    sections
        ``"auto"`` or a number of sections: one palette per section (:mod:`m2p.exporters.sections`).
    name
        Palette name in the file (default: the audio file's stem, else ``"m2p"``).
    options
        The format's options (:attr:`ExportFormat.options`), e.g. ``{"strength": 0.8}``.
    **inference
        Passed to :func:`m2p.palette_track` / :func:`m2p.palette` for audio.

    Returns
    -------
    list of pathlib.Path
        The files written, in section order.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Unknown format or option, ``at`` with ``sections``, ``sections`` of a single Palette.
    m2p.errors.OutputError
        An output cannot be written or lacks the format's suffix; checked before inference.
    """
    from m2p._internal.checks import label
    from m2p._internal.outputs import path_inputs

    fmt = find_format(format, output)
    checked = check_options(fmt, options or {})
    if name is not None:
        label(name, "name")  # before any work: a file format holds so much of a name

    inputs = path_inputs(source, *checked.values())  # a --reference is an input too
    first = _check_output(output, inputs, OutputError, suffix=fmt.suffix)
    groups = palette_groups(source, at=at, sections=sections, name=name, **inference)
    title = name if name is not None else default_name(source)
    return write(fmt, first, groups, numbered=sections is not None, title=title, inputs=inputs,
                 **checked)


def export_palette(source: Any, output: str | os.PathLike[str], *,
                   format: str | None = None, at: float | None = None,
                   sections: int | Literal["auto"] | None = None, name: str | None = None,
                   **inference: Any) -> Path:
    """Write the palette(s) of a song as one file: :func:`export` for the formats that hold
    several palettes in one file (every swatch format: json, css, gpl, ase, svg, png).

    Parameters are those of :func:`export` (no format options).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Unknown format or suffix, a format that writes one file per palette, ``at`` with
        ``sections``, ``sections`` of a single Palette.
    m2p.errors.OutputError
        The output cannot be written, or its suffix is not the format's (``.json``...);
        checked before inference.
    """
    fmt = find_format(format, output)
    if not fmt.sections:
        raise InvalidArgumentError(f"the {fmt.name} format writes one file per palette; use "
                                   "m2p.exporters.export", source=output)
    return export(source, output, format=fmt.name, at=at, sections=sections, name=name,
                  **inference)[0]


def write(fmt: ExportFormat | str, path: str | os.PathLike[str], groups: Sequence[NamedPalette],
          *, numbered: bool = False, title: str | None = None, inputs: Sequence[Any] = (),
          error: type[M2PError] = OutputError, **options: Any) -> list[Path]:
    """Write named palettes in one format, atomically: every file of the call, or none.

    Parameters
    ----------
    fmt
        The format, or its name.
    path
        The output file.
    groups
        The palettes. A format whose files hold one palette writes one file per group.
    numbered
        Name the files ``<stem>-<k><suffix>`` even for one group (an export by sections).
    title
        The file's name for its palettes (default: the one palette's name, else ``"m2p"``).
    inputs
        Input paths the outputs must not overwrite. (The suffix is not checked here:
        :func:`export` checks it before any work.)
    error
        The :class:`~m2p.errors.M2PError` class raised for an output problem.
    **options
        The format's options, passed to its writer.

    Returns
    -------
    list of pathlib.Path
    """
    from m2p._internal.outputs import atomic_outputs

    fmt = find_format(fmt) if isinstance(fmt, str) else fmt
    groups = checked_groups(groups)
    first = _check_output(path, inputs, error)
    if fmt.sections:
        batches, outs = [groups], [first]
        titles = [default_title(groups) if title is None else title]
    else:
        if len(groups) > 1 and not numbered:
            raise InvalidArgumentError(f"the {fmt.name} format holds one palette per file; "
                                       f"write {len(groups)} with numbered=True")
        batches = [[group] for group in groups]
        outs = [_check_output(section_path(first, k), inputs, error)
                for k in range(1, len(groups) + 1)] if numbered else [first]
        titles = [group.name for group in groups]
    with atomic_outputs(*outs, error=error) as temps:
        for tmp, batch, name in zip(temps, batches, titles):
            fmt.write(tmp, batch, title=name, **options)
    return outs


def check_options(fmt: ExportFormat, options: Mapping[str, Any]) -> dict[str, Any]:
    """The format's options given, each through its :attr:`FormatOption.check`.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        An option the format does not take.
    """
    known = {option.name: option for option in fmt.options}
    checked = {}
    for key, value in options.items():
        if key not in known:
            takes = ", ".join(known) or "none"
            raise InvalidArgumentError(f"the {fmt.name} format has no option {key!r} "
                                       f"(its options: {takes})")
        check = known[key].check
        checked[key] = value if check is None else check(value)
    return checked


def output_name(fmt: ExportFormat, song: str | os.PathLike[str]) -> str:
    """The file an export of ``song`` writes when no output is named (in the current folder)."""
    template = fmt.default_output or "{stem}{suffix}"
    return template.format(stem=Path(os.fspath(song)).stem, suffix=fmt.suffix)


def section_path(path: Path, k: int) -> Path:
    """``look.cube`` -> ``look-<k>.cube``: the file of section ``k``."""
    return path.with_name(f"{path.stem}-{k}{path.suffix}")


def _check_output(path: str | os.PathLike[str], inputs: Sequence[Any], error: type[M2PError],
                  *, suffix: str | None = None) -> Path:
    from m2p._internal.outputs import check_output

    return check_output(path, inputs=inputs, suffixes=None if suffix is None else (suffix,),
                        error=error)
