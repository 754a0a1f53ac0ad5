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


def test_frames_are_drawn_with_each_entitys_colour(tmp_path: Path) -> None:
    data = read_wide_csv(_csv(tmp_path / "d.csv"))
    track = _track(2.0)
    race = BarChartRace(data, 2.0, lambda t: track.at(t).rgb, n_bars=4, size=(320, 240))
    first = race.frame(0.0)
    last = race.frame(2.0)
    assert first.shape == (240, 320, 3) and first.dtype == np.uint8
    assert not np.array_equal(first, last)
    # Entity e takes row e mod k of the colours; its bar's middle pixel has that colour.
    lay = race.layout(2.0)
    assert lay.visible.sum() == 4  # only the top n bars show at a period
    x0, y0, x1, y1 = race.box
    row_px = (y1 - y0) / race.n_bars
    for e in np.flatnonzero(lay.visible):
        px = int(x0 + 0.5 * lay.values[e] * (x1 - x0) / lay.x_max)
        py = int(y1 - (lay.y[e] + 0.6) * row_px)
        assert np.abs(last[py, px].astype(int) - BLUE.rgb8[e % 3]).max() <= 1
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
    # A long table: refused with the pivot and the option that does it; --long pivots it.
    long = tmp_path / "long.csv"
    long.write_text("country,year,value\nFrance,2000,1.5\nSpain,2000,2\nFrance,2001,3\n"
                    "Spain,2001,1\n")
    args[1] = str(long)
    assert cli.main([*args, "-o", str(tmp_path / "l.mp4")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pivot(" in err[0] and "--long" in err[0], err
    assert not (tmp_path / "l.mp4").exists()
    assert cli.main([*args, "--long", "-o", str(tmp_path / "l.mp4")]) == 0
    assert (tmp_path / "l.mp4").exists()


def test_every_entity_keeps_one_distinct_colour_in_every_frame(tmp_path: Path,
                                                             monkeypatch) -> None:
    import m2p_plugins.video.race as race_module
    from m2p.colour.distinct import DEFAULT_MIN_DISTANCE
    from m2p.colour.vision import min_pairwise_distance

    seen: dict[float, np.ndarray] = {}
    real_frame = race_module.BarChartRace.frame

    def recording_frame(self, t):
        image = real_frame(self, t)
        palette = np.asarray(self.colours(t))
        lay = self.layout(t)
        seen[round(float(t), 6)] = palette[self.colour_indices(len(palette))][lay.visible]
        return image

    monkeypatch.setattr(race_module.BarChartRace, "frame", recording_frame)
    csv_path = _csv(tmp_path / "d.csv", periods=4, entities=6)
    song = _song(tmp_path / "song.wav", 1.0)
    # Windows at 0 s (reds) and 0.5 s (blues): the music moves lightness and chroma only.
    track = PaletteTrack([0.0, 0.5], [RED, BLUE], window=0.5, hop=0.5, duration=1.0,
                         overall=RED)
    bar_chart_race(csv_path, song, tmp_path / "race.mp4", track=track, fps=8,
                   size=(160, 120), n_bars=6, progress=False, preset="ultrafast")
    assert {0.0, 0.25, 0.5, 0.75} <= set(seen)
    for t, rgb in seen.items():  # every frame, also between the windows
        assert len({tuple(c) for c in rgb}) == len(rgb), t
        assert min_pairwise_distance(rgb) >= DEFAULT_MIN_DISTANCE, t


def test_long_and_semicolon_tables(tmp_path: Path) -> None:
    from m2p_plugins.video.race_data import read_csv

    long = tmp_path / "long.csv"
    long.write_text("country,year,value\nFrance,2000,1.5\nSpain,2000,2\nFrance,2001,3\n"
                    "Spain,2001,1\n")
    with pytest.raises(VideoError, match=r"long \(tidy\) table.*df\.pivot\(index='year', "
                                         r"columns='country', values='value'\).*--long"):
        read_csv(long)
    wide = read_csv(long, long=True)
    assert wide.periods == ("2000", "2001") and wide.entities == ("France", "Spain")
    assert np.array_equal(wide.values, [[1.5, 2.0], [3.0, 1.0]])
    semi = tmp_path / "semi.csv"
    semi.write_text("year;France;Spain\n2000;1,5;2\n2001;3;1.234,5\n")
    data = read_csv(semi)  # delimiter sniffed, decimal comma read as such
    assert data.entities == ("France", "Spain")
    assert np.array_equal(data.values, [[1.5, 2.0], [3.0, 1234.5]])
    tabs = tmp_path / "tabs.csv"
    tabs.write_text("year\ta\tb\n2000\t1\t2\n2001\t3\t4\n")
    assert read_csv(tabs).entities == ("a", "b")
    # A comma file: "1,500" is grouped thousands, a quoted "1,5" is refused, never 15.0.
    comma = tmp_path / "comma.csv"
    comma.write_text('year,a\n2000,"1,500"\n2001,2\n')
    assert read_csv(comma).values[0, 0] == 1500.0
    comma.write_text('year,a\n2000,"1,5"\n2001,2\n')
    with pytest.raises(VideoError, match=r"comma.csv: row 2, column 'a': '1,5' is ambiguous"):
        read_csv(comma)
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("year;a;b\n2000;1,5;2.5\n2001;3;1\n")
    with pytest.raises(VideoError, match="decimal comma.*decimal point"):
        read_csv(mixed)
    unclear = tmp_path / "unclear.csv"
    unclear.write_text("year;a\n2000;1,500\n2001;3\n")
    with pytest.raises(VideoError, match="ambiguous"):
        read_csv(unclear)


def test_absurd_options_are_refused_before_rendering(tmp_path: Path) -> None:
    from m2p.errors import InvalidArgumentError

    csv_path = _csv(tmp_path / "d.csv", periods=3, entities=3)
    song = _song(tmp_path / "song.wav", 1.0)
    with pytest.raises(InvalidArgumentError, match="would last 2e\\+06 s"):
        bar_chart_race(csv_path, song, tmp_path / "r.mp4", fit="trim", period_seconds=1e6,
                       track=_track(1.0))
    with pytest.raises(InvalidArgumentError,
                       match="period_fmt is [0-9,]+ characters long; at most 100"):
        bar_chart_race(csv_path, song, tmp_path / "r.mp4", period_fmt="{x:>9}" * 100,
                       track=_track(1.0))
    assert not (tmp_path / "r.mp4").exists()
