"""Make the grading figures in ``docs/img/``: real photos and footage frames before and after
grading to four songs, and one song's palette-track strip.

Run from the repository root::

    MPLBACKEND=Agg .venv/bin/python docs/make_video_figures.py [--strength 0.6]

Pictures: scikit-image's photographs (astronaut, coffee, chelsea, rocket) and one frame each of
the sample videos of Debian's ``opencv-doc`` (``vtest.avi`` at 5 s, ``Megamind.avi`` at 2 s,
``tree.avi`` at 5 s; ``apt-get install opencv-doc``). Songs: the palette tracks the shipped model
made of four real recordings (``tests/data/grade_tracks.json``, built by
``tests/data/make_grade_tracks.py``; rerun that first when the model changes). A photo is
recoloured to the song's whole-piece palette (``m2p recolor``); a footage frame is the frame
``m2p grade`` makes at that time of the video's first 10 s (``MusicGrade`` with the video's source palette, strength sample
and cuts from one analysis decode, the shots rule included), at the same strength.

Writes ``docs/img/video_grade_before_after.jpg`` (a row per song under the originals, the
palette at the left, the mean CIEDE2000 moved under each picture; JPEG, as befits photographs)
and ``docs/img/video_palette_track.png``. With ``--table`` it prints instead the table of
``docs/video.md`` ("Strength"): the mean CIEDE2000 each of the ten songs moves each picture
(the footage: frames at 0, 2, 4, 6 and 8 s, graded as the first 10 s), at strengths 0.6 and
1.0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
IMG = ROOT / "img"
TRACKS = ROOT.parent / "tests" / "data" / "grade_tracks.json"
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket")
FRAMES = (("vtest.avi", 5.0), ("Megamind.avi", 2.0), ("tree.avi", 5.0))
SONGS = ("frantic", "defeat2", "battle", "love_theme")
EXCERPT_SECONDS = 10.0
"""Footage is graded as ``m2p grade`` grades the first this many seconds of each video."""
TABLE_FRAMES = (0.0, 2.0, 4.0, 6.0, 8.0)
"""Times, seconds, of the footage frames the strength table measures."""
TABLE_PIXELS = 40_000
"""Pixels per frame the table's mean CIEDE2000 is taken over (an even subsample)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--strength", type=float, default=0.6)
    parser.add_argument("--table", action="store_true", help="print the strength table")
    args = parser.parse_args(argv)
    if args.table:
        return strength_table()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import skimage.data

    from m2p.palette_types import PaletteTrack
    from m2p_plugins.video.grade import MusicGrade, footage_colors
    from m2p_plugins.video.media import close_quietly, open_video
    from m2p_plugins.video.recolor import recolor_image
    from m2p_plugins.video.shots import scan_video
    from m2p_plugins.video.transfer import grade_distance

    songs = json.loads(TRACKS.read_text())["songs"]
    tracks = {name: PaletteTrack.from_dict(songs[name]) for name in SONGS}
    pictures = [(name, getattr(skimage.data, name)()[..., :3], None) for name in PHOTOS]
    for video, at in FRAMES:
        path = OPENCV_DATA / video
        whole = open_video(path, audio=False)
        try:
            clip = whole.subclipped(0, min(EXCERPT_SECONDS, whole.duration))
            frame = np.asarray(clip.get_frame(at))
            # What grade_video does: one analysis decode gives the cuts and the colours.
            scan = scan_video(path, size=clip.size, fps=clip.fps, duration=clip.duration)
            graded_by = {}
            for song, track in tracks.items():
                source, sample = footage_colors(clip, track.max_colors, pictures=scan.pictures)
                effect = MusicGrade(track, strength=args.strength, source=source,
                                    sample=sample, shots=scan.cut_times())
                # The graded clip shares the reader of ``whole``, closed below.
                graded_by[song] = np.asarray(clip.with_effects([effect]).get_frame(at))
            pictures.append((f"{video} at {at:g} s", frame, graded_by))
        finally:
            close_quietly(whole)

    cols, rows = len(pictures), len(SONGS) + 1
    fig, axes = plt.subplots(rows, cols + 1, figsize=(2.1 * cols + 1.2, 1.75 * rows),
                             gridspec_kw={"width_ratios": [0.5] + [1] * cols})
    for c, (name, image, _) in enumerate(pictures, start=1):
        axes[0, c].imshow(image)
        axes[0, c].set_title(name, fontsize=8)
    axes[0, 0].text(0.5, 0.5, f"original\n\nbelow: graded\nat strength\n{args.strength:g}",
                    ha="center", va="center", fontsize=8)
    for r, (song, track) in enumerate(tracks.items(), start=1):
        palette = track.overall
        axes[r, 0].imshow(palette.rgb[:, None, :], aspect="auto")
        axes[r, 0].set_title(song, fontsize=7)
        for c, (name, image, graded_by) in enumerate(pictures, start=1):
            if graded_by is None:
                graded = recolor_image(image, palette, strength=args.strength)
            else:
                graded = graded_by[song]
            axes[r, c].imshow(graded)
            axes[r, c].set_xlabel(f"moved {grade_distance(image, graded):.1f} dE00", fontsize=7,
                                  labelpad=1)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_visible(False)
    fig.tight_layout(pad=0.4, h_pad=0.6, w_pad=0.2)
    IMG.mkdir(parents=True, exist_ok=True)
    fig.savefig(IMG / "video_grade_before_after.jpg", dpi=100,
                pil_kwargs={"quality": 90, "optimize": True})
    plt.close(fig)
    tracks["frantic"].save_png(IMG / "video_palette_track.png")
    print(f"wrote {IMG / 'video_grade_before_after.jpg'} and {IMG / 'video_palette_track.png'}")
    return 0


