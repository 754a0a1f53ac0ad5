"""The legibility rule on every surface, for the palettes of 16 real songs.

The palettes are the shipped model's, of 16 recordings from Debian game-music packages
(``tests/data/real_palettes.json``, written by ``tests/make_real_palettes.py``; the tests assert
properties that must hold for any palette, never hex codes). Every colour drawn on a
background must have WCAG contrast >= 3:1 there, at most two may be near-black (L* < 20) on a
light background or near-white (L* > 90) on a dark one, and categories must be >= 20 CIEDE2000
apart in normal vision and under simulated deuteranopia and protanopia: all measured with
colour-science (``tests/cvd_reference.py``), not with the code under test.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

cs = pytest.importorskip("colour")
pytest.importorskip("matplotlib")

import chart_gallery as gallery  # noqa: E402
from cvd_reference import cs_contrast, cs_min_distance  # noqa: E402
from m2p.colour.convert_np import hex_to_lch  # noqa: E402
from m2p.errors import DistinctColorsWarning  # noqa: E402
from m2p.palette_types import Palette, PaletteTrack  # noqa: E402

SONGS = gallery.songs()
DISTANCE = 20.0


@pytest.fixture(scope="session")
def palettes() -> dict[str, Palette]:
    """The 16 songs' whole-piece palettes, once per test session."""
    assert len(SONGS) == 16
    return {song["name"]: Palette.from_hex(song["palette"]) for song in SONGS}


def _track(song: dict) -> PaletteTrack:
    track = song["track"]
    return PaletteTrack(track["times"], [Palette.from_hex(h) for h in track["palettes"]],
                        window=10.0, hop=2.5, duration=track["duration"],
                        overall=Palette.from_hex(song["palette"]))


def check_rule(hexes, background: str, *, distance: float = DISTANCE, what: str = "") -> None:
    """The three parts of the rule, measured independently of m2p."""
    hexes = list(hexes)
    assert cs_contrast(hexes, background).min() >= 3.0, (what, background, hexes)
    light = hex_to_lch(hexes)[:, 0]
    dark_background = hex_to_lch([background])[0, 0] < 50
    extremes = (light > 90) if dark_background else (light < 20)
    assert extremes.sum() <= 2, (what, hexes)
    if len(hexes) > 1:
        assert cs_min_distance(hexes) >= distance - 0.005, (what, hexes)


@pytest.mark.parametrize("library", gallery.LIBRARIES)
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_adapter_default_colours_are_legible_for_16_real_songs(library, dark, palettes):
    """Each library's 8-series chart, as the README builds it, read back from the chart."""
    pytest.importorskip({"matplotlib": "matplotlib", "altair": "altair", "plotly": "plotly",
                         "bokeh": "bokeh"}[library])
    import matplotlib.pyplot as plt

    for name, palette in palettes.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error", DistinctColorsWarning)
            figure = gallery.chart(library, palette, dark=dark)
        colours, background = gallery.drawn_colours(library, figure)
        if library == "matplotlib":
            plt.close(figure)
        assert len(set(colours)) == gallery.SERIES, (name, colours)
        assert (hex_to_lch([background])[0, 0] < 20) == dark
        check_rule(colours, background, what=f"{library} {name}")


def test_take_up_to_twelve_colours_is_legible_for_real_songs(palettes):
    """``take(n)`` on white, n = 1 to 8 for the 16 songs (20 apart, no warning); 9 to 12 for
    four of them: as far apart as possible, said once, and still legible (never darker)."""
    for name, palette in palettes.items():
        for n in range(1, 9):
            with warnings.catch_warnings():
                warnings.simplefilter("error", DistinctColorsWarning)
                taken = palette.take(n)
            assert len(set(taken.hex)) == n
            check_rule(taken.hex, "#ffffff", what=f"{name} take({n})")
    for name in gallery.PICTURE_SONGS:
        for n in range(9, 13):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                taken = palettes[name].take(n)
            said = [w for w in caught if issubclass(w.category, DistinctColorsWarning)]
            assert len(said) <= 1
            stated = DISTANCE
            if said:  # fewer than 20 apart: said once, with how far they are
                stated = float(re.search(r"at least ([0-9.]+) apart", str(said[0].message)
                                         ).group(1))
                assert 12.0 <= stated < DISTANCE
            check_rule(taken.hex, "#ffffff", distance=stated, what=f"{name} take({n})")


def test_take_on_a_dark_background_is_dark_legible(palettes):
    for name, palette in palettes.items():
        taken = palette.take(8, background="#15171c")
        check_rule(taken.hex, "#15171c", what=f"{name} dark take(8)")


