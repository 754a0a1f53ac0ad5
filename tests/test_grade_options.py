"""``m2p grade`` / ``m2p race`` options around the music: --music-start, short clips, still
images, and what the user sees while it runs (real ffmpeg encodes of tiny clips)."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("moviepy")

from m2p import cache  # noqa: E402
from m2p.palette_types import Palette, PaletteTrack  # noqa: E402
from m2p_plugins.video.media import ffmpeg_exe  # noqa: E402
from m2p_plugins.video.soundtrack import clip_track, plan_windows  # noqa: E402
from m2p_plugins.video.timeline import LutTrack  # noqa: E402

RED = Palette.from_hex(["#7a0a0a", "#e03a2f", "#ff9a8a"])
BLUE = Palette.from_hex(["#0a1a7a", "#2f5ae0", "#8ab4ff"])
SR = 22050


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True,
                   stdin=subprocess.DEVNULL)


def _clip(path: Path, seconds: float = 1.0) -> Path:
    _ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=64x48:rate=10:duration={seconds}", str(path))
    return path


def _two_note_song(path: Path, seconds: float, change: float) -> Path:
    """220 Hz until ``change`` seconds, then 880 Hz."""
    import soundfile

    t = np.arange(int(seconds * SR)) / SR
    freq = np.where(t < change, 220.0, 880.0)
    soundfile.write(str(path), (0.3 * np.sin(2 * np.pi * np.cumsum(freq) / SR)).astype(np.float32),
                    SR)
    return path


def _lab_ab(frame: np.ndarray) -> np.ndarray:
    from m2p.colour.convert import srgb_to_lab

    rgb = np.asarray(frame, dtype=np.float64).reshape(-1, 3) / 255.0
    return srgb_to_lab(torch.from_numpy(rgb)).numpy()[:, 1:].mean(0)


def _dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1.0 / rate)[spectrum.argmax()])


def _cli(argv: list[str]) -> int:
    import m2p.cli.core as cli

    return cli.main(argv)


def test_music_start_grades_and_sounds_from_that_point(tmp_path: Path) -> None:
    from moviepy import VideoFileClip

    from m2p_plugins.video.grade import grade_video

    src = _clip(tmp_path / "in.mp4")
    song = _two_note_song(tmp_path / "song.wav", 6.0, change=3.0)
    track = PaletteTrack([0.5, 2.5, 3.5, 5.5], [RED, RED, BLUE, BLUE], window=1.0, hop=2.0,
                         duration=6.0)
    outs = {}
    for start in (0.0, 4.0):
        outs[start] = grade_video(src, song, tmp_path / f"out{start:g}.mp4", track=track,
                                  strength=0.9, smoothing=0.0, music_start=start,
                                  preset="ultrafast")
    plain, late = VideoFileClip(str(outs[0.0])), VideoFileClip(str(outs[4.0]))
    try:
        ab_plain, ab_late = _lab_ab(plain.get_frame(0.5)), _lab_ab(late.get_frame(0.5))
        assert ab_plain[0] > ab_late[0] + 5 and ab_late[1] < ab_plain[1] - 5  # red vs blue
    finally:
        plain.close()
        late.close()
    from m2p.audio.decode import load

    assert abs(_dominant_hz(load(outs[4.0])[: SR // 2], SR) - 880) < 20  # the song from 4 s
    assert abs(_dominant_hz(load(outs[0.0])[: SR // 2], SR) - 220) < 20


def test_a_clip_analyses_only_the_music_it_uses(tmp_path: Path, tiny_model_dir: Path) -> None:
    """A 20 s clip of a 5-minute song: the model hears the passage and a window around it,
    on the whole song's window grid (windows counted), and a second grade reuses it."""
    from m2p.inference import DEFAULT_HOP, DEFAULT_WINDOW
    from m2p_plugins.video.grade import grade_video

    src = _clip(tmp_path / "in.mp4", seconds=20.0)
    song = _two_note_song(tmp_path / "song.wav", 300.0, change=150.0)
    cache.clear()
    used: list = []
    for _ in range(2):
        grade_video(src, song, tmp_path / "out.mp4", music_start=140.0,
                    model=str(tiny_model_dir), preset="ultrafast", on_track=used.append,
                    shots="off")
    track = used[0]
    whole = int(np.ceil((300.0 - DEFAULT_WINDOW) / DEFAULT_HOP)) + 1  # about 117 windows
    needed = (20.0 + 1.5 * DEFAULT_WINDOW) / DEFAULT_HOP + 2  # passage, context, tail: 16
    assert len(track) <= needed < whole / 5
    assert track.times[0] < 140.0 and track.times[-1] > 160.0  # it covers the clip...
    grid = track.times[:-1]  # (the last window is aligned with the passage's end)
    assert np.allclose(np.diff(grid), track.hop)
    ref = grid[0] - track.window / 2  # ...and its windows start on the song's grid
    assert min(ref % track.hop, track.hop - ref % track.hop) < 1e-3
    info = cache.cache_info()
    assert info.misses == 1 and info.hits >= 1  # the second grade ran no model


