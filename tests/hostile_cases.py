"""The cases of the generated hostile suite (``tests/hostile_suite.py``), by group.

Each generator adds cases through ``add(id, group, run, expect=..., check=..., guard=...,
clean=..., timeout=...)``; ``S`` is the suite module (its checks and input makers). A case's
``run(ctx)`` makes what it needs under ``ctx.i.fresh(name)`` and returns ``ctx.cli(...)`` for a
command, or the value of an API call.
"""

from __future__ import annotations

import json
import os
import random
import signal
import struct
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np

SR = 22050


def generate(add: Callable[..., None], S: Any) -> None:
    for group in (_audio_files, _arrays, _options, _outputs, _track_json, _csv, _images, _videos,
                  _tables, _plugins, _extras, _environment, _signals, _concurrency, _live,
                  _api_misc):
        group(add, S)


def _m(ctx: Any) -> list[str]:
    return ["--model", ctx.model, *S_FAST]


S_FAST = ["--window", "2", "--hop", "1", "--device", "cpu", "-q"]


# ----------------------------------------------------------------------------------------------
# Audio files: every kind and damage, through the decoder and through the command line

def _audio_files(add: Callable[..., None], S: Any) -> None:
    def wav(samples: np.ndarray, rate: int = SR, **kw: Any) -> Callable[[Path], None]:
        return lambda p: p.write_bytes(S.wav_bytes(samples, rate, **kw))

    def sf_write(samples: np.ndarray, rate: int, subtype: str | None = None,
                 fmt: str | None = None) -> Callable[[Path], None]:
        def make(p: Path) -> None:
            import soundfile as sf

            sf.write(str(p), samples, rate, subtype=subtype, format=fmt)
        return make

    def ff(*args: str) -> Callable[[Path], None]:
        return lambda p: S.ffmpeg(*args, str(p))

    def cut(make: Callable[[Path], None], fraction: float) -> Callable[[Path], None]:
        def run(p: Path) -> None:
            make(p)
            data = p.read_bytes()
            p.write_bytes(data[: int(len(data) * fraction)])
        return run

    def zero_middle(make: Callable[[Path], None]) -> Callable[[Path], None]:
        def run(p: Path) -> None:
            make(p)
            data = bytearray(p.read_bytes())
            a = len(data) // 3
            data[a:a + min(4000, len(data) // 5)] = bytes(min(4000, len(data) // 5))
            p.write_bytes(bytes(data))
        return run

    y = S.music(5.0)
    y44 = S.music(5.0, 44100)
    noise = lambda rate: ("-f", "lavfi", "-i", f"anoisesrc=d=5:c=pink:r={rate}:a=0.4")  # noqa: E731
    kinds: dict[str, tuple[str, Callable[[Path], None], str]] = {
        # name: (file name, maker, expectation)
        "wav 22.05 kHz": ("a.wav", wav(y), "ok"),
        "wav 44.1 kHz stereo": ("a.wav", sf_write(np.c_[y44, y44], 44100), "ok"),
        "wav 8 kHz": ("a.wav", sf_write(S.music(5.0, 8000), 8000), "ok"),
        "wav 96 kHz 8 channels": ("a.wav", sf_write(np.tile(S.music(3.0, 96000)[:, None], 8), 96000), "ok"),
        "wav 24-bit": ("a.wav", sf_write(y, SR, "PCM_24"), "ok"),
        "wav float": ("a.wav", sf_write(y, SR, "FLOAT"), "ok"),
        "wav double": ("a.wav", sf_write(y.astype(np.float64), SR, "DOUBLE"), "ok"),
        "wav 8-bit unsigned": ("a.wav", wav(y, bits=8), "ok"),
        "flac": ("a.flac", sf_write(y, SR), "ok"),
        "ogg vorbis": ("a.ogg", sf_write(y, SR), "ok"),
        "mp3 libsndfile": ("a.mp3", sf_write(y44, 44100), "ok"),
        "mp3 LAME 44.1 kHz (MPEG-1)": ("a.mp3", ff(*noise(44100), "-c:a", "libmp3lame", "-b:a", "128k"), "ok"),
        "mp3 LAME 22.05 kHz (MPEG-2)": ("a.mp3", ff(*noise(22050), "-c:a", "libmp3lame", "-b:a", "64k"), "ok"),
        "mp3 LAME 24 kHz VBR (MPEG-2)": ("a.mp3", ff(*noise(24000), "-c:a", "libmp3lame", "-q:a", "4"), "ok"),
        "mp3 LAME 16 kHz (MPEG-2)": ("a.mp3", ff(*noise(16000), "-c:a", "libmp3lame", "-b:a", "32k"), "ok"),
        "m4a aac": ("a.m4a", ff(*noise(44100), "-c:a", "aac"), "ok"),
        "opus": ("a.opus", ff(*noise(48000), "-c:a", "libopus"), "ok"),
        "aiff": ("a.aiff", sf_write(y, SR, fmt="AIFF"), "ok"),
        "silence": ("a.wav", wav(np.zeros(SR * 3, np.float32)), "ok"),
        "full-scale square": ("a.wav", wav(np.sign(np.sin(np.arange(SR * 3) / 20)).astype(np.float32)), "ok"),
        "DC offset": ("a.wav", wav(np.full(SR * 3, 0.9, np.float32)), "ok"),
        "wav truncated at 90 %": ("a.wav", cut(wav(y), 0.9), "either"),
        "wav truncated at 50 %": ("a.wav", cut(wav(y), 0.5), "either"),
        "wav truncated at 10 %": ("a.wav", cut(wav(y), 0.1), "either"),
        "wav cut 400 samples in": ("a.wav", cut(wav(y), 0.004), "either"),
        "wav cut inside its header": ("a.wav", lambda p: p.write_bytes(S.wav_bytes(y, SR)[:30]), "error"),
        "flac truncated at 50 %": ("a.flac", cut(sf_write(y, SR), 0.5), "either"),
        "ogg truncated at 50 %": ("a.ogg", cut(sf_write(y, SR), 0.5), "either"),
        "mp3 truncated at 30 %": ("a.mp3", cut(sf_write(y44, 44100), 0.3), "either"),
        "mp3 truncated at 2 %": ("a.mp3", cut(sf_write(y44, 44100), 0.02), "either"),
        "mp3 zeroed middle": ("a.mp3", zero_middle(sf_write(y44, 44100)), "either"),
        "ogg zeroed middle": ("a.ogg", zero_middle(sf_write(y, SR)), "either"),
        "flac zeroed middle": ("a.flac", zero_middle(sf_write(y, SR)), "either"),
        "m4a truncated at 50 %": ("a.m4a", cut(ff(*noise(44100), "-c:a", "aac"), 0.5), "either"),
        "random bytes .wav": ("a.wav", lambda p: p.write_bytes(np.random.default_rng(1).bytes(9000)), "error"),
        "random bytes .mp3": ("a.mp3", lambda p: p.write_bytes(np.random.default_rng(2).bytes(9000)), "error"),
        "random bytes .ogg": ("a.ogg", lambda p: p.write_bytes(np.random.default_rng(3).bytes(9000)), "error"),
        "text as .flac": ("a.flac", lambda p: p.write_text("not audio\n" * 100), "error"),
        "PNG as .wav": ("a.wav", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500)), "error"),
        "empty file": ("a.wav", lambda p: p.write_bytes(b""), "error"),
        "header only": ("a.wav", wav(np.zeros(0, np.float32)), "error"),
        "0.3 s clip": ("a.wav", wav(S.music(0.3)), "error"),
        "header rate 1 Hz": ("a.wav", wav(y, header_rate=1), "error"),
        "header rate 2 GHz": ("a.wav", wav(y, header_rate=2_000_000_000), "error"),
        "header rate 999,983 Hz": ("a.wav", wav(y, header_rate=999_983), "either"),
        "data size 0": ("a.wav", wav(y, data_size=0), "either"),
        "data size 0xFFFFFFFF": ("a.wav", wav(y, data_size=0xFFFFFFFF), "either"),
        "data size under-stated": ("a.wav", wav(S.music(5.0), data_size=SR), "either"),
        "RIFF size 0": ("a.wav", wav(y, riff_size=0), "either"),
        "0 channels": ("a.wav", wav(y, channels=0), "error"),
        "float wav all NaN": ("a.wav", sf_write(np.full(SR * 3, np.nan, np.float32), SR, "FLOAT"), "error"),
        "float wav all inf": ("a.wav", sf_write(np.full(SR * 3, np.inf, np.float32), SR, "FLOAT"), "error"),
        "float wav half NaN": ("a.wav", sf_write(np.r_[y[:SR * 2], np.full(SR * 2, np.nan, np.float32)], SR, "FLOAT"), "either"),
        "double wav of 1e300": ("a.wav", sf_write(np.full(SR * 3, 1e300), SR, "DOUBLE"), "error"),
        "float wav of 1e30": ("a.wav", sf_write(np.full(SR * 3, 1e30, np.float32), SR, "FLOAT"), "either"),
        "unicode name": ("sØng 日本 ☃.wav", wav(y), "ok"),
        "name with escape sequences": ("\x1b[2J\x1b]0;pwned\x07.wav", wav(y), "ok"),
        "name with a newline": ("two\nlines.wav", wav(y), "ok"),
        "name of 250 characters": ("n" * 246 + ".wav", wav(y), "ok"),
        "no suffix": ("audio", wav(y), "ok"),
        "wrong suffix (wav as .mp3)": ("a.mp3", wav(y), "ok"),
    }

    def special(kind: str) -> Callable[[Any], Path]:
        def make(ctx: Any) -> Path:
            path = ctx.i.fresh("a.wav")
            if kind == "missing":
                return path
            if kind == "directory":
                path.mkdir()
            elif kind == "fifo":
                os.mkfifo(path)
            elif kind == "symlink loop":
                path.symlink_to(path)
            elif kind == "broken link":
                path.symlink_to(path.with_name("nowhere.wav"))
            elif kind == "/dev/zero":
                return Path("/dev/zero")
            elif kind == "/dev/null":
                return Path("/dev/null")
            elif kind == "link to a song":
                path.symlink_to(ctx.i.song)
            return path
        return make

    def from_file(name: str, maker: Callable[[Path], None]) -> Callable[[Any], Path]:
        def make(ctx: Any) -> Path:
            path = ctx.i.fresh(name)
            maker(path)
            return path
        return make

    makers = {k: (from_file(n, m), e) for k, (n, m, e) in kinds.items()}
    for kind in ("missing", "directory", "fifo", "symlink loop", "broken link", "/dev/zero",
                 "/dev/null", "link to a song"):
        makers[kind] = (special(kind), "ok" if kind == "link to a song" else "error")

    for kind, (make, expect) in makers.items():
        add(f"audio.load: {kind}", "audio files",
            lambda ctx, make=make: __import__("m2p.audio.decode").audio.load(make(ctx)),
            expect="ok" if kind == "0.3 s clip" else expect, check=S.is_audio, timeout=60)
        add(f"audio.probe: {kind}", "audio files",  # a header probe: content is not its business
            lambda ctx, make=make: __import__("m2p.audio.decode").audio.probe(make(ctx)),
            expect="either",
            check=lambda info, ctx: info.duration >= 0 and info.sample_rate > 0, timeout=60)
        add(f"m2p palette: {kind}", "audio files",
            lambda ctx, make=make: ctx.cli("palette", make(ctx), *_m(ctx)),
            expect=expect, check=lambda r, ctx: len(r.stdout.split()) >= 1, timeout=90)


