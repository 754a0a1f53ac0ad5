"""In an environment with only the core installed, every adapter entry point and command says
which extra to install (one line, a non-zero exit) and ``m2p plugins`` lists what is missing.

The environment is a real virtual environment (``python -m venv``) holding exactly the core's
distributions: ``pyproject.toml``'s ``dependencies`` and what they require, linked from the
installed wheels of the test environment (the files pip would put there); the checkout is on
``PYTHONPATH``. No optional package (Matplotlib, Altair, MoviePy, Plotly, Bokeh, pyarrow...) is
importable in it.
"""

from __future__ import annotations

import importlib.metadata as metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "savino_caribbean_excerpt.ogg"
PHOTO = REPO / "tests" / "data" / "bowl_by_freespace.jpg"
OPTIONAL = ("matplotlib", "cycler", "altair", "moviepy", "plotly", "bokeh", "pyarrow", "pandas",
            "ray", "vl_convert", "kaleido")


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _core_closure() -> list[metadata.Distribution]:
    from packaging.requirements import Requirement

    core = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [Requirement(r).name for r in core]
    seen: dict[str, metadata.Distribution] = {}
    while todo:
        name = todo.pop()
        if _key(name) in seen:
            continue
        dist = metadata.distribution(name)
        seen[_key(name)] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values())


@pytest.fixture(scope="module")
def core_python(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("core_only")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")],
                   check=True, timeout=120)
    site = root / "site"
    site.mkdir()
    for dist in _core_closure():
        base = Path(dist.locate_file(""))
        for top in {Path(str(f)).parts[0] for f in dist.files or []}:
            if top in ("..", "__pycache__") or (site / top).exists():
                continue
            if (base / top).exists():
                (site / top).symlink_to(base / top)
    python = root / "venv" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; "
                              "print(sysconfig.get_paths()['purelib'])"], check=True,
                             capture_output=True, text=True).stdout.strip()
    Path(purelib, "core.pth").write_text(str(site) + "\n")
    return python


def _run(python: Path, args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run([str(python), *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd, env=env)


def test_the_environment_is_core_only(core_python, tmp_path):
    code = ("import importlib.util, json\n"
            f"print(json.dumps([m for m in {OPTIONAL!r} if importlib.util.find_spec(m)]))\n"
            "import m2p, torch, numpy, scipy, soundfile\n")
    result = _run(core_python, ["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


PYTHON_ENTRY_POINTS = {
    "m2p.style(p)": "matplotlib",
    "m2p.register_colormaps(p)": "matplotlib",
    "m2p.altair.register_theme(p)": "altair",
    "m2p.plotly.register_template(p)": "plotly",
    "m2p.bokeh.theme(p)": "bokeh",
    f"m2p.video.grade_video('clip.mp4', {str(EXAMPLE)!r}, 'out.mp4')": "video",
    "m2p.video.bar_chart_race('d.csv', p, 'race.mp4')": "video",
    f"m2p.match({str(PHOTO)!r}, 'library.parquet')": "library",
    f"m2p.batch([{str(EXAMPLE)!r}], output='library.parquet')": "library",
}


@pytest.mark.parametrize("call", list(PYTHON_ENTRY_POINTS))
def test_python_entry_points_name_the_extra(core_python, tmp_path, call):
    extra = PYTHON_ENTRY_POINTS[call]
    code = ("import m2p\n"
            "from m2p.errors import MissingExtraError\n"
            "p = m2p.Palette.from_hex(['#604648', '#b26063', '#e2867a', '#edc2a6', '#dbd1be'])\n"
            "try:\n"
            f"    {call}\n"
            "except MissingExtraError as exc:\n"
            "    print(exc.extra, '|', exc)\n")
    (tmp_path / "d.csv").write_text("year,a,b\n2000,1,2\n2001,2,1\n")
    result = _run(core_python, ["-c", code], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    got, _, message = result.stdout.strip().partition(" | ")
    assert got == extra, result.stdout
    assert message.endswith(f'pip install "music2palette[{extra}]"'), message
    assert "\n" not in message


CLI_COMMANDS = {
    ("grade", "clip.mp4", "--music", str(EXAMPLE), "-o", "out.mp4"): "video",
    ("race", "d.csv", "--music", str(EXAMPLE), "-o", "race.mp4"): "video",
    ("match", str(PHOTO), "--library", "library.parquet"): "library",
    ("batch", str(EXAMPLE), "-o", "library.parquet"): "library",
    ("gallery", "library.parquet", "-o", "site"): "library",
}


@pytest.mark.parametrize("argv", list(CLI_COMMANDS), ids=lambda a: a[0])
def test_commands_print_the_install_line_and_fail(core_python, tmp_path, argv):
    extra = CLI_COMMANDS[argv]
    (tmp_path / "d.csv").write_text("year,a,b\n2000,1,2\n2001,2,1\n")
    (tmp_path / "library.parquet").write_bytes(b"PAR1")
    result = _run(core_python, ["-m", "m2p", *argv, "--device", "cpu"] if argv[0] == "batch"
                  else ["-m", "m2p", *argv], tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("m2p: error: ") and "internal error" not in lines[0], lines
    assert lines[0].endswith(f'pip install "music2palette[{extra}]"'), lines


def test_plugins_lists_what_is_missing(core_python, tmp_path):
    result = _run(core_python, ["-m", "m2p", "plugins"], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[1:]
            if not line.startswith(" ")}
    assert "missing: moviepy, matplotlib" in rows["video"]
    for name in ("matplotlib", "altair", "plotly", "bokeh"):
        assert f"missing: {name}" in rows[name] and "loaded" not in rows[name]
    assert 'missing: moviepy, matplotlib (pip install "music2palette[video]")' in rows["video"]
    as_json = json.loads(_run(core_python, ["-m", "m2p", "plugins", "--json"], tmp_path).stdout)
    assert {d["name"]: d["missing"] for d in as_json}["altair"] == ["altair"]


def test_what_needs_no_extra_works_in_the_core(core_python, tmp_path):
    """Recolouring a photo and exporting a LUT need only the core (Pillow, torch)."""
    for argv in (["recolor", str(PHOTO), "--music", str(EXAMPLE), "-o", "out.jpg", "-q"],
                 ["export", str(EXAMPLE), "--format", "cube", "-o", "look.cube", "-q"]):
        result = _run(core_python, ["-m", "m2p", *argv], tmp_path)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.jpg").stat().st_size > 0 and (tmp_path / "look.cube").exists()


def test_plotly_extra_can_export_pictures():
    """``fig.write_image`` needs kaleido: the ``[plotly]`` extra installs it (and ``[all]``)."""
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    for extra in ("plotly", "all"):
        assert any(_key(req).startswith("kaleido") for req in extras[extra]), extra
