"""What a user sees around the results: one summary line per command, an example under every
``--help``, ``NO_COLOR``, a progress bar on a terminal that reports 0 columns, notebook HTML
and timeline pictures that stay readable, the packaging extras."""

from __future__ import annotations

import base64
import fcntl
import io
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pytest

from m2p.palette_types import Palette, PaletteTrack

ROOT = Path(__file__).resolve().parents[1]
SR = 22050
FIVE = Palette.from_hex(["#d62828", "#f77f00", "#fcbf49", "#2a9d8f", "#264653"])
THREE = Palette.from_hex(["#2a4858", "#3a6a7a", "#8fb3c0"])


def _song(path: Path, seconds: float = 3.0) -> Path:
    import soundfile

    t = np.arange(int(seconds * SR)) / SR
    soundfile.write(str(path), (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), SR)
    return path


def _cli(argv: list[str]) -> int:
    import m2p.cli.core as cli

    return cli.main(argv)


def _pty_run(argv: list[str], env: dict[str, str], *, columns: int = 100) -> str:
    """Run ``python -m m2p ARGV`` with stdout and stderr on a pseudo-terminal; its output."""
    return _pty_python(["-m", "m2p", *argv], env, columns=columns)


def _pty_python(args: list[str], env: dict[str, str], *, columns: int = 100) -> str:
    """Run ``python ARGS`` with stdout and stderr on a pseudo-terminal; its output."""
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm", **env}
    proc = subprocess.Popen([sys.executable, *args], stdout=secondary,
                            stderr=secondary, stdin=subprocess.DEVNULL, env=full_env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(main)
    return b"".join(chunks).decode("utf-8", "replace")


def _drain(fd: int) -> str:
    """Everything written to a pseudo-terminal so far (reads until it stays quiet)."""
    import select

    chunks = []
    while select.select([fd], [], [], 0.5)[0]:
        data = os.read(fd, 65536)
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode("utf-8", "replace")


def test_each_command_ends_with_one_summary_line(tmp_path: Path, tiny_model_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("moviepy")
    from PIL import Image

    from m2p_plugins.video.media import ffmpeg_exe

    song = _song(tmp_path / "song.wav")
    model = ["--model", str(tiny_model_dir), "-q"]
    clip = tmp_path / "in.mp4"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x48:rate=10:duration=1", str(clip)], check=True,
                   stdin=subprocess.DEVNULL)
    photo = tmp_path / "p.png"
    Image.fromarray(np.full((30, 40, 3), 90, np.uint8)).save(photo)
    data = tmp_path / "d.csv"
    data.write_text("year,a,b\n2000,1,2\n2001,3,1\n")
    runs = {
        "track": (["track", str(song), "-o", str(tmp_path / "t.json"), *model], "t.json",
                  r"palettes over 3\.0 s"),
        "grade": (["grade", str(clip), "--music", str(song), "-o", str(tmp_path / "g.mp4"),
                   "--preset", "ultrafast", *model], "g.mp4", r"1\.0 s, 64x48, graded to song"),
        "recolor": (["recolor", str(photo), "--music", str(song), "-o", str(tmp_path / "r.png"),
                     *model], "r.png", r"40x30, p\.png recoloured to song\.wav"),
        "race": (["race", str(data), "--music", str(song), "-o", str(tmp_path / "race.mp4"),
                  "--size", "160x90", "--fps", "5", "--preset", "ultrafast", *model],
                 "race.mp4", r"3\.0 s, 160x90, race of d\.csv to song\.wav"),
    }
    for name, (argv, written, detail) in runs.items():
        capsys.readouterr()
        assert _cli(argv) == 0, name
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 1, (name, lines)
        assert lines[0].startswith(str(tmp_path / written) + ": "), lines[0]
        assert re.search(detail, lines[0]), (name, lines[0])
        assert re.search(r"; palette( #[0-9a-f]{6}){3,}$", lines[0]), lines[0]


@pytest.mark.parametrize("command", ["palette", "track", "live", "plugins", "grade", "recolor",
                                     "race", "export", "batch", "gallery", "match"])
def test_help_shows_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli([command, "--help"]) == 0
    text = capsys.readouterr().out
    example = text.split("example:", 1)[1]
    assert f"m2p {command}" in example or f"| m2p {command}" in example


def test_no_color_turns_swatches_into_plain_text(tiny_model_dir: Path, tmp_path: Path) -> None:
    song = _song(tmp_path / "song.wav", 2.0)
    argv = ["palette", str(song), "--model", str(tiny_model_dir), "-q"]
    # Both runs in one process on one terminal, so both print the one palette the model gave
    # (the second comes from the result cache): this test is about the printing. (A random
    # tiny model on a pure tone moves a colour by 1/255 for a 1e-5 change of the samples, and
    # once on CI two processes differed by that much.)
    script = ("import os, sys; from m2p.cli.core import main; argv = sys.argv[1:]\n"
              "os.environ['NO_COLOR'] = ''; main(argv)\n"  # empty: no effect (no-color.org)
              "print('=== NO_COLOR=1', flush=True)\n"
              "os.environ['NO_COLOR'] = '1'; main(argv)\n")
    coloured, plain = _pty_python(["-c", script, *argv], {}).split("=== NO_COLOR=1")
    assert "\x1b[48;2;" in coloured
    assert "\x1b[" not in plain
    codes = re.findall(r"#[0-9a-f]{6}", plain)
    assert codes and codes == re.findall(r"#[0-9a-f]{6}", coloured)
    assert "mood: " in plain


def test_a_reader_that_leaves_early_stops_the_command_quietly(tmp_path: Path) -> None:
    # `m2p plugins | head -1`, with the reader gone before the first line: no "Broken pipe"
    # error line, the status a shell gives such a writer (128 + SIGPIPE).
    proc = subprocess.Popen([sys.executable, "-m", "m2p", "plugins"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == ""


def test_progress_bar_draws_on_a_terminal_reporting_zero_columns() -> None:
    from tqdm import tqdm

    from m2p._internal.progress import bar_width

    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
    with os.fdopen(secondary, "w", closefd=True) as term:
        assert os.get_terminal_size(term.fileno()).columns == 0
        options = bar_width(term)
        assert options.get("ncols", 0) >= 20
        bar = tqdm(total=4, file=term, desc="song.wav", mininterval=0, miniters=1, **options)
        for _ in range(4):
            bar.update(1)
        bar.close()
        term.flush()
        text = _drain(main)
    os.close(main)
    assert "song.wav" in text and "4/4" in text and "100%" in text
    # A terminal with a width keeps following resizes.
    main, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with os.fdopen(secondary, "w", closefd=True) as term:
        assert bar_width(term) == {"dynamic_ncols": True}
    os.close(main)


def test_notebook_html_fits_and_says_the_mood() -> None:
    from PIL import Image

    palettes = [FIVE if (i // 8) % 2 == 0 else THREE for i in range(26)]
    track = PaletteTrack(np.arange(26) * 2.5 + 5.0, palettes, window=10.0, hop=2.5,
                         duration=75.0)
    html = track._repr_html_()
    data = re.search(r"base64,([^\"]+)\"", html).group(1)
    image = Image.open(io.BytesIO(base64.b64decode(data)))
    assert image.width <= 880  # shown at its size, not a 1,700 px picture squeezed to 880
    assert f'width="{image.width}"' in html
    moods = re.search(r"mood: ([^<]+)</figcaption>", html).group(1)
    assert moods.count("→") >= 1 and "(0:00)" in moods  # the mood over time, as text
    assert "mood: " in FIVE._repr_html_().split("</div>", 5)[-1]  # visible, not a tooltip only


def test_timeline_has_no_hard_stripe_where_the_palette_length_changes() -> None:
    from m2p.exporters.render import timeline_layout, track_timeline

    track = PaletteTrack([5.0, 7.5, 10.0, 12.5, 15.0, 17.5], [FIVE, FIVE, THREE, THREE, FIVE, FIVE],
                         window=10.0, hop=2.5, duration=22.0)
    layout = timeline_layout(track.duration)
    body = np.asarray(track_timeline(track), dtype=np.int32)[
        layout.top:layout.top + layout.height, layout.left:layout.left + layout.width]
    step = np.abs(np.diff(body, axis=1)).sum(-1)  # colour change between neighbouring columns
    changed = (step > 60).mean(axis=0)  # share of rows that jump, per column step
    # A hard stripe switches most rows at once (two thirds of them for 5 -> 3 bands).
    assert changed.max() < 0.1
    # Where the length does not change, bands are exactly equal (5 bands of 44 rows).
    first = body[:, 0]
    assert len({tuple(c) for c in first}) == 5
    assert (np.abs(np.diff(first, axis=0)).sum(-1) > 0).sum() == 4


def test_altair_extra_saves_png_charts(tmp_path: Path) -> None:
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(req.startswith("vl-convert-python") for req in extras["altair"])
    alt = pytest.importorskip("altair")
    pytest.importorskip("vl_convert")
    chart = alt.Chart(alt.Data(values=[{"x": i, "y": i * i} for i in range(5)])).mark_line(
        color=FIVE.hex[0]).encode(x="x:Q", y="y:Q")
    chart.save(str(tmp_path / "chart.png"))
    from PIL import Image

    with Image.open(tmp_path / "chart.png") as image:
        assert image.width > 100 and image.height > 100
