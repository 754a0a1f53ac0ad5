"""Race layout: overtakes glide without bars sharing a row for long or labels printing over
each other; period labels that read as dates; a dark theme (real Matplotlib rendering)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("moviepy")
pytest.importorskip("matplotlib")

from m2p.errors import InvalidArgumentError  # noqa: E402
from m2p.palette_types import Palette  # noqa: E402
from m2p_plugins.video.race import (  # noqa: E402
    SWAP_SECONDS,
    BarChartRace,
    RaceData,
    bar_chart_race,
    period_labels,
)

PALETTE = Palette.from_hex(["#d62828", "#f77f00", "#fcbf49", "#2a9d8f", "#264653"])


def _colours(t: float) -> np.ndarray:
    return PALETTE.rgb


def _crossing_race() -> RaceData:
    # B overtakes A halfway through the first period; C and D swap twice.
    values = np.array([[10.0, 6.0, 5.0, 4.0], [8.0, 12.0, 3.0, 6.0], [9.0, 13.0, 7.0, 2.0]])
    return RaceData(("2000", "2001", "2002"), ("A", "B", "C", "D"), values)


def _rows(race: BarChartRace) -> np.ndarray:
    return np.array([bar.get_y() + 0.4 for bar in race.bars])


def test_overtakes_glide_briefly_and_labels_never_overlap() -> None:
    race = BarChartRace(_crossing_race(), 4.0, _colours, n_bars=4, size=(320, 200))
    times = np.linspace(0.0, 4.0, 161)
    shared = 0
    for t in times:
        race.frame(float(t))
        rows = _rows(race)
        gaps = np.abs(rows[:, None] - rows[None, :])[np.triu_indices(4, 1)]
        shared += bool((gaps < 0.5).any())
        labelled = [lab.get_position()[1] for lab in race.labels if lab.get_visible()]
        pairs = np.abs(np.subtract.outer(labelled, labelled))[np.triu_indices(len(labelled), 1)]
        assert (pairs >= 0.75 - 1e-9).all(), (t, labelled)  # never printed over each other
    # Three overtakes, each sharing a row for under half the glide: at most ~3 x 0.25 s of 4 s.
    assert 0 < shared / times.size <= 3 * 0.5 * SWAP_SECONDS / 4.0 + 0.02
    # Between overtakes every bar sits exactly on its row, in value order.
    race.frame(2.0)
    assert np.allclose(_rows(race), [2, 3, 0, 1])  # 8, 12, 3, 6 at the 2001 period
    race.close()


def test_overtake_happens_when_the_values_cross_not_at_the_period() -> None:
    race = BarChartRace(_crossing_race(), 4.0, _colours, n_bars=4, size=(320, 200))
    # A (10 -> 8) and B (6 -> 12) cross halfway through the first period, t = 1 s; the glide
    # takes SWAP_SECONDS centred there (a linear rank blend would take the whole period).
    race.frame(0.7)
    assert _rows(race)[0] == pytest.approx(3.0)  # A still alone on top
    race.frame(1.0 + SWAP_SECONDS / 2 + 2.0 / 64)  # crossings are found to 1/64 period
    assert _rows(race)[1] == pytest.approx(3.0)  # B already settled in the top row
    race.close()


def test_period_labels_read_as_dates() -> None:
    monthly = RaceData(tuple(f"2015-{m:02d}-01 00:00:00" for m in (8, 9, 10)), ("a",),
                       np.ones((3, 1)))
    assert period_labels(monthly) == ["Aug 2015", "Sep 2015", "Oct 2015"]
    assert period_labels(monthly, "%d/%m/%Y")[1] == "01/09/2015"
    daily = RaceData(("a", "b"), ("a",), np.ones((2, 1)),
                     period_values=(datetime(2020, 3, 1), datetime(2020, 3, 2)))
    assert period_labels(daily) == ["2020-03-01", "2020-03-02"]
    years = RaceData(("1990.0", "1991.0"), ("a",), np.ones((2, 1)))
    assert period_labels(years) == ["1990.0", "1991.0"]
    assert period_labels(years, "{x:.0f}") == ["1990", "1991"]
    with pytest.raises(InvalidArgumentError, match="not dates"):
        period_labels(years, "%Y")


def test_pandas_dates_get_a_readable_label_of_sensible_size(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]},
                         index=pd.date_range("2015-08-01", periods=3, freq="MS"))
    from m2p_plugins.video.race import _as_race_data

    race = BarChartRace(_as_race_data(frame), 2.0, _colours, n_bars=2, size=(1280, 720))
    race.frame(1.0)
    sprite = race._period_sprites["Sep 2015"]
    assert sprite.shape[0] < 720 / 12 and sprite.shape[1] < 0.45 * race.ax.bbox.width
    race.close()


def test_dark_theme_draws_light_text_on_a_dark_background() -> None:
    for theme, dark in (("light", False), ("dark", True)):
        race = BarChartRace(_crossing_race(), 2.0, _colours, n_bars=4, size=(320, 200),
                            theme=theme, title="Race")
        frame = race.frame(1.0).astype(float)
        corner = frame[-10:, -10:].mean()
        assert (corner < 60) if dark else (corner > 200)
        race.close()
    with pytest.raises(InvalidArgumentError, match="theme"):
        BarChartRace(_crossing_race(), 2.0, _colours, theme="neon")


def test_dataframe_input_names_pandas_and_bad_data_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="pip install pandas"):
        bar_chart_race({"a": [1, 2]}, tmp_path / "song.wav", tmp_path / "r.mp4")
