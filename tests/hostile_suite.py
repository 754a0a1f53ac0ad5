"""A broad generated hostile suite (issue 27): several hundred cases over every command and
public API, each run in a child process of its own with a time and a memory limit, each outcome
classified.

    python tests/hostile_suite.py                  # every case (about 25-40 min on 2 cores)
    python tests/hostile_suite.py --sample 40      # an even sample (what CI runs)
    python tests/hostile_suite.py -k grade -v      # cases whose id contains "grade", one line each
    python tests/hostile_suite.py --list           # the case ids only

Outcome classes (the first that applies):

``data-loss``       an input or a file the user had was changed or removed, or a failed run
                    left a partial output or a temporary file behind;
``OOM``             ``MemoryError`` under the child's ``RLIMIT_AS`` (3 GiB), or killed by the kernel;
``hang``            still running at the case's time limit;
``traceback``       an exception that is not a typed :class:`m2p.errors.M2PError` (or ``TypeError``
                    for a wrong-type argument), a "Traceback" on the command line, a crash;
``internal error``  the command line's "internal error ... please report it";
``silent-wrong``    returned normally where an error was due, or a result that fails its check;
``refused-valid``   a typed error on an input that is valid (reported apart: not silent, but wrong);
``noise``           output that is not ours: a line on stderr other than ``m2p: ...`` (and usage
                    text), a RuntimeWarning/ResourceWarning reaching the user, a C library's
                    line on the stderr descriptor of an API call;
``typed error``     the typed one-line error the input deserves (exit 1, or 2 for usage);
``right result``    success, and the result passes the case's check.

Children are forked from a parent that imported the heavy modules (torch is imported, never
run, before forking), so a case costs its own work only. Inputs are generated into one
temporary folder by :class:`Inputs`. The CI runs ``--sample`` through
``tests/test_hostile_suite.py``; the full run's table is in ``docs/reliability.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import random
import resource
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SR = 22050
CLASSES = ("typed error", "right result", "traceback", "hang", "OOM", "silent-wrong",
           "data-loss", "noise", "internal error", "refused-valid")
FAILURES = ("traceback", "hang", "OOM", "silent-wrong", "data-loss", "noise", "internal error",
            "refused-valid")
MEMORY_LIMIT = 3 << 30
FAST = ["--window", "2", "--hop", "1", "--device", "cpu", "-q"]


# ----------------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    """One hostile input.

    ``run(ctx)`` does the work in the child: for the command line it returns
    ``ctx.cli(...)``'s :class:`Cli`, for an API the value. ``expect``: ``"error"`` (a typed
    error is due), ``"ok"`` (success is due) or ``"either"`` (both are fine: fuzzing).
    ``check(value, ctx)`` judges a success (True / False, or a class name). ``guard`` are
    paths that must be unchanged afterwards (inputs, the user's files); ``clean`` folders that
    must hold no ``.part`` file afterwards.
    """

    id: str
    group: str
    run: Callable[["Ctx"], Any]
    expect: str = "either"
    check: Callable[[Any, "Ctx"], Any] | None = None
    timeout: float = 60.0
    guard: Callable[["Inputs"], Iterable[Path]] = lambda i: ()
    clean: Callable[["Inputs"], Iterable[Path]] = lambda i: ()
    wrong_type: bool = False  # a TypeError is the typed error here
    says: tuple[str, ...] = ()  # words a typed error must hold
    expected_output: tuple[str, ...] = ()  # stderr lines holding these are the case's own


CASES: list[Case] = []


def add(id: str, group: str, run: Callable[["Ctx"], Any], **kw: Any) -> None:
    if any(c.id == id for c in CASES):
        raise ValueError(f"duplicate case id {id!r}")
    CASES.append(Case(id, group, run, **kw))


@dataclass
class Cli:
    code: int
    stdout: str
    stderr: str


# ----------------------------------------------------------------------------------------------
# Inputs, made once in the parent (no torch work there: a fork after OpenMP started is unsafe)


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)


def music(seconds: float, rate: int = SR, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    y = 0.3 * np.sin(2 * np.pi * (220 + 30 * np.sin(t)) * t) + 0.02 * rng.standard_normal(t.size)
    return y.astype(np.float32)


def wav_bytes(samples: np.ndarray, rate: int, *, channels: int = 1, header_rate: int | None = None,
              data_size: int | None = None, riff_size: int | None = None, bits: int = 16) -> bytes:
    if bits == 8:
        pcm = (np.clip(samples, -1, 1) * 127 + 128).astype("u1").tobytes()
    else:
        pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    width = bits // 8
    rate_h = rate if header_rate is None else header_rate
    fmt = struct.pack("<HHIIHH", 1, channels, rate_h & 0xFFFFFFFF,
                      (rate_h * width * channels) & 0xFFFFFFFF, width * channels, bits)
    data_len = len(pcm) if data_size is None else data_size
    riff = 4 + 8 + len(fmt) + 8 + len(pcm) if riff_size is None else riff_size
    return (b"RIFF" + struct.pack("<I", riff & 0xFFFFFFFF) + b"WAVE" + b"fmt "
            + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", data_len & 0xFFFFFFFF)
            + pcm)


class Inputs:
    """The shared inputs of a run (all small), in one folder."""

    def __init__(self, folder: Path) -> None:
        self.dir = folder
        self.audio: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        return self.dir / name

    def prepare(self) -> "Inputs":
        import soundfile as sf
        from PIL import Image

        d = self.dir
        self.song = d / "song.wav"
        self.song.write_bytes(wav_bytes(music(4.0), SR))
        self.song2 = d / "song2.wav"
        self.song2.write_bytes(wav_bytes(music(6.0, seed=3), SR))
        self.model = d / "tiny_model"
        subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            import sys, torch
            sys.path.insert(0, {str(ROOT)!r})
            from m2p.model.config import ModelConfig
            from m2p.model.network import Music2Palette
            from m2p.model.weights import save_model
            torch.manual_seed(1234)
            save_model(Music2Palette(ModelConfig.tiny()).eval(), {str(self.model)!r})
        """)], check=True, env=_child_env())
        self.clip = d / "clip.mp4"
        ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1.5", "-f", "lavfi",
               "-i", "sine=d=1.5", "-shortest", "-pix_fmt", "yuv420p", str(self.clip))
        self.photo = d / "photo.png"
        Image.fromarray((np.random.default_rng(1).random((32, 48, 3)) * 255).astype("u1")).save(
            self.photo)
        self.csv = d / "race.csv"
        self.csv.write_text("year,A,B,C\n2000,1,2,3\n2001,3,2,1\n2002,4,5,6\n")
        self.track = d / "track.json"
        self.mp3 = d / "clean.mp3"
        sf.write(str(self.mp3), music(10.0, 44100), 44100)
        self.music_dir = d / "music"
        self.music_dir.mkdir()
        for i in range(3):
            (self.music_dir / f"s{i}.wav").write_bytes(wav_bytes(music(4.0, seed=i), SR))
        self.library = d / "library.parquet"
        subprocess.run([sys.executable, "-m", "m2p", "batch", str(self.music_dir), "-o",
                        str(self.library), "--workers", "1", "--model", str(self.model), *FAST],
                       check=True, env=_child_env(), capture_output=True, cwd=str(d))
        subprocess.run([sys.executable, "-m", "m2p", "track", str(self.song), "-o",
                        str(self.track), "--model", str(self.model), *FAST], check=True,
                       env=_child_env(), capture_output=True, cwd=str(d))
        return self

    def fresh(self, name: str) -> Path:
        """A new empty folder for one case."""
        folder = Path(tempfile.mkdtemp(prefix="case-", dir=self.dir))
        return folder / name


