"""The one ffmpeg: which binary audio decoding and the video adapter run, how a file is named
to it, and its reason for a failure, one line.

The binary is the one MoviePy runs too, so that decoding a song and encoding a video never
use two different ffmpeg builds: ``$FFMPEG_BINARY`` when it names an existing file (MoviePy's
own setting), else the binary of :mod:`imageio_ffmpeg` (a dependency; it honours
``$IMAGEIO_FFMPEG_EXE``).
"""

from __future__ import annotations

import os
from pathlib import Path

from m2p._internal.text import last_line

__all__ = ["ffmpeg_exe", "input_arg", "failure_reason"]

# ffmpeg's closing line when it stops without writing anything: never the cause.
_GENERIC_LAST_LINES = ("At least one output file",)


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary (see the module docstring for the rule).

    Raises
    ------
    FileNotFoundError
        No binary can be found; the message says how to get one.
    """
    exe = os.environ.get("FFMPEG_BINARY")
    if exe and exe != "ffmpeg-imageio" and Path(exe).exists():
        return exe
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # noqa: BLE001 - ImportError, or imageio's RuntimeError
        raise FileNotFoundError(f"no ffmpeg binary found ({exc}); pip install imageio-ffmpeg "
                                "or set FFMPEG_BINARY") from None


def input_arg(path: str | os.PathLike[str]) -> str:
    """How ``path`` is given to ``ffmpeg -i``: the ``file:`` protocol and an absolute path, so
    that names such as ``pipe:1`` or ``concat:a|b`` are never read as other protocols."""
    return "file:" + str(Path(path).absolute())


def failure_reason(stderr: str, path: str | os.PathLike[str]) -> str:
    """ffmpeg's most telling line of ``stderr`` about ``path``, without the file name it
    repeats (the caller's error names the file already)."""
    line = last_line(stderr, skip=_GENERIC_LAST_LINES)
    path = Path(path)
    for name in (input_arg(path), str(path.absolute()), str(path)):
        line = line.replace(name + ": ", "").replace(name, "")
    return line.strip() or "unknown ffmpeg error"
