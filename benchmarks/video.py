"""Benchmark the video adapter: grading export vs plain MoviePy vs ffmpeg ``lut3d``; race fps.

Run::

    .venv/bin/python benchmarks/video.py                      # 10 s 1080p30, libx264 medium
    .venv/bin/python benchmarks/video.py --seconds 3 --preset ultrafast
    PYTHONPATH=/path/to/bar_chart_race_and_pandas .venv/bin/python benchmarks/video.py --race

What is timed, in one run on the same machine and the same generated clip (ffmpeg ``testsrc2``,
re-encoded with libx264 at the chosen preset, no audio, so only video work is compared):

(the three exports are repeated ``--repeats`` times, interleaved, and reported as median wall time
and median CPU seconds of this process plus its ffmpeg children: the CPU figure is the fairer one
on a machine shared with other jobs)

1. plain MoviePy re-encode: ``VideoFileClip(...).write_videofile(...)``;
2. our graded export: the same with ``.with_effects([MusicGrade(...)])`` (keyframe LUTs every
   2.5 s, interpolated per frame); LUT building is timed separately;
3. ffmpeg alone: ``ffmpeg -i in -vf lut3d=<our .cube> -c:v libx264 -preset P`` with the LUT of
   the middle keyframe (an equivalent static grade);
4. per-frame grading cost on a 1080p frame: CPU expanded tables, CPU torch trilinear, and CUDA
   torch trilinear when a GPU is present (kernel time, and with host<->device copies);
5. with ``--race``: our bar-chart race vs the ``bar_chart_race`` package on the same table.

The palette track is synthetic (four fixed palettes, 2.5 s apart): grading speed does not
depend on where the palettes come from, and this keeps the benchmark independent of weights.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PALETTES = (
    ["#2b2d42", "#8d99ae", "#ef233c", "#edf2f4", "#d90429"],
    ["#03045e", "#0077b6", "#00b4d8", "#90e0ef", "#caf0f8"],
    ["#264653", "#2a9d8f", "#e9c46a", "#f4a261", "#e76f51"],
    ["#3d0e61", "#7b2cbf", "#c77dff", "#e0aaff", "#10002b"],
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--preset", default="medium", help="libx264 preset for every path")
    parser.add_argument("--race", action="store_true", help="also benchmark the bar-chart race")
    parser.add_argument("--race-only", action="store_true", help="only the bar-chart race")
    parser.add_argument("--race-size", default="1280x720", help="race video size, WxH")
    parser.add_argument("--skip-export", action="store_true", help="only the per-frame figures")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved export repeats")
    args = parser.parse_args(argv)

    import torch

    from m2p.palette_types import Palette, PaletteTrack
    from m2p_plugins.video.grade import MusicGrade, source_palette
    from m2p_plugins.video.lut import ExpandedLutPair, apply_lut_torch, write_cube
    from m2p_plugins.video.media import ffmpeg_exe, open_video
    from m2p_plugins.video.timeline import lut_track

    ff = ffmpeg_exe()
    width, height = (int(v) for v in args.size.split("x"))
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"CUDA {'yes: ' + torch.cuda.get_device_name() if torch.cuda.is_available() else 'no'}")
    print(f"# clip: {args.seconds:g} s {width}x{height} at {args.fps} fps, libx264 preset "
          f"{args.preset}")
    rows: list[tuple[str, float, str]] = []
    race_size = tuple(int(v) for v in args.race_size.split("x"))

    with tempfile.TemporaryDirectory(prefix="m2p-bench-") as tmp:
        tmpdir = Path(tmp)
        if args.race_only:
            track = PaletteTrack(np.arange(len(PALETTES)) * 2.5 + 1.25,
                                 [Palette.from_hex(p) for p in PALETTES], window=5.0, hop=2.5,
                                 duration=max(args.seconds, 10.0))
            rows += _race_rows(tmpdir, track, race_size)
            _print_rows(rows)
            return 0
        src = tmpdir / "in.mp4"
        _run([ff, "-y", "-loglevel", "error", "-f", "lavfi", "-i",
              f"testsrc2=size={width}x{height}:rate={args.fps}:duration={args.seconds}",
              "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(src)])
        n_frames = int(round(args.seconds * args.fps))
        track = PaletteTrack(np.arange(len(PALETTES)) * 2.5 + 1.25,
                             [Palette.from_hex(p) for p in PALETTES], window=5.0, hop=2.5,
                             duration=max(args.seconds, 10.0))

        clip = open_video(src, audio=False)
        t0 = time.perf_counter()
        source = source_palette(clip, 5)
        luts = lut_track(track, source, strength=0.6)
        build = time.perf_counter() - t0
        rows.append(("LUT keyframes (source palette + 4 x 33^3 LUTs)", build, "once per clip"))
        frame = clip.get_frame(args.seconds / 2)
        clip.close()

        # -- per-frame grading cost ------------------------------------------------------
        pair = ExpandedLutPair(luts.luts[1], luts.luts[2])
        per = _best(lambda: pair(frame, 0.37), 5)
        rows.append(("grade 1 frame, CPU expanded tables (numpy)", per * 1e3, "ms/frame"))
        t_frame = torch.from_numpy(frame)
        t_lut = torch.from_numpy(luts.at(args.seconds / 2))
        per = _best(lambda: apply_lut_torch(t_frame, t_lut), 3)
        rows.append(("grade 1 frame, CPU torch trilinear", per * 1e3, "ms/frame"))
        if torch.cuda.is_available():
            dev = torch.device("cuda")
            g_frame, g_luts = t_frame.to(dev), torch.from_numpy(luts.luts).to(dev)

            def gpu_kernel() -> None:
                apply_lut_torch(g_frame, torch.lerp(g_luts[1], g_luts[2], 0.37))
                torch.cuda.synchronize()

            def gpu_with_copies() -> None:
                x = torch.from_numpy(frame).to(dev)
                apply_lut_torch(x, torch.lerp(g_luts[1], g_luts[2], 0.37)).cpu()

            for _ in range(5):
                gpu_kernel()
            rows.append(("grade 1 frame, CUDA torch (kernel only)",
                         _best(gpu_kernel, 50) * 1e3, "ms/frame"))
            rows.append(("grade 1 frame, CUDA torch (+ host/device copies)",
                         _best(gpu_with_copies, 20) * 1e3, "ms/frame"))
        else:
            rows.append(("grade 1 frame, CUDA torch", float("nan"), "not measured (no GPU)"))

        # -- whole exports (interleaved repeats: load from other processes hits all paths) --
        if not args.skip_export:
            from moviepy import VideoFileClip

            def moviepy_export(effects: list, name: str) -> None:
                c = VideoFileClip(str(src), audio=False)
                try:
                    out = c.with_effects(effects) if effects else c
                    out.write_videofile(str(tmpdir / name), codec="libx264", preset=args.preset,
                                        audio=False, logger=None,
                                        ffmpeg_params=["-pix_fmt", "yuv420p"])
                finally:
                    c.close()

            cube = write_cube(tmpdir / "grade.cube", luts.at(args.seconds / 2))
            paths = {
                "plain MoviePy re-encode": lambda: moviepy_export([], "plain.mp4"),
                "our graded export (MoviePy + MusicGrade)":
                    lambda: moviepy_export([MusicGrade(luts)], "graded.mp4"),
                "ffmpeg -vf lut3d (same .cube, same encoder)": lambda: _run(
                    [ff, "-y", "-loglevel", "error", "-i", str(src), "-vf", f"lut3d=file={cube}",
                     "-c:v", "libx264", "-preset", args.preset, "-pix_fmt", "yuv420p",
                     str(tmpdir / "ffmpeg.mp4")]),
            }
            walls: dict[str, list[float]] = {k: [] for k in paths}
            cpus: dict[str, list[float]] = {k: [] for k in paths}
            for _ in range(args.repeats):
                for name, fn in paths.items():
                    wall, cpu = _timed(fn)
                    walls[name].append(wall)
                    cpus[name].append(cpu)
            for name in paths:
                med = float(np.median(walls[name]))
                rows.append((name + ", median wall", med,
                             f"s ({n_frames / med:.1f} fps; best {min(walls[name]):.1f} s, "
                             f"CPU {np.median(cpus[name]):.1f} s)"))
            ours = np.median(walls["our graded export (MoviePy + MusicGrade)"])
            theirs = np.median(walls["ffmpeg -vf lut3d (same .cube, same encoder)"])
            ours_cpu = np.median(cpus["our graded export (MoviePy + MusicGrade)"])
            theirs_cpu = np.median(cpus["ffmpeg -vf lut3d (same .cube, same encoder)"])
            rows.append(("graded export / ffmpeg lut3d, wall", ours / theirs, "ratio (<1: we win)"))
            rows.append(("graded export / ffmpeg lut3d, CPU s", ours_cpu / theirs_cpu,
                         "ratio (<1: we win)"))

        if args.race:
            rows += _race_rows(tmpdir, track, race_size)

    _print_rows(rows)
    return 0


def _print_rows(rows: list[tuple[str, float, str]]) -> None:
    print()
    print("| what | value | unit |")
    print("|---|---:|---|")
    for what, value, unit in rows:
        shown = "n/a" if value != value else f"{value:.3g}" if value < 100 else f"{value:.0f}"
        print(f"| {what} | {shown} | {unit} |")


def _race_rows(tmpdir: Path, track, size: tuple[int, int] = (1280, 720),  # noqa: ANN001
               ) -> list[tuple[str, float, str]]:
    """Our race vs bar_chart_race: 10 entities, 12 periods, 10 steps per period, ``size`` px
    (bar_chart_race: the same pixels at its default dpi of 144)."""
    from m2p_plugins.video.race import BarChartRace, RaceData

    rng = np.random.default_rng(0)
    periods, entities, steps = 12, 10, 10
    values = np.cumsum(rng.uniform(0, 10, (periods, entities)), axis=0)
    names = [f"Entity {i}" for i in range(entities)]
    data = RaceData(tuple(str(2000 + i) for i in range(periods)), tuple(names), values)
    n_frames = (periods - 1) * steps + 1
    rows: list[tuple[str, float, str]] = []

    race = BarChartRace(data, float(periods - 1), lambda t: track.at(min(t, track.duration)).rgb,
                        size=size, n_bars=entities)
    t0 = time.perf_counter()
    for k in range(n_frames):
        race.frame(k / steps)
    ours = time.perf_counter() - t0
    race.close()
    rows.append((f"race: our frames, {n_frames} frames {size[0]}x{size[1]} (render only)",
                 n_frames / ours, "fps"))

    from moviepy import VideoClip

    race = BarChartRace(data, float(periods - 1), lambda t: track.at(min(t, track.duration)).rgb,
                        size=size, n_bars=entities)
    clip = VideoClip(race.frame, duration=(periods - 1))
    t0 = time.perf_counter()
    clip.write_videofile(str(tmpdir / "race.mp4"), fps=steps, codec="libx264", preset="medium",
                         logger=None, ffmpeg_params=["-pix_fmt", "yuv420p"])
    ours_mp4 = time.perf_counter() - t0
    clip.close()
    race.close()
    rows.append(("race: our render + encode to mp4", (periods - 1) * steps / ours_mp4, "fps"))

    try:
        import bar_chart_race as bcr
        import pandas as pd
    except ImportError as exc:
        rows.append(("race: bar_chart_race package", float("nan"), f"not installed ({exc})"))
        return rows
    import matplotlib

    from m2p_plugins.video.media import ffmpeg_exe

    matplotlib.use("Agg")
    matplotlib.rcParams["animation.ffmpeg_path"] = ffmpeg_exe()  # the same encoder binary
    df = pd.DataFrame(values, columns=names, index=[str(2000 + i) for i in range(periods)])
    t0 = time.perf_counter()
    try:
        bcr.bar_chart_race(df, filename=str(tmpdir / "bcr.mp4"), n_bars=entities,
                           steps_per_period=steps, period_length=1000,
                           figsize=(size[0] / 144, size[1] / 144), dpi=144)
    except Exception as exc:  # noqa: BLE001 - an old package against new pandas/matplotlib
        rows.append(("race: bar_chart_race package", float("nan"),
                     f"failed: {type(exc).__name__}: {str(exc)[:80]}"))
        return rows
    theirs = time.perf_counter() - t0
    rows.append(("race: bar_chart_race package, render + encode to mp4", periods * steps / theirs,
                 "fps"))
    return rows


def _timed(fn) -> tuple[float, float]:  # noqa: ANN001
    """Wall seconds and CPU seconds (this process + waited-for children) of ``fn()``."""
    import resource

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    c0, t0 = cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, cpu() - c0


def _best(fn, repeat: int) -> float:  # noqa: ANN001
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)


if __name__ == "__main__":
    sys.exit(main())
