"""The m2p command line: output forms, files, errors and exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from m2p.cli import core as cli
from m2p.audio.decode import SAMPLE_RATE
from m2p.palette_types import Palette, PaletteTrack

HEX_LINE = r"^#[0-9a-f]{6}$"
FAST = ["--window", "2", "--hop", "1", "--device", "cpu"]


@pytest.fixture
def song(tmp_path) -> Path:
    t = np.arange(int(3.5 * SAMPLE_RATE)) / SAMPLE_RATE
    y = 0.3 * np.sin(2 * np.pi * (220 + 40 * t) * t) * (1 + 0.5 * np.sin(3 * t))
    path = tmp_path / "song.wav"
    sf.write(str(path), y.astype(np.float32), SAMPLE_RATE)
    return path


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_palette_prints_plain_hex_when_not_a_tty(song, tiny_model_dir, capsys):
    assert cli.main(["palette", str(song), "--model", str(tiny_model_dir), *FAST]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert 3 <= len(lines) <= 8
    assert all(len(line) == 7 and line.startswith("#") for line in lines)
    assert "\x1b[" not in out and err == ""


def test_palette_prints_true_colour_swatches_on_a_tty(song, tiny_model_dir, monkeypatch):
    fake = FakeTTY()
    monkeypatch.setattr(sys, "stdout", fake)
    monkeypatch.delenv("TERM", raising=False)
    assert cli.main(["palette", str(song), "--model", str(tiny_model_dir), "-q", *FAST]) == 0
    text = fake.getvalue()
    assert "\x1b[48;2;" in text and "#" in text


def test_palette_json(song, tiny_model_dir, capsys):
    args = ["palette", str(song), "--model", str(tiny_model_dir), "--json", "--seed", "3", *FAST]
    assert cli.main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["seed"] == 3 and data["source"] == str(song)
    palette = Palette.from_dict(data)
    assert list(palette.hex) == data["hex"]


def test_palette_count_gives_several(song, tiny_model_dir, capsys):
    args = ["palette", str(song), "--model", str(tiny_model_dir), "-n", "3", "--noise", "3",
            "--json", *FAST]
    assert cli.main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert isinstance(data, list) and len(data) == 3


def test_same_seed_same_output(song, tiny_model_dir, capsys):
    args = ["palette", str(song), "--model", str(tiny_model_dir), "--seed", "11", "--noise", "1", *FAST]
    cli.main(args)
    first = capsys.readouterr().out
    cli.main(args)
    assert capsys.readouterr().out == first


def test_track_writes_json_and_png(song, tiny_model_dir, tmp_path, capsys):
    out_json, out_png = tmp_path / "track.json", tmp_path / "timeline.png"
    args = ["track", str(song), "--model", str(tiny_model_dir), "-o", str(out_json),
            "--png", str(out_png), *FAST]
    assert cli.main(args) == 0
    track = PaletteTrack.load_json(out_json)
    # 0-2 s, 1-3 s, tail; the hop is 1 s rounded to whole 512-sample frames
    assert len(track) == 3 and track.window == 2.0 and track.hop == 43 * 512 / 22050
    assert len(track) == len(track.times)
    with Image.open(out_png) as image:
        assert image.format == "PNG" and image.width > 400


def test_track_summary_and_stdout_json(song, tiny_model_dir, capsys):
    assert cli.main(["track", str(song), "--model", str(tiny_model_dir), *FAST]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.split()[1].startswith("#") for line in lines)
    assert cli.main(["track", str(song), "--model", str(tiny_model_dir), "-o", "-", *FAST]) == 0
    assert PaletteTrack.from_json(capsys.readouterr().out).duration == pytest.approx(3.5, abs=1e-3)


def test_missing_file_is_one_line_and_exit_1(tiny_model_dir, tmp_path, capsys):
    code = cli.main(["palette", str(tmp_path / "nope.wav"), "--model", str(tiny_model_dir)])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("m2p: error: ") and "nope.wav" in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_not_audio_is_one_line_and_exit_1(tiny_model_dir, tmp_path, capsys):
    path = tmp_path / "readme.wav"
    path.write_text("hello\n" * 100)
    assert cli.main(["palette", str(path), "--model", str(tiny_model_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("m2p: error: ") and err.count("\n") == 1


def test_too_short_is_one_line_and_exit_1(tiny_model_dir, tmp_path, capsys):
    path = tmp_path / "blip.wav"
    sf.write(str(path), np.zeros(SAMPLE_RATE // 3, dtype=np.float32), SAMPLE_RATE)
    assert cli.main(["palette", str(path), "--model", str(tiny_model_dir)]) == 1
    err = capsys.readouterr().err
    assert "blip.wav" in err and err.count("\n") == 1


def test_model_not_found_message(song, tmp_path, monkeypatch, capsys):
    empty = tmp_path / "empty_models"
    empty.mkdir()
    monkeypatch.setenv("M2P_MODEL_DIR", str(empty))
    assert cli.main(["palette", str(song), *FAST]) == 1
    err = capsys.readouterr().err
    assert err.startswith("m2p: error: ") and str(empty) in err and "M2P_MODEL_DIR" in err
    assert err.count("\n") == 1


def test_unwritable_output_is_one_line(song, tiny_model_dir, tmp_path, capsys):
    target = tmp_path / "no_such_dir" / "t.png"
    args = ["track", str(song), "--model", str(tiny_model_dir), "--png", str(target), *FAST]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("m2p: error: ") and err.count("\n") == 1


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["palette"],
        ["palette", "x.wav", "--window", "0"],
        ["palette", "x.wav", "--hop", "-1"],
        ["palette", "x.wav", "--seed", "abc"],
        ["palette", "x.wav", "--noise", "nan"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2(args, capsys):
    assert cli.main(args) == 2


def test_help_and_version(capsys):
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "palette" in out and "track" in out
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("m2p ")
    assert cli.main(["track", "--help"]) == 0
    assert "--window" in capsys.readouterr().out


def test_registry_entries_are_importable():
    import importlib

    for entry in cli.SUBCOMMANDS:
        assert callable(getattr(importlib.import_module(entry.module), entry.function))


def test_python_dash_m_subprocess(song, tiny_model_dir):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(
        [sys.executable, "-m", "m2p", "palette", str(song), "--model", str(tiny_model_dir),
         "--json", *FAST],
        capture_output=True, text=True, timeout=240, env=env,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert 3 <= len(data["hex"]) <= 8 and len(data["lch"]) == len(data["hex"])
    assert "Traceback" not in result.stderr


def test_import_m2p_does_not_import_torch():
    code = "import sys, m2p; print('torch' in sys.modules, callable(m2p.palette))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.split() == ["False", "True"]


def test_palette_function_survives_submodule_imports():
    import m2p
    import m2p.api  # noqa: F401
    import m2p.palette_types  # noqa: F401  (the value-type submodule)

    assert callable(m2p.palette) and m2p.Palette is Palette


def test_unavailable_device_is_one_line(song, tiny_model_dir, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    args = ["palette", str(song), "--model", str(tiny_model_dir), "--device", "cuda"]
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("m2p: error: ") and "cuda" in err.lower() and err.count("\n") == 1