def test_a_cached_whole_song_track_is_used_whatever_the_start(tmp_path: Path,
                                                              tiny_model_dir: Path) -> None:
    from m2p.resolve import resolve_track
    from m2p_plugins.video.grade import grade_video

    src = _clip(tmp_path / "in.mp4")
    song = _two_note_song(tmp_path / "song.wav", 40.0, change=20.0)
    cache.clear()
    resolve_track(song, window=4.0, hop=1.0, model=str(tiny_model_dir))  # as m2p recolor --at
    for start in (0.0, 13.0, 27.5):
        grade_video(src, song, tmp_path / f"o{start:g}.mp4", music_start=start, window=4.0,
                    hop=1.0, model=str(tiny_model_dir), preset="ultrafast")
    info = cache.cache_info()
    assert info.misses == 1 and info.hits == 3


def test_loop_with_music_start_goes_back_to_the_start() -> None:
    luts = np.zeros((3, 2, 2, 2, 3), dtype=np.float32)
    track = LutTrack(np.array([1.0, 5.0, 9.0]), luts, duration=10.0, music_end="loop", start=6.0)
    assert track.local_time(0.0) == 6.0 and track.local_time(3.0) == 9.0
    assert track.local_time(4.5) == pytest.approx(6.5)  # 10 s reached: back to 6 s, not to 0
    hold = LutTrack(np.array([1.0, 5.0, 9.0]), luts, duration=10.0, start=6.0)
    assert hold.local_time(4.5) == 10.5 and hold.segment(4.5) == (2, 2, 0.0)


def test_a_clip_builds_only_the_lut_keyframes_it_reads() -> None:
    from m2p_plugins.video.timeline import lut_track

    palettes = [RED, BLUE] * 12
    track = PaletteTrack(np.arange(24) * 2.5 + 5.0, palettes, window=10.0, hop=2.5,
                         duration=70.0)
    source = np.array([[30.0, 0.0, 0.0], [55.0, 10.0, 10.0], [80.0, -5.0, 5.0]])
    full = lut_track(track, source, size=9, start=30.0)
    part = lut_track(track, source, size=9, start=30.0, needed=(30.0, 34.0))
    assert len(part.times) < len(full.times) // 2
    for t in np.linspace(0.0, 4.0, 9):
        assert np.abs(part.at(t) - full.at(t)).max() < 1e-3


