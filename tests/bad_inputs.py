"""The hostile-input catalogue of issue 10: every case makes its own input and knows its outcome.

Used by ``tests/test_bad_inputs.py`` (each case is a test) and by ``tests/bad_inputs_table.py``
(the outcome table in ``docs/reliability.md``). Cases use only public names (``m2p.*``, the
video adapter's functions, ``m2p.cli.core.main``), so the table script also runs against an older
checkout and shows what a fix changed.

Outcome classes
    ``typed``        the documented typed error (``m2p.errors`` or, for a wrong-type argument,
                     ``TypeError``), one line, naming the input; for the CLI a non-zero exit with
                     one ``m2p: error:`` line (or an argparse usage error) and no traceback.
    ``correct``      the call succeeds and its result passes the case's check.
    ``unclear``      the right kind of failure with a message that misses what it must say.
    ``traceback``    any other exception (or a traceback / "internal error" on the CLI).
    ``silent-wrong`` returned normally where an error was due, or a result that fails its check.
    ``hang``         ran past the case's time limit.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import signal
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SR = 22050
FAST = {"window": 2.0, "hop": 1.0, "device": "cpu"}
FAST_CLI = ["--window", "2", "--hop", "1", "--device", "cpu", "-q"]
OUTCOMES = ("typed", "correct", "unclear", "traceback", "hang", "silent-wrong")


# ----------------------------------------------------------------------------------------------
# Input makers (all small and fast; the "220 KB file" of the issue is the WAV below)


def wav_bytes(samples: np.ndarray, rate: int, *, channels: int = 1, header_rate: int | None = None,
              data_size: int | None = None, riff_size: int | None = None) -> bytes:
    """A 16-bit PCM WAV; ``header_rate``, ``data_size`` and ``riff_size`` may lie."""
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    rate_h = rate if header_rate is None else header_rate
    fmt = struct.pack("<HHIIHH", 1, channels, rate_h & 0xFFFFFFFF,
                      (rate_h * 2 * channels) & 0xFFFFFFFF, 2 * channels, 16)
    data_len = len(pcm) if data_size is None else data_size
    riff = 4 + 8 + len(fmt) + 8 + len(pcm) if riff_size is None else riff_size
    return (b"RIFF" + struct.pack("<I", riff) + b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
            + b"data" + struct.pack("<I", data_len) + pcm)


def music(seconds: float, rate: int = SR, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    y = 0.3 * np.sin(2 * np.pi * (220 + 30 * np.sin(t)) * t) + 0.02 * rng.standard_normal(t.size)
    return y.astype(np.float32)


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width`` x ``height`` (8-bit grey) with a token IDAT."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    return path


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", *args], check=True,
                   stdin=subprocess.DEVNULL)


# ----------------------------------------------------------------------------------------------
# Workspace: shared inputs made once per run


class Workspace:
    """A folder with lazily made common inputs (a song, a tiny model, a clip, a track)."""

    def __init__(self, folder: Path) -> None:
        self.tmp = Path(folder)
        self._made: dict[str, Any] = {}

    def prepare(self) -> "Workspace":
        """Import the heavy modules and make the shared inputs now, outside any case's time
        limit (an interrupted ``import torch`` cannot be retried in the same process)."""
        import matplotlib  # noqa: F401
        import moviepy  # noqa: F401
        import torch  # noqa: F401

        import m2p.api  # noqa: F401
        import m2p_plugins.video.grade  # noqa: F401
        import m2p_plugins.video.race  # noqa: F401
        import m2p_plugins.video.recolor  # noqa: F401

        for name in ("song", "model", "clip", "mp3"):
            getattr(self, name)
        return self

    def path(self, name: str) -> Path:
        """A fresh path in its own sub-folder (cases never see each other's files)."""
        sub = Path(tempfile.mkdtemp(dir=self.tmp))
        return sub / name

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    @property
    def song(self) -> Path:
        def make() -> Path:
            path = self.tmp / "song.wav"
            path.write_bytes(wav_bytes(music(3.5), SR))
            return path
        return self.once("song", make)

    @property
    def model(self) -> Path:
        def make() -> Path:
            import torch

            from m2p.model.config import ModelConfig
            from m2p.model.network import Music2Palette
            from m2p.model.weights import save_model

            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(1234)
                net = Music2Palette(ModelConfig.tiny()).eval()
            return Path(save_model(net, self.tmp / "tiny_model", extra={"note": "tests only"}))
        return self.once("model", make)

    @property
    def palette(self) -> Any:
        from m2p.palette_types import Palette

        return Palette.from_hex(["#7a0a0a", "#e03a2f", "#ff9a8a"])

    @property
    def track(self) -> Any:
        from m2p.palette_types import Palette, PaletteTrack

        blue = Palette.from_hex(["#0a1a7a", "#2f5ae0", "#8ab4ff"])
        return PaletteTrack([0.0, 3.0], [self.palette, blue], window=1.0, hop=3.0, duration=3.0)

    @property
    def clip(self) -> Path:
        def make() -> Path:
            path = self.tmp / "clip.mp4"
            ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1", "-pix_fmt",
                   "yuv420p", str(path))
            return path
        return self.once("clip", make)

    @property
    def mp3(self) -> Path:
        def make() -> Path:
            import soundfile as sf

            path = self.tmp / "clean.mp3"
            sf.write(str(path), music(20.0, 44100), 44100)
            return path
        return self.once("mp3", make)

    def cli(self, *args: str, env: dict[str, str] | None = None) -> "CliResult":
        """Run ``m2p.cli.core.main`` in this process; stdout, and stderr at the file-descriptor level
        (C libraries write there directly)."""
        from m2p.cli import core as cli

        saved_env = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        _reset_plugins()
        out, err = io.StringIO(), io.StringIO()
        sys.stderr.flush()
        saved_fd = os.dup(2)
        with tempfile.TemporaryFile() as sink:
            os.dup2(sink.fileno(), 2)
            try:
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        code = cli.main([str(a) for a in args])
                    except SystemExit as exc:
                        code = exc.code if isinstance(exc.code, int) else 1
            finally:
                os.dup2(saved_fd, 2)
                os.close(saved_fd)
                for key, value in saved_env.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                _reset_plugins()
            sink.seek(0)
            c_level = sink.read().decode("utf-8", "replace")
        return CliResult(int(code), out.getvalue(), err.getvalue() + c_level)


