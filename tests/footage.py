"""Real pictures for the grading tests: scikit-image's photographs and the sample videos of
Debian's ``opencv-doc`` package, and a clip cut together from those videos at known times.

``opencv-doc`` (``apt-get install opencv-doc``) ships ``vtest.avi`` (people walking on a campus,
a fixed camera, 10 fps), ``Megamind.avi`` (an animated trailer, 24 fps, with cuts of its own at
frames 1, 98, 154 and 200, checked by eye) and ``tree.avi`` (a tree, a moving camera, 68 frames
over 29.6 s). Tests that need them are skipped, with that command, where the package is missing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
VIDEOS = ("vtest.avi", "Megamind.avi", "tree.avi")
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")

MEGAMIND_FPS = 24000 / 1001
MEGAMIND_CUTS = (1, 98, 154, 200)
"""Frames of ``Megamind.avi`` that begin a shot (frame 0 is black), found by eye."""

CUT_FPS = 24
CUT_SIZE = (320, 240)
# (video, start s, seconds): 20 shots; every join is a cut, and so are Megamind's own cuts inside.
CUT_PLAN = (
    ("vtest.avi", 0.0, 6.0), ("tree.avi", 0.0, 5.0), ("Megamind.avi", 0.1, 3.5),
    ("vtest.avi", 20.0, 4.0), ("tree.avi", 8.0, 3.0), ("Megamind.avi", 3.6, 4.4),
    ("vtest.avi", 30.0, 5.0), ("tree.avi", 14.0, 4.0), ("Megamind.avi", 8.6, 2.5),
    ("vtest.avi", 40.0, 3.0), ("tree.avi", 20.0, 6.0), ("vtest.avi", 50.0, 4.0),
    ("Megamind.avi", 0.5, 5.5), ("tree.avi", 3.0, 3.0), ("vtest.avi", 60.0, 6.0),
    ("Megamind.avi", 7.0, 4.0), ("vtest.avi", 70.0, 5.0), ("tree.avi", 24.0, 5.0),
)


def need_opencv_videos() -> Path:
    """The folder of the opencv-doc sample videos, or skip the test."""
    if not all((OPENCV_DATA / v).is_file() for v in VIDEOS):
        pytest.skip("needs the sample videos of Debian's opencv-doc: apt-get install opencv-doc")
    return OPENCV_DATA


def photo(name: str) -> np.ndarray:
    """One of scikit-image's photographs as uint8 RGB (skip where scikit-image is missing)."""
    data = pytest.importorskip("skimage.data")
    return np.ascontiguousarray(getattr(data, name)()[..., :3])


def cut_clip(path: Path) -> tuple[Path, list[int]]:
    """Cut :data:`CUT_PLAN` together (320x240, 24 fps, H.264) into ``path``.

    Returns
    -------
    path, cuts
        The clip and the frames that begin a new shot (each join, and each of Megamind's own
        cuts inside a segment, mapped to the output frame at or after it).
    """
    from m2p_plugins.video.media import ffmpeg_exe

    folder = need_opencv_videos()
    args: list[str] = []
    chains: list[str] = []
    cuts: list[int] = []
    frame = 0
    w, h = CUT_SIZE
    for k, (name, start, seconds) in enumerate(CUT_PLAN):
        n = int(round(seconds * CUT_FPS))
        args += ["-i", str(folder / name)]
        chains.append(f"[{k}:v]trim=start={start}:duration={seconds + 1},setpts=PTS-STARTPTS,"
                      f"fps={CUT_FPS},scale={w}:{h},setsar=1,trim=end_frame={n},"
                      f"setpts=PTS-STARTPTS[v{k}]")
        if k:
            cuts.append(frame)
        if name == "Megamind.avi":
            for c in MEGAMIND_CUTS:
                at = c / MEGAMIND_FPS - start
                if 0 < at < seconds:
                    cuts.append(frame + int(np.ceil(at * CUT_FPS - 1e-6)))
        frame += n
    graph = ";".join(chains) + ";" + "".join(f"[v{k}]" for k in range(len(CUT_PLAN)))
    graph += f"concat=n={len(CUT_PLAN)}:v=1:a=0[out]"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *args, "-filter_complex", graph,
                    "-map", "[out]", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20",
                    "-pix_fmt", "yuv420p", str(path)], check=True, stdin=subprocess.DEVNULL)
    return path, sorted(set(cuts))


def video_excerpt(name: str, seconds: float, *, step: int = 1) -> tuple[list[np.ndarray], float]:
    """The first ``seconds`` of an opencv-doc video as uint8 frames (every ``step``-th frame,
    halved in size when wider than 400 pixels) and their frame rate."""
    from m2p_plugins.video.media import close_quietly, open_video

    clip = open_video(need_opencv_videos() / name, audio=False)
    try:
        fps = float(clip.fps)
        frames = []
        for k in range(0, int(seconds * fps), step):
            frame = np.asarray(clip.get_frame(k / fps))
            frames.append(frame[::2, ::2] if frame.shape[1] > 400 else frame)
        return frames, fps / step
    finally:
        close_quietly(clip)


def region_hue(lab: np.ndarray) -> float:
    """Hue, degrees, of a region's mean a*b* (its chroma-weighted circular mean hue)."""
    a, b = lab.reshape(-1, 3)[:, 1:].mean(0)
    return float(np.degrees(np.arctan2(b, a)))


def hue_turn(before: float, after: float) -> float:
    """Signed smallest difference of two hues, degrees."""
    return float((after - before + 180.0) % 360.0 - 180.0)


MASKS = {
    # name: (hue range, chroma range, lightness range) in CIELCh
    "grass and foliage": ((100.0, 160.0), (12.0, 200.0), (20.0, 85.0)),
    "sky": ((200.0, 290.0), (8.0, 200.0), (35.0, 100.0)),
    "skin": ((30.0, 70.0), (10.0, 50.0), (30.0, 90.0)),
    "hair, wood and food browns": ((30.0, 90.0), (8.0, 60.0), (10.0, 55.0)),
}
"""Hue/chroma/lightness masks of memory colours (CIELCh)."""

RECTANGLES = {
    "astronaut": {"hair": (slice(25, 60), slice(165, 290)),
                  "face": (slice(95, 150), slice(190, 255)),
                  "orange suit": (slice(300, 350), slice(60, 120))},
    "coffee": {"crema": (slice(110, 175), slice(225, 345)),
               "wooden table": (slice(20, 90), slice(430, 590))},
    "chelsea": {"fur": (slice(150, 250), slice(30, 120))},
    "rocket": {"evening sky": (slice(20, 110), slice(230, 290))},
}
"""Hand-picked memory-colour rectangles of the photographs (rows, columns)."""