def test_short_clip_gets_shorter_windows_and_says_so(tmp_path: Path, tiny_model_dir: Path) -> None:
    song = _two_note_song(tmp_path / "song.wav", 30.0, change=15.0)
    # Defaults (10 s windows every 2.5 s): a 2 s clip from 14 s holds one window centre.
    window, hop, adapted = plan_windows(duration=30.0, start=14.0, span=2.0)
    assert adapted and hop == pytest.approx(0.5) and window == pytest.approx(1.0)
    # The caller's own choice is kept.
    assert plan_windows(duration=30.0, start=14.0, span=2.0, window=10.0) == (10.0, 2.5, False)
    with pytest.warns(UserWarning, match="fewer than 3 analysis windows") as caught:
        track = clip_track(song, start=14.0, span=2.0, label="clip.mp4",
                           model=str(tiny_model_dir))
    assert caught[0].filename == __file__  # the caller's line, not m2p's
    inside = (track.times >= 14.0) & (track.times <= 16.0)
    assert inside.sum() >= 3 and track.duration == pytest.approx(16.0, abs=0.01)
    assert track.source == str(song)


def test_cli_short_clip_warns_in_one_line(tmp_path: Path, tiny_model_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = _clip(tmp_path / "in.mp4", seconds=1.5)
    song = _two_note_song(tmp_path / "song.wav", 20.0, change=10.0)
    out = tmp_path / "out.mp4"
    assert _cli(["grade", str(src), "--music", str(song), "-o", str(out), "--music-start", "9",
                 "--preset", "ultrafast", "--model", str(tiny_model_dir), "-q"]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "fewer than 3" in ln]
    assert len(lines) == 1 and lines[0].startswith("m2p: warning: in.mp4 (1.5 s)")
    assert out.exists()


def test_music_start_outside_the_song_is_one_clear_line(tmp_path: Path, tiny_model_dir: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    src = _clip(tmp_path / "in.mp4")
    song = _two_note_song(tmp_path / "song.wav", 3.0, change=1.0)
    out = tmp_path / "out.mp4"
    assert _cli(["grade", str(src), "--music", str(song), "-o", str(out), "--music-start", "5",
                 "--model", str(tiny_model_dir), "-q"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "song.wav" in err[0] and "music_start 5" in err[0]
    assert not out.exists()


def test_grade_on_a_still_image_points_to_recolor(tmp_path: Path, tiny_model_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    song = _two_note_song(tmp_path / "song.wav", 3.0, change=1.0)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((48, 64, 3), 120, np.uint8)).save(photo)
    disguised = tmp_path / "photo.mov"  # a still picture inside a video container
    _ffmpeg("-i", str(photo), "-c:v", "png", str(disguised))
    for still in (photo, disguised):
        out = tmp_path / "out.mp4"
        assert _cli(["grade", str(still), "--music", str(song), "-o", str(out),
                     "--model", str(tiny_model_dir), "-q"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and still.name in err[0] and "m2p recolor" in err[0], err
        assert not out.exists()


def test_progress_shows_our_bar_and_hides_moviepy(tmp_path: Path,
                                                  capfd: pytest.CaptureFixture[str]) -> None:
    from m2p_plugins.video.grade import grade_video
    from m2p_plugins.video.race import bar_chart_race

    src = _clip(tmp_path / "in.mp4")
    song = _two_note_song(tmp_path / "song.wav", 2.0, change=1.0)
    track = PaletteTrack([0.5, 1.5], [RED, BLUE], window=1.0, hop=1.0, duration=2.0)
    capfd.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing of MoviePy's may leak as a warning either
        grade_video(src, song, tmp_path / "out.mp4", track=track, progress=True,
                    preset="ultrafast")
        data = tmp_path / "d.csv"
        data.write_text("year,a,b\n2000,1,2\n2001,3,1\n")
        bar_chart_race(data, song, tmp_path / "race.mp4", track=track, size=(160, 90), fps=5,
                       progress=True, preset="ultrafast")
    out, err = capfd.readouterr()
    shown = out + err
    assert "grading in.mp4" in err and "race" in err  # our bars
    for leak in ("MoviePy", "TEMP_MPY", "m2p-grade-", "m2p-race-", ".part", "chunk"):
        assert leak not in shown, (leak, shown[-500:])
    assert out == ""
