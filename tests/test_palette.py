"""Value types: Palette and PaletteTrack (no model needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from m2p.errors import TrackError
from m2p.palette_types import TRACK_FORMAT_VERSION, Palette, PaletteTrack
from m2p.exporters.render import ansi_swatches, timeline_layout

HEXES = ["#1d3557", "#e63946", "#f1faee", "#a8dadc", "#457b9d"]
UNIFORM = np.full(8, 1 / 8)


def make_palette(lch, emotion=UNIFORM, va=(0.0, 0.0)) -> Palette:
    return Palette(np.asarray(lch, dtype=float), emotion, va)


def make_track() -> PaletteTrack:
    a = make_palette([[30, 40, 350], [60, 20, 100], [80, 10, 200]], va=(-0.5, 0.5))
    b = make_palette([[50, 60, 10], [40, 30, 120], [70, 30, 220], [90, 5, 60]], va=(0.5, -0.5))
    c = make_palette([[20, 50, 300], [60, 40, 150], [50, 20, 250]])
    return PaletteTrack([2.0, 6.0, 10.0], (a, b, c), window=4.0, hop=4.0, duration=12.0,
                        source="song.wav", seed=3)


# ------------------------------------------------------------------------------------ Palette


def test_palette_from_hex_round_trips_hex_and_views():
    p = Palette.from_hex(HEXES)
    assert p.hex == tuple(HEXES)
    assert list(p) == HEXES and p[1] == HEXES[1] and len(p) == 5
    assert p.lch.shape == (5, 3) and p.emotion.shape == (8,) and p.valence_arousal.shape == (2,)
    assert p.rgb.shape == (5, 3) and 0 <= p.rgb.min() and p.rgb.max() <= 1
    expected = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in HEXES])
    np.testing.assert_array_equal(p.rgb8, expected)
    # Computed colour emotion when none is given: finite, non-negative.
    assert np.all(np.isfinite(p.emotion)) and np.all(p.emotion >= 0)
    assert np.all(np.abs(p.valence_arousal) <= 1)


def test_palette_is_immutable():
    p = Palette.from_hex(HEXES)
    with pytest.raises(AttributeError):
        p.lch = np.zeros((1, 3))  # type: ignore[misc]
    for array in (p.lch, p.emotion, p.valence_arousal, p.rgb, p.rgb8):
        with pytest.raises(ValueError):
            array[0] = 1


def test_palette_copies_its_input():
    lch = np.array([[50.0, 20.0, 10.0]])
    p = make_palette(lch)
    lch[0, 0] = 99
    assert p.lch[0, 0] == 50


def test_palette_equality_and_hash():
    assert Palette.from_hex(HEXES) == Palette.from_hex(HEXES)
    assert hash(Palette.from_hex(HEXES)) == hash(Palette.from_hex(HEXES))
    assert Palette.from_hex(HEXES) != Palette.from_hex(HEXES[:3])


def test_palette_normalises_hue():
    p = make_palette([[50, 20, 370], [50, 20, -30]])
    np.testing.assert_allclose(p.lch[:, 2], [10, 330])


@pytest.mark.parametrize(
    "lch",
    [
        [[np.nan, 20, 10]],
        [[50, np.inf, 10]],
        [[50, 20, -np.inf]],
        [[101, 20, 10]],
        [[-1, 20, 10]],
        [[50, -3, 10]],
        np.zeros((0, 3)),
        [[1, 2]],
    ],
)
def test_palette_rejects_bad_colours(lch):
    with pytest.raises(ValueError):
        Palette(np.asarray(lch, dtype=float), UNIFORM, (0, 0))


def test_palette_rejects_nan_emotion():
    with pytest.raises(ValueError):
        make_palette([[50, 20, 10]], emotion=np.r_[np.nan, np.zeros(7)])
    with pytest.raises(ValueError):
        make_palette([[50, 20, 10]], va=(np.nan, 0))
    with pytest.raises(ValueError):
        make_palette([[50, 20, 10]], emotion=np.ones(3))


def test_palette_repr_and_html_show_hex():
    p = Palette.from_hex(HEXES)
    text = repr(p)
    assert all(h in text for h in HEXES)
    html = p._repr_html_()
    assert all(f"background:{h}" in html for h in HEXES)


def test_palette_ansi_swatches_use_true_colour():
    p = Palette.from_hex(["#ff0000", "#00ff00"])
    text = ansi_swatches(p)
    assert "\x1b[48;2;255;0;0m" in text and "\x1b[48;2;0;255;0m" in text
    assert text.endswith("\x1b[0m")


def test_palette_png_pixels_equal_the_palette(tmp_path):
    p = Palette.from_hex(HEXES)
    path = tmp_path / "strip.png"
    p.save_png(path, swatch_size=40)
    image = Image.open(path).convert("RGB")
    assert image.width == 5 * 40
    for i, code in enumerate(HEXES):
        r, g, b = image.getpixel((i * 40 + 20, 20))
        assert f"#{r:02x}{g:02x}{b:02x}" == code


def test_palette_dict_round_trip():
    p = make_palette([[30, 40, 350], [60, 20, 100]], emotion=np.arange(8) / 28, va=(0.25, -0.5))
    data = json.loads(json.dumps(p.to_dict()))
    assert data["hex"] == list(p.hex)
    assert set(data["emotion"]) == {"excited", "happy", "content", "calm", "depressed", "sad",
                                    "afraid", "angry"}
    assert Palette.from_dict(data) == p
    # hex-only documents are accepted too
    assert Palette.from_dict({"hex": list(p.hex)}).hex == p.hex


# -------------------------------------------------------------------------------- PaletteTrack


def test_track_is_immutable_and_validated():
    track = make_track()
    with pytest.raises(AttributeError):
        track.duration = 3.0  # type: ignore[misc]
    with pytest.raises(ValueError):
        track.times[0] = 1.0
    p = track.palettes[0]
    with pytest.raises(ValueError):  # not increasing
        PaletteTrack([2.0, 2.0], (p, p), window=4, hop=4, duration=12)
    with pytest.raises(ValueError):  # NaN time
        PaletteTrack([np.nan], (p,), window=4, hop=4, duration=12)
    with pytest.raises(ValueError):  # beyond the end
        PaletteTrack([13.0], (p,), window=4, hop=4, duration=12)
    with pytest.raises(ValueError):  # count mismatch
        PaletteTrack([1.0, 2.0], (p,), window=4, hop=4, duration=12)
    with pytest.raises(ValueError):
        PaletteTrack([1.0], (p,), window=np.nan, hop=4, duration=12)


def test_track_overall_defaults_to_a_summary():
    track = make_track()
    assert len(track.overall) == 3  # the most common length
    assert np.all(np.isfinite(track.overall.lch))


def test_at_hits_window_centres_and_holds_at_the_ends():
    track = make_track()
    for t, p in zip(track.times, track.palettes):
        np.testing.assert_allclose(track.at(t).lch, p.lch, atol=1e-12)
    assert track.at(0.0) == track.palettes[0]
    assert track.at(1.0) == track.palettes[0]
    assert track.at(12.0) == track.palettes[-1]
    assert track.at(11.5) == track.palettes[-1]


def test_at_interpolates_linearly_and_along_the_short_hue_arc():
    track = make_track()
    mid = track.at(3.0)  # a quarter of the way from a (2 s) to b (6 s): a is nearer
    assert len(mid) == 3
    a, b = track.palettes[0].lch, track.palettes[1].lch
    np.testing.assert_allclose(mid.lch[:, :2], a[:, :2] + 0.25 * (b[:3, :2] - a[:, :2]))
    # slot 0 goes from 350 to 10 degrees across 0, not backwards through 180
    assert mid.lch[0, 2] == pytest.approx(355.0)
    assert track.at(4.0).lch[0, 2] == pytest.approx(0.0, abs=1e-9)
    np.testing.assert_allclose(mid.valence_arousal, [-0.25, 0.25])


def test_at_count_follows_the_nearer_window():
    track = make_track()
    assert len(track.at(3.9)) == 3   # nearer to a (3 colours)
    assert len(track.at(4.0)) == 3   # halfway: the earlier window
    after = track.at(4.1)
    assert len(after) == 4           # nearer to b (4 colours)
    np.testing.assert_allclose(after.lch[3], track.palettes[1].lch[3])  # extra slot unchanged


def test_at_is_continuous_within_matched_slots():
    track = make_track()
    times = np.linspace(2.0, 10.0, 801)
    previous = None
    for t in times:
        lch = track.at(t).lch[:3]
        if previous is not None:
            jump = np.abs(lch[:, :2] - previous[:, :2]).max()
            hue_jump = np.abs((lch[:, 2] - previous[:, 2] + 180) % 360 - 180).max()
            assert jump < 0.5 and hue_jump < 3.0
        previous = lch


@pytest.mark.parametrize("t", [-0.001, 12.0001, np.nan, np.inf, "soon", None])
def test_at_out_of_range_raises_track_error(t):
    with pytest.raises(TrackError):
        make_track().at(t)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0.0, max_value=12.0))
def test_at_never_gives_nan(t):
    p = make_track().at(t)
    assert np.all(np.isfinite(p.lch)) and 3 <= len(p) <= 4


def test_json_round_trip_is_exact():
    track = make_track()
    text = track.to_json()
    data = json.loads(text)
    # A track without a rhythm is written as version 1, which older readers read (issue 26).
    assert data["format"] == "music2palette.track" and data["version"] == 1 < TRACK_FORMAT_VERSION
    again = PaletteTrack.from_json(text)
    assert again == track
    assert again.overall == track.overall and again.source == "song.wav" and again.seed == 3


def test_json_file_round_trip(tmp_path):
    track = make_track()
    track.save_json(tmp_path / "t.json")
    assert PaletteTrack.load_json(tmp_path / "t.json") == track


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"format": "something else", "version": 1}',
        '{"format": "music2palette.track", "version": 99}',
        '{"format": "music2palette.track", "version": 1}',
    ],
)
def test_from_json_rejects_bad_documents(text):
    with pytest.raises(TrackError):
        PaletteTrack.from_json(text)


def test_from_json_rejects_nan_colours():
    data = make_track().to_dict()
    data["palettes"][1]["lch"][0][0] = float("nan")
    with pytest.raises(TrackError):
        PaletteTrack.from_json(json.dumps(data))


def test_track_png_timeline(tmp_path):
    p = Palette.from_hex(HEXES[:3])
    track = PaletteTrack([1.0, 3.0, 5.0], (p, p, p), window=2, hop=2, duration=6.0)
    path = tmp_path / "timeline.png"
    track.save_png(path, width=300, height=90)
    image = Image.open(path).convert("RGB")
    layout = timeline_layout(6.0, width=300, height=90)
    assert image.size == layout.image_size
    for x in (layout.left, layout.left + 150, layout.left + 299):
        for slot, code in enumerate(HEXES[:3]):
            r, g, b = image.getpixel((x, layout.top + slot * 30 + 15))
            assert f"#{r:02x}{g:02x}{b:02x}" == code
    # the whole-piece column
    r, g, b = image.getpixel((layout.overall_left + 5, layout.top + 5))
    assert f"#{r:02x}{g:02x}{b:02x}" == HEXES[0]


def test_track_png_first_column_shows_first_palette(tmp_path):
    track = make_track()
    path = tmp_path / "timeline.png"
    track.save_png(path)
    image = Image.open(path).convert("RGB")
    layout = timeline_layout(track.duration)
    band = layout.height // 3
    for slot, code in enumerate(track.palettes[0].hex):
        r, g, b = image.getpixel((layout.left, layout.top + slot * band + band // 2))
        assert f"#{r:02x}{g:02x}{b:02x}" == code


def test_track_repr_and_html():
    track = make_track()
    assert "song.wav" in repr(track) and track.overall.hex[0] in repr(track)
    assert track._repr_html_().startswith("<figure") and "data:image/png;base64," in track._repr_html_()
    assert len(track) == 3 and list(track) == list(track.palettes) and track[1] == track.palettes[1]
    assert track.emotions.shape == (3, 8) and track.valence_arousal.shape == (3, 2)


def test_sample_is_public_and_equals_at_row_by_row():
    from m2p.palette_types import TrackSamples

    red = Palette.from_hex(["#7a0a0a", "#e03a2f", "#ff9a8a"])
    blue = Palette.from_hex(["#0a1a7a", "#2f5ae0", "#8ab4ff", "#ffffff"])
    track = PaletteTrack([0.5, 1.5], [red, blue], window=1.0, hop=1.0, duration=2.0)
    times = [0.0, 0.7, 1.0, 1.3, 2.0]
    samples = track.sample(times)
    assert isinstance(samples, TrackSamples) and samples.lch.shape == (5, 4, 3)
    for q, t in enumerate(times):
        expected = track.at(t)
        n = int(samples.counts[q])
        assert Palette(samples.lch[q, :n], samples.emotion[q], samples.valence_arousal[q]) == expected
    for bad in ([2.5], [float("nan")], ["soon"]):
        with pytest.raises(TrackError):
            track.sample(bad)
