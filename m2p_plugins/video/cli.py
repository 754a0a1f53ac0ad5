"""``m2p grade | recolor | race | match``: the video adapter's subcommands.

Registered by the adapter's ``register_commands`` hook (:mod:`m2p_plugins.video`); this module
is imported only when one of them runs. Each ``configure_*`` adds its arguments to the
subparser and returns the handler.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from m2p._internal.extras import require
from m2p._internal.text import printable
from m2p.cli.args import (
    add_example,
    add_inference_arguments,
    inference_kwargs,
    int_range,
    non_negative_number,
    number_range,
    positive_number,
    unit_interval,
)
from m2p.cli.output import print_summary
from m2p.hooks.specs import Handler


def configure_grade(parser: argparse.ArgumentParser) -> Handler:
    """``m2p grade VIDEO --music SONG -o OUT``: grade footage to music, music as soundtrack."""
    parser.add_argument("video", help="input video (mp4, mov, mkv, webm...)")
    parser.add_argument("--music", required=True, metavar="SONG", help="audio file to grade to")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output video file")
    _add_strength(parser)
    parser.add_argument("--keep-audio", action="store_true",
                        help="keep the video's own sound instead of muxing the music")
    _add_music_start(parser)
    parser.add_argument("--music-end", choices=("hold", "loop"), default="hold",
                        help="music shorter than the video: hold the last palette (default) "
                             "or loop the music and its palettes")
    parser.add_argument("--lut-size", type=lut_size, default=33, metavar="N",
                        help="LUT nodes per axis, 2 to 65 (default 33)")
    parser.add_argument("--smoothing", type=non_negative_number, default=1.0, metavar="SECONDS",
                        help="temporal smoothing of the grade (default 1.0)")
    parser.add_argument("--codec", default="libx264", help="ffmpeg video encoder (default libx264)")
    parser.add_argument("--preset", default="medium", help="encoder preset (default medium)")
    parser.add_argument("--grade-device", default="cpu",
                        help="cpu or cuda for the per-frame grading (default cpu)")
    _add_sync(parser, "hold the grade and change it only on the music's downbeats, beats or "
                      "section boundaries (default: a smooth grade)")
    parser.add_argument("--shots", choices=("auto", "off"), default="auto",
                        help="auto (default): the grade changes only at the video's cuts and "
                             "glides slowly within long shots; off: it follows the music "
                             "continuously")
    add_inference_arguments(parser)
    _windows_chosen_per_clip(parser)
    add_example(parser, "m2p grade holiday.mp4 --music song.mp3 -o graded.mp4\n"
                        "m2p grade clip.mov --music song.mp3 --music-start 42 -o graded.mp4\n"
                        "m2p grade clip.mov --music song.mp3 --sync downbeat -o graded.mp4")

    def run(args: argparse.Namespace) -> int:
        require("moviepy", "matplotlib", extra="video", feature="m2p grade")
        if args.shots == "auto":  # the cut detector is OpenCV's
            require("cv2", extra="video", feature="m2p grade --shots auto")
        from m2p_plugins.video.grade import grade_video

        kwargs = inference_kwargs(args)
        progress = kwargs.pop("progress")
        used: list = []
        out = grade_video(args.video, args.music, args.output, strength=args.strength,
                          keep_audio=args.keep_audio, music_end=args.music_end,
                          lut_size=args.lut_size, smoothing=args.smoothing, codec=args.codec,
                          preset=args.preset, grade_device=args.grade_device,
                          music_start=args.music_start, progress=progress,
                          on_track=used.append, sync=args.sync, shots=args.shots, **kwargs)
        start = f" from {args.music_start:g} s" if args.music_start else ""
        print_summary(out, f"{_video_size(out)}, graded to {Path(args.music).name}{start}",
                      _palette_from(used, args.music_start))
        return 0

    return run


def configure_recolor(parser: argparse.ArgumentParser) -> Handler:
    """``m2p recolor PHOTO --music SONG -o OUT``: recolour a still image to music."""
    parser.add_argument("photo", help="input image (jpg, png, tiff, webp...)")
    parser.add_argument("--music", required=True, metavar="SONG", help="audio file")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output image")
    _add_strength(parser)
    parser.add_argument("--at", type=float, default=None, metavar="SECONDS",
                        help="use the palette at this time (default: whole-piece palette)")
    add_inference_arguments(parser)
    add_example(parser, "m2p recolor photo.jpg --music song.mp3 -o recoloured.jpg")

    def run(args: argparse.Namespace) -> int:
        from PIL import Image

        from m2p.resolve import resolve_palette
        from m2p_plugins.video.recolor import recolor

        kwargs = inference_kwargs(args)
        out = recolor(args.photo, args.music, args.output, strength=args.strength, at=args.at,
                      **kwargs)
        with Image.open(out) as image:
            size = f"{image.width}x{image.height}"
        at = f" at {args.at:g} s" if args.at is not None else ""
        palette = resolve_palette(args.music, at=args.at, **kwargs)  # cached: no second run
        print_summary(out, f"{size}, {Path(args.photo).name} recoloured to "
                           f"{Path(args.music).name}{at}", palette)
        return 0

    return run


def configure_race(parser: argparse.ArgumentParser) -> Handler:
    """``m2p race DATA.csv --music SONG -o race.mp4``: palette-coloured bar-chart race."""
    parser.add_argument("data", help="wide CSV: first column the period, one column per entity")
    parser.add_argument("--music", required=True, metavar="SONG", help="audio file (soundtrack)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output video")
    parser.add_argument("--fit", choices=("stretch", "trim"), default="stretch",
                        help="stretch the race to the song (default) or trim the song to the "
                             "race at --period-seconds per period")
    # A race frame lasts at least 1/240 s and a period more than an hour helps nobody: the
    # bounds keep "1e-9" (no frame at all) and "1e6" (a month-long render) out.
    parser.add_argument("--period-seconds", type=number_range(0.01, 3600.0), default=1.0,
                        metavar="S",
                        help="seconds per period with --fit trim (default 1.0)")
    parser.add_argument("--bars", type=int_range(1, 1000), default=10, metavar="N",
                        help="bars shown (default 10)")
    parser.add_argument("--fps", type=int_range(1, 240), default=30,
                        help="frames per second, 1 to 240 (default 30)")
    parser.add_argument("--size", type=_frame_size, default=(1280, 720), metavar="WxH",
                        help="video size in pixels (default 1280x720)")
    parser.add_argument("--title", default=None, help="chart title")
    parser.add_argument("--period-fmt", default=None, metavar="FMT",
                        help="period label: a strftime format for dates ('%%b %%Y'), or "
                             "'{x:.0f}' for numbers (default: fits the dates' spacing)")
    parser.add_argument("--theme", choices=("light", "dark"), default="light",
                        help="light (default) or dark background")
    parser.add_argument("--long", action="store_true",
                        help="DATA is long (tidy): period, entity, value columns; pivot it")
    parser.add_argument("--preset", default="medium", help="encoder preset (default medium)")
    _add_music_start(parser)
    _add_sync(parser, "keep the bars' colours between the music's beats (downbeats, section "
                      "boundaries) and recolour them on it (default: colours glide)")
    add_inference_arguments(parser)
    _windows_chosen_per_clip(parser)
    add_example(parser, "m2p race gdp.csv --music song.mp3 -o race.mp4 --title 'GDP' "
                        "--period-fmt '%Y' --theme dark")

    def run(args: argparse.Namespace) -> int:
        require("moviepy", "matplotlib", extra="video", feature="m2p race")
        from m2p_plugins.video.race import bar_chart_race

        width, height = args.size
        kwargs = inference_kwargs(args)
        progress = kwargs.pop("progress")
        used: list = []
        out = bar_chart_race(args.data, args.music, args.output, fit=args.fit,
                             period_seconds=args.period_seconds, n_bars=args.bars, fps=args.fps,
                             size=(width, height), title=args.title, preset=args.preset,
                             music_start=args.music_start, period_fmt=args.period_fmt,
                             theme=args.theme, long=args.long, progress=progress,
                             on_track=used.append, sync=args.sync, **kwargs)
        print_summary(out, f"{_video_size(out)}, race of {Path(args.data).name} to "
                           f"{Path(args.music).name}", _palette_from(used, args.music_start))
        return 0

    return run


def configure_match(parser: argparse.ArgumentParser) -> Handler:
    """``m2p match FOOTAGE --library library.parquet``: the library's best music for footage."""
    parser.add_argument("footage", help="an image (png, jpg...) or a video (mp4, mov, mkv...)")
    parser.add_argument("--library", required=True, metavar="PARQUET",
                        help="the table made by 'm2p batch'")
    parser.add_argument("--top", type=int_range(1, 1_000_000), default=10, metavar="N",
                        help="how many tracks to print (default 10)")
    parser.add_argument("--fps", type=positive_number, default=1.0,
                        help="video frames read per second (default 1)")
    parser.add_argument("--colors", type=int_range(1, 16), default=5, metavar="K",
                        help="dominant colours per frame (default 5)")
    from m2p_plugins.video.matching import EMOTION_WEIGHT  # numpy only: cheap

    parser.add_argument("--emotion-weight", type=unit_interval, default=EMOTION_WEIGHT, metavar="W",
                        help="weight of the valence-arousal fit against the palette fit "
                             f"(0 to 1, default {EMOTION_WEIGHT:g})")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    add_example(parser, "m2p match clip.mp4 --library library.parquet --top 5")

    def run(args: argparse.Namespace) -> int:
        import dataclasses
        import json

        from m2p_plugins.video.matching import IMAGE_SUFFIXES, match

        require("pyarrow", extra="library", feature="m2p match")
        if Path(args.footage).suffix.lower() not in IMAGE_SUFFIXES:  # a still needs Pillow only
            require("moviepy", extra="video", feature="m2p match on a video")

        found = match(args.footage, args.library, top=args.top, fps=args.fps,
                      colors=args.colors, emotion_weight=args.emotion_weight)
        if args.json:
            print(json.dumps([dataclasses.asdict(m) for m in found], indent=2))
            return 0
        print(f"{'rank':>4}  {'score':>5}  {'offset':>7}  {'emotion':>7}  {'palette':>7}  "
              f"{'mood':<9}  track")
        for rank, m in enumerate(found, 1):
            minutes, seconds = divmod(m.offset, 60)
            print(printable(f"{rank:>4}  {m.score:5.3f}  {int(minutes):>3}:{seconds:04.1f}  "
                            f"{m.emotion_fit:7.3f}  {m.palette_fit:7.3f}  {m.mood:<9}  {m.path}"))
        return 0

    return run


