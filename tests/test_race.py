"""Bar-chart race: CSV reading, in-place frame rendering, palette colours, video + soundtrack."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("moviepy")
pytest.importorskip("matplotlib")

from m2p.errors import VideoError  # noqa: E402
from m2p.palette_types import Palette, PaletteTrack  # noqa: E402
from m2p_plugins.video.race import (  # noqa: E402
    BarChartRace,
    RaceData,
    bar_chart_race,
    read_wide_csv,
)

RED = Palette.from_hex(["#d62828", "#f77f00", "#fcbf49"])
BLUE = Palette.from_hex(["#03045e", "#0077b6", "#90e0ef"])


def _csv(path: Path, periods: int = 5, entities: int = 6) -> Path:
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.uniform(1, 10, (periods, entities)), axis=0)
    lines = ["year," + ",".join(f"Team {chr(65 + e)}" for e in range(entities))]
    lines += [f"{2000 + t}," + ",".join(f"{v:.2f}" for v in row) for t, row in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _song(path: Path, seconds: float) -> Path:
    import soundfile

    sr = 22050
    t = np.arange(int(seconds * sr)) / sr
    soundfile.write(str(path), (0.2 * np.sin(2 * np.pi * 262 * t)).astype(np.float32), sr)
    return path


def _track(duration: float) -> PaletteTrack:
    return PaletteTrack([0.0, duration], [RED, BLUE], window=1.0, hop=duration, duration=duration)


def test_read_wide_csv_fills_gaps_and_rejects_text(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("t,a,b\n1,1,\n2,,5\n3,3,6\n")
    data = read_wide_csv(path)
    assert data.periods == ("1", "2", "3") and data.entities == ("a", "b")
    assert np.array_equal(data.values, [[1, 0], [1, 5], [3, 6]])
    bad = tmp_path / "bad.csv"
    bad.write_text("t,a\n1,x\n2,3\n")
    with pytest.raises(VideoError, match="bad.csv"):
        read_wide_csv(bad)
    with pytest.raises(VideoError, match="no_such.csv"):
        read_wide_csv(tmp_path / "no_such.csv")


def test_frames_update_in_place_with_palette_colours(tmp_path: Path) -> None:
    data = read_wide_csv(_csv(tmp_path / "d.csv"))
    track = _track(2.0)
    race = BarChartRace(data, 2.0, lambda t: track.at(t).rgb, n_bars=4, size=(320, 240))
    bars = list(race.bars)
    first = race.frame(0.0)
    last = race.frame(2.0)
    assert first.shape == (240, 320, 3) and first.dtype == np.uint8
    assert list(race.bars) == bars and len(race.ax.patches) == len(bars)  # no re-plotting
    # Entity e keeps slot e mod n: its colour follows the palette in force.
    for e, bar in enumerate(race.bars):
        assert np.allclose(bar.get_facecolor()[:3], BLUE.rgb[e % 3], atol=1e-6)
    assert not np.array_equal(first, last)
    visible = [b for b in race.bars if b.get_visible()]
    assert len(visible) == 4  # only the top n bars show at a period
    race.close()


def test_bar_chart_race_video_fits_song_and_has_soundtrack(tmp_path: Path) -> None:
    from moviepy import VideoFileClip

    csv_path = _csv(tmp_path / "d.csv", periods=4)
    song = _song(tmp_path / "song.wav", 1.5)
    out = bar_chart_race(csv_path, song, tmp_path / "race.mp4", track=_track(1.5), fps=8,
                         size=(160, 120), n_bars=3, progress=False, preset="ultrafast")
    clip = VideoFileClip(str(out))
    try:
        assert abs(clip.duration - 1.5) < 0.2 and clip.audio is not None
        assert tuple(clip.size) == (160, 120)
    finally:
        clip.close()
    trimmed = bar_chart_race(RaceData(("a", "b", "c"), ("x", "y"), np.array([[1., 2], [2, 1],
                                                                               [3, 3]])),
                             song, tmp_path / "trim.mp4", track=_track(1.5), fit="trim",
                             period_seconds=0.4, fps=8, size=(160, 120), progress=False,
                             preset="ultrafast")
    clip = VideoFileClip(str(trimmed))
    try:
        assert abs(clip.duration - 0.8) < 0.2
    finally:
        clip.close()
    assert not list(tmp_path.glob(".*part*"))


def test_race_cli_and_errors(tmp_path: Path, tiny_model_dir: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    import m2p.cli.core as cli

    csv_path = _csv(tmp_path / "d.csv", periods=3, entities=3)
    song = _song(tmp_path / "song.wav", 1.2)
    # "race" comes from the video adapter's register_commands hook, not from cli.SUBCOMMANDS.
    args = ["race", str(csv_path), "--music", str(song), "--fps", "5", "--size", "160x120",
            "--preset", "ultrafast", "--model", str(tiny_model_dir), "-q"]
    assert cli.main([*args, "-o", str(tmp_path / "r.mp4")]) == 0
    assert (tmp_path / "r.mp4").exists()
    assert cli.main([*args, "-o", str(tmp_path / "missing_dir" / "r.mp4")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_every_entity_gets_its_own_distinct_colour(tmp_path: Path, monkeypatch) -> None:
    from matplotlib.colors import to_hex

    import m2p_plugins.video.race as race_module
    from m2p.colour.distinct import DEFAULT_MIN_DISTANCE
    from m2p.colour.vision import min_pairwise_distance

    seen: dict[float, list[str]] = {}
    real_frame = race_module.BarChartRace.frame

    def recording_frame(self, t):
        image = real_frame(self, t)
        seen[round(float(t), 6)] = [to_hex(bar.get_facecolor()) for bar in self.bars]
        return image

    monkeypatch.setattr(race_module.BarChartRace, "frame", recording_frame)
    csv_path = _csv(tmp_path / "d.csv", periods=4, entities=10)  # 10 entities, 3-colour palettes
    song = _song(tmp_path / "song.wav", 1.0)
    # Windows at 0 s (reds) and 0.5 s (blues), gliding in between; then the blues hold.
    track = PaletteTrack([0.0, 0.5], [RED, BLUE], window=0.5, hop=0.5, duration=1.0)
    bar_chart_race(csv_path, song, tmp_path / "race.mp4", track=track, fps=8,
                   size=(160, 120), n_bars=10, progress=False, preset="ultrafast")
    assert {0.0, 0.25, 0.5, 0.75} <= set(seen)
    for t, colours in seen.items():  # every frame, also between the windows
        assert len(set(colours)) == 10, t
        rgb = np.array([[int(h[k:k + 2], 16) for k in (1, 3, 5)] for h in colours]) / 255.0
        assert min_pairwise_distance(rgb) >= DEFAULT_MIN_DISTANCE, t
    assert seen[0.0] != seen[0.5]  # the colours still follow the music