def _child_env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(HERE)]), MPLBACKEND="Agg",
                OMP_NUM_THREADS="1")


# ----------------------------------------------------------------------------------------------
# Running one case in a forked child


class Ctx:
    """What a case's ``run`` gets in the child."""

    def __init__(self, inputs: Inputs) -> None:
        self.i = inputs

    def cli(self, *args: Any, env: dict[str, str] | None = None) -> Cli:
        """``m2p ARGS`` in this (child) process: stdout and stderr at the descriptor level."""
        from m2p.cli import core

        os.environ.update(env or {})
        with contextlib.suppress(Exception):
            import m2p.hooks.manager

            m2p.hooks.manager.reset()
        out, err = _Capture(1), _Capture(2)
        with out, err:
            try:
                code = core.main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
        return Cli(int(code), out.text, err.text)

    @property
    def model(self) -> str:
        return str(self.i.model)


class _Capture:
    """Descriptor ``fd`` (and the matching ``sys`` stream) into a temporary file."""

    def __init__(self, fd: int) -> None:
        self.fd, self.text = fd, ""

    def __enter__(self) -> "_Capture":
        self.file = tempfile.TemporaryFile()
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = os.dup(self.fd)
        os.dup2(self.file.fileno(), self.fd)
        self.stream = sys.stdout if self.fd == 1 else sys.stderr
        wrapper = io.TextIOWrapper(os.fdopen(os.dup(self.fd), "wb"), encoding="utf-8",
                                   errors="backslashreplace", line_buffering=True)
        if self.fd == 1:
            sys.stdout = wrapper
        else:
            sys.stderr = wrapper
        return self

    def __exit__(self, *exc: Any) -> None:
        wrapper = sys.stdout if self.fd == 1 else sys.stderr
        with contextlib.suppress(Exception):
            wrapper.flush()
        if self.fd == 1:
            sys.stdout = self.stream
        else:
            sys.stderr = self.stream
        os.dup2(self.saved, self.fd)
        os.close(self.saved)
        self.file.seek(0)
        self.text = self.file.read().decode("utf-8", "replace")
        self.file.close()


