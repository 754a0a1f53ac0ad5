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


def _rows(race: BarChartRace, t: float) -> np.ndarray:
    return race.layout(t).y


def _many_overtakes() -> RaceData:
    rng = np.random.default_rng(5)
    return RaceData(tuple(str(2000 + k) for k in range(10)), tuple(f"E{e}" for e in range(9)),
                    np.cumsum(rng.uniform(0.0, 10.0, (10, 9)), axis=0))


@pytest.mark.parametrize("make, n_bars", [(_crossing_race, 4), (_many_overtakes, 6)])
def test_no_overlap_every_bar_labelled_no_slivers_in_every_frame(make, n_bars) -> None:
    race = BarChartRace(make(), 6.0, _colours, n_bars=n_bars, size=(320, 200))
    crossings = 0
    for t in np.linspace(0.0, 6.0, 601):
        lay = race.layout(float(t))
        shown = np.flatnonzero(lay.visible)
        # No two drawn bars overlap (a gap of at least the usual fifth of a row).
        for i, a in enumerate(shown):
            for b in shown[i + 1:]:
                reach = (lay.height[a] + lay.height[b]) / 2
                assert abs(lay.y[a] - lay.y[b]) >= reach + 0.2 - 1e-9, (t, a, b)
        # No sliver of a hidden bar: what is drawn is inside the chart, nothing else is.
        assert (lay.y[shown] - lay.height[shown] / 2 >= -0.5 - 1e-9).all()
        assert (lay.height[~lay.visible] == 0).all()
        # Every bar in the chart keeps its name and value, through overtakes too, and no two
        # labels print over each other.
        assert lay.labelled[shown].all(), t
        labels = np.sort(lay.label_y[lay.labelled])
        assert (np.diff(labels) >= race.label_gap - 1e-9).all(), (t, labels)
        assert lay.labelled.sum() <= n_bars + 1  # a bar leaving while two others swap
        crossings += bool(((np.diff(np.sort(lay.y[lay.labelled]))) < 0.9).any())
    assert crossings > 0  # the races do overtake
    race.close()


def test_overtakes_glide_briefly() -> None:
    race = BarChartRace(_crossing_race(), 4.0, _colours, n_bars=4, size=(320, 200))
    times = np.linspace(0.0, 4.0, 161)
    moving = sum(bool((np.abs(_rows(race, float(t)) - np.round(_rows(race, float(t)))) > 1e-6)
                      .any()) for t in times)
    # Three overtakes of SWAP_SECONDS each in 4 s.
    assert 0 < moving / times.size <= 3 * SWAP_SECONDS / 4.0 + 0.03
    # Between overtakes every bar sits exactly on its row, in value order.
    assert np.allclose(_rows(race, 2.0), [2, 3, 0, 1])  # 8, 12, 3, 6 at the 2001 period
    race.close()


def test_overtake_happens_when_the_values_cross_not_at_the_period() -> None:
    race = BarChartRace(_crossing_race(), 4.0, _colours, n_bars=4, size=(320, 200))
    # A (10 -> 8) and B (6 -> 12) cross halfway through the first period, t = 1 s; the glide
    # takes SWAP_SECONDS centred there (a linear rank blend would take the whole period).
    assert _rows(race, 0.7)[0] == pytest.approx(3.0)  # A still alone on top
    assert _rows(race, 1.0 + SWAP_SECONDS / 2 + 2.0 / 64)[1] == pytest.approx(3.0)
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
    from m2p_plugins.video.race_data import as_race_data

    race = BarChartRace(as_race_data(frame), 2.0, _colours, n_bars=2, size=(1280, 720))
    race.frame(1.0)
    sprite = race.text.sprite("Sep 2015", race.counter_size, "#000000", bold=True)
    x0, _, x1, _ = race.box
    assert sprite.shape[0] < 720 / 12 and sprite.shape[1] < 0.45 * (x1 - x0)
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
