"""Issue 24's smaller items: category colours that follow the theme's background, colormap
aliases, the ``m2p.video.recolor`` shadowing bug, the hop a summary prints, format names in
any case."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import m2p
from m2p.colour.convert_np import hex_to_lch
from m2p.colour.vision import contrast_ratio
from m2p.palette_types import Palette

SONG = Palette.from_hex(["#604648", "#b26063", "#e2867a", "#edc2a6", "#dbd1be"])  # love_theme


def _all_legible(colours, background) -> bool:
    return min(float(contrast_ratio(c, background)) for c in colours) >= 3.0


def test_bokeh_palette_follows_the_theme_in_force():
    pytest.importorskip("bokeh")
    from bokeh.io import curdoc

    doc = curdoc()
    before = doc.theme
    try:
        light = m2p.bokeh.palette(SONG)
        assert _all_legible(light, "#ffffff")
        doc.theme = m2p.bokeh.theme(SONG, dark=True)  # the README's dark example
        background = doc.theme._json["attrs"]["Plot"]["background_fill_color"]
        dark = m2p.bokeh.palette(SONG)
        assert dark == m2p.bokeh.palette(SONG, dark=True) != light
        assert _all_legible(dark, background)
        assert m2p.bokeh.palette(SONG, dark=False) == light
    finally:
        doc.theme = before


def test_plotly_colorway_follows_the_default_template():
    pytest.importorskip("plotly")
    import plotly.io as pio

    before = pio.templates.default
    try:
        pio.templates.default = "plotly"  # plot background #E5ECF6
        assert _all_legible(m2p.plotly.colorway(SONG), "#e5ecf6")
        m2p.plotly.register_template(SONG, name="m2p_dark_test", dark=True)
        pio.templates.default = "m2p_dark_test"
        background = pio.templates["m2p_dark_test"].layout.plot_bgcolor
        colours = m2p.plotly.colorway(SONG)
        assert colours == list(pio.templates["m2p_dark_test"].layout.colorway)
        assert _all_legible(colours, background)
    finally:
        pio.templates.default = before


def test_altair_dark_theme_has_dark_legible_categories():
    pytest.importorskip("altair")
    config = m2p.altair.theme_config(SONG, dark=True)["config"]
    background = config["view"]["fill"]
    assert hex_to_lch([background])[0, 0] < 15
    assert _all_legible(config["range"]["category"], background)
    assert m2p.altair.colors(SONG, dark=True) == list(config["range"]["category"])


def test_hyphenated_colormap_names_are_aliases(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib as mpl

    from m2p_plugins.matplotlib._colormaps import hyphenated_alias, register_palette

    assert hyphenated_alias("music/battle-epic.ogg", "battle_epic") == "battle-epic"
    assert hyphenated_alias("music/battle-epic.ogg", "battle_epic_t30") == "battle-epic_t30"
    assert hyphenated_alias("love_theme.ogg", "love_theme") is None
    register_palette(SONG, stem="battle_epic")
    register_palette(SONG, stem="battle-epic")
    for suffix in ("", "_diverging", "_qualitative", "_r"):
        a, b = mpl.colormaps["m2p.battle_epic" + suffix], mpl.colormaps["m2p.battle-epic" + suffix]
        x = np.linspace(0, 1, 7)
        assert np.allclose(a(x), b(x))


def test_video_recolor_stays_the_function_after_its_module_is_imported():
    # In a fresh interpreter: touching export_cube imports the recolor module, which used to
    # rebind m2p.video.recolor to that module ("'module' object is not callable").
    code = ("import m2p, importlib\n"
            "m2p.video.export_cube\n"
            "importlib.import_module('m2p_plugins.video.recolor')\n"
            "import m2p_plugins.video.recolor\n"
            "assert callable(m2p.video.recolor), m2p.video.recolor\n"
            "from m2p_plugins.video.recolor import read_image\n"
            "import m2p_plugins.video as v\n"
            "import inspect\n"
            "assert v.recolor is inspect.unwrap(m2p.video.recolor)  # the door's wrapper\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_track_summary_prints_the_hop_asked_for(tmp_path, tiny_model_dir, capsys):
    import soundfile

    import m2p.cli.core as cli

    song = tmp_path / "song.wav"
    t = np.arange(22050 * 4) / 22050
    soundfile.write(str(song), (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 22050)
    assert cli.main(["track", str(song), "-o", str(tmp_path / "t.json"), "--window", "2",
                     "--hop", "0.5", "--model", str(tiny_model_dir), "--device", "cpu",
                     "-q"]) == 0
    out = capsys.readouterr().out
    assert "window 2 s, hop 0.5 s" in out
    track = m2p.PaletteTrack.from_json((tmp_path / "t.json").read_text())
    assert track.hop != 0.5 and abs(track.hop - 0.5) < 0.03  # the exact one stays in the JSON


def test_format_names_are_case_insensitive(tmp_path):
    from m2p.exporters.formats import export, find_format

    assert find_format("CSS").name == "css"
    written = export(SONG, tmp_path / "p.css", format="Css")
    assert Path(written[0]).read_text().startswith(":root")
    pytest.importorskip("moviepy")
    import m2p.cli.core as cli

    assert cli.main(["export", "--format", "CUBE", "-o", str(tmp_path / "look.cube"),
                     str(Path(__file__).resolve().parents[1] / "examples" /
                         "savino_caribbean_excerpt.ogg"), "--size", "4", "-q"]) in (0,)
    assert (tmp_path / "look.cube").exists()


@pytest.mark.parametrize("argv", [["grade", "{song}", "--music", "{song}", "-o", "out.mp4"],
                                  ["match", "{song}", "--library", "library.parquet"]],
                         ids=["grade", "match"])
def test_audio_given_as_footage_is_one_error_line(tmp_path, argv, tiny_model_dir):
    """MoviePy warned ("3 bytes wanted but 0 bytes read") before the clear error."""
    pytest.importorskip("moviepy")
    pytest.importorskip("pyarrow")
    song = Path(__file__).resolve().parents[1] / "examples" / "savino_caribbean_excerpt.ogg"
    m2p.batch(song, output=tmp_path / "library.parquet", model=tiny_model_dir, device="cpu",
              window=2.0, hop=1.0, workers=1)
    result = subprocess.run([sys.executable, "-m", "m2p", *[a.format(song=song) for a in argv]],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path,
                            env={**__import__("os").environ,
                                 "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"m2p: error: {song}: cannot read video (no video stream)"], result.stderr


def test_demo_says_what_it_is_doing_before_each_long_step(tmp_path):
    """demo.sh was silent for its first ~50 s (set-up, model load): each step is announced
    before it runs. The set-up script and m2p are stand-ins that log when they run."""
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "demo.sh").write_text((repo / "scripts" / "demo.sh").read_text())
    log = tmp_path / "log.txt"
    (tmp_path / "scripts" / "setup.sh").write_text(f'echo "RUN setup $*" >> {log}\n')
    for first_run in (True, False):
        if not first_run:
            (tmp_path / ".venv" / "bin").mkdir(parents=True)
            m2p_stub = tmp_path / ".venv" / "bin" / "m2p"
            m2p_stub.write_text(f'#!/bin/sh\necho "RUN m2p $1" >> {log}\n')
            m2p_stub.chmod(0o755)
        log.write_text("")
        with open(log, "a") as said:  # the script's messages and the stand-ins' runs, in order
            result = subprocess.run(["bash", "scripts/demo.sh"], cwd=tmp_path, stderr=said,
                                    stdout=subprocess.DEVNULL, timeout=60)
        if first_run:  # no .venv/bin/m2p: the stand-in set-up does not make one, m2p fails
            assert result.returncode != 0
        lines = log.read_text().splitlines()
        assert lines[0].startswith("demo: "), lines  # before the set-up
        assert ("first run" in lines[0]) == first_run
        if not first_run:
            steps = [i for i, line in enumerate(lines) if line.startswith("RUN")]
            assert [lines[i] for i in steps] == ["RUN setup all", "RUN m2p palette",
                                                 "RUN m2p track"], lines
            for i in steps:  # each run announced by the line before it
                assert lines[i - 1].startswith("demo: "), lines
