"""``m2p live --sync beat`` (issue 26) through a real pipe: one JSON line per beat, on the
beats of the music, with the palette to show from that beat on and the latency stated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from m2p.errors import InvalidArgumentError
from m2p.inference.live import BeatLines
from m2p.rhythm.online import LATENCY
from tests.test_rhythm import SR, drums

ROOT = Path(__file__).resolve().parents[1]


def _live(args: list[str], samples: np.ndarray) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "m2p", "live", "--rate", str(SR), *args],
                          input=samples.astype("<f4").tobytes(), capture_output=True, env=env,
                          timeout=300, cwd=ROOT)


def test_live_sync_beat_prints_a_line_per_beat_on_the_beat(tiny_model_dir: Path) -> None:
    x, beats, downbeats = drums(120, 16.0, start=0.25)
    done = _live(["--sync", "beat", "--window", "2", "--hop", "1", "--model",
                  str(tiny_model_dir), "--device", "cpu"], x)
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert lines and all(line["beat"] is True for line in lines)
    times = np.array([line["time"] for line in lines])
    assert np.all(np.diff(times) > 0) and times[-1] <= 16.0
    # The tracker's beats, once locked on (after 5 s), are the drummer's (70 ms).
    late = times[times >= 5.0]
    near = np.min(np.abs(late[:, None] - beats[None, :]), axis=1) <= 0.07
    assert len(late) >= 15 and near.mean() >= 0.8, (late, beats)
    # The latency is stated: the tracker's own plus at most the block that carried the beat.
    latency = np.array([line["latency"] for line in lines])
    assert np.all(latency >= LATENCY - 1e-3) and np.all(latency < 0.3)
    # Palettes appear once the first window completes, and change only on beat lines.
    shown = [line for line in lines if line["hex"] is not None]
    assert shown and shown[0]["change"] is True and all(len(line["hex"]) >= 3 for line in shown)
    assert all(line["hex"] is None for line in lines[: len(lines) - len(shown)])


def test_live_sync_downbeat_and_latency_offset(tiny_model_dir: Path) -> None:
    x, beats, downbeats = drums(120, 12.0, start=0.25)
    common = ["--window", "2", "--hop", "1", "--model", str(tiny_model_dir), "--device", "cpu"]
    done = _live(["--sync", "downbeat", "--latency-offset", "0.25", *common], x)
    assert done.returncode == 0, done.stderr.decode()
    lines = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert lines and all(line["downbeat"] for line in lines)
    times = np.array([line["time"] for line in lines]) - 0.25  # the offset is added
    late = times[times >= 5.0]
    assert np.mean(np.min(np.abs(late[:, None] - downbeats[None, :]), axis=1) <= 0.07) >= 0.5


def test_beat_lines_refuse_bad_options() -> None:
    with pytest.raises(InvalidArgumentError, match="sync"):
        BeatLines("section")
    with pytest.raises(InvalidArgumentError, match="offset"):
        BeatLines("beat", offset=float("nan"))