# ----------------------------------------------------------------------------------------------
# Arrays of samples through the API

def _arrays(add: Callable[..., None], S: Any) -> None:
    y = S.music(3.0)
    arrays: dict[str, tuple[Callable[[], Any], Any, str]] = {
        "float32 mono": (lambda: y, SR, "ok"),
        "float64 stereo": (lambda: np.c_[y, y].astype(np.float64), SR, "ok"),
        "int16": (lambda: (y * 30000).astype(np.int16), SR, "ok"),
        "int8": (lambda: (y * 120).astype(np.int8), SR, "ok"),
        "int32": (lambda: (y * 2e9).astype(np.int32), SR, "ok"),
        "int64": (lambda: (y * 1e18).astype(np.int64), SR, "ok"),
        "uint8": (lambda: (y * 120 + 128).astype(np.uint8), SR, "ok"),
        "uint16": (lambda: (y * 30000 + 32768).astype(np.uint16), SR, "ok"),
        "float16": (lambda: y.astype(np.float16), SR, "ok"),
        "complex": (lambda: y.astype(np.complex64), SR, "error"),
        "bool": (lambda: y > 0, SR, "error"),
        "strings": (lambda: np.array(["a"] * SR * 2), SR, "error"),
        "objects": (lambda: np.array([object()] * 100, dtype=object), SR, "error"),
        "python list": (lambda: y.tolist(), SR, "ok"),
        "empty": (lambda: np.zeros(0, np.float32), SR, "error"),
        "(n, 0)": (lambda: np.zeros((SR, 0), np.float32), SR, "error"),
        "(2, n) channels first": (lambda: np.stack([y, y]), SR, "error"),
        "(n, 65) channels": (lambda: np.zeros((SR * 2, 65), np.float32), SR, "error"),
        "3-D": (lambda: np.zeros((SR, 2, 2), np.float32), SR, "error"),
        "0-D": (lambda: np.float32(0.5), SR, "error"),
        "all NaN": (lambda: np.full(SR * 2, np.nan), SR, "error"),
        "all inf": (lambda: np.full(SR * 2, -np.inf), SR, "error"),
        "some NaN": (lambda: np.where(np.arange(y.size) % 100 == 0, np.nan, y), SR, "ok"),
        "1e300 (float64)": (lambda: np.full(SR * 2, 1e300), SR, "error"),
        "some 1e300 (float64)": (lambda: np.where(np.arange(y.size) < 500, 1e300, y.astype(np.float64)), SR, "ok"),
        "1e30 (float32)": (lambda: np.full(SR * 2, 1e30, np.float32), SR, "either"),
        "denormals": (lambda: np.full(SR * 2, 1e-42, np.float32), SR, "ok"),
        "rate None": (lambda: y, None, "error"),
        "rate 0": (lambda: y, 0, "error"),
        "rate -22050": (lambda: y, -22050, "error"),
        "rate 999": (lambda: y, 999, "error"),
        "rate 1000": (lambda: S.music(3.0, 1000), 1000, "ok"),
        "rate 1,000,000": (lambda: S.music(1.2, 1_000_000), 1_000_000, "ok"),
        "rate 1,000,001": (lambda: y, 1_000_001, "error"),
        "rate NaN": (lambda: y, float("nan"), "error"),
        "rate '22050'": (lambda: y, "22050", "error"),
        "rate True": (lambda: y, True, "error"),
        "rate 22050.5": (lambda: y, 22050.5, "error"),
        "rate 22050.0": (lambda: y, 22050.0, "ok"),
        "0.9 s": (lambda: S.music(0.9), SR, "error"),
    }
    for name, (make, rate, expect) in arrays.items():
        add(f"m2p.palette(array: {name})", "arrays",
            lambda ctx, make=make, rate=rate: __import__("m2p").palette(
                make(), sample_rate=rate, model=ctx.model, window=2.0, hop=1.0, device="cpu"),
            expect=expect, check=S.is_palette, timeout=60)
        add(f"audio.load(array: {name})", "arrays",
            lambda ctx, make=make, rate=rate: __import__("m2p.audio.decode").audio.load(
                make(), sample_rate=rate),
            expect="either" if name == "0.9 s" else expect, check=S.is_audio, timeout=60)
    for name, value in (("None", None), ("an int", 5), ("bytes", b"RIFF"), ("a dict", {}),
                        ("a set", set())):
        add(f"m2p.palette({name})", "arrays",
            lambda ctx, value=value: __import__("m2p").palette(value, model=ctx.model, device="cpu"),
            expect="error", wrong_type=True)


# ----------------------------------------------------------------------------------------------
# Options at and past their limits, on every command

