"""The README's examples run as written (the project guide's rule).

README.md is parsed at test time, so a block added, changed or removed there is tested as it is
now; each fenced block is one test, named by the README line of its opening fence
(``python-L34``, ``bash-L65``).

* Every ```python block runs with :func:`exec` in a fresh namespace.
* Every ```bash line that starts with ``m2p `` runs as ``python -m m2p ...`` (the same CLI, from
  the interpreter running the tests) and must exit 0. Every other line must be on
  :data:`SKIPPED_LINES` with its reason, so a new command in the README cannot go untested
  silently.

Both run in a fresh temporary folder holding real stand-ins for the files the README names
(:func:`_make_standins`): ``song.mp3`` is the first :data:`SONG_SECONDS` of
``examples/savino_caribbean_excerpt.ogg`` re-encoded by ffmpeg (short, so ``--realtime``, the
races that last as long as the song and every inference stay cheap), ``clip.mp4`` / ``in.mp4``
a short pan over a real photo encoded by ffmpeg, ``photo.jpg`` that photo
(``tests/data/bowl_by_freespace.jpg``: neither scikit-image's sample photos nor OpenCV's are
installed with the test extras), ``data.csv`` a wide
table as ``m2p race`` reads it, and ``Music/`` (``$HOME`` is the temporary folder, so
``~/Music`` is that folder) with two songs. The names the README leaves to the reader ("your
data": ``data``, ``chart``...) come from :data:`PLACEHOLDERS`, and nothing else is given.

No palette or hex code is asserted (the shipped model changes); a block passes when it runs
without an exception, and a command when it exits 0 and writes what it says it writes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXAMPLE_SONG = ROOT / "examples" / "savino_caribbean_excerpt.ogg"
PHOTO = ROOT / "tests" / "data" / "bowl_by_freespace.jpg"  # a real photo (tests/data/README.md)

SONG_SECONDS = 5.0
"""Length of the ``song.mp3`` stand-in: long enough for the README's times (``at=3.0``,
``--music-start 3``, a 1.5 s clip after it), short enough that ``m2p live --realtime`` and
the races (which last as long as the song) take seconds."""

CLIP_SECONDS = 1.5
"""Length of the ``clip.mp4`` / ``in.mp4`` stand-in."""

SKIPPED_LINES: dict[str, str] = {
    r"^bash scripts/": "sets up a virtual environment and runs the demo or the whole suite "
                       "(CI runs scripts/test.sh itself)",
    r"^pip install ": "installation: would change the environment the tests run in",
    r"^python -m training\.": "training: needs the corpus build (apt-get, npm, fluidsynth) and "
                             "hours of CPU; tests/test_training*.py cover the code",
    r"^ffmpeg -i URL ": "reads a stream from a URL (no network in tests); test_bash_live_stdin "
                        "runs the same pipe from a local file",
}
"""README bash lines that are not run, as a regular expression -> why. Any other line that does
not start with ``m2p `` fails the test, so it must be run or listed here."""


def _block_samples() -> np.ndarray:
    """``block`` for ``PaletteStream(sample_rate=44100).feed(block)``: 11 s of the real example
    song at 44,100 Hz mono, so one 10 s window completes and the loop body runs."""
    from m2p.audio.decode import load

    return load(str(EXAMPLE_SONG), target_rate=44100, max_seconds=11.0)


def _chart() -> Any:
    import altair as alt
    import pandas as pd

    table = pd.DataFrame({"kind": list("abcd"), "n": [3, 5, 2, 4]})
    return alt.Chart(table).mark_bar().encode(x="kind:N", y="n:Q", color="kind:N")


def _df() -> Any:
    import pandas as pd

    t = np.arange(6.0)
    return pd.DataFrame({"t": np.tile(t, 2), "v": np.r_[np.sin(t), np.cos(t)],
                         "voice": ["soprano"] * 6 + ["alto"] * 6})


PLACEHOLDERS: dict[str, Callable[[], Any]] = {
    "block": _block_samples,                                               # audio samples
    "data": lambda: np.random.default_rng(0).normal(size=(16, 16)),       # plt.imshow(data)
    "chart": _chart,                                                       # an alt.Chart
    "df": _df,                                                             # px.line(df, x="t"...)
    "z": lambda: np.random.default_rng(1).normal(size=(8, 12)),           # px.imshow(z)
    "kinds": lambda: ["strings", "brass", "winds", "drums"],              # Bokeh factors
    "counts": lambda: [4, 2, 3, 5],                                        # Bokeh bar heights
}
"""The README's "your data" names -> a factory of a small real object of the right type."""


