"""Issue 26 in the video adapter: ``m2p grade --sync downbeat`` changes the grade only on the
music's downbeats (real ffmpeg encodes, decoded frame by frame)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("moviepy")

import m2p  # noqa: E402
from m2p.errors import InvalidArgumentError, TrackError  # noqa: E402
from m2p.palette_types import Palette, PaletteTrack  # noqa: E402
from m2p_plugins.video.media import ffmpeg_exe  # noqa: E402
from m2p_plugins.video.timeline import LutTrack, lut_track  # noqa: E402
from tests.test_rhythm import SR, drums  # noqa: E402

FPS = 25
SIZE = (64, 48)


def _song(path: Path, seconds: float = 8.0) -> Path:
    """Drums at 120 BPM in 4/4 over a tone that jumps from 220 to 880 Hz halfway (so the
    palettes differ from bar to bar)."""
    import soundfile

    x, _, _ = drums(120, seconds, start=0.25)
    t = np.arange(len(x)) / SR
    freq = np.where(t < seconds / 2, 220.0, 880.0)
    x = x + 0.25 * np.sin(2 * np.pi * np.cumsum(freq) / SR)
    soundfile.write(str(path), (0.6 * x / np.abs(x).max()).astype(np.float32), SR)
    return path


def _still_video(path: Path, seconds: float) -> Path:
    """A colourful still picture encoded by ffmpeg as a video (only the grade can move it)."""
    from PIL import Image

    h, w = SIZE[1], SIZE[0]
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // w, y * 255 // h, 255 - x * 255 // w], -1).astype(np.uint8)
    Image.fromarray(rgb).save(path.with_suffix(".png"))
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-loop", "1", "-i",
                    str(path.with_suffix(".png")), "-t", str(seconds), "-r", str(FPS),
                    "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast", str(path)],
                   check=True, stdin=subprocess.DEVNULL)
    return path


def _frames(path: Path, size: tuple[int, int] = SIZE) -> np.ndarray:
    out = subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(path), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "pipe:1"], capture_output=True, check=True).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, size[1], size[0], 3).astype(np.float64)


def _changes(frames: np.ndarray, noise: float = 3.0) -> np.ndarray:
    """Indices k of the frames that differ from frame k - 1 by more than encoder noise (mean
    absolute difference in 8-bit values; x264's first frames settle by about 1)."""
    step = np.abs(np.diff(frames, axis=0)).mean(axis=(1, 2, 3))
    return np.flatnonzero(step > noise) + 1


def _cli(argv: list[str]) -> int:
    import m2p.cli.core as cli

    return cli.main(argv)


def _moving_track(song: Path) -> PaletteTrack:
    """The song's real rhythm (the offline tracker on the decoded file) with palettes that
    change every second: a random test model gives near-constant palettes, and the grade under
    test must have something to move."""
    from m2p.rhythm.analysis import analyze_audio

    rhythm = analyze_audio(song)
    hexes = (["#7a0a0a", "#e03a2f", "#ff9a8a"], ["#0a5a1a", "#2fe05a", "#9aff8a"],
             ["#0a1a7a", "#2f5ae0", "#8ab4ff"])
    times = np.arange(0.5, rhythm.duration, 1.0)
    palettes = [Palette.from_hex(hexes[i % 3]) for i in range(len(times))]
    return PaletteTrack(times, palettes, window=1.0, hop=1.0, duration=rhythm.duration,
                        rhythm=rhythm)


def test_grade_sync_downbeat_changes_only_on_downbeats(tmp_path: Path, monkeypatch) -> None:
    import m2p_plugins.video.soundtrack as soundtrack

    song = _song(tmp_path / "song.wav")
    video = _still_video(tmp_path / "still.mp4", 7.0)
    track = _moving_track(song)
    monkeypatch.setattr(soundtrack, "resolve_track", lambda music, **kw: track)
    common = ["--music", str(song), "--window", "1", "--hop", "1", "--preset", "ultrafast",
              "--strength", "1", "--lut-size", "9", "-q"]
    assert _cli(["grade", str(video), "-o", str(tmp_path / "synced.mp4"), "--sync", "downbeat",
                 *common]) == 0
    # The smooth grade follows the music continuously (--shots off: a still has no cuts, and the
    # shot rule would hold it within the one shot).
    assert _cli(["grade", str(video), "-o", str(tmp_path / "smooth.mp4"), "--shots", "off",
                 *common]) == 0
    downbeats = track.downbeats
    frames = _frames(tmp_path / "synced.mp4")
    inside = downbeats[(downbeats > 1.0 / FPS) & (downbeats < (len(frames) - 1) / FPS)]
    assert len(inside) >= 2, f"the drums should give bars: {track.rhythm}"
    changed = _changes(frames)
    assert len(changed) >= 2, "a synced grade still moves with the music"
    for k in changed:  # frame k shows music time k / FPS
        assert np.min(np.abs(k / FPS - downbeats)) <= 1.0 / FPS + 1e-6, (k, downbeats)
    # Within one bar the synced grade holds and the smooth one moves.
    a, b = (int(np.ceil((inside[0] + 0.2) * FPS)), int((inside[1] - 0.2) * FPS))
    smooth = _frames(tmp_path / "smooth.mp4")
    assert np.abs(frames[a] - frames[b]).mean() < 3.0 < np.abs(smooth[a] - smooth[b]).mean()


def _track_with_bars() -> PaletteTrack:
    red, blue = Palette.from_hex(["#7a0a0a", "#e03a2f"]), Palette.from_hex(["#0a1a7a", "#2f5ae0"])
    rhythm = m2p.rhythm.Rhythm(beats=np.arange(0.5, 8.0, 0.5), downbeats=[0.5, 2.5, 4.5, 6.5],
                               tempo_times=[0.5], tempo_bpm=[120.0], sections=[4.5],
                               duration=8.0, meter=4)
    return PaletteTrack([1.0, 7.0], [red, blue], window=2.0, hop=6.0, duration=8.0, rhythm=rhythm)


def test_a_synced_lut_track_holds_between_events() -> None:
    track = _track_with_bars()
    source = np.array([[30.0, 0.0, 0.0], [70.0, 10.0, 10.0]])
    luts = lut_track(track, source, size=5, sync="downbeat")
    assert luts.steps and luts.times.tolist() == [0.0, 0.5, 2.5, 4.5, 6.5]
    # Constant within a bar, a jump at the downbeat.
    assert np.array_equal(luts.at(2.6), luts.at(4.49))
    assert not np.array_equal(luts.at(4.49), luts.at(4.5))
    # A clip reading 3-5 s builds only the spans it reads.
    part = lut_track(track, source, size=5, sync="downbeat", needed=(3.0, 5.0))
    assert part.times.tolist() == [2.5, 4.5]
    assert np.array_equal(part.at(3.0), luts.at(3.0)) and np.array_equal(part.at(7.9), luts.at(4.6))


def test_sync_refuses_a_track_without_rhythm_and_an_unknown_event(tmp_path: Path) -> None:
    from m2p_plugins.video.grade import grade_video

    track = _track_with_bars()
    plain = PaletteTrack(track.times, track.palettes, window=2.0, hop=6.0, duration=8.0)
    with pytest.raises(TrackError, match="rhythm"):
        lut_track(plain, np.zeros((2, 3)) + 50, size=5, sync="beat")
    with pytest.raises(InvalidArgumentError, match="sync"):
        grade_video(tmp_path / "none.mp4", "x.wav", tmp_path / "out.mp4", sync="bar")
    assert isinstance(LutTrack([0.0], np.zeros((1, 2, 2, 2, 3)), 1.0), LutTrack)


def test_race_colours_change_only_on_beats() -> None:
    from m2p.colour.legibility import TrackColors
    from m2p_plugins.video.race import on_the_music

    track = _track_with_bars()
    colours = TrackColors(track, 4, background="#ffffff")
    held = on_the_music(colours, track, "beat")
    times = np.arange(0.0, 8.0, 0.02)
    seen = np.stack([held(t) for t in times])
    moved = np.flatnonzero(np.abs(np.diff(seen, axis=0)).max(axis=(1, 2)) > 0) + 1
    assert len(moved) >= 2
    for k in moved:  # each change is at a beat: the step from times[k - 1] to times[k]
        assert np.any((track.beats > times[k - 1]) & (track.beats <= times[k] + 1e-9))
    # Between two beats the colours are those of the span's middle, by the distinct rule.
    assert np.array_equal(held(4.6), colours(4.75)) and on_the_music(colours, track, None) is colours
    plain = PaletteTrack(track.times, track.palettes, window=2.0, hop=6.0, duration=8.0)
    with pytest.raises(TrackError, match="rhythm"):
        on_the_music(colours, plain, "beat")


def test_cli_race_sync_beat_renders(tmp_path: Path, monkeypatch) -> None:
    import m2p_plugins.video.soundtrack as soundtrack

    song = _song(tmp_path / "song.wav", 4.0)
    track = _moving_track(song)
    monkeypatch.setattr(soundtrack, "resolve_track", lambda music, **kw: track)
    data = tmp_path / "d.csv"
    data.write_text("year,a,b,c\n2000,1,2,3\n2001,3,2,1\n2002,2,3,1\n")
    out = tmp_path / "race.mp4"
    assert _cli(["race", str(data), "--music", str(song), "-o", str(out), "--sync", "beat",
                 "--window", "1", "--hop", "1", "--fps", "5", "--size", "160x120",
                 "--preset", "ultrafast", "-q"]) == 0
    assert len(_frames(out, (160, 120))) >= 15