def _options(add: Callable[..., None], S: Any) -> None:
    def song(ctx: Any) -> str:
        return str(ctx.i.song)

    def out(name: str) -> Callable[[Any], str]:
        return lambda ctx: str(ctx.i.fresh(name))

    inference = {
        "--window": ["0", "0.5", "1", "30", "1e9", "nan", "inf", "-1", "abc"],
        "--hop": ["0", "0.04", "0.05", "1", "1e9", "nan"],
        "--seed": ["-1", "0", str(2**63 - 1), str(2**63), "1.5", "1e3"],
        "--noise": ["-1", "0", "1e9", "nan", "0.5"],
        "--batch-size": ["0", "1", "1000000000"],
        "--device": ["cpu", "cuda", "meta", "mps", "", "xpu:3", "cpu:1", "cuda:99"],
        "--model": ["/nonexistent", "/dev/null", "/etc"],
    }
    ok_values = {("--window", "1"), ("--window", "30"), ("--hop", "0.05"), ("--hop", "1"),
                 ("--seed", "0"), ("--seed", str(2**63 - 1)), ("--noise", "0"), ("--noise", "0.5"),
                 ("--batch-size", "1"), ("--batch-size", "1000000000"), ("--device", "cpu"),
                 ("--noise", "1e9"), ("--device", "cpu:1")}
    either = {("--window", "1e9"), ("--hop", "1e9"), ("--device", "cpu:1")}
    for flag, values in inference.items():
        for value in values:
            expect = "either" if (flag, value) in either else (
                "ok" if (flag, value) in ok_values else "error")
            for command in ("palette", "track"):
                def run(ctx: Any, flag: str = flag, value: str = value, command: str = command) -> Any:
                    base = ["--model", ctx.model, "--window", "2", "--hop", "1", "--device", "cpu",
                            "-q"]
                    i = base.index(flag) if flag in base else None
                    if i is not None:
                        base[i + 1] = value
                    else:
                        base += [flag, value]
                    return ctx.cli(command, song(ctx), *base)
                add(f"m2p {command} {flag} {value!r}", "options", run, expect=expect, timeout=90)

    def cli_case(name: str, args: Callable[[Any], list[Any]], expect: str,
                 timeout: float = 120, check: Any = None) -> None:
        add(name, "options", lambda ctx: ctx.cli(*args(ctx)), expect=expect, timeout=timeout,
            check=check)

    for n, expect in (("0", "error"), ("1", "ok"), ("3", "ok"), ("1000", "ok"), ("1001", "error"),
                      ("100000", "error"), ("-5", "error"), ("x", "error")):
        cli_case(f"m2p palette -n {n}", lambda ctx, n=n: ["palette", song(ctx), "-n", n, *_m(ctx)],
                 expect, timeout=120)
    for value, expect in (("-0.1", "error"), ("0", "ok"), ("1", "ok"), ("1.1", "error"),
                          ("nan", "error"), ("inf", "error")):
        cli_case(f"m2p export cube --strength {value}", lambda ctx, v=value: [
            "export", song(ctx), "--format", "cube", "--strength", v, "-o", out("x.cube")(ctx),
            *_m(ctx)], expect)
        cli_case(f"m2p recolor --strength {value}", lambda ctx, v=value: [
            "recolor", ctx.i.photo, "--music", song(ctx), "--strength", v, "-o",
            out("r.png")(ctx), *_m(ctx)], expect)
    for value, expect in (("1", "error"), ("2", "ok"), ("65", "ok"), ("66", "error"), ("x", "error")):
        cli_case(f"m2p export cube --size {value}", lambda ctx, v=value: [
            "export", song(ctx), "--format", "cube", "--size", v, "-o", out("x.cube")(ctx),
            *_m(ctx)], expect)
    for value, expect in (("-1", "error"), ("0", "ok"), ("2.5", "ok"), ("4", "ok"),
                          ("4.01", "error"), ("1e9", "error"), ("nan", "error")):
        cli_case(f"m2p export css --at {value}", lambda ctx, v=value: [
            "export", song(ctx), "--format", "css", "--at", v, "-o", out("x.css")(ctx), *_m(ctx)],
            expect)
    for value, expect in (("0", "error"), ("1", "ok"), ("2", "ok"), ("64", "either"), ("65", "error"),
                          ("auto", "ok"), ("x", "error")):
        cli_case(f"m2p export ase --sections {value}", lambda ctx, v=value: [
            "export", song(ctx), "--format", "ase", "--sections", v, "-o", out("x.ase")(ctx),
            *_m(ctx)], expect)
    for fmt in ("json", "css", "gpl", "ase", "svg", "png", "cube", "3dl", "haldclut", "CUBE", "xyz"):
        suffix = {"haldclut": ".png", "CUBE": ".cube", "xyz": ".xyz"}.get(fmt, "." + fmt)
        cli_case(f"m2p export --format {fmt}", lambda ctx, f=fmt, s=suffix: [
            "export", song(ctx), "--format", f, "-o", out("x" + s)(ctx), *_m(ctx)],
            "error" if fmt == "xyz" else "ok")
    for name, value, expect in (("empty", "", "error"), ("10,000 characters", "n" * 10_000, "error"),
                                ("256 characters", "n" * 256, "ok"),
                                ("escape sequences", "\x1b[31mred\x1b[0m", "ok"),
                                ("CSS comment end", "a */ body{} /*", "ok"),
                                ("markup", "<svg onload=alert(1)>", "ok"),
                                ("newlines", "a\nb\r\nc", "ok")):
        for fmt in ("ase", "css", "svg", "gpl"):
            def check(r: Any, ctx: Any, v: str = value) -> bool:
                return "<svg onload" not in r.stdout
            cli_case(f"m2p export {fmt} --name {name}", lambda ctx, f=fmt, v=value: [
                "export", song(ctx), "--format", f, "--name", v, "-o", out("x." + f)(ctx),
                *_m(ctx)], expect)
    for size, expect in (("0x0", "error"), ("1x1", "error"), ("32x18", "ok"), ("99999x99999", "error"),
                         ("axb", "error"), ("64x-5", "error")):
        cli_case(f"m2p race --size {size}", lambda ctx, v=size: [
            "race", ctx.i.csv, "--music", song(ctx), "--size", v, "--fps", "4", "--fit", "trim",
            "-o", out("r.mp4")(ctx), *_m(ctx)], expect, timeout=180)
    for fps, expect in (("0", "error"), ("1", "ok"), ("241", "error"), ("2.5", "error")):
        cli_case(f"m2p race --fps {fps}", lambda ctx, v=fps: [
            "race", ctx.i.csv, "--music", song(ctx), "--size", "64x36", "--fps", v, "--fit", "trim",
            "-o", out("r.mp4")(ctx), *_m(ctx)], expect, timeout=180)
    for bars, expect in (("0", "error"), ("1", "ok"), ("1000", "ok"), ("1001", "error")):
        cli_case(f"m2p race --bars {bars}", lambda ctx, v=bars: [
            "race", ctx.i.csv, "--music", song(ctx), "--size", "64x36", "--fps", "4", "--bars", v,
            "--fit", "trim", "-o", out("r.mp4")(ctx), *_m(ctx)], expect, timeout=180)
    for value, expect in (("0", "error"), ("1e-9", "error"), ("0.5", "ok"), ("-1", "error"),
                          ("1e6", "error")):
        cli_case(f"m2p race --period-seconds {value}", lambda ctx, v=value: [
            "race", ctx.i.csv, "--music", song(ctx), "--size", "64x36", "--fps", "4", "--fit",
            "trim", "--period-seconds", v, "-o", out("r.mp4")(ctx), *_m(ctx)], expect, timeout=180)
    for value, expect in (("-1", "error"), ("0", "ok"), ("3.9", "either"), ("4", "error"),
                          ("1e9", "error")):
        cli_case(f"m2p grade --music-start {value}", lambda ctx, v=value: [
            "grade", ctx.i.clip, "--music", song(ctx), "--music-start", v, "-o", out("g.mp4")(ctx),
            "--model", ctx.model, "--device", "cpu", "-q"], expect, timeout=180)
    for value, expect in (("1", "error"), ("2", "ok"), ("66", "error")):
        cli_case(f"m2p grade --lut-size {value}", lambda ctx, v=value: [
            "grade", ctx.i.clip, "--music", song(ctx), "--lut-size", v, "-o", out("g.mp4")(ctx),
            "--model", ctx.model, "--device", "cpu", "-q"], expect, timeout=180)
    for value, expect in (("cpu", "ok"), ("cuda:99", "error"), ("tpu", "error")):
        cli_case(f"m2p grade --grade-device {value}", lambda ctx, v=value: [
            "grade", ctx.i.clip, "--music", song(ctx), "--grade-device", v, "-o",
            out("g.mp4")(ctx), "--model", ctx.model, "--device", "cpu", "-q"], expect, timeout=180)
    for value, expect in (("libx264", "ok"), ("mpeg4", "ok"), ("nosuchcodec", "error")):
        cli_case(f"m2p grade --codec {value}", lambda ctx, v=value: [
            "grade", ctx.i.clip, "--music", song(ctx), "--codec", v, "-o", out("g.mp4")(ctx),
            "--model", ctx.model, "--device", "cpu", "-q"], expect, timeout=180)
    for flag, values in (("--top", [("0", "error"), ("1", "ok"), ("1000000", "ok"),
                                    ("1000001", "error")]),
                         ("--colors", [("0", "error"), ("1", "ok"), ("16", "ok"), ("17", "error")]),
                         ("--emotion-weight", [("-1", "error"), ("0", "ok"), ("1", "ok"),
                                               ("2", "error"), ("nan", "error")]),
                         ("--fps", [("0", "error"), ("0.001", "ok"), ("1e9", "either")])):
        for value, expect in values:
            cli_case(f"m2p match {flag} {value}", lambda ctx, f=flag, v=value: [
                "match", ctx.i.clip, "--library", ctx.i.library, f, v], expect, timeout=120)
    for flag, value, expect in (("--workers", "0", "error"), ("--workers", "1", "ok"),
                                ("--flush-every", "0", "error"), ("--flush-every", "1", "ok"),
                                ("--engine", "nope", "error")):
        cli_case(f"m2p batch {flag} {value}", lambda ctx, f=flag, v=value: [
            "batch", ctx.i.song, "-o", out("l.parquet")(ctx), f, v, *_m(ctx)], expect, timeout=150)
    for value, expect in (("-1", "error"), ("0", "ok"), ("3.5", "ok"), ("1e9", "error"),
                          ("nan", "error")):
        cli_case(f"m2p recolor --at {value}", lambda ctx, v=value: [
            "recolor", ctx.i.photo, "--music", song(ctx), "--at", v, "-o", out("r.png")(ctx),
            *_m(ctx)], expect)
    for args, expect in ((["--rate", "0"], "error"), (["--channels", "0"], "error"),
                         (["--format", "nope"], "error"), (["--rate", "999"], "error")):
        cli_case(f"m2p live {' '.join(args)}", lambda ctx, a=args: [
            "live", *a, "--model", ctx.model, "--device", "cpu"], expect)
    for args, expect in (([], "error"), (["nosuchcommand"], "error"), (["--version"], "ok"),
                         (["palette"], "error"), (["plugins", "--json"], "ok"),
                         (["plugins", "-v"], "ok"), (["palette", "--help"], "ok")):
        cli_case(f"m2p {' '.join(args) or '(nothing)'}", lambda ctx, a=args: a, expect,
                 check=S.json_stdout if "--json" in args else None)


# ----------------------------------------------------------------------------------------------
# Outputs onto inputs, links, special files, missing and read-only places

def _outputs(add: Callable[..., None], S: Any) -> None:
    def commands(ctx: Any, song: Path, photo: Path, data: Path, out: Path) -> dict[str, list[Any]]:
        return {
            "track -o": ["track", song, "-o", out, *_m(ctx)],
            "track --png": ["track", song, "--png", out, *_m(ctx)],
            "export json": ["export", song, "--format", "json", "-o", out, *_m(ctx)],
            "export haldclut": ["export", song, "--format", "haldclut", "--reference", photo,
                                "-o", out, *_m(ctx)],
            "recolor": ["recolor", photo, "--music", song, "-o", out, *_m(ctx)],
            "grade": ["grade", ctx.i.clip, "--music", song, "-o", out, "--model", ctx.model,
                      "--device", "cpu", "-q"],
            "race": ["race", data, "--music", song, "-o", out, "--size", "64x36", "--fps", "4",
                     "--fit", "trim", *_m(ctx)],
            "batch": ["batch", song, "-o", out, "--workers", "1", *_m(ctx)],
        }

    suffix = {"track -o": ".json", "track --png": ".png", "export json": ".json",
              "export haldclut": ".png", "recolor": ".png", "grade": ".mp4", "race": ".mp4",
              "batch": ".parquet"}
    targets = ["the song", "the photo", "the data", "a symlink to the song", "a hard link to the song",
               "a missing folder", "an existing folder", "/dev/null", "/dev/full", "a FIFO",
               "a wrong suffix", "a unicode name", "an existing file (replaced)",
               "a name with escape sequences"]

    def make(ctx: Any, command: str, target: str) -> tuple[list[Any], list[Path]]:
        folder = ctx.i.fresh("x").parent
        song = folder / ("song" + ".wav")
        song.write_bytes(ctx.i.song.read_bytes())
        photo = folder / "photo.png"
        photo.write_bytes(ctx.i.photo.read_bytes())
        data = folder / "data.csv"
        data.write_text(ctx.i.csv.read_text())
        sfx = suffix[command]
        out = {"the song": song, "the photo": photo, "the data": data,
               "a missing folder": folder / "missing" / f"o{sfx}",
               "an existing folder": folder,
               "/dev/null": Path("/dev/null"), "/dev/full": Path("/dev/full"),
               "a wrong suffix": folder / "o.nope", "a unicode name": folder / f"sØng ☃{sfx}",
               "an existing file (replaced)": folder / f"old{sfx}",
               "a name with escape sequences": folder / f"\x1b[2J{sfx}"}.get(target)
        if target == "a symlink to the song":
            out = folder / f"link{sfx}"
            out.symlink_to(song)
        elif target == "a hard link to the song":
            out = folder / f"hard{sfx}"
            os.link(song, out)
        elif target == "a FIFO":
            out = folder / f"fifo{sfx}"
            os.mkfifo(out)
        elif target == "an existing file (replaced)":
            out.write_text("old")
        if command in ("recolor", "export haldclut") and target == "the song":
            pass
        return commands(ctx, song, photo, data, out)[command], [song, photo, data]

    for command in suffix:
        for target in targets:
            relevant = not (target == "the photo" and command not in ("recolor", "export haldclut")
                            or target == "the data" and command != "race")
            if not relevant:
                continue
            ok = target in ("a unicode name", "a name with escape sequences") or (
                target == "an existing file (replaced)" and command != "batch")  # not a table
            if target == "a wrong suffix" and command in ("track -o", "track --png"):
                ok = True  # a track file and its picture take any name
            expect = "ok" if ok else "error"

            def run(ctx: Any, command: str = command, target: str = target) -> Any:
                args, inputs = make(ctx, command, target)
                ctx.guarded = inputs
                before = {p: p.read_bytes() for p in inputs}
                result = ctx.cli(*args)
                changed = [str(p) for p, b in before.items() if p.read_bytes() != b]
                if changed:
                    result.stderr += f"\nDATA-LOSS {changed}"
                left = [p.name for p in inputs[0].parent.rglob("*") if ".part" in p.name]
                if left:
                    result.stderr += f"\nLEFT {left}"
                return result

            def check(r: Any, ctx: Any) -> Any:
                return "data-loss" if ("DATA-LOSS" in r.stderr or "LEFT [" in r.stderr) else True
            add(f"{command} onto {target}", "outputs", run, expect=expect, check=check, timeout=180)