def test_race_bars_are_legible_and_keep_their_hue_in_every_frame():
    """A race with overtakes, coloured by each song's real palette track: in every frame
    (10 per second) the bars in the chart are legible, 20 apart, and each entity keeps one hue
    (within 10 degrees) for the whole race, light and dark."""
    from m2p_plugins.video.race import THEMES, BarChartRace, race_colours

    data = _race_table()
    duration = 20.0
    for song in SONGS:
        track = _track(song)
        for theme in ("light", "dark"):
            classes, colours = race_colours(data, track, duration, n_bars=8, theme=theme,
                                            start=min(5.0, track.duration - duration) if
                                            track.duration > duration else 0.0, fps=10)
            race = BarChartRace(data, duration, colours, n_bars=8, size=(320, 200),
                                theme=theme, classes=classes)
            hues: dict[int, list[float]] = {}
            seen: set[tuple] = set()
            for t in np.arange(0.0, duration, 0.1):
                lay = race.layout(t)
                palette = colours(t)
                index = race.colour_indices(len(palette))
                shown = np.flatnonzero(lay.visible)
                hexes = tuple(_hex(palette[index[e]]) for e in shown)
                if hexes not in seen:  # the same colours in many frames: check them once
                    seen.add(hexes)
                    check_rule(hexes, THEMES[theme]["face"], what=f"{song['name']} {theme} t={t:.1f}")
                for e in shown:
                    lch = hex_to_lch([_hex(palette[index[e]])])[0]
                    if lch[1] >= 8:  # a hue is only defined with some chroma
                        hues.setdefault(int(e), []).append(float(lch[2]))
            for e, values in hues.items():
                spread = np.abs((np.asarray(values) - values[0] + 180) % 360 - 180).max()
                assert spread <= 10, (song["name"], theme, e, spread)


def test_animate_colors_are_legible_at_every_time():
    pytest.importorskip("matplotlib")
    import m2p

    for song in SONGS[:6]:
        track = _track(song)
        for background in ("#ffffff", "#15171c"):
            colours = m2p.animate_colors(track, background=background)
            seen = set()
            for t in colours.frames(fps=5):
                hexes = tuple(colours(t))
                if hexes not in seen:
                    seen.add(hexes)
                    check_rule(hexes, background, what=f"{song['name']} t={t:.1f}")


def test_gallery_swatches_that_vanish_on_the_page_get_an_outline():
    from m2p.colour.legibility import outline_color
    from m2p.library import gallery as page

    card = page.CARD_BACKGROUND
    for song in SONGS:
        for code in song["palette"]:
            outline = outline_color(code, card)
            if cs_contrast([code], card)[0] >= 3.0:
                assert outline is None
            else:
                assert cs_contrast([outline], card)[0] >= 3.0
    html = page.swatch_html(["#1d1f26", "#e0e0e0"])
    assert html.count("box-shadow") == 1  # only the swatch that matches the card is outlined


def test_diverging_maps_come_from_the_palette_hues_and_stay_apart(palettes):
    from m2p.colour.convert_np import rgb_to_hex
    from m2p.colour.ramps import DIVERGING_SEPARATION, diverging_ramp

    ends = set()
    for name, palette in palettes.items():
        ramp = rgb_to_hex(diverging_ramp(palette.lch, 11))
        low, high = hex_to_lch([ramp[0], ramp[-1]])
        assert cs_min_distance([ramp[0], ramp[-1]]) >= DIVERGING_SEPARATION - 0.5, name
        vivid = palette.lch[palette.lch[:, 1] >= 5]
        gaps = [np.abs((vivid[:, 2] - end[2] + 180) % 360 - 180).min() for end in (low, high)]
        assert min(gaps) <= 12, (name, ramp[0], ramp[-1])  # at least one end: a palette hue
        ends.add((ramp[0], ramp[-1]))
    assert len(ends) >= 10  # not one blue-tan map for every song


def _race_table():
    from m2p_plugins.video.race_data import RaceData

    rng = np.random.default_rng(11)
    periods, entities = 12, 8
    values = np.cumsum(rng.uniform(0.0, 10.0, (periods, entities)), axis=0)
    return RaceData(tuple(str(2000 + k) for k in range(periods)),
                    tuple(f"Team {chr(65 + e)}" for e in range(entities)), values)


def _hex(rgb) -> str:
    r, g, b = (int(round(float(v) * 255)) for v in rgb)
    return f"#{r:02x}{g:02x}{b:02x}"