def run_case(case: Case, inputs: Inputs) -> tuple[str, str, float]:
    """Fork, run, classify: ``(class, detail, seconds)``."""
    before = _fingerprints(case.guard(inputs))
    read, write = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        try:
            os.setpgid(0, 0)  # its own group: a hang is killed with everything it started
            verdict = _child(case, inputs)
        except BaseException as exc:  # noqa: BLE001 - the harness itself failed
            verdict = ("traceback", f"harness: {type(exc).__name__}: {exc}")
        with contextlib.suppress(Exception):
            os.write(write, json.dumps(verdict).encode()[:60000])
        os._exit(0)
    os.close(write)
    chunks, status, timed_out = [], None, False
    deadline = start + case.timeout
    while True:
        ready, _, _ = select.select([read], [], [], max(0.0, min(0.5, deadline - time.monotonic())))
        if ready:
            data = os.read(read, 65536)
            if data:
                chunks.append(data)
                continue
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            timed_out = True
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            break
    with contextlib.suppress(OSError):
        while True:
            data = os.read(read, 65536)
            if not data:
                break
            chunks.append(data)
    os.close(read)
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)  # helpers a finished case left (none should)
    seconds = time.monotonic() - start
    if timed_out:
        kind, detail = "hang", f"still running after {case.timeout:g} s"
    elif chunks:
        kind, detail = json.loads(b"".join(chunks).decode())
    elif status is not None and os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        kind = "OOM" if sig == signal.SIGKILL else "traceback"
        detail = f"child killed by {signal.Signals(sig).name}"
    else:
        kind, detail = "traceback", f"child ended without a verdict (status {status})"
    lost = [str(p) for p, fp in before.items() if _fingerprint(p) != fp]
    leftovers = [str(p) for folder in case.clean(inputs) for p in _parts(folder)]
    if lost or leftovers:
        kind = "data-loss"
        detail = f"changed: {lost}; left: {leftovers}; was: {detail}"
    return kind, detail, seconds