def _video_size(path: Path) -> str:
    """``"12.0 s, 1280x720"`` of a video just written."""
    from m2p_plugins.video.media import close_quietly, open_video

    clip = open_video(path, audio=False)
    try:
        return f"{clip.duration:.1f} s, {clip.size[0]}x{clip.size[1]}"
    finally:
        close_quietly(clip)


def _palette_from(used: list, music_start: float):  # noqa: ANN202 - a Palette or None
    """The palette to name in a summary: the whole song's, or the one where the video starts."""
    from m2p.palette_types import Palette

    if not used:
        return None
    track = used[0]
    if isinstance(track, Palette):
        return track
    return track.at(min(music_start, track.duration)) if music_start else track.overall


def _add_music_start(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--music-start", type=non_negative_number, default=0.0, metavar="SECONDS",
                        help="start the song this far in, without cutting the file (default 0)")


def _windows_chosen_per_clip(parser: argparse.ArgumentParser) -> None:
    """``--window`` / ``--hop`` left out mean "the defaults, shortened for a short clip"."""
    for action in parser._actions:  # noqa: SLF001 - the help text should name the rule
        if action.dest in ("window", "hop"):
            action.help = f"{action.help}; shortened for a clip too short for 3 windows"
    parser.set_defaults(window=None, hop=None)