# ----------------------------------------------------------------------------------------------
# Palette-track JSON: fuzzed documents and hostile files

def _track_json(add: Callable[..., None], S: Any) -> None:
    rng = random.Random(27)

    def random_value(depth: int = 0) -> Any:
        kind = rng.randrange(12)
        if kind == 0:
            return rng.choice([True, False, None])
        if kind == 1:
            return rng.choice([0, -1, 1, 2**63, -(2**70), 10**400 if depth == 0 else 7])
        if kind == 2:
            return rng.choice([float("nan"), float("inf"), -0.0, 1e308, 5e-324, 3.5])
        if kind == 3:
            return rng.choice(["", "x", "#ff0000", "\x00\x1b", "é" * 50, "a" * 5000])
        if kind in (4, 5) and depth < 3:
            return [random_value(depth + 1) for _ in range(rng.randrange(5))]
        if kind == 6 and depth < 3:
            return {rng.choice(["lch", "hex", "emotion", "x"]): random_value(depth + 1)
                    for _ in range(rng.randrange(3))}
        if kind == 7:
            return [[rng.uniform(-10, 110), rng.uniform(-5, 200), rng.uniform(-720, 720)]
                    for _ in range(rng.randrange(0, 70))]
        return rng.uniform(-5, 5)

    def mutate(doc: dict) -> dict:
        node: Any = doc
        keys = ["palettes", 0, "lch", 0]
        depth = rng.randrange(1, 5)
        path = []
        for key in (rng.choice(["times", "window", "hop", "duration", "seed", "source",
                                "overall", "palettes", "version", "format"]), *keys[1:depth]):
            path.append(key)
        for key in path[:-1]:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                break
        action = rng.randrange(4)
        last = path[-1]
        if isinstance(node, dict):
            if action == 0:
                node.pop(str(last), None)
            else:
                node[str(last)] = random_value()
        elif isinstance(node, list) and node:
            node[rng.randrange(len(node))] = random_value()
        return doc

    def valid_or_track_error(value: Any, ctx: Any) -> bool:
        return S.is_track(value, ctx)

    for number in range(110):
        def run(ctx: Any, number: int = number) -> Any:
            from m2p.palette_types import PaletteTrack

            random.seed(number)
            doc = json.loads(ctx.i.track.read_text())
            rng.seed(number)
            for _ in range(1 + number % 3):
                doc = mutate(doc)
            return PaletteTrack.from_json(json.dumps(doc, allow_nan=True))
        add(f"from_json: fuzzed document {number}", "track JSON", run, check=valid_or_track_error,
            timeout=60)

    files: dict[str, Callable[[Path], None]] = {
        "empty": lambda p: p.write_bytes(b""),
        "binary": lambda p: p.write_bytes(bytes(range(256)) * 10),
        "UTF-16": lambda p: p.write_bytes('{"format": 1}'.encode("utf-16")),
        "BOM + valid": None,
        "70 MB": lambda p: p.write_bytes(b" " * (70 << 20)),
        "1,000,000 palettes": lambda p: p.write_text(
            '{"format": "music2palette.track", "version": 1, "duration": 1000001, "window": 1, '
            '"hop": 1, "times": [' + ",".join(f"{i}.5" for i in range(1_000_000))
            + '], "palettes": [' + ",".join(['{"hex":["#000000"]}'] * 1_000_000) + "]}"),
        "deep nesting": lambda p: p.write_text("[" * 200_000 + "]" * 200_000),
        "a number": lambda p: p.write_text("5"),
        "null": lambda p: p.write_text("null"),
    }
    for name, make in files.items():
        def run(ctx: Any, name: str = name, make: Any = make) -> Any:
            from m2p.palette_types import PaletteTrack

            path = ctx.i.fresh("t.json")
            if make is None:
                path.write_bytes(b"\xef\xbb\xbf" + ctx.i.track.read_bytes())
            else:
                make(path)
            return PaletteTrack.load_json(path)
        add(f"load_json: {name}", "track JSON", run, check=S.is_track, timeout=120,
            expect="either" if make is None else "error")
    for kind in ("FIFO", "directory", "/dev/zero", "missing", "symlink loop"):
        def run(ctx: Any, kind: str = kind) -> Any:
            from m2p.palette_types import PaletteTrack

            path = ctx.i.fresh("t.json")
            if kind == "FIFO":
                os.mkfifo(path)
            elif kind == "directory":
                path.mkdir()
            elif kind == "/dev/zero":
                path = Path("/dev/zero")
            elif kind == "symlink loop":
                path.symlink_to(path)
            return PaletteTrack.load_json(path)
        add(f"load_json: {kind}", "track JSON", run, expect="error", timeout=20)


# ----------------------------------------------------------------------------------------------
# Race tables (CSV)

def _csv(add: Callable[..., None], S: Any) -> None:
    rng = random.Random(5)
    cells = ["1", "2.5", "-1", "0", "", "nan", "inf", "1e400", "1e15", "1e16", "abc", "  3 ",
             "0x10", "1_000", "\x00", "é", '"4"', "2000-01-01", "True"]
    for number in range(45):
        rows = [["year"] + [rng.choice(["A", "B", "", "A", "é", "=cmd()", "x" * 300])
                            for _ in range(rng.randrange(1, 5))]]
        for r in range(rng.randrange(0, 6)):
            rows.append([str(2000 + r)] + [rng.choice(cells) for _ in range(len(rows[0]) - 1)])
        text = "\n".join(",".join(row) for row in rows) + "\n"

        def run(ctx: Any, text: str = text) -> Any:
            from m2p_plugins.video.race import read_wide_csv

            path = ctx.i.fresh("t.csv")
            path.write_text(text, encoding="utf-8")
            return read_wide_csv(path)

        def check(data: Any, ctx: Any) -> bool:
            values = np.asarray(data.values, dtype=float)
            return bool(np.isfinite(values).all() and (values >= 0).all())
        add(f"read_wide_csv: fuzzed table {number}", "race CSV", run, check=check, timeout=30)
    for cell, expect in (("1,5", "error"), ("12,34", "error"), ("1,234", "ok"),
                         ("1,234,567.5", "ok"), (",5", "error")):
        def run(ctx: Any, cell: str = cell) -> Any:
            from m2p_plugins.video.race import read_wide_csv

            path = ctx.i.fresh("t.csv")
            path.write_text(f'year,A\n2000,"{cell}"\n2001,2\n', encoding="utf-8")
            return read_wide_csv(path)

        def check(data: Any, ctx: Any, cell: str = cell) -> bool:  # commas group thousands only
            return float(data.values[0][0]) == float(cell.replace(",", ""))
        add(f"read_wide_csv: a quoted cell {cell!r}", "race CSV", run, expect=expect, check=check,
            timeout=30, says=("comma",) if expect == "error" else ())


# ----------------------------------------------------------------------------------------------
# Pictures for recolor (and match)

