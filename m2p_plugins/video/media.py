"""Media plumbing shared by grading and the bar-chart race: encoder checks, safe outputs, opening.

Every function here raises :class:`m2p.errors.VideoError` naming the file. Outputs are written
by the core's one atomic writer (:mod:`m2p._internal.outputs`, ``error=VideoError``), so a failed
or interrupted run never leaves a half-written file under the requested name.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from m2p._internal import ffmpeg as _ffmpeg
from m2p._internal.inputs import check_regular
from m2p._internal.text import first_line
from m2p.errors import VideoError


def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary MoviePy uses, the one audio decoding uses too
    (:func:`m2p._internal.ffmpeg.ffmpeg_exe`: ``$FFMPEG_BINARY``, else imageio-ffmpeg's).

    Raises
    ------
    m2p.errors.VideoError
        No ffmpeg binary can be found.
    """
    try:
        return _ffmpeg.ffmpeg_exe()
    except FileNotFoundError as exc:
        raise VideoError(str(exc), source="ffmpeg") from exc


def check_encoder(codec: str = "libx264") -> str:
    """Check up front that ffmpeg can encode with ``codec``; returns the ffmpeg path.

    Raises
    ------
    m2p.errors.VideoError
        ffmpeg is missing or lacks the encoder (the message says which and how to fix it).
    """
    exe = ffmpeg_exe()
    if codec not in _encoders(exe):
        raise VideoError(f"this ffmpeg has no {codec!r} encoder (try --codec mpeg4, or install an "
                         f"ffmpeg build with it and set FFMPEG_BINARY)", source=exe)
    return exe


VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
"""Output suffixes the video commands write (ffmpeg picks the container from the suffix)."""


def open_video(path: str | os.PathLike[str], *, audio: bool = True) -> Any:
    """Open a video with MoviePy, turning every failure into a clear :class:`VideoError`.

    Parameters
    ----------
    path
        Video file. Rotation metadata is applied by ffmpeg while decoding (frames come upright);
        variable frame rate input is read at its average rate (frames are duplicated or dropped
        by ffmpeg to a constant rate); an alpha channel is not read (MP4/H.264 has none).
    audio
        Also open the video's own sound track, if it has one.

    Returns
    -------
    moviepy.VideoFileClip
        Close it (``clip.close()``) when done; MoviePy keeps ffmpeg processes open otherwise.
    """
    from moviepy import VideoFileClip

    path = Path(path)
    if not path.exists():
        raise VideoError("no such video file", source=path)
    if path.is_dir():
        raise VideoError("is a folder, not a video file", source=path)
    check_regular(path, error=VideoError, noun="a video file")  # a FIFO would block ffmpeg
    clip = None
    try:
        with _quiet_reader():
            clip = _open_clip(VideoFileClip, path, audio)
            _fix_rotation(clip, path)
            if clip.size is None or min(clip.size) <= 0 or not clip.duration or clip.duration <= 0:
                raise VideoError("no video frames", source=path)
            if not clip.fps or clip.fps <= 0:
                raise VideoError("unknown frame rate", source=path)
            clip.get_frame(0)  # fail now on undecodable content, not halfway through an export
    except VideoError:
        close_quietly(clip)
        raise
    except Exception as exc:  # noqa: BLE001 - MoviePy raises OSError, KeyError, IndexError...
        close_quietly(clip)
        raise VideoError(f"cannot read video ({_ffmpeg_reason(path, exc)})", source=path) from exc
    return clip


def _open_clip(kind: Any, path: Path, audio: bool) -> Any:
    clip = kind(str(path), audio=audio)
    _close_pipes_on_close(clip.reader)
    if getattr(clip, "audio", None) is not None:
        _close_pipes_on_close(clip.audio.reader)
    return clip


@contextlib.contextmanager
def _quiet_reader() -> Iterator[None]:
    """While a file is being opened and its first frame read, MoviePy's warnings ("3 bytes
    wanted but 0 bytes read", "using the last valid frame") are held back: when the open fails
    they are a symptom of the error about to be raised (audio given as video, a damaged start),
    not news, and are dropped; when it succeeds they are given as they came."""
    with warnings.catch_warnings(record=True) as held:
        warnings.simplefilter("always")
        yield
    for record in held:
        warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)


