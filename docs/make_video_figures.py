"""Make the video-grading figures in ``docs/img/``: before/after stills and a palette-track strip.

Run from the repository root::

    MPLBACKEND=Agg .venv/bin/python docs/make_video_figures.py [--music SONG] [--model DIR]

A short synthetic clip (a procedural landscape with a skin-tone patch, panning slowly) is
generated, graded with :class:`m2p_plugins.video.grade.MusicGrade` and sampled at three times.
The palette track comes from the music through the model when weights are available
(``--music`` or a generated chord sequence); without weights the script falls back to fixed
demonstration palettes and says so in the figure title, never presenting them as model output.

Writes ``docs/img/video_grade_before_after.png`` (originals on top, graded below, the palette
in force under each pair), ``docs/img/video_palette_track.png`` (the track strip) and
``docs/img/video_grade_frames/{before,after}_<t>.png``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
IMG = ROOT / "img"
DURATION = 12.0
FPS = 10
SIZE = (320, 180)
TIMES = (1.0, 6.0, 11.0)
DEMO_PALETTES = (
    ["#1b2a49", "#465881", "#c9d1d3", "#f7b267", "#f4845f"],
    ["#2d00f7", "#8900f2", "#e500a4", "#ff7b00", "#ffd000"],
    ["#073b4c", "#118ab2", "#06d6a0", "#ffd166", "#ef476f"],
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--music", default=None, help="audio file (default: generated chords)")
    parser.add_argument("--model", default=None, help="model directory (default: shipped)")
    parser.add_argument("--strength", type=float, default=0.7)
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from moviepy import VideoClip

    from m2p.errors import M2PError
    from m2p.palette_types import Palette, PaletteTrack
    from m2p_plugins.video.grade import MusicGrade

    IMG.mkdir(parents=True, exist_ok=True)
    frames_dir = IMG / "video_grade_frames"
    frames_dir.mkdir(exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        music = args.music or str(_chords(Path(tmp) / "chords.wav"))
        label = Path(music).name if args.music else "generated chords"
        try:
            import m2p

            track = m2p.palette_track(music, model=args.model, window=4.0, hop=2.0)
            source = f"palette track of {label} (Music2Palette)"
        except M2PError as exc:
            print(f"no model output ({exc}); using fixed demonstration palettes", file=sys.stderr)
            track = PaletteTrack([1.0, 6.0, 11.0], [Palette.from_hex(p) for p in DEMO_PALETTES],
                                 window=4.0, hop=5.0, duration=DURATION)
            source = "DEMONSTRATION palettes (no model weights found), not model output"

    clip = VideoClip(_scene, duration=DURATION).with_fps(FPS)
    graded = clip.with_effects([MusicGrade(track, strength=args.strength)])
    fig, axes = plt.subplots(3, len(TIMES), figsize=(3.4 * len(TIMES), 5.4),
                             gridspec_kw={"height_ratios": [4, 4, 1]})
    for k, t in enumerate(TIMES):
        before, after = clip.get_frame(t), graded.get_frame(t)
        _save(before, frames_dir / f"before_{t:g}s.png")
        _save(after, frames_dir / f"after_{t:g}s.png")
        axes[0, k].imshow(before)
        axes[0, k].set_title(f"original, t = {t:g} s", fontsize=9)
        axes[1, k].imshow(after)
        axes[1, k].set_title(f"graded (strength {args.strength:g})", fontsize=9)
        palette = track.at(min(t, track.duration))
        axes[2, k].imshow(palette.rgb[None, :, :], aspect="auto")
        axes[2, k].set_title("palette in force", fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(source, fontsize=9)
    fig.tight_layout()
    fig.savefig(IMG / "video_grade_before_after.png", dpi=110)
    plt.close(fig)
    track.save_png(IMG / "video_palette_track.png")
    graded.close()
    clip.close()
    print(f"wrote {IMG / 'video_grade_before_after.png'} and {IMG / 'video_palette_track.png'}")
    return 0


def _scene(t: float) -> np.ndarray:
    """A panning procedural landscape: sky gradient, sun, two hill ranges, a skin-tone face."""
    w, h = SIZE
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    x = x + 6.0 * t  # slow pan
    sky_top, sky_low = np.array([70, 120, 190]), np.array([235, 220, 200])
    f = (y / (0.6 * h)).clip(0, 1)[..., None]
    img = sky_top * (1 - f) + sky_low * f
    sun = ((x - 0.7 * w) ** 2 + (y - 0.25 * h) ** 2) < (0.08 * h) ** 2
    img[sun] = [255, 225, 150]
    far = y > 0.55 * h + 0.08 * h * np.sin(x / 37.0)
    img[far] = [95, 120, 110]
    near = y > 0.72 * h + 0.06 * h * np.sin(x / 23.0 + 1.0)
    shade = (0.8 + 0.2 * np.sin(x / 11.0))[..., None]
    img = np.where(near[..., None], np.array([60, 105, 45]) * shade, img)
    face = ((x - 6.0 * t - 0.3 * w) / (0.07 * w)) ** 2 + ((y - 0.55 * h) / (0.14 * h)) ** 2 < 1
    img[face] = [224, 172, 140]
    return np.clip(img, 0, 255).astype(np.uint8)


def _chords(path: Path) -> Path:
    """Three four-second chords (bright major, tense, calm) as a WAV file."""
    import soundfile

    sr = 22050
    chords = ([261.6, 329.6, 392.0, 523.3], [233.1, 277.2, 349.2, 415.3], [196.0, 246.9, 293.7])
    parts = []
    for notes in chords:
        t = np.arange(int(4.0 * sr)) / sr
        tone = sum(np.sin(2 * np.pi * f * t) for f in notes) / len(notes)
        parts.append(0.3 * tone * np.minimum(1.0, 10 * t) * np.minimum(1.0, 10 * (4.0 - t)))
    soundfile.write(str(path), np.concatenate(parts).astype(np.float32), sr)
    return path


def _save(frame: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.asarray(frame, dtype=np.uint8)).save(path)


if __name__ == "__main__":
    sys.exit(main())