# -- the README, parsed ------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, the README line of its opening fence, its text."""

    lang: str
    line: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.lang}-L{self.line}"


def readme_blocks(text: str) -> list[Block]:
    """The fenced blocks of ``text`` (a Markdown file) in order."""
    blocks, lang, start, body = [], None, 0, []
    for number, line in enumerate(text.splitlines(), start=1):
        fence = re.match(r"^```\s*(\w*)\s*$", line)
        if fence and lang is None:
            lang, start, body = fence.group(1) or "text", number, []
        elif line.startswith("```") and lang is not None:
            blocks.append(Block(lang, start, "\n".join(body) + "\n"))
            lang = None
        elif lang is not None:
            body.append(line)
    assert lang is None, f"README.md: the block opened at line {start} is never closed"
    return blocks


def bash_lines(block: Block) -> list[tuple[int, str]]:
    """``(README line, command)`` for each command of a bash block: comments stripped,
    backslash continuations joined, empty lines dropped."""
    out, pending, first = [], "", 0
    for offset, raw in enumerate(block.text.splitlines(), start=1):
        if not pending:
            first = block.line + offset
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        command = _strip_comment(pending + line).strip()
        pending = ""
        if command:
            out.append((first, re.sub(r"\s+", " ", command)))
    return out


def _strip_comment(line: str) -> str:
    """``line`` without a shell comment (a ``#`` at a word start, outside quotes)."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


BLOCKS = readme_blocks(README.read_text(encoding="utf-8"))
PYTHON_BLOCKS = [b for b in BLOCKS if b.lang == "python"]
BASH_BLOCKS = [b for b in BLOCKS if b.lang == "bash"]


def test_readme_has_examples_of_both_kinds() -> None:
    # Guards the parser: a README reformatted into something it misses would test nothing.
    assert len(PYTHON_BLOCKS) >= 5 and len(BASH_BLOCKS) >= 3
    assert all(b.lang in ("python", "bash", "text") for b in BLOCKS), [b.id for b in BLOCKS]
    commands = [c for b in BASH_BLOCKS for _, c in bash_lines(b)]
    assert sum(c.startswith("m2p ") for c in commands) >= 10


def test_comment_stripping_keeps_quoted_hashes() -> None:
    assert _strip_comment("m2p race d.csv --period-fmt '%b #%Y'   # a race") == \
        "m2p race d.csv --period-fmt '%b #%Y'   "
    assert _strip_comment("# only a comment") == ""


# -- stand-ins -------------------------------------------------------------------------------


def _ffmpeg(*args: str) -> None:
    from m2p._internal.ffmpeg import ffmpeg_exe

    subprocess.run([ffmpeg_exe(), "-y", "-nostdin", "-loglevel", "error", *args], check=True,
                   stdout=subprocess.DEVNULL, timeout=120)


def _make_standins(folder: Path) -> None:
    """Write the README's input files into ``folder`` (see the module docstring)."""
    # Mono 44.1 kHz, ffmpeg's default MP3 encoder settings otherwise.
    _ffmpeg("-i", str(EXAMPLE_SONG), "-t", f"{SONG_SECONDS}", "-ac", "1", str(folder / "song.mp3"))
    shutil.copyfile(PHOTO, folder / "photo.jpg")
    # A slow pan across the photo (480x325): real image content that moves, 160x108, 10 fps.
    _ffmpeg("-loop", "1", "-framerate", "10", "-i", str(PHOTO), "-t", f"{CLIP_SECONDS}",
            "-vf", "crop=320:216:x='t*40':y=50,scale=160:108", "-pix_fmt", "yuv420p",
            "-c:v", "libx264", "-preset", "ultrafast", str(folder / "clip.mp4"))
    shutil.copyfile(folder / "clip.mp4", folder / "in.mp4")
    rng = np.random.default_rng(3)
    values = np.cumsum(rng.uniform(1, 10, (4, 5)), axis=0)
    rows = ["year," + ",".join(f"Team {chr(65 + e)}" for e in range(values.shape[1]))]
    rows += [f"{2020 + t}-0{t + 1}-01," + ",".join(f"{v:.1f}" for v in row)
             for t, row in enumerate(values)]
    (folder / "data.csv").write_text("\n".join(rows) + "\n")
    music = folder / "Music"
    music.mkdir()
    shutil.copyfile(folder / "song.mp3", music / "song.mp3")
    _ffmpeg("-ss", "12", "-i", str(EXAMPLE_SONG), "-t", "6", str(music / "caribbean_later.ogg"))