def _reset_plugins() -> None:
    with contextlib.suppress(Exception):
        import m2p.hooks.manager

        m2p.hooks.manager.reset()


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def error_lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.strip() and not ln.startswith("m2p: warning:")]


# ----------------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    """One hostile input.

    ``run(w)`` makes the input and calls the library. For ``expect="typed"`` an exception of
    ``error`` is the pass, provided its message is one line and contains every string of
    ``says(w)``; for a CLI run (a :class:`CliResult` comes back) a non-zero exit with one error
    line saying the same. For ``expect="correct"``, ``check(result, w, warnings)`` must be true.
    """

    id: str
    defect: int | None
    expect: str
    run: Callable[[Workspace], Any]
    error: Any = None
    says: Callable[[Workspace], list[str]] = lambda w: []
    check: Callable[[Any, Workspace, list], bool] | None = None
    limit_s: float = 60.0  # CPU seconds (see classify); a normal case needs a few
    memory: bool = False  # run in a subprocess under RLIMIT_AS (it once ate all memory)
    note: str = ""
    tags: tuple[str, ...] = field(default_factory=tuple)


def _errors() -> Any:
    import m2p.errors

    return m2p.errors


def M2P() -> type:  # noqa: N802 - reads like the class it returns
    return _errors().M2PError


CASES: list[Case] = []


def case(id: str, defect: int | None, expect: str, **kw: Any) -> Callable:
    def register(fn: Callable[[Workspace], Any]) -> Callable:
        CASES.append(Case(id, defect, expect, fn, **kw))
        return fn
    return register


def cli_error(*must: str) -> Callable[[Any, Workspace, list], str]:
    """Verdict for a CLI run that must fail with one readable line saying ``must``."""
    def verdict(result: CliResult, w: Workspace, caught: list) -> str:
        text = result.stderr
        if "Traceback" in text or "internal error" in text:
            return "traceback"
        if result.code == 0:
            return "silent-wrong"
        lines = result.error_lines()
        if result.code == 2:  # argparse: usage line(s), then "m2p CMD: error: ..."
            last = lines[-1] if lines else ""
            ok = ": error: " in last
        else:
            ok = len(lines) == 1 and lines[0].startswith("m2p: error:")
            last = lines[0] if lines else ""
        if ok and all(m.lower() in last.lower() for m in must):
            return "typed"
        return "unclear"
    return verdict


# --- 1. sample rates from headers ----------------------------------------------------------------

def _rate_wav(w: Workspace, header_rate: int, name: str) -> Path:
    path = w.path(name)
    path.write_bytes(wav_bytes(music(5.0), SR, header_rate=header_rate))  # 220 KB
    return path


for _rate in (1, 2_000_000_000):
    case(f"wav header rate {_rate:,} Hz", 1, "typed", memory=True, limit_s=120,
         error="InvalidAudioError", says=lambda w: ["sample rate"])(
        lambda w, r=_rate: __import__("m2p.audio.decode").audio.load(_rate_wav(w, r, f"rate{r}.wav")))

for _rate in (999_983, 1_009):
    case(f"wav header rate {_rate:,} Hz (prime)", 1, "correct", memory=True, limit_s=120,
         check=lambda y, w, c, r=_rate: abs(len(y) / SR - 5.0 * SR / r) < 0.01 * 5.0 * SR / r
         and bool(np.isfinite(y).all()))(
        lambda w, r=_rate: __import__("m2p.audio.decode").audio.load(_rate_wav(w, r, f"rate{r}.wav")))


# --- 2. hop --------------------------------------------------------------------------------------

@case("track hop 0.00001 s (API)", 2, "typed", error="InvalidArgumentError", says=lambda w: ["hop"],
      limit_s=60)
def _(w: Workspace) -> Any:
    import m2p

    return m2p.palette_track(w.song, model=w.model, window=1.0, hop=0.00001, device="cpu")


@case("track --hop 0.00001 (CLI)", 2, "typed", check=cli_error("hop"), limit_s=60)
def _(w: Workspace) -> Any:
    return w.cli("track", w.song, "--model", w.model, "--window", "1", "--hop", "0.00001",
                 "--device", "cpu", "-q")


# The hop is rounded to whole 512-sample analysis frames (14 frames, 0.3251 s); the track must
# say which hop it used, and its window times must step by it.
@case("track records the hop used (0.3337 s)", 2, "correct",
      check=lambda t, w, c: t.hop == round(0.3337 * SR / 512) * 512 / SR
      and bool(np.allclose(np.diff(t.times[:-1]), t.hop)))
def _(w: Workspace) -> Any:
    import m2p

    return m2p.palette_track(w.song, model=w.model, window=1.0, hop=0.3337, device="cpu")


@case("25-minute array at hop 0.05 s (30,000 windows)", 2, "typed", error="InvalidArgumentError",
      says=lambda w: ["windows"], limit_s=60)
def _(w: Workspace) -> Any:
    import m2p

    y = np.zeros(25 * 60 * SR, dtype=np.int16)
    return m2p.palette(y, sample_rate=SR, model=w.model, window=1.0, hop=0.05, device="cpu")


# --- 3. atomic track outputs ---------------------------------------------------------------------

def _previous(w: Workspace) -> tuple[Path, Path]:
    folder = w.path("x").parent
    old = folder / "t.json"
    old.write_text('{"previous": true}\n')
    return folder, old


def _untouched(result: Any, w: Workspace, caught: list) -> str:
    code, folder, old = result
    leftovers = [p.name for p in folder.iterdir() if p.name not in ("t.json",)]
    if old.read_text() == '{"previous": true}\n' and not leftovers and code != 0:
        return "correct"
    return "silent-wrong"


@case("track -o t.json --png t.png interrupted while writing the PNG", 3, "correct", check=_untouched)
def _(w: Workspace) -> Any:
    from PIL import Image

    folder, old = _previous(w)
    real = Image.Image.save

    def interrupted(self, fp, *a, **k):  # noqa: ANN001 - writes a little, then Ctrl-C
        Path(fp).write_bytes(b"\x89PNG partial")
        raise KeyboardInterrupt
    Image.Image.save = interrupted
    try:
        result = w.cli("track", w.song, "--model", w.model, *FAST_CLI, "-o", old,
                       "--png", folder / "t.png")
    finally:
        Image.Image.save = real
    return result.code, folder, old


@case("track -o t.json --png into a missing folder", 3, "correct", check=_untouched)
def _(w: Workspace) -> Any:
    folder, old = _previous(w)
    result = w.cli("track", w.song, "--model", w.model, *FAST_CLI, "-o", old,
                   "--png", folder / "missing" / "t.png")
    return result.code, folder, old


# --- 4. outputs over inputs ----------------------------------------------------------------------

def _same_file(flag: str) -> Callable[[Workspace], Any]:
    def run(w: Workspace) -> Any:
        song = w.path("same.wav")
        song.write_bytes(w.song.read_bytes())
        before = song.read_bytes()
        args = ["track", song, "--model", w.model, *FAST_CLI, flag, song]
        result = w.cli(*args)
        return result, song.read_bytes() == before
    return run


def _refused_and_intact(result: Any, w: Workspace, caught: list) -> str:
    res, intact = result
    verdict = cli_error()(res, w, caught)
    return verdict if intact else "silent-wrong"


case("track same.wav -o same.wav", 4, "typed", check=_refused_and_intact)(_same_file("-o"))
case("track same.wav --png same.wav", 4, "typed", check=_refused_and_intact)(_same_file("--png"))


@case("track --png X -o X", 4, "typed", check=cli_error("same file"))
def _(w: Workspace) -> Any:
    out = w.path("x.out")
    return w.cli("track", w.song, "--model", w.model, *FAST_CLI, "-o", out, "--png", out)


# --- 5. tracebacks -------------------------------------------------------------------------------

for _dev in ("mps", "meta"):
    case(f"palette device={_dev}", 5, "typed", error="M2PError", says=lambda w, d=_dev: [d])(
        lambda w, d=_dev: __import__("m2p").palette(w.song, model=w.model, device=d,
                                                     window=2.0, hop=1.0))


@case("grade --grade-device cuda without CUDA", 5, "typed", check=cli_error("cuda"), limit_s=60)
def _(w: Workspace) -> Any:
    import torch

    if torch.cuda.is_available():  # the case is about a machine without CUDA
        return w.cli("grade", w.clip, "--music", w.song, "-o", w.path("o.mp4"),
                     "--grade-device", "cuda:99", "--model", w.model, *FAST_CLI)
    return w.cli("grade", w.clip, "--music", w.song, "-o", w.path("o.mp4"), "--grade-device",
                 "cuda", "--model", w.model, *FAST_CLI)


@case("grade --lut-size 1", 5, "typed", check=cli_error())
def _(w: Workspace) -> Any:
    return w.cli("grade", w.clip, "--music", w.song, "-o", w.path("o.mp4"), "--lut-size", "1",
                 "--model", w.model, *FAST_CLI)


@case("export --size 1", 5, "typed", check=cli_error())
def _(w: Workspace) -> Any:
    return w.cli("export", w.song, "-o", w.path("x.cube"), "--size", "1", "--model", w.model,
                 *FAST_CLI)


@case("export_cube(size=100000)", 5, "typed", error="InvalidArgumentError",
      says=lambda w: ["size"], memory=True)
def _(w: Workspace) -> Any:
    from m2p_plugins.video.export import export_cube

    return export_cube(w.song, w.path("x.cube"), palette=w.palette, size=100000)


def _race_csv(w: Workspace, rows: list[str]) -> Path:
    path = w.path("race.csv")
    path.write_text("year,A,B,C\n" + "\n".join(rows) + "\n")
    return path


def _race(w: Workspace, csv_path: Path, **kw: Any) -> Any:
    from m2p_plugins.video.race import bar_chart_race

    options = dict(track=w.track, size=(64, 48), fps=4, progress=False)
    options.update(kw)
    return bar_chart_race(csv_path, w.song, w.path("race.mp4"), **options)


@case("race with an inf cell", 5, "typed", error="VideoError", says=lambda w: ["row 3"], limit_s=60)
def _(w: Workspace) -> Any:
    return _race(w, _race_csv(w, ["2000,1,2,3", "2001,4,inf,6", "2002,7,8,9"]))


@case("race with all-negative values", 5, "typed", error="VideoError", says=lambda w: ["row 2"],
      limit_s=60)
def _(w: Workspace) -> Any:
    return _race(w, _race_csv(w, ["2000,-1e30,-2,-3", "2001,-4,-5,-6", "2002,-7,-8,-9"]))


@case("recolor a 13,500 x 13,500 image (header)", 5, "typed", error="VideoError",
      says=lambda w: ["big.png"], memory=True)
def _(w: Workspace) -> Any:
    from m2p_plugins.video.recolor import recolor

    photo = png_header_only(w.path("big.png"), 13500, 13500)
    return recolor(photo, None, photo.with_name("out.png"), palette=w.palette)


@case("recolor a 10,000 x 10,000 image (header)", 5, "typed", error="VideoError",
      says=lambda w: ["big.png"], memory=True)
def _(w: Workspace) -> Any:
    from m2p_plugins.video.recolor import recolor

    photo = png_header_only(w.path("big.png"), 10000, 10000)
    return recolor(photo, None, photo.with_name("out.png"), palette=w.palette)


@case("from_json of 100,000-deep nesting", 5, "typed", error="TrackError", memory=True)
def _(w: Workspace) -> Any:
    from m2p.palette_types import PaletteTrack

    return PaletteTrack.from_json("[" * 100_000 + "]" * 100_000)


@case("from_json with deep nesting inside lch", 5, "typed", error="TrackError", memory=True)
def _(w: Workspace) -> Any:
    doc = w.track.to_dict()
    text = json.dumps(doc).replace('"lch": [', '"lch": ' + "[" * 50_000 + "[", 1)
    text = text.replace("]], \"emotion\"", "]]" + "]" * 50_000 + ", \"emotion\"", 1)
    from m2p.palette_types import PaletteTrack

    return PaletteTrack.from_json(text)


# --- 6. wrong results ----------------------------------------------------------------------------

@case("recolor a 16-bit greyscale PNG", 6, "correct",
      check=lambda r, w, c: 0.25 < r[0] < 0.75 and r[1] < 0.2)
def _(w: Workspace) -> Any:
    from PIL import Image

    from m2p_plugins.video.recolor import read_image, recolor

    photo = w.path("grey16.png")
    ramp = np.tile(np.linspace(0, 65535, 128).astype(np.uint16), (64, 1))
    Image.fromarray(ramp).save(photo)  # I;16 (16-bit greyscale PNG)
    out = recolor(photo, None, photo.with_name("out.png"), palette=w.palette)
    rgb = read_image(out).astype(np.float64) / 255.0
    return float(rgb.mean()), float((rgb.min(axis=-1) > 0.98).mean())


for _s in (float("nan"), -1.0, 5.0, float("inf")):
    case(f"export_cube(strength={_s})", 6, "typed", error="InvalidArgumentError",
         says=lambda w: ["strength"])(
        lambda w, s=_s: __import__("m2p_plugins.video.export").video.export.export_cube(
            w.song, w.path("x.cube"), palette=w.palette, strength=s))


@case("grade_video(strength=nan)", 6, "typed", error="InvalidArgumentError",
      says=lambda w: ["strength"], limit_s=60)
def _(w: Workspace) -> Any:
    from m2p_plugins.video.grade import grade_video

    return grade_video(w.clip, w.song, w.path("g.mp4"), strength=float("nan"), track=w.track,
                       progress=False)


def _damaged_mp3(w: Workspace, kind: str) -> Path:
    data = bytearray(w.mp3.read_bytes())
    path = w.path(f"{kind}.mp3")
    n = len(data)
    if kind == "corrupt":
        data[int(n * 0.3):int(n * 0.3) + 3000] = b"\x00" * 3000
    else:
        data = data[: int(n * 0.3)]
    path.write_bytes(bytes(data))
    return path


def _one_damage_warning(y: Any, w: Workspace, caught: list, *, at_least: float) -> bool:
    ours = [c for c in caught if "damaged" in str(c.message) or "decod" in str(c.message)]
    return len(y) / SR >= at_least and len(ours) == 1


@case("mp3 with a corrupt frame at 30 % (20 s)", 6, "correct",
      check=lambda y, w, c: _one_damage_warning(y, w, c, at_least=15.0))
def _(w: Workspace) -> Any:
    from m2p.audio import decode as audio

    return audio.load(_damaged_mp3(w, "corrupt"))


@case("mp3 truncated at 30 % (header says 20 s)", 6, "correct",
      check=lambda y, w, c: _one_damage_warning(y, w, c, at_least=5.0)
      and any("header" in str(x.message) for x in c))
def _(w: Workspace) -> Any:
    from m2p.audio import decode as audio

    return audio.load(_damaged_mp3(w, "truncated"))


@case("wav whose RIFF/data sizes under-state the data (>4 GB ffmpeg WAV)", 6, "correct",
      check=lambda y, w, c: abs(len(y) / SR - 6.0) < 0.05)
def _(w: Workspace) -> Any:
    from m2p.audio import decode as audio

    y = music(6.0)
    path = w.path("broken_size.wav")
    # ffmpeg cannot fix the header of a WAV past 4 GB: the sizes left are placeholders that
    # say less than the file holds. Same shape here: the header announces 3.1 of 6 s.
    path.write_bytes(wav_bytes(y, SR, data_size=int(3.1 * SR) * 2, riff_size=0xFFFFFFFF))
    return audio.load(path)


@case("grade a video damaged in the middle", 6, "typed", error="VideoError",
      says=lambda w: ["damaged.mp4"], limit_s=60)
def _(w: Workspace) -> Any:
    from m2p_plugins.video.grade import grade_video

    clip = w.path("damaged.mp4")
    ffmpeg("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=4", "-pix_fmt", "yuv420p",
           "-g", "5", "-movflags", "+faststart", str(clip))
    data = bytearray(clip.read_bytes())
    n = len(data)  # moov first, so zeroing the middle hits frames, not the index
    data[int(n * 0.5):int(n * 0.7)] = b"\x00" * (int(n * 0.7) - int(n * 0.5))
    clip.write_bytes(bytes(data))
    return grade_video(clip, w.song, w.path("g.mp4"), track=w.track, progress=False)


def _track_doc(w: Workspace) -> dict:
    return json.loads(w.track.to_json())


@case("from_json with a 5,000-colour palette", 6, "typed", error="TrackError")
def _(w: Workspace) -> Any:
    from m2p.palette_types import PaletteTrack

    doc = _track_doc(w)
    doc["palettes"][0]["lch"] = [[50.0, 10.0, float(h % 360)] for h in range(5000)]
    doc["palettes"][0].pop("hex")
    return PaletteTrack.from_json(json.dumps(doc))


@case("from_json with valence-arousal (5, -9)", 6, "typed", error="TrackError",
      says=lambda w: ["valence"])
def _(w: Workspace) -> Any:
    from m2p.palette_types import PaletteTrack

    doc = _track_doc(w)
    doc["palettes"][1]["valence_arousal"] = [5.0, -9.0]
    return PaletteTrack.from_json(json.dumps(doc))


# --- 7. messages ---------------------------------------------------------------------------------

@case("grade an unreadable video (text file)", 7, "typed", error="VideoError",
      says=lambda w: ["fake.mp4"], limit_s=60)
def _(w: Workspace) -> Any:
    from m2p_plugins.video.grade import grade_video

    fake = w.path("fake.mp4")
    fake.write_text("not a video\n" * 100)
    try:
        return grade_video(fake, w.song, w.path("g.mp4"), track=w.track, progress=False)
    except Exception as exc:  # the old message said only that ffmpeg's output was not parsed
        if "Error passing" in str(exc):
            raise _Unclear(str(exc)) from None
        raise


@case("recolor -o noext", 7, "typed", check=cli_error("noext"))
def _(w: Workspace) -> Any:
    from PIL import Image

    photo = w.path("p.png")
    Image.new("RGB", (32, 24), (200, 40, 40)).save(photo)
    out = photo.with_name("noext")
    result = w.cli("recolor", photo, "--music", w.song, "-o", out, "--model", w.model, *FAST_CLI)
    if ".part" in result.stderr:
        result.stderr = result.stderr.replace(".part", "[TEMPORARY NAME]")
        return CliResult(result.code, result.stdout, result.stderr + "\n(names a temporary file)")
    return result


@case("track -o /dev/full", 7, "typed", check=cli_error("/dev/full"))
def _(w: Workspace) -> Any:
    return w.cli("track", w.song, "--model", "/nonexistent-model", *FAST_CLI, "-o", "/dev/full")


@case("grade -o out.xyz (fails before any work)", 7, "typed", check=cli_error("out.xyz"))
def _(w: Workspace) -> Any:
    # A missing model makes "all the work" impossible: the output must be refused first.
    return w.cli("grade", w.clip, "--music", w.song, "-o", w.path("out.xyz"), "--model",
                 "/nonexistent-model", *FAST_CLI)


for _opt, _val in (("--size", "0x0"), ("--fps", "0")):
    case(f"race {_opt} {_val} (fails before any work)", 7, "typed", check=cli_error(_opt[2:]))(
        lambda w, o=_opt, v=_val: w.cli("race", _race_csv(w, ["2000,1,2,3", "2001,4,5,6"]),
                                        "--music", w.song, "-o", w.path("r.mp4"), o, v,
                                        "--model", "/nonexistent-model", *FAST_CLI))


@case("symlink loop", 7, "typed", error="AudioError", says=lambda w: ["cycle.wav", "loop"])
def _(w: Workspace) -> Any:
    from m2p.audio import decode as audio

    link = w.path("cycle.wav")  # not "loop.wav": the message must say "loop" by itself
    os.symlink(link.name, link)
    return audio.probe(link)


@case("FIFO", 7, "typed", error="AudioError", says=lambda w: ["pipe.wav", "FIFO"], limit_s=20)
def _(w: Workspace) -> Any:
    from m2p.audio import decode as audio

    fifo = w.path("pipe.wav")
    os.mkfifo(fifo)
    return audio.load(fifo)


@case("m2p.palette(None)", 7, "typed", error="TypeError", says=lambda w: ["source"])
def _(w: Workspace) -> Any:
    import m2p

    return m2p.palette(None, model=w.model, device="cpu")


@case("load_json of a missing file", 7, "typed", error="TrackError", says=lambda w: ["nope.json"])
def _(w: Workspace) -> Any:
    from m2p.palette_types import PaletteTrack

    return PaletteTrack.load_json(w.tmp / "nope.json")


@case("grade with M2P_LOAD_PLUGINS=matplotlib", 7, "typed", check=cli_error("video"))
def _(w: Workspace) -> Any:
    return w.cli("grade", w.clip, "--music", w.song, "-o", w.path("o.mp4"), "--model",
                 "/nonexistent-model", *FAST_CLI, env={"M2P_LOAD_PLUGINS": "matplotlib"})


# --- 8. noise ------------------------------------------------------------------------------------

def _quiet(result: CliResult, w: Workspace, caught: list) -> bool:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    return result.code == 0 and len(lines) <= 1 and all(ln.startswith("m2p: warning:") for ln in lines)


@case("palette of a corrupt mp3 with --quiet (libmpg123 stderr)", 8, "correct", check=_quiet)
def _(w: Workspace) -> Any:
    return w.cli("palette", _damaged_mp3(w, "corrupt"), "--model", w.model, *FAST_CLI)


@case("array with some NaN samples: warned once", 8, "correct",
      check=lambda p, w, c: sum("non-finite" in str(x.message) for x in c) == 1)
def _(w: Workspace) -> Any:
    import m2p

    y = music(3.0)
    y[100:200] = np.nan
    return m2p.palette(y, sample_rate=SR, model=w.model, **FAST)


@case("race of entities named in scripts the font lacks", 8, "correct",
      check=lambda r, w, c: not [x for x in c if "Glyph" in str(x.message)
                                 or "overflow" in str(x.message)], limit_s=120)
def _(w: Workspace) -> Any:
    path = w.path("names.csv")
    path.write_text("year,\u65e5\u672c,\u0939\u093f\u0928\u094d\u0926\u0940,\U0001F600\n"
                    "2000,1,2,3\n2001,3,2,1\n")
    return _race(w, path, fit="trim", period_seconds=0.5)


# --- 9. many palettes ----------------------------------------------------------------------------

@case("palettes(n=130): decoded in bounded batches", 9, "correct",
      check=lambda r, w, c: len(r[0]) == 130 and r[1] <= 64)
def _(w: Workspace) -> Any:
    import m2p
    from m2p.model.network import Music2Palette

    seen = []
    real = Music2Palette.generate

    def spy(self, encoding, *a, **k):  # noqa: ANN001
        seen.append(int(encoding.embedding.shape[0]))
        return real(self, encoding, *a, **k)
    Music2Palette.generate = spy
    try:
        result = m2p.palettes(w.song, n=130, model=w.model, noise=1.0, **FAST)
    finally:
        Music2Palette.generate = real
    return result, max(seen)


# --- classes that already behaved (kept as regression cases) -------------------------------------

def _audio_bytes(name: str, content: bytes) -> Callable[[Workspace], Any]:
    def run(w: Workspace) -> Any:
        from m2p.audio import decode as audio

        path = w.path(name)
        path.write_bytes(content)
        return audio.load(path)
    return run


for _name, _content in (("empty.wav", b""), ("text.wav", b"this is not audio\n" * 50),
                        ("random.mp3", np.random.default_rng(0).bytes(5000)),
                        ("header_only.wav", wav_bytes(np.zeros(0), SR)),
                        ("truncated_header.wav", wav_bytes(music(1.0), SR)[:30])):
    case(f"audio file {_name}", None, "typed", error="AudioError",
         says=lambda w, n=_name: [n])(_audio_bytes(_name, _content))

case("missing audio file", None, "typed", error="AudioFileNotFoundError",
     says=lambda w: ["nope.wav"])(lambda w: __import__("m2p.audio.decode").audio.load(w.tmp / "nope.wav"))
case("directory as audio", None, "typed", error="AudioDecodeError")(
    lambda w: __import__("m2p.audio.decode").audio.load(w.tmp))


@case("float wav, every sample NaN", None, "typed", error="InvalidAudioError",
      says=lambda w: ["nan.wav"])
def _(w: Workspace) -> Any:
    import soundfile as sf

    from m2p.audio import decode as audio

    path = w.path("nan.wav")
    sf.write(str(path), np.full(SR, np.nan, np.float32), SR, subtype="FLOAT")
    return audio.load(path)


@case("8-channel 96 kHz wav", None, "correct", check=lambda y, w, c: abs(len(y) / SR - 2.0) < 0.01)
def _(w: Workspace) -> Any:
    import soundfile as sf

    from m2p.audio import decode as audio

    path = w.path("multi.wav")
    sf.write(str(path), np.tile(music(2.0, 96000)[:, None], (1, 8)), 96000)
    return audio.load(path)


@case("0.5 s clip", None, "typed", error="AudioTooShortError")
def _(w: Workspace) -> Any:
    import m2p

    return m2p.palette(music(0.5), sample_rate=SR, model=w.model, **FAST)


@case("array sample_rate=2e9", None, "typed", error="InvalidAudioError", says=lambda w: ["sample_rate"])
def _(w: Workspace) -> Any:
    from m2p.audio import decode as audio

    return audio.load(music(1.0), sample_rate=2_000_000_000)


for _name, _text in (("not json", "{nope"), ("newer version",
                      '{"format": "music2palette.track", "version": 99}'),
                     ("NaN time", None), ("huge integer window", None)):
    def _json_case(w: Workspace, name: str = _name, text: str | None = _text) -> Any:
        from m2p.palette_types import PaletteTrack

        if text is None:
            doc = _track_doc(w)
            if name == "NaN time":
                doc["times"][0] = float("nan")
            else:
                doc["window"] = 10 ** 400
            text = json.dumps(doc)
        return PaletteTrack.from_json(text)
    case(f"from_json: {_name}", 5 if _name.startswith("huge") else None, "typed",
         error="TrackError")(_json_case)


def _csv_case(name: str, content: bytes) -> Callable[[Workspace], Any]:
    def run(w: Workspace) -> Any:
        from m2p_plugins.video.race import read_wide_csv

        path = w.path(name)
        path.write_bytes(content)
        return read_wide_csv(path)
    return run


for _name, _content in (("one_row.csv", b"year,A\n2000,1\n"),
                        ("latin1.csv", "year,caf\xe9\n2000,1\n2001,2\n".encode("latin-1")),
                        ("text_cell.csv", b"year,A\n2000,1\n2001,lots\n"),
                        ("nan_cell.csv", b"year,A\n2000,1\n2001,nan\n")):
    case(f"race CSV {_name}", None, "typed" if _name != "nan_cell.csv" else "correct",
         error="VideoError", says=lambda w, n=_name: [n],  # a "nan" cell is a gap, like a blank
         check=lambda r, w, c: bool(np.isfinite(r.values).all()))(_csv_case(_name, _content))


def _image_case(name: str, make: Callable[[Path], None], expect: str) -> None:
    def run(w: Workspace) -> Any:
        from m2p_plugins.video.recolor import read_image, recolor

        photo = w.path(name)
        make(photo)
        out = recolor(photo, None, photo.with_name("out.png"), palette=w.palette)
        return read_image(out)

    def check(img: Any, w: Workspace, c: list) -> bool:
        return img.dtype == np.uint8 and img.ndim == 3 and img.shape[-1] in (3, 4)
    case(f"image {name}", None, expect, error="VideoError", says=lambda w: [name], check=check)(run)


def _pil(mode: str, size: tuple[int, int], fmt: str | None = None, **kw: Any) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        from PIL import Image

        Image.new(mode, size, **kw).save(path, format=fmt)
    return make


_image_case("cmyk.jpg", _pil("CMYK", (40, 30), "JPEG", color=(10, 200, 30, 0)), "correct")
_image_case("palette.png", _pil("P", (40, 30), "PNG", color=3), "correct")
_image_case("one_pixel.png", _pil("RGB", (1, 1), "PNG", color=(1, 2, 3)), "correct")
_image_case("float.tif", _pil("F", (40, 30), "TIFF", color=0.5), "correct")
_image_case("truncated.png", lambda p: (_pil("RGB", (64, 64), "PNG", color=(9, 9, 9))(p),
                                        p.write_bytes(p.read_bytes()[:60])), "typed")


# ----------------------------------------------------------------------------------------------
# Running a case


class _Hang(BaseException):
    pass


class _Unclear(Exception):
    pass


@dataclass
class Outcome:
    kind: str
    detail: str
    seconds: float


def classify(c: Case, w: Workspace) -> Outcome:
    """Run one case in this process and name its outcome.

    Time limits: ``c.limit_s`` seconds of *CPU* time (``ITIMER_PROF``: a case that computes
    without end is caught however busy the machine is) and ten times that of wall time
    (``ITIMER_REAL``: a case blocked on a FIFO or a child process).
    """
    if c.memory:
        return classify_in_subprocess(c)
    start = time.monotonic()

    def alarm(signum: int, frame: Any) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    previous_prof = signal.signal(signal.SIGPROF, alarm)
    signal.setitimer(signal.ITIMER_REAL, 10 * c.limit_s)
    signal.setitimer(signal.ITIMER_PROF, c.limit_s)
    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = c.run(w)
            except _Hang:
                raise
            except BaseException as exc:  # noqa: BLE001 - classifying is the point
                return Outcome(*_judge_exception(c, w, exc), time.monotonic() - start)
        return Outcome(*_judge_value(c, w, value, list(caught)), time.monotonic() - start)
    except _Hang:
        return Outcome("hang", f"still running after {c.limit_s:g} s of CPU or "
                               f"{10 * c.limit_s:g} s of wall time", time.monotonic() - start)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGALRM, previous)
        signal.signal(signal.SIGPROF, previous_prof)


def _judge_exception(c: Case, w: Workspace, exc: BaseException) -> tuple[str, str]:
    text = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    if isinstance(exc, _Unclear):
        return "unclear", str(exc)[:300]
    if c.expect != "typed" or c.error is None:
        return "traceback", text
    wanted = c.error
    names = wanted if isinstance(wanted, tuple) else (wanted,)
    import builtins

    errors = _errors()
    classes = tuple(getattr(errors, n, None) or getattr(builtins, n) for n in names)
    if not isinstance(exc, classes):
        return "traceback", text
    message = str(exc)
    if "\n" in message.strip():
        return "unclear", text + " (several lines)"
    missing = [m for m in c.says(w) if m.lower() not in message.lower()]
    if missing:
        return "unclear", text + f" (does not say {missing})"
    return "typed", text


def _judge_value(c: Case, w: Workspace, value: Any, caught: list) -> tuple[str, str]:
    if c.check is None:
        return "silent-wrong", f"returned {type(value).__name__} instead of raising {c.error}"
    verdict = c.check(value, w, caught)
    detail = _describe(value)
    if isinstance(verdict, str):
        return verdict, detail
    if verdict:
        return "correct", detail
    return "silent-wrong", detail + f"; warnings: {[str(x.message)[:80] for x in caught][:3]}"


def _describe(value: Any) -> str:
    if isinstance(value, CliResult):
        lines = [ln for ln in value.stderr.splitlines() if ln.strip()]
        return f"exit {value.code}: " + " | ".join(lines[-3:])[:300]
    if isinstance(value, np.ndarray):
        return f"array {value.shape}"
    return " ".join(repr(value).split())[:200]


MEMORY_LIMIT = 2 << 30  # bytes of address space for a memory case (numpy + scipy fit easily)


def run_limited(code: str, *, memory: int = MEMORY_LIMIT, timeout: float = 300.0
                ) -> subprocess.CompletedProcess:
    """Run Python ``code`` in a child process whose address space is capped at ``memory`` bytes
    (``RLIMIT_AS``): an allocation of gigabytes fails there at once with ``MemoryError``."""
    prologue = (f"import resource, sys\nresource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))\n"
                f"sys.path[:0] = [{_m2p_root()!r}, {str(Path(__file__).parent)!r}]\n")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-c", prologue + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=tempfile.gettempdir())


def classify_in_subprocess(c: Case, *, memory: int = MEMORY_LIMIT) -> Outcome:
    """Run a case in a child process under ``RLIMIT_AS`` (:func:`run_limited`): a regression
    that tries to allocate gigabytes fails there instead of freezing the machine."""
    start = time.monotonic()
    code = f"""
        import json, tempfile
        import bad_inputs
        case = next(c for c in bad_inputs.CASES if c.id == {c.id!r})
        case.memory = False
        with tempfile.TemporaryDirectory() as tmp:
            out = bad_inputs.classify(case, bad_inputs.Workspace(tmp))  # memory cases are light
        print("OUTCOME " + json.dumps([out.kind, out.detail]))
    """
    try:
        proc = run_limited(code, memory=memory, timeout=10 * c.limit_s)  # the child limits CPU
    except subprocess.TimeoutExpired:
        return Outcome("hang", f"still running after {10 * c.limit_s:g} s", time.monotonic() - start)
    for line in proc.stdout.splitlines():
        if line.startswith("OUTCOME "):
            kind, detail = json.loads(line[8:])
            return Outcome(kind, detail + f" [RLIMIT_AS {memory >> 20} MiB]", time.monotonic() - start)
    tail = " | ".join(proc.stderr.strip().splitlines()[-2:])[:300]
    return Outcome("traceback", f"child exited {proc.returncode} under RLIMIT_AS "
                                f"{memory >> 20} MiB: {tail}", time.monotonic() - start)


def _m2p_root() -> str:
    """The folder the parent's ``m2p`` comes from (the child must test the same code)."""
    import m2p

    return str(Path(m2p.__file__).resolve().parents[1])


def table(outcomes: dict[str, Outcome]) -> str:
    """The markdown outcome table: totals, then per defect."""
    rows = ["| defect | cases | typed errors | correct results | unclear | tracebacks | hangs | silent-wrong |",
            "|---|---|---|---|---|---|---|---|"]
    groups: dict[str, list[Outcome]] = {}
    for c in CASES:
        if c.id in outcomes:
            key = f"{c.defect}" if c.defect else "regression (passed before)"
            groups.setdefault(key, []).append(outcomes[c.id])
    order = sorted(groups, key=lambda k: (not k.isdigit(), int(k) if k.isdigit() else 0))
    every = [o for k in order for o in groups[k]]
    for key, items in [*((k, groups[k]) for k in order), ("**all**", every)]:
        counts = [sum(o.kind == kind for o in items) for kind in OUTCOMES]
        rows.append(f"| {key} | {len(items)} | " + " | ".join(str(n) for n in counts) + " |")
    return "\n".join(rows)


__all__ = ["CASES", "Case", "CliResult", "Outcome", "Workspace", "classify",
           "classify_in_subprocess", "run_limited", "table"]
