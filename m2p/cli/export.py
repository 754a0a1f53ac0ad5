"""``m2p export SONG --format FORMAT``: a song's palette(s) as a file, in every registered format.

The formats, their help and their options come from the registry
(:func:`m2p.exporters.formats.export_formats`): the core's swatch formats always, and whatever the
loaded adapters add (the video adapter's LUTs), so the command never names a format itself.
An option some formats take (``--strength`` of the LUT formats) is shown once, in a group named
after the formats that take it, and refused for the others.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2p.cli.args import (
    add_example,
    add_inference_arguments,
    inference_kwargs,
    int_range,
    non_negative_number,
)
from m2p.cli.output import print_summary
from m2p.errors import InvalidArgumentError, M2PError
from m2p.hooks.specs import Handler

if TYPE_CHECKING:
    from m2p.exporters.formats import ExportFormat, FormatOption

__all__ = ["configure_export"]


def configure_export(parser: argparse.ArgumentParser) -> Handler:
    """``m2p export SONG --format FMT [-o FILE] [--at S | --sections [N]]``."""
    from m2p.exporters.formats import export_formats
    from m2p.exporters.sections import MAX_SECTIONS

    table = export_formats()
    parser.add_argument("song", help="audio file")
    parser.add_argument("--format", type=_format_name(table), default=None, metavar="FORMAT",
                        help="; ".join(f"{f.name}: {f.description}" for f in table.values())
                        + " (default: the format of -o's suffix, else json)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="output file (default: SONG's name with the format's suffix, here); "
                             "a format of one palette per file writes sections to FILE-1, "
                             "FILE-2...")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--at", type=non_negative_number, default=None, metavar="SECONDS",
                      help="the palette at this time (default: whole-piece palette)")
    when.add_argument("--sections", type=_sections(MAX_SECTIONS), nargs="?", const="auto",
                      default=None, metavar="N",
                      help="one palette per section of the song: the music's own sections, "
                           "near-identical neighbours merged (N: that many); with fewer, cut "
                           "where the palette changes most (default auto: one per 30 s, 2 to 8)")
    parser.add_argument("--name", default=None,
                        help="palette name inside the file (default: SONG's stem)")
    owners = _add_format_options(parser, table)
    add_inference_arguments(parser)
    add_example(parser, "m2p export song.mp3 --format ase --sections 4 -o song.ase\n"
                        "m2p export song.mp3 --format css --at 30 -o theme.css")

    def run(args: argparse.Namespace) -> int:
        from m2p.exporters.formats import export, output_name
        from m2p.resolve import resolve_palette

        fmt = table[args.format] if args.format else _default_format(table, args.output)
        options = {name: getattr(args, name) for name in owners
                   if getattr(args, name) is not None}
        for name in options:
            if fmt not in owners[name]:
                raise InvalidArgumentError(f"--{_flag(name)} applies to {_family(owners[name])}, "
                                           f"not to {fmt.name}")
        inference = inference_kwargs(args)
        output = args.output or output_name(fmt, args.song)
        written = export(args.song, output, format=fmt.name, at=args.at, sections=args.sections,
                         name=args.name, options=options, **inference)
        song = Path(args.song).name
        if args.sections is not None:
            for number, path in enumerate(written, 1):
                what = f"section {number} of {len(written)}" if len(written) > 1 else "its sections"
                print_summary(path, f"{fmt.name}, {what} of {song}", None)
            return 0
        at = f" at {args.at:g} s" if args.at is not None else ""
        palette = resolve_palette(args.song, at=args.at, **inference)  # cached: no second run
        for path in written:
            print_summary(path, f"{fmt.name}, {song}{at}", palette)
        return 0

    return run


def _add_format_options(parser: argparse.ArgumentParser, table: dict[str, "ExportFormat"]
                        ) -> dict[str, list["ExportFormat"]]:
    """Add each format option once, in a group per family; returns option -> formats taking it."""
    owners: dict[str, list[ExportFormat]] = {}
    declared: dict[str, FormatOption] = {}
    for fmt in table.values():
        for option in fmt.options:
            owners.setdefault(option.name, []).append(fmt)
            declared.setdefault(option.name, option)
    groups: dict[str, Any] = {}
    for name, option in declared.items():
        family = _family(owners[name])
        if family not in groups:
            groups[family] = parser.add_argument_group(f"options of {family}")
        groups[family].add_argument(f"--{_flag(name)}", dest=name, type=option.parse,
                                    default=None, metavar=option.metavar, help=option.help)
    return owners


def _family(formats: list["ExportFormat"]) -> str:
    """Who takes an option: ``"the LUT formats (cube, 3dl, haldclut)"``, ``"the format toy"``."""
    names = ", ".join(fmt.name for fmt in formats)
    if formats[0].family:
        return f"the {formats[0].family} ({names})"
    return f"the format{'s' if len(formats) > 1 else ''} {names}"


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _default_format(table: dict[str, "ExportFormat"], output: str | None) -> "ExportFormat":
    """The format of ``output``'s suffix (the first registered with it), else json."""
    suffix = Path(output).suffix.lower() if output else ""
    return next((fmt for fmt in table.values() if fmt.suffix == suffix), table["json"])


def _format_name(table: dict[str, "ExportFormat"]) -> Callable[[str], str]:
    """argparse type of ``--format``: a registered name; a format a left-out or broken built-in
    adapter would add is an error saying so (exit status 1), any other name a usage error."""

    def parse(text: str) -> str:
        name = text.lower()
        if name in table:
            return name
        from m2p.hooks.manager import unavailable_reason

        reason = unavailable_reason(name, kind="format")
        if reason is not None:
            raise M2PError(reason)
        raise argparse.ArgumentTypeError(f"invalid choice: {text!r} (choose from "
                                         f"{', '.join(table)})")

    return parse


def _sections(maximum: int) -> Callable[[str], int | str]:
    """argparse type of ``--sections``: ``auto`` or 1 to ``maximum``."""
    count = int_range(1, maximum)
    return lambda text: text if text == "auto" else count(text)