def _add_sync(parser: argparse.ArgumentParser, text: str) -> None:
    """``--sync {downbeat,beat,section}``: changes on the music's clock (issue 26)."""
    parser.add_argument("--sync", choices=("downbeat", "beat", "section"), default=None,
                        help=text)


def _add_strength(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strength", type=unit_interval, default=0.6, metavar="S",
                        help="how far the colours move: 0 = unchanged, 0.6 (default) about 8 "
                             "CIEDE2000 on average, 1 about 14")


def lut_size(text: str) -> int:
    """argparse type: LUT nodes per axis (``--lut-size``, and ``--size`` of the LUT export
    formats)."""
    from m2p_plugins.video.lut import MAX_SIZE, MIN_SIZE

    return int_range(MIN_SIZE, MAX_SIZE)(text)


def _frame_size(text: str) -> tuple[int, int]:
    from m2p_plugins.video.race import MAX_SIZE, MIN_SIZE

    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must look like 1280x720: {text!r}") from None
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise argparse.ArgumentTypeError(f"must be from {MIN_SIZE[0]}x{MIN_SIZE[1]} to "
                                         f"{MAX_SIZE[0]}x{MAX_SIZE[1]}: {text!r}")
    return width, height


__all__ = ["configure_grade", "configure_match", "configure_race", "configure_recolor",
           "lut_size"]