def _child(case: Case, inputs: Inputs) -> tuple[str, str]:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    # As from a terminal, whatever started the suite: a background job (`&`) inherits SIGINT
    # ignored and `nohup` SIGHUP ignored, and m2p rightly keeps a signal its caller ignores,
    # which would turn the signal cases into plain successes.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)  # nothing waits on the terminal's input
    os.dup2(null, 0)
    os.close(null)
    with contextlib.suppress(Exception):
        import torch

        torch.set_num_threads(1)
    ctx = Ctx(inputs)
    out, err = _Capture(1), _Capture(2)
    caught: list = []
    value: Any = None
    error: BaseException | None = None
    # The interpreter's own warning filters (what a user's run shows), recorded.
    with out, err, warnings.catch_warnings(record=True) as caught:
        try:
            value = case.run(ctx)
        except MemoryError as exc:
            error = exc
        except BaseException as exc:  # noqa: BLE001 - classifying is the point
            error = exc
            tb = traceback.format_exc(limit=4)
    if isinstance(error, MemoryError):
        return "OOM", "MemoryError"
    if error is not None:
        return _judge_error(case, error, tb)
    if isinstance(value, Cli):
        return _judge_cli(case, value, ctx)
    return _judge_value(case, value, ctx, caught, err.text + out.text)


def _judge_error(case: Case, error: BaseException, tb: str) -> tuple[str, str]:
    from m2p.errors import M2PError

    text = f"{type(error).__name__}: {' '.join(str(error).split())[:300]}"
    typed = isinstance(error, M2PError) or (case.wrong_type and isinstance(error, TypeError))
    if not typed:
        return "traceback", text + " | " + " ".join(tb.split())[-300:]
    if "\n" in str(error).strip():
        return "traceback", text + " (several lines)"
    if case.expect == "ok":
        return "refused-valid", text
    if not all(word in str(error) for word in case.says):
        return "silent-wrong", text + f" (does not say {case.says})"
    return "typed error", text


def _judge_cli(case: Case, r: Cli, ctx: Ctx) -> tuple[str, str]:
    text = r.stderr
    detail = f"exit {r.code}: " + " | ".join(ln for ln in text.splitlines() if ln.strip())[-300:]
    if "\nDATA-LOSS" in text or "\nLEFT [" in text:  # a case's own after-check (see cases)
        return "data-loss", detail
    if "Traceback (most recent call last)" in text:
        return "traceback", detail
    if "m2p: error: internal error" in text:
        return "internal error", detail
    foreign = [ln for ln in text.splitlines() if ln.strip() and not _ours(ln, r.code)
               and not any(word in ln for word in case.expected_output)]
    if r.code == 0:
        if case.expect == "error":
            return "silent-wrong", detail
        verdict = case.check(r, ctx) if case.check else True
        if isinstance(verdict, str):
            return verdict, detail
        if not verdict:
            return "silent-wrong", detail
        return ("noise", detail + f" | foreign: {foreign[:2]}") if foreign else ("right result", detail)
    if r.code == 2 and "usage:" in text:  # argparse: usage (or the whole help), then a reason
        return ("refused-valid" if case.expect == "ok" else "typed error"), detail
    if r.code in (1, 2) or 128 < r.code < 160:  # an error, or interrupted by signal N
        errors = [ln for ln in text.splitlines() if ln.startswith("m2p: error:")
                  or ": error: " in ln or ln.startswith(("m2p: interrupted", "m2p: terminated"))]
        if not errors:
            return "traceback", detail + " (no error line)"
        if foreign:
            return "noise", detail + f" | foreign: {foreign[:2]}"
        if case.expect == "ok" and r.code in (1, 2):
            return "refused-valid", detail
        if r.code in (1, 2) and not all(word in text for word in case.says):
            return "silent-wrong", detail + f" (does not say {case.says})"
        if case.check is not None and r.code > 128:  # what an interrupt left behind
            verdict = case.check(r, ctx)
            if isinstance(verdict, str):
                return verdict, detail
        return "typed error", detail
    return "traceback", detail