@pytest.fixture(scope="module")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("readme_standins")
    _make_standins(folder)
    return folder


@pytest.fixture
def workdir(standins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh folder with copies of the stand-ins, the current folder and ``$HOME``."""
    for item in standins.iterdir():
        copy = shutil.copytree if item.is_dir() else shutil.copyfile
        copy(item, tmp_path / item.name)
    # Keep Matplotlib's font cache where it is: a fresh one per HOME costs seconds a process.
    import matplotlib

    monkeypatch.setenv("MPLCONFIGDIR", matplotlib.get_configdir())
    monkeypatch.setenv("XDG_CACHE_HOME", str(Path.home() / ".cache"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- python blocks -----------------------------------------------------------------------------


# The blocks that render a race or grade a video, and the block of ten commands (each a Python
# start-up and a model load), can take minutes on a shared, loaded 2-core machine.
@pytest.mark.timeout(900)
@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: b.id)
def test_python_block(block: Block, workdir: Path) -> None:
    import matplotlib.pyplot as plt

    code = compile(block.text, f"README.md:{block.line}", "exec")
    # Only the placeholder names the block uses are defined; every other name must come from
    # the block itself (its imports), so a block that forgets one fails here.
    used = set(code.co_names) | {n for c in code.co_consts if hasattr(c, "co_names")
                                 for n in c.co_names}
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    namespace.update({name: make() for name, make in PLACEHOLDERS.items() if name in used})
    with plt.rc_context():  # the blocks call plt.style.use: leave no style to later tests
        try:
            exec(code, namespace)  # noqa: S102 - the README's own code, the point of the test
        finally:
            plt.close("all")
            _unset_plotly_default()


def _unset_plotly_default() -> None:
    if "plotly.io" in sys.modules:
        sys.modules["plotly.io"].templates.default = "plotly"


# -- bash blocks -------------------------------------------------------------------------------


def _skip_reason(command: str) -> str | None:
    for pattern, reason in SKIPPED_LINES.items():
        if re.search(pattern, command):
            return reason
    return None


def _argv(command: str) -> list[str]:
    """The command as a shell would pass it: words split and quoted, ``~`` expanded."""
    words = shlex.split(command)
    assert words[0] == "m2p"
    return [sys.executable, "-m", "m2p", *(os.path.expanduser(w) if w.startswith("~") else w
                                         for w in words[1:])]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.setdefault("MPLBACKEND", "Agg")
    return env


def _run(line: int, command: str, cwd: Path) -> str | None:
    """Run one README command; ``None`` when it did what it should, else the failure."""
    argv = _argv(command)
    needs = _missing_extra(argv)
    proc = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=500)
    if needs is not None:
        # The optional package is not installed here: the command must fail in one line that
        # says which extra to install, unless it had nothing to do (every file of ~/Music is
        # in library.parquet already, so the engine never starts).
        if proc.returncode != 0 and needs in proc.stderr and "Traceback" not in proc.stderr:
            return None
        if proc.returncode == 0 and "Traceback" not in proc.stderr:
            return None
        return (f"README.md:{line}: `{command}` without {needs} installed: exit "
                f"{proc.returncode}, expected 0 or a failure naming {needs}\n"
                f"{proc.stderr[-2000:]}")
    if proc.returncode != 0:
        return f"README.md:{line}: `{command}` exited {proc.returncode}\n{proc.stderr[-3000:]}"
    if "Traceback" in proc.stderr:
        return f"README.md:{line}: `{command}` printed a traceback\n{proc.stderr[-3000:]}"
    for target in _outputs(argv):
        if not (cwd / target).exists():
            return f"README.md:{line}: `{command}` exited 0 but wrote no {target}"
    return None


def _missing_extra(argv: list[str]) -> str | None:
    """``music2palette[ray]`` when the command asks for Ray and Ray is not installed."""
    import importlib.util

    if "--engine" in argv and argv[argv.index("--engine") + 1] == "ray" \
            and importlib.util.find_spec("ray") is None:
        return "music2palette[ray]"
    return None


def _outputs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv[:-1]) if word in ("-o", "--output")]


def _groups(commands: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Commands in chains that must run in README order: a command joins the chain of an
    earlier one whose output it names (reads it or writes it again); chains are independent."""
    chains: list[list[tuple[int, str]]] = []
    for line, command in commands:
        words = set(_argv(command))
        joined = None
        for chain in chains:
            if any(set(_outputs(_argv(c))) & words for _, c in chain):
                if joined is None:
                    chain.append((line, command))
                    joined = chain
                else:  # it links two chains: one chain, in README order
                    joined.extend(chain)
                    joined.sort()
                    chain.clear()
        chains = [c for c in chains if c]
        if joined is None:
            chains.append([(line, command)])
    return chains


def test_groups_keep_dependent_commands_in_order() -> None:
    commands = [(1, "m2p batch a -o lib.parquet"), (2, "m2p palette song.mp3"),
                (3, "m2p gallery lib.parquet -o site/"), (4, "m2p grade c.mp4 -o g.mp4"),
                (5, "m2p grade c.mp4 --strength 1 -o g.mp4")]
    assert sorted(_groups(commands)) == [[(1, commands[0][1]), (3, commands[2][1])],
                                         [(2, commands[1][1])],
                                         [(4, commands[3][1]), (5, commands[4][1])]]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("block", BASH_BLOCKS, ids=lambda b: b.id)
def test_bash_block(block: Block, workdir: Path) -> None:
    runnable = []
    for line, command in bash_lines(block):
        if command.startswith("m2p "):
            runnable.append((line, command))
        else:
            assert _skip_reason(command), (f"README.md:{line}: `{command}` is neither an `m2p` "
                                           "command nor on SKIPPED_LINES (add it, with why)")
    if not runnable:
        pytest.skip(f"README.md:{block.line}: setup/training lines only (SKIPPED_LINES)")

    def run_chain(chain: list[tuple[int, str]]) -> list[str]:
        return [f for f in (_run(line, command, workdir) for line, command in chain) if f]

    # Independent commands run side by side (each is mostly a Python start-up and a model
    # load); a chain runs in README order.
    with ThreadPoolExecutor(max_workers=3) as pool:
        failures = [f for fs in pool.map(run_chain, _groups(runnable)) for f in fs]
    assert not failures, "\n\n".join(failures)


def test_bash_live_stdin(workdir: Path) -> None:
    """The README's ``ffmpeg -i URL -f f32le -ac 1 -ar 22050 - | m2p live`` with the song file
    in place of the URL: one JSON line per window on stdout."""
    import json

    from m2p._internal.ffmpeg import ffmpeg_exe

    [(line, pipe)] = [(n, c) for b in BASH_BLOCKS for n, c in bash_lines(b)
                      if c.startswith("ffmpeg -i URL ")]
    producer, consumer = (part.strip() for part in pipe.split("|"))
    decode = [ffmpeg_exe(), "-nostdin", "-loglevel", "error",
              *[str(workdir / "song.mp3") if w == "URL" else w for w in shlex.split(producer)[1:]]]
    with subprocess.Popen(decode, stdout=subprocess.PIPE, cwd=workdir) as ffmpeg:
        proc = subprocess.run(_argv(consumer), stdin=ffmpeg.stdout, cwd=workdir, env=_env(),
                              capture_output=True, text=True, timeout=300)
        ffmpeg.stdout.close()
    assert proc.returncode == 0, f"README.md:{line}: {proc.stderr[-3000:]}"
    windows = [json.loads(row) for row in proc.stdout.splitlines() if row.strip()]
    assert windows, f"README.md:{line}: `{consumer}` printed no window for {SONG_SECONDS} s"
