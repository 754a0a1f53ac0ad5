"""Altair adapter: run-time themes and scales; colours land in the Vega-Lite config and renders."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

alt = pytest.importorskip("altair")

import m2p.hooks.front_doors  # noqa: E402
import m2p.colour as colour  # noqa: E402
from m2p.colour import legibility  # noqa: E402
from m2p.errors import TrackError  # noqa: E402
from m2p.palette_types import Palette, PaletteTrack  # noqa: E402
from m2p_plugins.altair import register_theme, scale, theme_config  # noqa: E402

HEXES = ["#1d3557", "#e63946", "#f1faee", "#a8dadc", "#457b9d"]
DATA = [{"kind": k, "value": v} for k, v in zip("abcde", [3, 5, 2, 4, 6])]


@pytest.fixture
def pal() -> Palette:
    return Palette.from_hex(HEXES)


@pytest.fixture(autouse=True)
def _restore_theme():
    active = alt.theme.active
    yield
    alt.theme.enable(active)


def _bar_chart(**color_kwargs) -> "alt.Chart":
    return alt.Chart(alt.Data(values=DATA)).mark_bar().encode(
        x="kind:N", y="value:Q", color=alt.Color("kind:N", **color_kwargs)
    ).properties(width=200, height=120)


EXACT = {"min_distance": 0, "min_contrast": 1}  # the palette's own colours, as they are


def _lightness(hexes) -> np.ndarray:
    return colour.hex_to_lch(list(hexes))[:, 0]


def test_register_theme_does_not_enable_it(pal):
    before = alt.theme.active
    assert register_theme(pal, name="m2p_test_quiet") == "m2p_test_quiet"
    assert "m2p_test_quiet" in alt.theme.names()
    assert alt.theme.active == before
    assert "config" not in _bar_chart().to_dict() or "range" not in _bar_chart().to_dict()["config"]


def test_enabled_theme_puts_song_colours_in_the_vega_lite_config(pal):
    register_theme(pal, name="m2p_test", n=len(pal), **EXACT)
    with alt.theme.enable("m2p_test"):  # as a context manager
        spec = _bar_chart().to_dict()
    ranges = spec["config"]["range"]
    assert ranges["category"] == [list(pal.hex)[i]
                                  for i in legibility.legible_order(colour.hex_to_lch(pal.hex))]
    assert sorted(ranges["category"]) == sorted(HEXES)
    for kind in ("ramp", "heatmap", "diverging"):
        assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in ranges[kind])
    assert np.all(np.diff(_lightness(ranges["ramp"])) < 0)  # light (low) to dark (high)
    div = _lightness(ranges["diverging"])
    mid = len(div) // 2
    assert np.all(np.diff(div[:mid + 1]) > 0) and np.all(np.diff(div[mid:]) < 0)
    assert spec["config"]["mark"]["color"] == ranges["category"][0]
    assert "range" not in _bar_chart().to_dict().get("config", {})  # context ended


def test_theme_config_is_a_theme_config(pal):
    config = theme_config(pal)
    assert set(config) == {"config"}
    assert set(config["config"]["range"]) >= {"category", "ramp", "diverging", "heatmap"}


def test_re_registering_a_name_replaces_its_colours(pal):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        register_theme(pal, name="m2p_again")
        register_theme(Palette.from_hex(["#2a9d8f", "#e9c46a", "#264653"]), name="m2p_again",
                       n=3, **EXACT)
    with alt.theme.enable("m2p_again"):
        cats = _bar_chart().to_dict()["config"]["range"]["category"]
    assert sorted(cats) == sorted(["#2a9d8f", "#e9c46a", "#264653"])


def test_scale_helper_for_users_with_their_own_theme(pal):
    sc = scale(pal, n=len(pal), **EXACT)
    assert isinstance(sc, alt.Scale)
    spec = _bar_chart(scale=sc).to_dict()
    assert sorted(spec["encoding"]["color"]["scale"]["range"]) == sorted(HEXES)
    div = scale(pal, "diverging", reverse=True, domainMid=0).to_dict()
    assert div["domainMid"] == 0 and len(div["range"]) == 11
    with pytest.raises(ValueError, match="kind must be one of"):
        scale(pal, "rainbow")
    # Through the m2p front door (the plugin manager).
    assert m2p.hooks.front_doors.altair.scale(pal, n=len(pal), **EXACT).to_dict() == sc.to_dict()


def test_track_at_and_beyond_the_end():
    a = Palette.from_hex(["#d62828", "#003049", "#fcbf49"])
    b = Palette.from_hex(["#7209b7", "#3a0ca3", "#4cc9f0"])
    track = PaletteTrack(times=[1.0, 3.0], palettes=(a, b), window=2.0, hop=2.0, duration=4.0)
    register_theme(track, name="m2p_late", at=3.0, n=3, **EXACT)
    with alt.theme.enable("m2p_late"):
        cats = _bar_chart().to_dict()["config"]["range"]["category"]
    assert sorted(cats) == sorted(track.at(3.0).hex)
    with pytest.raises(TrackError, match="outside the track"):
        register_theme(track, name="m2p_too_late", at=4.5)
    assert "m2p_too_late" not in alt.theme.names()


def test_themed_chart_renders_song_colours_to_png_and_svg(pal):
    vlc = pytest.importorskip("vl_convert")
    from io import BytesIO

    from PIL import Image

    register_theme(pal, name="m2p_render", n=len(pal), **EXACT)
    with alt.theme.enable("m2p_render"):
        spec = _bar_chart().to_dict()
    svg = vlc.vegalite_to_svg(spec)
    for hex_colour in HEXES:
        assert hex_colour in svg.lower()
    img = np.asarray(Image.open(BytesIO(vlc.vegalite_to_png(spec, scale=1))).convert("RGB"))
    for hex_colour in HEXES:
        rgb = np.array([int(hex_colour[k:k + 2], 16) for k in (1, 3, 5)])
        assert (np.abs(img.astype(int) - rgb).max(axis=-1) <= 2).sum() > 100, hex_colour


def test_theme_from_audio_reuses_the_cached_inference(tmp_path, tiny_model_dir, monkeypatch):
    import soundfile as sf

    import m2p.api
    import m2p.cache

    sr = 22050
    t = np.arange(int(2.5 * sr)) / sr
    sf.write(tmp_path / "tune.wav", (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    calls = []  # the model runs (engine passes): one, shared by theme, scale and style
    real = m2p.api.run_inference
    monkeypatch.setattr(m2p.api, "run_inference", lambda *a, **k: calls.append(1) or real(*a, **k))
    m2p.cache.clear()
    kw = dict(model=tiny_model_dir, device="cpu", window=2.0, hop=1.0)
    register_theme(tmp_path / "tune.wav", name="m2p_tune", **kw)
    sc = scale(tmp_path / "tune.wav", **kw)
    rc = m2p.hooks.front_doors.style(tmp_path / "tune.wav", **kw)
    assert len(calls) == 1
    with alt.theme.enable("m2p_tune"):
        cats = _bar_chart().to_dict()["config"]["range"]["category"]
    assert cats == sc.to_dict()["range"] == [c for c in rc["axes.prop_cycle"].by_key()["color"]]


def test_eight_categories_get_eight_distinct_legible_colours(pal):
    pytest.importorskip("colour")
    vlc = pytest.importorskip("vl_convert")
    from cvd_reference import cs_min_distance

    from m2p.colour.distinct import DEFAULT_MIN_DISTANCE

    register_theme(pal, name="m2p_eight")  # five palette colours, defaults otherwise
    data = [{"kind": k, "value": v} for k, v in zip("ABCDEFGH", [3, 5, 2, 4, 6, 1, 7, 2])]
    chart = alt.Chart(alt.Data(values=data)).mark_bar().encode(x="kind:N", y="value:Q",
                                                               color="kind:N")
    with alt.theme.enable("m2p_eight"):
        spec = chart.to_dict()
    category = spec["config"]["range"]["category"]
    assert len(category) >= 8 and len(set(category[:8])) == 8  # category F is not A again
    assert cs_min_distance(category[:8]) >= DEFAULT_MIN_DISTANCE
    for c in category:
        assert colour.contrast_ratio(c, "#ffffff") >= 3.0, c
    svg = vlc.vegalite_to_svg(spec).lower()
    assert all(c in svg for c in category[:8])  # every bar drawn in its own colour