def _ours(line: str, code: int) -> bool:
    """A line of ours: ``m2p: ...``; argparse's usage text on a usage error."""
    if line.startswith("m2p: ") or line.startswith("m2p "):
        return True
    return code == 2 and (line.startswith(("usage:", " ", "\t")) or ": error: " in line)


def _judge_value(case: Case, value: Any, ctx: Ctx, caught: list, stray: str) -> tuple[str, str]:
    detail = _describe(value)
    if case.expect == "error":
        return "silent-wrong", f"returned {detail}"
    verdict = case.check(value, ctx) if case.check else True
    if isinstance(verdict, str):
        return verdict, detail
    if not verdict:
        return "silent-wrong", detail
    foreign = [w for w in caught if issubclass(w.category, (RuntimeWarning, ResourceWarning))
               or (not issubclass(w.category, UserWarning) and "m2p" not in str(w.filename))]
    foreign = [w for w in foreign if not issubclass(w.category, (DeprecationWarning,
                                                                 PendingDeprecationWarning))]
    if foreign or stray.strip():
        what = [f"{w.category.__name__}: {str(w.message)[:100]}" for w in foreign[:2]]
        return "noise", detail + f" | {what} {stray.strip()[:120]!r}"
    return "right result", detail


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array {value.shape} {value.dtype}"
    return " ".join(repr(value).split())[:200]


def _fingerprints(paths: Iterable[Path]) -> dict[Path, str | None]:
    return {Path(p): _fingerprint(Path(p)) for p in paths}


def _fingerprint(path: Path) -> str | None:
    try:
        if path.is_dir():
            return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _parts(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if ".part" in p.name or p.name.endswith(".lock")]


# ----------------------------------------------------------------------------------------------
# Checks used by many cases


def wrote(*names: str) -> Callable[[Any, Ctx], bool]:
    """A command that succeeded wrote each file (non-empty), found next to the case's output."""
    def check(r: Any, ctx: Ctx) -> bool:
        return all(Path(n).is_file() and Path(n).stat().st_size > 0 for n in names)
    return check


def is_palette(p: Any, ctx: Ctx) -> bool:
    from m2p.palette_types import Palette

    return isinstance(p, Palette) and 1 <= len(p) <= 64 and np.isfinite(p.lch).all()


def is_track(t: Any, ctx: Ctx) -> bool:
    from m2p.palette_types import PaletteTrack

    return (isinstance(t, PaletteTrack) and len(t) >= 1 and PaletteTrack.from_json(t.to_json()) == t
            and all(1 <= len(p) <= 64 for p in t.palettes))


def is_audio(y: Any, ctx: Ctx) -> bool:
    return isinstance(y, np.ndarray) and y.dtype == np.float32 and y.ndim == 1 and bool(
        np.isfinite(y).all())


def json_stdout(r: Cli, ctx: Ctx) -> bool:
    try:
        json.loads(r.stdout)
    except ValueError:
        return False
    return True


# ----------------------------------------------------------------------------------------------
# The generators

from hostile_cases import generate  # noqa: E402 - the case lists, kept apart for length

generate(add, sys.modules[__name__])


# ----------------------------------------------------------------------------------------------
# Main


