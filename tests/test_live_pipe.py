"""``m2p live`` fed by the README's pipe gives the palettes of ``m2p track`` on the same file.

A real recording (the bundled example, stereo Ogg Vorbis at 44.1 kHz) goes through the real
ffmpeg binary (:func:`m2p._internal.ffmpeg.ffmpeg_exe`) into the real ``m2p live`` command,
with the shipped model; every window is compared with the offline track (matched colours,
CIEDE2000). The pipe is a WAV stream (``-f wav``): m2p then mixes down and resamples as it
does for the file. (``-ac 1 -ar 22050`` would hand m2p ffmpeg's mix, 3 dB louder for stereo,
and ffmpeg's resampler: other audio, other palettes; see ``docs/decisions.md``, issue 24.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import m2p
from m2p._internal.ffmpeg import ffmpeg_exe
from training.metrics import palette_distance

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "savino_caribbean_excerpt.ogg"

pytestmark = pytest.mark.skipif(not (REPO / "model" / "model.safetensors").exists(),
                                reason="no shipped weights in model/")


def _pipe(ffmpeg_args: list[str], *live_args: str) -> list[dict]:
    producer = subprocess.Popen([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i",
                                 str(EXAMPLE), *ffmpeg_args, "-"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    try:
        result = subprocess.run([sys.executable, "-m", "m2p", "live", *live_args,
                                 "--device", "cpu"], stdin=producer.stdout, capture_output=True,
                                text=True, timeout=600)
    finally:
        producer.stdout.close()
        producer.kill()
        producer.wait()
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _matching_share(lines: list[dict], track) -> float:
    assert [d["time"] for d in lines] == [round(float(t), 3) for t in track.times]
    close = [palette_distance(m2p.Palette.from_hex(d["hex"]).lch, p.lch) <= 3.0
             for d, p in zip(lines, track.palettes)]
    return float(np.mean(close))


@pytest.fixture(scope="module")
def offline():
    return m2p.palette_track(EXAMPLE, device="cpu")


def _readme_pipe() -> list[str]:
    """The ffmpeg output options of the README's ``ffmpeg -i URL ... - | m2p live`` line."""
    for line in (REPO / "README.md").read_text().splitlines():
        if line.startswith("ffmpeg -i URL") and "| m2p live" in line:
            words = line.split("|")[0].split()
            assert words[-1] == "-", line
            return words[3:-1]
    raise AssertionError("no 'ffmpeg -i URL ... | m2p live' line in the README")


def test_the_readme_pipe_gives_the_palettes_of_m2p_track(offline):
    assert _readme_pipe() == ["-f", "wav"]
    assert _matching_share(_pipe(_readme_pipe()), offline) >= 0.9


def test_raw_stereo_pcm_at_the_file_rate_gives_them_too(offline):
    """Stereo piping as docs/decisions.md describes it: the channels as they are, m2p mixes."""
    lines = _pipe(["-f", "f32le", "-ac", "2", "-ar", "44100"], "--rate", "44100",
                  "--channels", "2")
    assert _matching_share(lines, offline) >= 0.9
