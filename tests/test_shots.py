"""Shots (issue 25): the OpenCV cut detector on real footage with known cuts, and a grade that
changes only at cuts or slowly.

The footage is cut together from the sample videos of Debian's opencv-doc at known frames
(:func:`footage.cut_clip`: 18 segments, 21 cuts, 79 s); those tests are skipped where the package
is missing. Synthetic clips (ffmpeg's test sources) check the same code everywhere.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("moviepy")
pytest.importorskip("cv2")

from footage import CUT_FPS, CUT_PLAN, MEGAMIND_CUTS, cut_clip, need_opencv_videos  # noqa: E402
from m2p.errors import InvalidArgumentError  # noqa: E402
from m2p.palette_types import PaletteTrack  # noqa: E402
from m2p_plugins.video.media import ffmpeg_exe  # noqa: E402
from m2p_plugins.video.shots import detect_cuts, scan_video  # noqa: E402
from m2p_plugins.video.timeline import LutTrack, hold_between  # noqa: E402

TOLERANCE = 2
"""A cut counts as found within this many frames."""

GRADE_STEP_BOUND = 1.0
"""Largest change of any LUT entry from one frame to the next within a shot, 8-bit code values
(the grade glides; at a cut it may jump)."""


def _score(found: list[int], truth: list[int]) -> tuple[float, list[int]]:
    hits = [c for c in truth if any(abs(c - d) <= TOLERANCE for d in found)]
    false = [d for d in found if not any(abs(c - d) <= TOLERANCE for c in truth)]
    return len(hits) / len(truth), false


@pytest.fixture(scope="module")
def cut_footage(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[int]]:
    return cut_clip(tmp_path_factory.mktemp("shots") / "cuts.mp4")


def test_detector_finds_the_cuts_of_real_footage(cut_footage: tuple[Path, list[int]]) -> None:
    path, truth = cut_footage
    frames = sum(int(round(seconds * CUT_FPS)) for _, _, seconds in CUT_PLAN)
    scan = scan_video(path, size=(320, 240), fps=CUT_FPS, duration=frames / CUT_FPS)
    assert scan.frames == frames
    recall, false = _score(list(scan.cuts or ()), truth)
    minutes = scan.frames / CUT_FPS / 60.0
    assert recall >= 0.9, (recall, scan.cuts, truth)
    assert len(false) <= minutes, false  # no more than one false cut a minute
    assert len(scan.pictures) == 8 and scan.pictures[0].shape == (192, 256, 3)


@pytest.mark.parametrize("video,size,fps,cuts", [
    ("vtest.avi", (768, 576), 10.0, ()),  # 79 s, a fixed camera, people walking
    ("tree.avi", (320, 240), 15.0, ()),  # 30 s, a moving camera, 68 frames repeated
    ("Megamind.avi", (720, 528), 24000 / 1001, MEGAMIND_CUTS),  # 11 s, four cuts
])
def test_detector_on_whole_sample_videos(video: str, size: tuple[int, int], fps: float,
                                         cuts: tuple[int, ...]) -> None:
    folder = need_opencv_videos()
    scan = scan_video(folder / video, size=size, fps=fps, duration=100.0)
    recall, false = _score(list(scan.cuts or ()), list(cuts)) if cuts else (1.0, scan.cuts)
    assert recall == 1.0 and not false, scan.cuts


def test_detector_on_synthetic_cuts(tmp_path: Path) -> None:
    """Three test sources one after the other: two cuts; a moving pattern alone: none."""
    path = tmp_path / "three.mp4"
    sources = ["testsrc2=size=160x120:rate=24:duration=2", "smptebars=size=160x120:rate=24:duration=2",
               "mandelbrot=size=160x120:rate=24"]
    args: list[str] = []
    for src in sources:
        args += ["-f", "lavfi", "-t", "2", "-i", src]
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *args, "-filter_complex",
                    "[0:v][1:v][2:v]concat=n=3:v=1:a=0,format=yuv420p[v]", "-map", "[v]",
                    str(path)], check=True, stdin=subprocess.DEVNULL)
    scan = scan_video(path, size=(160, 120), fps=24, duration=6.0)
    assert _score(list(scan.cuts or ()), [48, 96]) == (1.0, [])
    moving = tmp_path / "moving.mp4"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=160x120:rate=24:duration=4", str(moving)], check=True,
                   stdin=subprocess.DEVNULL)
    assert scan_video(moving, size=(160, 120), fps=24, duration=4.0).cuts == ()
    frames = [np.full((20, 30, 3), v, np.uint8) for v in (10,) * 5 + (200,) * 5]
    assert detect_cuts(frames, 24) == []  # a flat frame has no edges to change: not a cut


def test_grade_jumps_only_at_changes_and_glides_within_a_shot() -> None:
    """:func:`hold_between` on a grade that changes fast (a keyframe every 0.5 s)."""
    rng = np.random.default_rng(0)
    luts = rng.uniform(0, 1, (40, 3, 3, 3, 3)).astype(np.float32)
    fast = LutTrack(np.arange(40) * 0.5, luts, duration=20.0)
    cuts = [2.02, 3.0, 11.5]
    held = hold_between(fast, cuts, duration=20.0)
    fps = 25
    times = np.arange(int(20 * fps)) / fps
    steps = np.array([np.abs(held.at(b) - held.at(a)).max() * 255 for a, b in
                      zip(times[:-1], times[1:])])
    at_cut = np.array([any(a < c <= b for c in cuts) for a, b in zip(times[:-1], times[1:])])
    assert steps[at_cut].max() > 20  # the grade may change at a cut...
    glide = steps[~at_cut]
    # ...and within a shot it glides: at most the grade's change over 4 s spread over 4 s.
    assert glide.max() <= 255 / (4.0 * fps) + 1e-3
    short = (times >= 2.02) & (times < 3.0)  # a shot shorter than the glide: one grade
    held_short = np.array([held.at(t) for t in times[short]])
    assert np.ptp(held_short, axis=0).max() == 0.0
    with pytest.raises(InvalidArgumentError):
        hold_between(fast, cuts, duration=0.0)


def test_graded_footage_changes_its_grade_only_at_cuts_or_slowly(
        cut_footage: tuple[Path, list[int]], tmp_path: Path) -> None:
    """Grade 40 s of the cut footage to a real song (frantic, whose palettes change most) with
    ``grade_video``, read the output back: within a shot the mean grade offset moves slowly;
    between shots (at the cuts) it may jump. With shots off the same grade moves inside shots."""
    from m2p_plugins.video.grade import grade_video
    from m2p_plugins.video.media import close_quietly, open_video

    path, truth = cut_footage
    short = tmp_path / "first40.mp4"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(path), "-t", "40",
                    "-c", "copy", str(short)], check=True, stdin=subprocess.DEVNULL)
    songs = json.loads((Path(__file__).parent / "data" / "grade_tracks.json").read_text())
    track = PaletteTrack.from_dict(songs["songs"]["frantic"])
    steps = {}
    for shots in ("auto", "off"):
        out = grade_video(short, "unused.wav", tmp_path / f"graded_{shots}.mp4", track=track,
                          keep_audio=True, preset="ultrafast", shots=shots)
        before, after = open_video(short, audio=False), open_video(out, audio=False)
        try:
            n = int(before.duration * CUT_FPS)
            offsets = np.array([
                (after.get_frame(k / CUT_FPS).astype(float)
                 - before.get_frame(k / CUT_FPS)).reshape(-1, 3).mean(0) for k in range(n)])
        finally:
            close_quietly(before, after)
        step = np.abs(np.diff(offsets, axis=0)).max(1)
        near_cut = np.array([any(abs(k + 1 - c) <= TOLERANCE for c in truth)
                             for k in range(n - 1)])
        steps[shots] = (step[~near_cut].max(), step[near_cut].max())
    within, at_cuts = steps["auto"]
    assert within <= GRADE_STEP_BOUND, steps
    assert at_cuts > within, steps  # the picture and the grade change at the cuts
    assert steps["off"][0] > within, steps  # following the music, the grade moves mid-shot