def _close_pipes_on_close(reader: Any) -> None:
    """Make a MoviePy ffmpeg reader (video or audio) close ffmpeg's pipes every time it closes.

    MoviePy 2's readers' ``close`` closes the pipes only while ffmpeg still runs;
    when ffmpeg has already exited (at the end of a clip, or before a seek restarts it) they
    are left to the garbage collector, which then prints "ResourceWarning: unclosed file".
    Patched on our own readers only, never on the class.
    """
    original = reader.close

    def close(*args: Any, **kwargs: Any) -> None:
        proc = getattr(reader, "proc", None)
        original(*args, **kwargs)
        if proc is not None:
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None and not pipe.closed:
                    pipe.close()

    reader.close = close


def check_decodes(path: str | os.PathLike[str]) -> None:
    """Decode every frame of the video stream once (ffmpeg, no output); decoder errors mean a
    damaged file, which MoviePy would fill with frozen frames without a word.

    Raises
    ------
    m2p.errors.VideoError
        ffmpeg reports decoding errors (the message quotes the first).
    """
    path = Path(path)
    try:
        result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i",
                                 "file:" + str(path.absolute()), "-map", "0:v:0", "-f", "null",
                                 "-"], capture_output=True, text=True, check=False,
                                stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise VideoError(f"cannot run ffmpeg ({exc})", source=path) from exc
    problem = decode_failure(result.stderr, result.returncode)
    if problem is not None:
        raise VideoError(problem, source=path)


def decode_failure(stderr: str, returncode: int | None) -> str | None:
    """What a decoding run of ffmpeg (``-v error``) says about a damaged file, one line, or
    ``None`` when it decoded cleanly."""
    lines = [re.sub(r"^\[[^\]]*\]\s*", "", ln.strip()) for ln in stderr.splitlines()
             if ln.strip()]
    if returncode == 0 and not lines:
        return None
    first = lines[0][:160] if lines else f"ffmpeg exit status {returncode}"
    return f"the video is damaged ({len(lines)} decoding error(s), first: {first})"


_FRAME_RE = re.compile(r"bytes wanted but \d+ bytes read at frame index (\d+) \(out of a total "
                       r"(\d+) frames\), at time ([\d.]+)")