def _images(add: Callable[..., None], S: Any) -> None:
    def pil(mode: str, size: tuple[int, int], fmt: str, **kw: Any) -> Callable[[Path], None]:
        def make(p: Path) -> None:
            from PIL import Image

            colour = {"1": 1, "L": 128, "LA": (128, 200), "P": 3, "PA": (3, 200), "I": 40000,
                      "I;16": 30000, "F": 0.5, "RGB": (200, 30, 30), "RGBA": (200, 30, 30, 128),
                      "CMYK": (10, 200, 30, 0), "YCbCr": (100, 120, 140)}[mode]
            Image.new(mode, size, colour).save(p, format=fmt, **kw)
        return make

    def header(w: int, h: int) -> Callable[[Path], None]:
        def make(p: Path) -> None:
            def chunk(kind: bytes, data: bytes) -> bytes:
                return struct.pack(">I", len(data)) + kind + data + struct.pack(
                    ">I", zlib.crc32(kind + data))
            p.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0,
                                                                             0, 0))
                          + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
        return make

    images: dict[str, tuple[str, Callable[[Path], None], str]] = {
        f"{mode} {fmt}": (f"i.{ext}", pil(mode, (40, 30), fmt), "ok")
        for mode, fmt, ext in (("1", "PNG", "png"), ("L", "PNG", "png"), ("LA", "PNG", "png"),
                               ("P", "PNG", "png"), ("RGB", "PNG", "png"), ("RGBA", "PNG", "png"),
                               ("I", "TIFF", "tif"), ("I;16", "PNG", "png"), ("F", "TIFF", "tif"),
                               ("CMYK", "JPEG", "jpg"), ("RGB", "JPEG", "jpg"), ("RGB", "WEBP", "webp"),
                               ("RGB", "BMP", "bmp"), ("RGBA", "TIFF", "tif"), ("YCbCr", "JPEG", "jpg"))
    }
    images.update({
        "1x1": ("i.png", pil("RGB", (1, 1), "PNG"), "ok"),
        "1x4000": ("i.png", pil("RGB", (1, 4000), "PNG"), "ok"),
        "header 20000x20000": ("i.png", header(20000, 20000), "error"),
        "header 0x0": ("i.png", header(0, 0), "error"),
        "truncated PNG": ("i.png", lambda p: (pil("RGB", (64, 64), "PNG")(p), p.write_bytes(
            p.read_bytes()[:70])), "error"),
        "random bytes .jpg": ("i.jpg", lambda p: p.write_bytes(np.random.default_rng(4).bytes(3000)), "error"),
        "empty .png": ("i.png", lambda p: p.write_bytes(b""), "error"),
        "WAV named .png": ("i.png", lambda p: p.write_bytes(S.wav_bytes(S.music(1.0), SR)), "error"),
        "still GIF": ("i.gif", pil("P", (40, 30), "GIF"), "ok"),
    })
    for name, (file_name, make, expect) in images.items():
        def run(ctx: Any, file_name: str = file_name, make: Any = make) -> Any:
            path = ctx.i.fresh(file_name)
            make(path)
            return ctx.cli("recolor", path, "--music", ctx.i.song, "-o", path.with_name("out.png"),
                           *_m(ctx))
        add(f"m2p recolor: {name}", "images", run, expect=expect, timeout=120,
            check=lambda r, ctx: "recoloured" in r.stdout)
        _match_case(add, S, name, "images", file_name, make, expect)

    def animated(p: Path) -> None:
        from PIL import Image

        frames = [Image.new("RGB", (40, 30), c) for c in ((200, 30, 30), (30, 200, 30), (30, 30, 200))]
        frames[0].save(p, save_all=True, append_images=frames[1:], duration=120, loop=0)

    def frame_count(path: Path) -> int:
        from PIL import Image

        with Image.open(path) as img:
            return int(getattr(img, "n_frames", 1))

    for suffix, expect in ((".gif", "ok"), (".png", "ok"), (".webp", "ok"), (".jpg", "error")):
        def run(ctx: Any, suffix: str = suffix) -> Any:
            path = ctx.i.fresh("anim.gif")
            animated(path)
            return ctx.cli("recolor", path, "--music", ctx.i.song, "-o",
                           path.with_name("out" + suffix), *_m(ctx))

        def check(r: Any, ctx: Any, suffix: str = suffix) -> bool:
            out = Path(r.stdout.split(":")[0])
            return out.suffix == suffix and frame_count(out) == 3  # every frame, not the first
        add(f"m2p recolor: animated GIF (3 frames) to {suffix}", "images", run, expect=expect,
            timeout=120, check=check, says=("3 frames",) if expect == "error" else ())


# ----------------------------------------------------------------------------------------------
# Videos for grade and match