def table(results: dict[str, tuple[str, str, float]]) -> str:
    groups: dict[str, Counter] = {}
    for case in CASES:
        if case.id in results:
            groups.setdefault(case.group, Counter())[results[case.id][0]] += 1
    total = Counter()
    for counts in groups.values():
        total.update(counts)
    head = "| group | cases | " + " | ".join(CLASSES) + " |"
    rows = [head, "|" + "---|" * (len(CLASSES) + 2)]
    for name in sorted(groups):
        counts = groups[name]
        rows.append(f"| {name} | {sum(counts.values())} | "
                    + " | ".join(str(counts[c]) for c in CLASSES) + " |")
    rows.append(f"| **all** | {sum(total.values())} | "
                + " | ".join(str(total[c]) for c in CLASSES) + " |")
    return "\n".join(rows)


def select_cases(k: str | list[str] = "", sample: int | None = None, seed: int = 0) -> list[Case]:
    """The cases whose id contains any of ``k`` (or whose group is one of them), in suite
    order; ``sample``: an even sample of those, every group represented."""
    texts = [t.lower() for t in ([k] if isinstance(k, str) else k or [""])]
    chosen = [c for c in CASES if any(t in c.id.lower() or t == c.group.lower() for t in texts)]
    if sample is not None and sample < len(chosen):
        # Every group represented, then an even spread over the rest (deterministic).
        rng = random.Random(seed)
        by_group: dict[str, list[Case]] = {}
        for c in chosen:
            by_group.setdefault(c.group, []).append(c)
        picked = [rng.choice(cases) for cases in by_group.values()]
        rest = [c for c in chosen if c not in picked]
        picked += rng.sample(rest, max(0, sample - len(picked)))
        chosen = [c for c in chosen if c in picked]
    return chosen


def run(cases: list[Case], *, verbose: bool = False, keep: Path | None = None
        ) -> dict[str, tuple[str, str, float]]:
    """Prepare the inputs, run ``cases``, return ``{id: (class, detail, seconds)}``."""
    _preload()
    folder = Path(tempfile.mkdtemp(prefix="m2p-hostile-", dir=keep))
    results: dict[str, tuple[str, str, float]] = {}
    try:
        inputs = Inputs(folder).prepare()
        for number, case in enumerate(cases, 1):
            results[case.id] = run_case(case, inputs)
            kind, detail, seconds = results[case.id]
            if verbose or kind in FAILURES:
                mark = "   " if kind not in FAILURES else "BAD"
                print(f"{mark} {number:4d}/{len(cases)} [{case.group}] {case.id}: {kind} "
                      f"({seconds:.1f} s) {detail[:220]}", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return results


def _preload() -> None:
    """Import what every child needs once, in the parent (imports only: no torch work)."""
    sys.path[:0] = [str(ROOT), str(HERE)]
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import matplotlib.pyplot  # noqa: F401
    import moviepy  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import torch  # noqa: F401

    import m2p.api  # noqa: F401
    import m2p.cli.core  # noqa: F401
    import m2p.cli.export  # noqa: F401
    import m2p.cli.library  # noqa: F401
    import m2p_plugins.video.cli  # noqa: F401
    import m2p_plugins.video.grade  # noqa: F401
    import m2p_plugins.video.race  # noqa: F401


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", action="append", default=None, metavar="TEXT",
                        help="cases whose id contains this text (or a group); repeatable")
    parser.add_argument("--sample", type=int, default=None, metavar="N",
                        help="an even sample of N cases, every group represented")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    parser.add_argument("--list", action="store_true", help="print the case ids and stop")
    parser.add_argument("-v", "--verbose", action="store_true", help="a line per case")
    parser.add_argument("--json", metavar="FILE", help="also write every outcome to FILE")
    args = parser.parse_args()
    cases = select_cases(args.k or "", args.sample, args.seed)
    if args.list:
        for case in cases:
            print(f"[{case.group}] {case.id}")
        print(f"{len(cases)} cases", file=sys.stderr)
        return 0
    started = time.monotonic()
    results = run(cases, verbose=args.verbose)
    print(f"{len(results)} cases in {time.monotonic() - started:.0f} s\n")
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    bad = [i for i, r in results.items() if r[0] in FAILURES]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
