"""The one resolver: what the user gave (audio, Palette, PaletteTrack) to a palette or a track."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

import m2p.api
import m2p.cache
from m2p.errors import TrackError
from m2p.palette_types import Palette, PaletteTrack
from m2p.resolve import resolve_palette, resolve_track, track_at

RED = Palette.from_hex(["#7a0a0a", "#e03a2f", "#ff9a8a"])
BLUE = Palette.from_hex(["#0a1a7a", "#2f5ae0", "#8ab4ff"])
TRACK = PaletteTrack([0.5, 1.5], [RED, BLUE], window=1.0, hop=1.0, duration=2.0)


def _song(path: Path, seconds: float = 2.0) -> Path:
    import soundfile

    sr = 22050
    t = np.arange(int(seconds * sr)) / sr
    soundfile.write(str(path), (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), sr)
    return path


@pytest.fixture
def counting_model(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Counts model runs (one entry per run of the inference pipeline; True = per window)."""
    runs: list[bool] = []
    real = m2p.api.run_inference

    def counting(*args, **kwargs):
        runs.append(bool(kwargs.get("per_window")))
        return real(*args, **kwargs)

    monkeypatch.setattr(m2p.api, "run_inference", counting)
    m2p.cache.clear()
    yield runs
    m2p.cache.clear()


def test_value_types_resolve_without_inference(counting_model):
    assert resolve_palette(RED) is RED
    assert resolve_palette(TRACK) == TRACK.overall
    assert resolve_palette(TRACK, at=0.5) == TRACK.at(0.5)
    assert resolve_track(TRACK) is TRACK
    assert counting_model == []


def test_bad_sources_and_times_are_typed_errors():
    with pytest.raises(TrackError, match="needs a PaletteTrack"):
        resolve_palette(RED, at=1.0)
    with pytest.raises(TrackError, match="outside the track"):
        resolve_palette(TRACK, at=2.5)
    with pytest.raises(TrackError, match="must be a number"):
        track_at(TRACK, "soon")
    with pytest.raises(TypeError, match="got int"):
        resolve_palette(42)
    with pytest.raises(TypeError, match="got Palette"):
        resolve_track(RED)


def test_whole_piece_palette_comes_from_a_cached_track(tmp_path, tiny_model_dir, counting_model):
    song = _song(tmp_path / "song.wav")
    kw = dict(model=tiny_model_dir, device="cpu", window=1.0, hop=0.5)
    track = resolve_track(song, progress=True, **kw)  # progress is not part of the cache key
    assert resolve_palette(song, **kw) == track.overall
    assert resolve_palette(song, at=1.0, **kw) == track.at(1.0)
    assert counting_model == [True]
    other = tmp_path / "other.wav"
    other.write_bytes(song.read_bytes()[:-4000])
    assert resolve_palette(other, **kw) == resolve_track(other, **kw).overall  # one more run
    assert counting_model == [True, True]


def test_palette_palette_style_track_and_style_at_run_the_model_once(tmp_path, tiny_model_dir,
                                                                      counting_model):
    """The notebook of issue 24: five calls on one file, one model run (each was one run)."""
    pytest.importorskip("matplotlib")
    song = _song(tmp_path / "song.wav", seconds=3.0)
    kw = dict(model=tiny_model_dir, device="cpu", window=1.0, hop=0.5)
    first = m2p.palette(song, **kw)
    assert m2p.palette(song, **kw) == first
    m2p.style(song, **kw)
    track = m2p.palette_track(song, **kw)
    m2p.style(song, at=2.0, **kw)
    assert counting_model == [True]
    assert track.overall == first  # palette() is the track's whole-piece palette
    m2p.palette(song, seed=1, **kw)  # other arguments: another run
    samples = np.zeros(22050 * 2, np.float32)
    m2p.palette(samples, sample_rate=22050, **kw)
    m2p.palette_track(samples.copy(), sample_rate=22050, **kw)  # same content: cached
    assert counting_model == [True, True, True]


def test_grade_recolor_export_and_race_on_one_song_run_the_model_once(tmp_path, tiny_model_dir,
                                                                       counting_model):
    pytest.importorskip("moviepy")
    pytest.importorskip("matplotlib")
    from PIL import Image

    from m2p_plugins.video.export import export_cube
    from m2p_plugins.video.grade import grade_video
    from m2p_plugins.video.media import ffmpeg_exe
    from m2p_plugins.video.race import bar_chart_race
    from m2p_plugins.video.recolor import recolor

    song = _song(tmp_path / "song.wav")
    clip = tmp_path / "in.mp4"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x48:rate=5:duration=0.4", str(clip)], check=True,
                   stdin=subprocess.DEVNULL)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((24, 32, 3), 128, np.uint8)).save(photo)
    table = tmp_path / "race.csv"
    table.write_text("year,a,b\n2000,1,2\n2001,3,1\n")
    kw = dict(model=tiny_model_dir, device="cpu", window=1.0, hop=0.5)

    # The race needs the whole song's track; once it is cached, grading a short clip uses it
    # too (by itself, a short clip analyses only its passage: issue 25, test_grade_options).
    bar_chart_race(table, song, tmp_path / "race.mp4", fps=2, size=(160, 120),
                   preset="ultrafast", **kw)
    grade_video(clip, song, tmp_path / "graded.mp4", preset="ultrafast", **kw)
    recolor(photo, song, tmp_path / "photo_out.png", **kw)
    recolor(photo, song, tmp_path / "photo_at.png", at=1.0, **kw)
    export_cube(song, tmp_path / "look.cube", size=4, **kw)
    assert counting_model == [True]
    assert m2p.cache.cache_info().hits >= 4


def test_arguments_at_their_default_share_the_cache_entry(tmp_path, tiny_model_dir, counting_model):
    """The command line spells out window=10 and hop=2.5; a script leaves them out: one run."""
    song = _song(tmp_path / "song.wav", seconds=12.0)
    first = m2p.palette_track(song, model=tiny_model_dir, device="cpu")
    again = m2p.palette_track(song, model=tiny_model_dir, device="cpu", window=10.0, hop=2.5,
                                    seed=0)
    assert again is first and counting_model == [True]
    m2p.palette_track(song, model=tiny_model_dir, device="cpu", hop=5.0)  # not a default
    assert counting_model == [True, True]