@contextlib.contextmanager
def frames_must_decode(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn MoviePy's "using the last valid frame instead" warning into a :class:`VideoError`.

    MoviePy repeats the last frame when ffmpeg delivers too few bytes (a video damaged in the
    middle), which would grade frozen frames without a word. Its last frame or two are exempt:
    MoviePy rounds the duration and often reads one frame past the end of a sound file.
    """
    previous = warnings.showwarning

    def check(message: Any, category: Any, filename: str, lineno: int, file: Any = None,
              line: Any = None) -> None:
        match = _FRAME_RE.search(str(message))
        if match is None:
            previous(message, category, filename, lineno, file, line)
            return
        index, total, when = int(match.group(1)), int(match.group(2)), match.group(3)
        if index < total - 2:
            raise VideoError(f"frame {index} of {total} (at {when} s) cannot be decoded; the "
                             "video is damaged", source=path)

    with warnings.catch_warnings():
        warnings.filterwarnings("always", message=".*bytes wanted but")
        warnings.showwarning = check
        yield


def open_audio(path: str | os.PathLike[str]) -> Any:
    """Open a music file as a MoviePy ``AudioFileClip`` (close it when done)."""
    from moviepy import AudioFileClip

    path = Path(path)
    if not path.exists():
        raise VideoError("no such audio file", source=path)
    check_regular(path, error=VideoError, noun="an audio file")
    try:
        with _quiet_reader():
            clip = AudioFileClip(str(path))
        _close_pipes_on_close(clip.reader)
        return clip
    except Exception as exc:  # noqa: BLE001
        raise VideoError(f"cannot read audio ({first_line(exc, limit=200)})", source=path) from exc


def encoding_logger(progress: bool, *, label: str = "encoding") -> Any:
    """The ``logger=`` for MoviePy's ``write_videofile``: one bar of ours, nothing else.

    MoviePy's own logger prints "MoviePy - Building video ...", the temporary audio file's
    name and a second bar for the audio chunks; here the messages are dropped, the audio bar
    is not shown, and the frame bar is labelled ``label`` and drawn after the one policy of
    :mod:`m2p._internal.progress` (standard error, erased when done, the terminal's width),
    except that it shows at once: an encode is long work the user asked for.
    ``progress=False`` gives MoviePy's silent logger.
    """
    if not progress:
        return None
    from proglog import TqdmProgressBarLogger

    from m2p._internal.progress import tqdm_options

    class _Logger(TqdmProgressBarLogger):
        def new_tqdm_bar(self, bar: str) -> None:
            if bar in self.tqdm_bars and self.tqdm_bars[bar] is not None:
                self.close_tqdm_bar(bar)
            self.tqdm_bars[bar] = self.tqdm(total=self.bars[bar]["total"], desc=label,
                                            unit="frame", **tqdm_options(delay=0))

        def bars_callback(self, bar: str, attr: str, value: Any, old_value: Any = None) -> None:
            if attr != "message":  # a bar's message is a file name: not ours to show
                super().bars_callback(bar, attr, value, old_value)

    return _Logger(print_messages=False, ignored_bars=("chunk",))


def close_quietly(*clips: Any) -> None:
    """Close MoviePy clips (and their readers), ignoring ``None`` and errors."""
    for clip in clips:
        if clip is None:
            continue
        with contextlib.suppress(Exception):
            clip.close()


def even_size_params(size: tuple[int, int], codec: str) -> list[str]:
    """ffmpeg output options: yuv420p for H.264, and a 1-pixel crop of odd sizes (4:2:0 needs
    even ones).

    Raises
    ------
    m2p.errors.VideoError
        A side under 2 pixels (encoders refuse it, and cropping would leave nothing).
    """
    if min(size) < 2:
        raise VideoError(f"a {size[0]}x{size[1]} picture cannot be encoded as video (at least "
                         "2x2 pixels; recolour a picture this small with 'm2p recolor')")
    params: list[str] = []
    if codec in ("libx264", "libx265", "h264_nvenc"):
        if size[0] % 2 or size[1] % 2:
            params += ["-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2"]
        params += ["-pix_fmt", "yuv420p"]
    return params


def display_rotation(path: str | os.PathLike[str]) -> int:
    """Rotation in degrees (0, 90, 180, 270) that ffmpeg applies when decoding ``path``.

    Read from the stream's display matrix side data (``ffmpeg -i`` reports "rotation of X
    degrees") or a legacy ``rotate`` tag; 0 when there is none or ffmpeg cannot be run.
    """
    import re

    try:
        result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                                capture_output=True, text=True, timeout=30, check=False,
                                stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError, VideoError):
        return 0
    match = re.search(r"rotation of (-?[\d.]+) degrees", result.stderr) or re.search(
        r"^\s*rotate\s*:\s*(-?[\d.]+)", result.stderr, flags=re.MULTILINE)
    if not match:
        return 0
    return int(round(float(match.group(1)))) % 360


def _fix_rotation(clip: Any, path: Path) -> None:
    """Make MoviePy's frame size agree with ffmpeg's auto-rotation.

    MoviePy 2.1 misses the ``Display Matrix`` side data printed by recent ffmpeg, so for a
    portrait phone video it would reshape rotated frames with the unrotated size (garbage).
    """
    reader = getattr(clip, "reader", None)
    if reader is None or getattr(reader, "rotation", 0) in (90, 270):
        return
    if display_rotation(path) not in (90, 270):
        return
    width, height = reader.size
    reader.size = [height, width]
    reader.rotation = 90
    reader.bufsize = reader.depth * width * height + 100
    reader.initialize()
    clip.size = reader.size
    clip.rotation = 90


@functools.lru_cache(maxsize=4)
def _encoders(exe: str) -> str:
    try:
        result = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True,
                                timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise VideoError(f"cannot run ffmpeg ({exc})", source=exe) from exc
    return result.stdout


def _ffmpeg_reason(path: Path, exc: BaseException) -> str:
    """ffmpeg's own last word on a file it cannot read (MoviePy's message only says that it
    failed to parse ffmpeg's output)."""
    try:
        result = subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-i",
                                 _ffmpeg.input_arg(path)], capture_output=True, text=True,
                                timeout=30, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError, VideoError):
        return first_line(exc, limit=200)
    text = result.stderr
    if "Stream #" in text and "Video:" not in text:
        return "no video stream"
    reason = _ffmpeg.failure_reason(text, path).replace("file:", "")
    if reason in ("unknown ffmpeg error",) or "Output file" in reason or "output file" in reason:
        return first_line(exc, limit=200)
    return reason


__all__ = [
    "VIDEO_SUFFIXES",
    "check_decodes",
    "decode_failure",
    "frames_must_decode",
    "display_rotation",
    "check_encoder",
    "close_quietly",
    "encoding_logger",
    "even_size_params",
    "ffmpeg_exe",
    "open_audio",
    "open_video",
]