def strength_table(*, photos: bool = True, footage: bool = True) -> int:
    """Print the mean CIEDE2000 moved, per picture and song, at strengths 0.6 and 1.0."""
    import skimage.data

    from m2p.palette_types import PaletteTrack
    from m2p_plugins.video.grade import footage_colors
    from m2p_plugins.video.lut import apply_lut
    from m2p_plugins.video.media import close_quietly, open_video
    from m2p_plugins.video.recolor import recolor_image
    from m2p_plugins.video.shots import scan_video
    from m2p_plugins.video.timeline import lut_track
    from m2p_plugins.video.transfer import grade_distance

    songs = json.loads(TRACKS.read_text())["songs"]
    tracks = {name: PaletteTrack.from_dict(data) for name, data in songs.items()}
    print("| picture | strength | " + " | ".join(tracks) + " | range |")
    print("|---|---:|" + "---:|" * len(tracks) + "---|")
    for name in PHOTOS if photos else ():
        image = getattr(skimage.data, name)()[..., :3]
        for strength in (0.6, 1.0):
            moved = [grade_distance(image, recolor_image(image, t.overall, strength=strength))
                     for t in tracks.values()]
            _row(name, strength, moved)
    for video, _ in FRAMES if footage else ():
        path = OPENCV_DATA / video
        clip = open_video(path, audio=False)
        try:
            times = np.asarray([t for t in TABLE_FRAMES if t < clip.duration - 0.1])
            frames = [np.asarray(clip.get_frame(t)) for t in times]
            # The source palette and strength sample as grade_video finds them (one decode).
            scan = scan_video(path, size=clip.size, fps=clip.fps,
                              duration=min(EXCERPT_SECONDS, clip.duration), detect=False)
            colors = {k: footage_colors(None, k, pictures=scan.pictures)
                      for k in {t.max_colors for t in tracks.values()}}
            for strength in (0.6, 1.0):
                moved = []
                for track in tracks.values():
                    source, sample = colors[track.max_colors]
                    luts = lut_track(track, source, strength=strength, sample=sample,
                                     needed=(0.0, float(times[-1])))
                    moved.append(float(np.mean([
                        grade_distance(f, apply_lut(f, luts.at(t)), max_pixels=TABLE_PIXELS)
                        for f, t in zip(frames, times)])))
                _row(f"{video} (first 10 s)", strength, moved)
        finally:
            close_quietly(clip)
    return 0


def _row(name: str, strength: float, moved: list[float]) -> None:
    print(f"| {name} | {strength:g} | " + " | ".join(f"{m:.1f}" for m in moved)
          + f" | {min(moved):.1f}-{max(moved):.1f} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