def _videos(add: Callable[..., None], S: Any) -> None:
    def ff(*args: str) -> Callable[[Path], None]:
        return lambda p: S.ffmpeg(*args, str(p))

    videos: dict[str, tuple[str, Callable[[Path], None], str]] = {
        "64x48 mp4": ("v.mp4", ff("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=1",
                                  "-pix_fmt", "yuv420p"), "ok"),
        "33x17 (odd) mkv": ("v.mkv", ff("-f", "lavfi", "-i", "testsrc2=size=33x17:rate=10:duration=1",
                                        "-c:v", "ffv1"), "ok"),
        "1x1 mkv": ("v.mkv", ff("-f", "lavfi", "-i", "color=c=red:size=1x1:rate=10:duration=1",
                                "-c:v", "ffv1"), "error"),
        "2x2 mkv": ("v.mkv", ff("-f", "lavfi", "-i", "color=c=red:size=2x2:rate=10:duration=1",
                                "-c:v", "ffv1"), "ok"),
        "one frame": ("v.mp4", ff("-f", "lavfi", "-i", "testsrc2=size=64x48:rate=10:duration=0.1",
                                  "-pix_fmt", "yuv420p"), "error"),
        "rotated 90": ("v.mp4", lambda p: (S.ffmpeg("-f", "lavfi", "-i",
                                                    "testsrc2=size=64x48:rate=10:duration=1",
                                                    "-pix_fmt", "yuv420p",
                                                    str(p.with_name("r.mp4"))),
                                           S.ffmpeg("-display_rotation", "90", "-i",
                                                    str(p.with_name("r.mp4")), "-c", "copy", str(p))),
                       "ok"),
        "audio only (ogg)": ("v.ogg", ff("-f", "lavfi", "-i", "sine=d=2"), "error"),
        "audio only (mp4)": ("v.mp4", ff("-f", "lavfi", "-i", "sine=d=2", "-c:a", "aac"), "error"),
        "a PNG": ("v.png", lambda p: _png(p), "error"),
        "empty .mp4": ("v.mp4", lambda p: p.write_bytes(b""), "error"),
        "random bytes .mp4": ("v.mp4", lambda p: p.write_bytes(np.random.default_rng(9).bytes(20000)), "error"),
        "truncated at 40 %": ("v.mp4", lambda p: (ff("-f", "lavfi", "-i",
                                                     "testsrc2=size=64x48:rate=10:duration=2",
                                                     "-pix_fmt", "yuv420p")(p),
                                                  p.write_bytes(p.read_bytes()[: p.stat().st_size * 2 // 5])),
                              "error"),
        "zeroed middle": ("v.mkv", lambda p: (ff("-f", "lavfi", "-i",
                                                 "testsrc2=size=64x48:rate=10:duration=3",
                                                 "-c:v", "mpeg4", "-g", "5")(p),
                                              _zero(p)), "either"),
    }
    for name, (file_name, make, expect) in videos.items():
        def run(ctx: Any, file_name: str = file_name, make: Any = make) -> Any:
            path = ctx.i.fresh(file_name)
            make(path)
            return ctx.cli("grade", path, "--music", ctx.i.song, "-o", path.with_name("out.mp4"),
                           "--model", ctx.model, "--device", "cpu", "-q")
        add(f"m2p grade: {name}", "videos", run, expect=expect, timeout=240,
            check=lambda r, ctx: "graded to" in r.stdout)
        _match_case(add, S, name, "videos", file_name, make,  # a still or one frame is footage too
                    "either" if name in ("one frame", "1x1 mkv", "a PNG") else expect)
    add("m2p grade: music is a video", "videos", lambda ctx: ctx.cli(
        "grade", ctx.i.clip, "--music", ctx.i.clip, "-o", ctx.i.fresh("o.mp4"), "--model",
        ctx.model, "--device", "cpu", "-q"), expect="either", timeout=240)
    add("m2p grade: music of all NaN", "videos", lambda ctx: ctx.cli(
        "grade", ctx.i.clip, "--music", _nan_wav(ctx), "-o", ctx.i.fresh("o.mp4"), "--model",
        ctx.model, "--device", "cpu", "-q"), expect="error", timeout=240)
    add("m2p race: music of all NaN", "videos", lambda ctx: ctx.cli(
        "race", ctx.i.csv, "--music", _nan_wav(ctx), "-o", ctx.i.fresh("o.mp4"), "--size",
        "64x36", "--fps", "4", *_m(ctx)), expect="error", timeout=240)


def _match_case(add: Callable[..., None], S: Any, name: str, group: str, file_name: str,
                make: Callable[[Path], None], expect: str) -> None:
    """``m2p match`` of footage made by ``make``, against the suite's library."""
    def run(ctx: Any) -> Any:
        path = ctx.i.fresh(file_name)
        make(path)
        return ctx.cli("match", path, "--library", ctx.i.library, "--json")
    add(f"m2p match: {name}", group, run, expect=expect, timeout=120, check=S.json_stdout)


def _png(path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (32, 24), (10, 200, 10)).save(path)


def _zero(path: Path) -> None:
    data = bytearray(path.read_bytes())
    a = len(data) // 2
    data[a:a + len(data) // 6] = bytes(len(data) // 6)
    path.write_bytes(bytes(data))


def _nan_wav(ctx: Any) -> Path:
    import soundfile as sf

    path = ctx.i.fresh("nan.wav")
    sf.write(str(path), np.full(SR * 4, np.nan, np.float32), SR, subtype="FLOAT")
    return path


# ----------------------------------------------------------------------------------------------
# Library tables for gallery and match

def _tables(add: Callable[..., None], S: Any) -> None:
    bad_values: dict[str, list[Any]] = {
        "path": [None, "", "/etc/passwd", "../../../../etc/passwd", "\x1b[2Jx.wav"],
        "duration": [0.0, -1.0, float("nan"), float("inf"), None],
        "valence": [float("nan"), 5.0, None], "arousal": [float("-inf"), -2.0],
        "mood": [None, "", "<script>alert(1)</script>"],
        "palette": [[], None, ["<b>"], ["#zzzzzz"]],
        "palette_lch": [[], [[1.0, 2.0]], [[float("nan"), 0.0, 0.0]], None],
        "times": [[], [float("nan")]], "valence_t": [[], [9.0]], "arousal_t": [[0.0] * 99],
        "track": ["{nope", "", "[]", '{"format": "music2palette.track", "version": 1}', None],
        "status": ["weird", None],
    }
    for column, values in bad_values.items():
        for value in values:
            for command in ("gallery", "match"):
                def run(ctx: Any, column: str = column, value: Any = value, command: str = command) -> Any:
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    from m2p.library.table import library_schema

                    folder = ctx.i.fresh("x").parent
                    rows = pq.read_table(ctx.i.library).to_pylist()
                    for row in rows:
                        row["path"] = str(folder / "music" / Path(row["path"]).name)
                    rows[0][column] = value
                    table = folder / "bad.parquet"
                    pq.write_table(pa.Table.from_pylist(rows, schema=library_schema()), table)
                    (folder / "music").mkdir()
                    if command == "gallery":
                        return ctx.cli("gallery", table, "-o", folder / "site")
                    return ctx.cli("match", ctx.i.photo, "--library", table, "--json")

                ok = (column == "mood" and value and value.startswith("<")) or (
                    column == "palette" and value in (["<b>"], ["#zzzzzz"])) or (
                    column == "status" and command == "match") or (
                    column == "path" and value == "\x1b[2Jx.wav") or (
                    # match only names the path a table gives (a page would link to it)
                    column == "path" and command == "match" and value and "passwd" in value)

                def check(r: Any, ctx: Any, command: str = command) -> bool:
                    if command == "match":  # JSON on stdout: text, not markup
                        return True
                    page = (Path(r.stdout.strip()).read_text() if r.stdout.strip().endswith(".html")
                            else "")
                    return "<script>alert" not in page and "<b>" not in page
                add(f"{command} of a table with {column}={value!r:.40}", "library tables", run,
                    expect="either" if ok else "error", check=check, timeout=120)
    for kind in ("not parquet", "empty file", "a folder", "missing", "parquet without the columns",
                 "FIFO", "a table of 0 rows", "a table of only error rows"):
        for command in ("gallery", "match", "batch -o"):
            def run(ctx: Any, kind: str = kind, command: str = command) -> Any:
                import pyarrow as pa
                import pyarrow.parquet as pq

                from m2p.library.table import library_schema

                path = ctx.i.fresh("t.parquet")
                if kind == "not parquet":
                    path.write_text("year,a\n1,2\n")
                elif kind == "empty file":
                    path.write_bytes(b"")
                elif kind == "a folder":
                    path.mkdir()
                elif kind == "parquet without the columns":
                    pq.write_table(pa.table({"x": [1, 2]}), path)
                elif kind == "FIFO":
                    os.mkfifo(path)
                elif kind == "a table of 0 rows":
                    pq.write_table(pa.Table.from_pylist([], schema=library_schema()), path)
                elif kind == "a table of only error rows":
                    pq.write_table(pa.Table.from_pylist([{"path": "/x.wav", "status": "error",
                                                          "error": "/x.wav: bad"}],
                                                        schema=library_schema()), path)
                if command == "gallery":
                    return ctx.cli("gallery", path, "-o", path.with_name("site"), "--root", "/")
                if command == "match":
                    return ctx.cli("match", ctx.i.photo, "--library", path)
                return ctx.cli("batch", ctx.i.song, "-o", path, "--workers", "1", *_m(ctx))
            ok = (kind in ("a table of 0 rows", "a table of only error rows") and command != "match"
                  or kind == "missing" and command == "batch -o")
            add(f"{command} with a library that is {kind}", "library tables", run,
                expect="ok" if ok else "error", timeout=150)


# ----------------------------------------------------------------------------------------------
# Plugins that misbehave

def _plugins(add: Callable[..., None], S: Any) -> None:
    sources = {
        "prints at import": "print('chatter')\n",
        "prints in its hook": "from m2p.hooks.specs import hookimpl\n@hookimpl\n"
                              "def m2p_register(register):\n    print('chatter')\n",
        "writes to fd 1": "import os\nos.write(1, b'raw chatter\\n')\n",
        "raises ValueError": "raise ValueError('nope')\n",
        "raises ImportError": "import no_such_module_at_all\n",
        "calls sys.exit(0)": "import sys\nsys.exit(0)\n",
        "calls sys.exit(3)": "import sys\nsys.exit(3)\n",
        "raises KeyboardInterrupt": "raise KeyboardInterrupt\n",
        "raises RecursionError": "def f():\n    return f()\nf()\n",
        "raises GeneratorExit": "raise GeneratorExit\n",
        "register_commands raises": "from m2p.hooks.specs import hookimpl\n@hookimpl\n"
                                    "def register_commands(register):\n    raise RuntimeError('x')\n",
        "registers a bad command name": "from m2p.hooks.specs import hookimpl\n@hookimpl\n"
                                        "def register_commands(register):\n"
                                        "    register('bad name!', lambda p: None)\n",
        "registers a command that is not callable": "from m2p.hooks.specs import hookimpl\n"
                                                    "@hookimpl\ndef register_commands(register):\n"
                                                    "    register('thing', 5)\n",
        "registers 'palette' again": "from m2p.hooks.specs import hookimpl\n@hookimpl\n"
                                     "def register_commands(register):\n"
                                     "    register('palette', lambda p: (lambda a: 0))\n",
        "command whose configure raises": "from m2p.hooks.specs import hookimpl\n@hookimpl\n"
                                          "def register_commands(register):\n"
                                          "    def configure(parser):\n"
                                          "        raise RuntimeError('configure broke')\n"
                                          "    register('broken', configure)\n",
        "registers a bad format": "from m2p.hooks.specs import hookimpl\n@hookimpl\n"
                                  "def register_formats(register):\n"
                                  "    register('BAD FORMAT', lambda *a, **k: None)\n",
        "takes 4 s to import": "import time\ntime.sleep(4)\n",
        "registers a capability 'style' again": "from m2p.hooks.specs import hookimpl\n@hookimpl\n"
                                                "def m2p_register(register):\n"
                                                "    register('style', object())\n",
    }
    for name, source in sources.items():
        for command in ("plugins", "palette --json", "broken"):
            if command == "broken" and "configure" not in name:
                continue

            def run(ctx: Any, name: str = name, source: str = source, command: str = command) -> Any:
                folder = ctx.i.fresh("x").parent
                slug = "p" + str(abs(hash(name)) % 10**6)
                info = folder / f"{slug}-0.1.dist-info"
                info.mkdir()
                (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {slug}\nVersion: 0.1\n")
                (info / "entry_points.txt").write_text(f"[m2p]\n{slug} = {slug}_mod\n")
                (folder / f"{slug}_mod.py").write_text(source)
                sys.path.insert(0, str(folder))
                if command == "plugins":
                    return ctx.cli("plugins")
                if command == "broken":
                    return ctx.cli("broken", "x")
                return ctx.cli("palette", ctx.i.song, "--json", *_m(ctx))
            check = S.json_stdout if command == "palette --json" else None
            # What the plugin prints is its own, on stderr (never in the command's stdout).
            add(f"plugin that {name}: m2p {command}", "plugins", run,
                expect="error" if command == "broken" else "ok", check=check, timeout=120,
                expected_output=("chatter",))


# ----------------------------------------------------------------------------------------------
# Optional packages missing

def _extras(add: Callable[..., None], S: Any) -> None:
    uses: list[tuple[str, str, Callable[[Any], Any], bool]] = [
        ("moviepy", "m2p grade", lambda ctx: ctx.cli("grade", ctx.i.clip, "--music", ctx.i.song,
                                                      "-o", ctx.i.fresh("o.mp4"), *_m(ctx)), True),
        ("moviepy", "m2p race", lambda ctx: ctx.cli("race", ctx.i.csv, "--music", ctx.i.song, "-o",
                                                     ctx.i.fresh("o.mp4"), *_m(ctx)), True),
        ("matplotlib", "m2p race", lambda ctx: ctx.cli("race", ctx.i.csv, "--music", ctx.i.song,
                                                        "-o", ctx.i.fresh("o.mp4"), *_m(ctx)), True),
        ("pyarrow", "m2p batch", lambda ctx: ctx.cli("batch", ctx.i.song, "-o",
                                                      ctx.i.fresh("l.parquet"), *_m(ctx)), True),
        ("pyarrow", "m2p gallery", lambda ctx: ctx.cli("gallery", ctx.i.library, "-o",
                                                        ctx.i.fresh("site")), True),
        ("pyarrow", "m2p match", lambda ctx: ctx.cli("match", ctx.i.photo, "--library",
                                                      ctx.i.library), True),
        ("moviepy", "m2p match on a video", lambda ctx: ctx.cli("match", ctx.i.clip, "--library",
                                                                 ctx.i.library), True),
        ("moviepy", "m2p recolor (needs no moviepy)", lambda ctx: ctx.cli(
            "recolor", ctx.i.photo, "--music", ctx.i.song, "-o", ctx.i.fresh("r.png"), *_m(ctx)),
         False),
        ("matplotlib", "m2p.style", lambda ctx: __import__("m2p").style(ctx.i.song, model=ctx.model,
                                                                        device="cpu"), True),
        ("matplotlib", "m2p.register_colormaps", lambda ctx: __import__("m2p").register_colormaps(
            ctx.i.song, model=ctx.model, device="cpu"), True),
        ("altair", "m2p.altair.register_theme", lambda ctx: __import__("m2p").altair.register_theme(
            ctx.i.song, model=ctx.model, device="cpu"), True),
        ("plotly", "m2p.plotly.template", lambda ctx: __import__("m2p").plotly.template(
            ctx.i.song, model=ctx.model, device="cpu"), True),
        ("bokeh", "m2p.bokeh.theme", lambda ctx: __import__("m2p").bokeh.theme(
            ctx.i.song, model=ctx.model, device="cpu"), True),
        ("pyarrow", "m2p.batch", lambda ctx: __import__("m2p").batch(
            ctx.i.song, model=ctx.model, device="cpu", workers=1), True),
        ("moviepy", "m2p plugins", lambda ctx: ctx.cli("plugins"), False),
    ]
    for module, feature, call, missing in uses:
        def run(ctx: Any, module: str = module, call: Any = call) -> Any:
            for name in [module, *sys.modules]:
                if name == module or name.startswith(module + "."):
                    sys.modules[name] = None  # type: ignore[assignment]
            return call(ctx)

        add(f"{feature} without {module}", "missing extras", run,
            expect="error" if missing else "ok", timeout=120,
            says=('pip install "music2palette[',) if missing else ())


# ----------------------------------------------------------------------------------------------
# The environment: HOME, locale, colours

def _environment(add: Callable[..., None], S: Any) -> None:
    for name, env in (("HOME read-only", {"HOME": "/proc/self", "XDG_CONFIG_HOME": None,
                                          "XDG_CACHE_HOME": None, "MPLCONFIGDIR": None}),
                      ("NO_COLOR", {"NO_COLOR": "1"}), ("TERM=dumb", {"TERM": "dumb"}),
                      ("M2P_LOAD_PLUGINS empty", {"M2P_LOAD_PLUGINS": ""}),
                      ("M2P_LOAD_PLUGINS=nosuch", {"M2P_LOAD_PLUGINS": "nosuch"}),
                      ("M2P_MODEL_DIR missing", {"M2P_MODEL_DIR": "/nonexistent"})):
        for command in ("race", "palette", "track"):
            def run(ctx: Any, env: dict = env, command: str = command) -> Any:
                for key, value in env.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                model = [] if "M2P_MODEL_DIR" in env else ["--model", ctx.model]
                fast = ["--window", "2", "--hop", "1", "--device", "cpu", "-q"]
                if command == "race":
                    return ctx.cli("race", ctx.i.csv, "--music", ctx.i.song, "-o",
                                   ctx.i.fresh("r.mp4"), "--size", "64x36", "--fps", "4", "--fit",
                                   "trim", *model, *fast)
                if command == "track":
                    return ctx.cli("track", ctx.i.song, "--png", ctx.i.fresh("t.png"), *model, *fast)
                return ctx.cli("palette", ctx.i.song, *model, *fast)
            expect = "error" if "MODEL_DIR" in name or (
                "PLUGINS" in name and command == "race") else "ok"
            add(f"m2p {command} with {name}", "environment", run, expect=expect, timeout=180)
    for command in ("palette", "track", "export", "batch", "recolor"):
        def run(ctx: Any, command: str = command) -> Any:
            import io as _io

            folder = ctx.i.fresh("x").parent
            song = folder / "sØng ☃ 日本.wav"
            song.write_bytes(ctx.i.song.read_bytes())
            sys.stdout = _io.TextIOWrapper(os.fdopen(os.dup(1), "wb"), encoding="ascii",
                                           errors="strict", line_buffering=True)
            sys.stderr = _io.TextIOWrapper(os.fdopen(os.dup(2), "wb"), encoding="ascii",
                                           errors="backslashreplace", line_buffering=True)
            args = {"palette": ["palette", song],
                    "track": ["track", song, "-o", folder / "tråck.json"],
                    "export": ["export", song, "--format", "gpl", "-o", folder / "pålette.gpl"],
                    "batch": ["batch", folder, "-o", folder / "lïb.parquet", "--workers", "1"],
                    "recolor": ["recolor", ctx.i.photo, "--music", song, "-o", folder / "ö.png"]}
            from m2p.cli import core

            try:
                return S.Cli(core.main([str(a) for a in args[command]] + _m(ctx)), "", "")
            finally:
                sys.stdout.flush()
        add(f"m2p {command} of a Unicode name on an ASCII terminal", "environment", run,
            expect="ok", timeout=150)


# ----------------------------------------------------------------------------------------------
# Signals midway: the old output stays, no temporary file, one line

def _signals(add: Callable[..., None], S: Any) -> None:
    def long_song(ctx: Any) -> Path:
        path = ctx.i.fresh("long.wav")
        path.write_bytes(S.wav_bytes(S.music(40.0), SR))
        return path

    def long_clip(ctx: Any) -> Path:
        path = ctx.i.fresh("long.mp4")
        S.ffmpeg("-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30:duration=20", "-pix_fmt",
                 "yuv420p", str(path))
        return path

    jobs = {
        "track --png": lambda ctx, out: ["track", long_song(ctx), "--png", out, "--model",
                                         ctx.model, "--window", "2", "--hop", "0.1", "--device",
                                         "cpu", "-q"],
        "grade": lambda ctx, out: ["grade", long_clip(ctx), "--music", long_song(ctx), "-o", out,
                                   "--model", ctx.model, "--device", "cpu", "-q"],
        "race": lambda ctx, out: ["race", ctx.i.csv, "--music", long_song(ctx), "-o", out,
                                  "--size", "320x180", "--fps", "30", "--model", ctx.model,
                                  "--device", "cpu", "-q"],
        "batch": lambda ctx, out: ["batch", long_song(ctx).parent, "-o", out, "--workers", "1",
                                   "--model", ctx.model, "--window", "2", "--hop", "0.1",
                                   "--device", "cpu", "-q"],
    }
    suffix = {"track --png": ".png", "grade": ".mp4", "race": ".mp4", "batch": ".parquet"}
    for job, make in jobs.items():
        for signum, after in ((signal.SIGTERM, 3.0), (signal.SIGINT, 3.0), (signal.SIGHUP, 3.0)):
            def run(ctx: Any, make: Any = make, job: str = job, signum: int = signum,
                    after: float = after) -> Any:
                folder = ctx.i.fresh("x").parent
                out = folder / f"old{suffix[job]}"
                if job != "batch":  # an old table must be a table: batch starts a new one
                    out.write_bytes(b"old")
                args = make(ctx, out)
                timer = threading.Timer(after, os.kill, args=(os.getpid(), signum))
                timer.start()
                try:
                    result = ctx.cli(*args)
                finally:
                    timer.cancel()
                kept = job == "batch" or out.read_bytes() == b"old" or result.code == 0
                left = [p.name for p in folder.rglob("*") if ".part" in p.name and "parts" not in str(p.parent)]
                if not kept or left:
                    result.stderr += f"\nDATA-LOSS kept={kept} left={left}"
                return result

            def check(r: Any, ctx: Any) -> Any:
                return "data-loss" if "DATA-LOSS" in r.stderr else True
            add(f"{signal.Signals(signum).name} {after:g} s into m2p {job}", "signals", run,
                expect="either", check=check, timeout=240)


# ----------------------------------------------------------------------------------------------
# Two at once

def _concurrency(add: Callable[..., None], S: Any) -> None:
    def two_batches(ctx: Any) -> Any:
        import subprocess

        folder = ctx.i.fresh("x").parent
        music = folder / "music"
        music.mkdir()
        for i in range(5):
            (music / f"s{i}.wav").write_bytes(S.wav_bytes(S.music(6.0, seed=i), SR))
        out = folder / "l.parquet"
        cmd = [sys.executable, "-m", "m2p", "batch", str(music), "-o", str(out), "--workers", "1",
               *_m(ctx)]
        env = S._child_env()
        procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, stdin=subprocess.DEVNULL) for _ in range(2)]
        results = [p.communicate(timeout=300) for p in procs]
        import pyarrow.parquet as pq

        rows = pq.read_table(out).column("path").to_pylist() if out.exists() else []
        codes = sorted(p.returncode for p in procs)
        ok = len(rows) == len(set(rows)) == 5 and codes[0] == 0 and (
            codes[1] == 0 or "another m2p batch" in "".join(e for _, e in results))
        return ok

    add("two m2p batch jobs on one table", "concurrency", two_batches, expect="ok",
        check=lambda ok, ctx: ok is True, timeout=400)

    def same_palette_twice(ctx: Any) -> Any:
        import subprocess

        cmd = [sys.executable, "-m", "m2p", "palette", str(ctx.i.song), *_m(ctx)]
        procs = [subprocess.Popen(cmd, env=S._child_env(), stdout=subprocess.PIPE, text=True,
                                  stdin=subprocess.DEVNULL) for _ in range(3)]
        outs = [p.communicate(timeout=200)[0] for p in procs]
        return len(set(outs)) == 1 and outs[0].strip() != ""
    add("three identical m2p palette runs at once agree", "concurrency", same_palette_twice,
        expect="ok", check=lambda ok, ctx: ok is True, timeout=300)

    def threads(ctx: Any) -> Any:
        import concurrent.futures

        import m2p

        with concurrent.futures.ThreadPoolExecutor(3) as pool:
            found = list(pool.map(lambda _: m2p.palette(ctx.i.song, model=ctx.model, window=2.0,
                                                        hop=1.0, device="cpu").hex, range(3)))
        return len(set(found)) == 1
    add("m2p.palette from three threads agrees", "concurrency", threads, expect="ok",
        check=lambda ok, ctx: ok is True, timeout=200)

    def same_output(ctx: Any) -> Any:
        import subprocess

        out = ctx.i.fresh("t.json")
        cmd = [sys.executable, "-m", "m2p", "track", str(ctx.i.song), "-o", str(out), *_m(ctx)]
        procs = [subprocess.Popen(cmd, env=S._child_env(), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
                 for _ in range(3)]
        [p.communicate(timeout=200) for p in procs]
        json.loads(out.read_text())
        return not [p for p in out.parent.iterdir() if ".part" in p.name]
    add("three m2p track runs onto one output: whole file, no leftovers", "concurrency",
        same_output, expect="ok", check=lambda ok, ctx: ok is True, timeout=300)


# ----------------------------------------------------------------------------------------------
# Live input on stdin

def _live(add: Callable[..., None], S: Any) -> None:
    y = S.music(4.0)
    streams = {
        "f32le music": (y.astype("<f4").tobytes(), "f32le", "ok"),
        "s16le music": ((y * 30000).astype("<i2").tobytes(), "s16le", "ok"),
        "f32le all NaN": (np.full(SR * 3, np.nan, "<f4").tobytes(), "f32le", "either"),
        "f32le of 1e38": (np.full(SR * 3, 1e38, "<f4").tobytes(), "f32le", "either"),
        "empty": (b"", "f32le", "error"),
        "half a second": (y[: SR // 2].astype("<f4").tobytes(), "f32le", "error"),
        "odd byte count": (y.astype("<f4").tobytes() + b"\x01", "f32le", "either"),
        "random bytes": (np.random.default_rng(3).bytes(SR * 8), "f32le", "either"),
        "text": (b"hello\n" * 20000, "s16le", "either"),
    }
    for name, (data, fmt, expect) in streams.items():
        def run(ctx: Any, data: bytes = data, fmt: str = fmt) -> Any:
            path = ctx.i.fresh("pcm.raw")
            path.write_bytes(data)
            fd = os.open(path, os.O_RDONLY)
            os.dup2(fd, 0)
            os.close(fd)
            sys.stdin = open(0, "r", closefd=False)  # noqa: SIM115
            return ctx.cli("live", "--format", fmt, *_m(ctx))

        def check(r: Any, ctx: Any) -> bool:
            return all(json.loads(line) for line in r.stdout.splitlines())
        add(f"m2p live on stdin: {name}", "live", run, expect=expect, check=check, timeout=120)


# ----------------------------------------------------------------------------------------------
# The rest of the public API

def _api_misc(add: Callable[..., None], S: Any) -> None:
    def track(ctx: Any) -> Any:
        from m2p.palette_types import PaletteTrack

        return PaletteTrack.load_json(ctx.i.track)

    calls: dict[str, tuple[Callable[[Any], Any], str]] = {
        "Palette.from_dict({'lch': 'abc'})": (lambda ctx: _palette_types().Palette.from_dict({"lch": "abc"}), "error"),
        "Palette.from_dict({})": (lambda ctx: _palette_types().Palette.from_dict({}), "error"),
        "Palette.from_dict([])": (lambda ctx: _palette_types().Palette.from_dict([]), "error"),
        "Palette.from_hex([])": (lambda ctx: _palette_types().Palette.from_hex([]), "error"),
        "Palette.from_hex(['#gg0000'])": (lambda ctx: _palette_types().Palette.from_hex(["#gg0000"]), "error"),
        "Palette.from_hex(65 colours)": (lambda ctx: _palette_types().Palette.from_hex(["#102030"] * 65), "error"),
        "Palette(lch with L=101)": (lambda ctx: _palette_types().Palette([[101.0, 0, 0]]), "error"),
        "Palette(lch of NaN)": (lambda ctx: _palette_types().Palette([[np.nan, 0, 0]]), "error"),
        "track.at(-1)": (lambda ctx: track(ctx).at(-1), "error"),
        "track.at(nan)": (lambda ctx: track(ctx).at(float("nan")), "error"),
        "track.at('x')": (lambda ctx: track(ctx).at("x"), "error"),
        "track.at(1e400 as int)": (lambda ctx: track(ctx).at(10**400), "error"),
        "track.sample(np.zeros(10**8))": (lambda ctx: track(ctx).sample(np.zeros(10**8)), "error"),
        "track.sample(200,000 times)": (lambda ctx: track(ctx).sample(np.linspace(0, 3, 200_000)), "ok"),
        "track.sample([])": (lambda ctx: track(ctx).sample([]), "either"),
        "track.sample('abc')": (lambda ctx: track(ctx).sample("abc"), "error"),
        "track.sample([[1, 2], [3]])": (lambda ctx: track(ctx).sample([[1, 2], [3]]), "error"),
        "save_json onto /dev/full": (lambda ctx: track(ctx).save_json("/dev/full"), "error"),
        "save_json into a missing folder": (lambda ctx: track(ctx).save_json(ctx.i.fresh("a/b/t.json")), "error"),
        "save_png onto a folder": (lambda ctx: track(ctx).save_png(ctx.i.dir), "error"),
        "m2p.palettes(n=0)": (lambda ctx: __import__("m2p").palettes(ctx.i.song, n=0, model=ctx.model), "error"),
        "m2p.palettes(n=1001)": (lambda ctx: __import__("m2p").palettes(ctx.i.song, n=1001, model=ctx.model), "error"),
        "m2p.palettes(n=True)": (lambda ctx: __import__("m2p").palettes(ctx.i.song, n=True, model=ctx.model), "error"),
        "m2p.palette_track(hop=0.00001)": (lambda ctx: __import__("m2p").palette_track(ctx.i.song, hop=0.00001, model=ctx.model), "error"),
        "m2p.palette(device='meta')": (lambda ctx: __import__("m2p").palette(ctx.i.song, device="meta", model=ctx.model), "error"),
        "m2p.palette(model=5)": (lambda ctx: __import__("m2p").palette(ctx.i.song, model=5), "error"),
        "m2p.palette(seed=-1)": (lambda ctx: __import__("m2p").palette(ctx.i.song, seed=-1, model=ctx.model), "error"),
        "m2p.palette(seed=1.5)": (lambda ctx: __import__("m2p").palette(ctx.i.song, seed=1.5, model=ctx.model), "error"),
        "m2p.altair.register_theme(name='')": (lambda ctx: __import__("m2p").altair.register_theme(_pal(), name=""), "error"),
        "m2p.altair.register_theme(name=5)": (lambda ctx: __import__("m2p").altair.register_theme(_pal(), name=5), "error"),
        "m2p.plotly.register_template(name='')": (lambda ctx: __import__("m2p").plotly.register_template(_pal(), name=""), "error"),
        "m2p.style(palette)": (lambda ctx: __import__("m2p").style(_pal()), "ok"),
        "m2p.style(None)": (lambda ctx: __import__("m2p").style(None), "error"),
        "m2p.match(photo, rows=[])": (lambda ctx: __import__("m2p").match(ctx.i.photo, []), "error"),
        "m2p.match(photo, library=5)": (lambda ctx: __import__("m2p").match(ctx.i.photo, 5), "error"),
        "write_gallery into a file": (lambda ctx: _gallery(ctx, ctx.i.song), "error"),
        "write_gallery with root='/nonexistent'": (lambda ctx: _gallery(ctx, ctx.i.fresh("site"), root="/nonexistent"), "error"),
        "m2p.batch(paths=[])": (lambda ctx: __import__("m2p").batch([], model=ctx.model), "error"),
        "m2p.batch('no/such/*.wav')": (lambda ctx: __import__("m2p").batch("no/such/*.wav", model=ctx.model), "error"),
        "m2p.batch(workers=0)": (lambda ctx: __import__("m2p").batch(ctx.i.song, workers=0, model=ctx.model), "error"),
        "export(name='x' * 300)": (lambda ctx: _export(ctx, name="x" * 300), "error"),
        "export(sections=65)": (lambda ctx: _export(ctx, sections=65), "error"),
        "export(format='cube', options={'strength': 2})": (lambda ctx: _export(ctx, format="cube", suffix=".cube", options={"strength": 2}), "error"),
        "export_cube(size=100000)": (lambda ctx: __import__("m2p").video.export_cube(ctx.i.song, ctx.i.fresh("x.cube"), palette=_pal(), size=100000), "error"),
        "recolor_image(zeros (0, 0, 3))": (lambda ctx: __import__("m2p").video.recolor_image(np.zeros((0, 0, 3), np.uint8), _pal()), "either"),
        "recolor_image(NaN floats)": (lambda ctx: __import__("m2p").video.recolor_image(np.full((4, 4, 3), np.nan), _pal()), "either"),
        "PaletteStream(sample_rate=0)": (lambda ctx: _stream(ctx, 0), "error"),
        "PaletteStream.feed(NaN block)": (lambda ctx: _stream(ctx, SR).feed(np.full(SR * 3, np.nan)), "either"),
        "PaletteStream.feed(object array)": (lambda ctx: _stream(ctx, SR).feed(np.array([object()] * 10)), "error"),
        "load_model(config of 2 MB)": (lambda ctx: _model(ctx, lambda d: json.dumps({**d, "p": "x" * (2 << 20)})), "error"),
        "load_model(d_model 32768, 64 layers)": (lambda ctx: _model(ctx, lambda d: d["config"].update(d_model=32768, encoder_layers=64, decoder_layers=64)), "error"),
        "load_model(d_model 10**15)": (lambda ctx: _model(ctx, lambda d: d["config"].update(d_model=10**15)), "error"),
        "load_model(config 'not json')": (lambda ctx: _model(ctx, lambda d: "{not json"), "error"),
        "load_model(config a list)": (lambda ctx: _model(ctx, lambda d: "[]"), "error"),
        "load_model(weights truncated)": (lambda ctx: _model(ctx, None, truncate=True), "error"),
    }
    for name, (call, expect) in calls.items():
        add(name, "public API", call, expect=expect, timeout=120,
            wrong_type=name.startswith(("m2p.palette(model=5)", "m2p.palette(seed=1.5)",
                                        "m2p.palettes(n=True)", "m2p.altair.register_theme(name=5)",
                                        "m2p.style(None)", "m2p.match(photo, library=5)",
                                        "track.at('x')")))


def _palette_types() -> Any:
    import m2p.palette_types

    return m2p.palette_types


def _pal() -> Any:
    return _palette_types().Palette.from_hex(["#1d3557", "#e63946", "#a8dadc"])


def _gallery(ctx: Any, out: Path, root: Any = None) -> Any:
    from m2p.library.gallery import write_gallery

    return write_gallery(ctx.i.library, out, root=root)


def _export(ctx: Any, *, name: Any = None, sections: Any = None, format: str = "css",
            suffix: str = ".css", options: Any = None) -> Any:
    from m2p.exporters.formats import export

    return export(ctx.i.song, ctx.i.fresh("x" + suffix), format=format, name=name, sections=sections,
                  options=options, model=ctx.model, window=2.0, hop=1.0, device="cpu")


def _stream(ctx: Any, rate: int) -> Any:
    from m2p.inference.live import PaletteStream

    return PaletteStream(sample_rate=rate, model=ctx.model, window=2.0, hop=1.0, device="cpu")


def _model(ctx: Any, mutate: Any, truncate: bool = False) -> Any:
    import shutil

    from m2p.model.weights import load_model

    folder = ctx.i.fresh("model")
    shutil.copytree(ctx.i.model, folder)
    if truncate:
        data = (folder / "model.safetensors").read_bytes()
        (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    if mutate is not None:
        doc = json.loads((folder / "config.json").read_text())
        text = mutate(doc)
        (folder / "config.json").write_text(text if isinstance(text, str) else json.dumps(doc))
    return load_model(folder)
