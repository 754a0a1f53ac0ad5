"""What the commands print: palettes, tracks and the one summary line a command that writes a
file ends with.

Colour: swatches and dim text only on a terminal, and never when ``NO_COLOR`` is set to a
non-empty value (https://no-color.org).
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any

from m2p.cli.args import is_tty

if TYPE_CHECKING:
    from m2p.palette_types import Palette, PaletteTrack

__all__ = ["print_palette", "print_summary", "print_track", "use_colour"]


def use_colour(stream: IO[str]) -> bool:
    """True when ``stream`` is a terminal and ``NO_COLOR`` is unset or empty."""
    return is_tty(stream) and not os.environ.get("NO_COLOR")


def print_summary(path: Any, details: str, palette: "Palette | None",
                  out: IO[str] | None = None) -> None:
    """The one line a command ends with: what it wrote, its length, the palette.

    ``PATH: DETAILS; palette #rrggbb ...`` (the hex codes follow true-colour swatches on a
    terminal without ``NO_COLOR``), on standard output.
    """
    from m2p._internal.text import printable

    out = sys.stdout if out is None else out
    line = printable(f"{path}: {details}")  # names are shown, never obeyed by the terminal
    if palette is not None:
        if use_colour(out):
            from m2p.exporters.render import ansi_swatches

            line += f"; palette {ansi_swatches(palette, width=2)} {' '.join(palette.hex)}"
        else:
            line += f"; palette {' '.join(palette.hex)}"
    out.write(line + "\n")


def print_palette(palette: "Palette", out: IO[str]) -> None:
    """One colour per line: true-colour swatch and hex on a terminal, bare hex otherwise
    (and with ``NO_COLOR``, bare hex and the mood as plain text)."""
    if not use_colour(out) and is_tty(out):
        out.write("".join(code + "\n" for code in palette.hex))
        out.write(f"mood: {palette.dominant_emotion}\n")
    elif is_tty(out):
        from m2p.exporters.render import ansi_swatch

        for code, rgb in zip(palette.hex, palette.rgb8):
            out.write(ansi_swatch(code, rgb, width=6) + "\n")
        out.write(f"\x1b[2mmood: {palette.dominant_emotion}\x1b[0m\n")
    else:
        out.write("".join(code + "\n" for code in palette.hex))


def print_track(track: "PaletteTrack", out: IO[str]) -> None:
    """One line per window: centre time (s) then the colours (swatches on a terminal)."""
    tty = use_colour(out)
    for time, palette in zip(track.times, track.palettes):
        if tty:
            from m2p.exporters.render import ansi_swatches

            out.write(f"{time:8.2f} s  {ansi_swatches(palette, width=3)}  {' '.join(palette.hex)}\n")
        else:
            out.write(f"{time:.2f} {' '.join(palette.hex)}\n")


def spacing(track: "PaletteTrack", *, window: float | None = None,
            hop: float | None = None) -> str:
    """``"window 10 s, hop 2.5 s"``: the window and hop the user asked for (the track's exact
    values, rounded to the encoder's frames, e.g. 2.50776 s, stay in its JSON)."""
    window = track.window if window is None else window
    hop = track.hop if hop is None else hop
    return f"window {float(window):g} s, hop {float(hop):g} s"
