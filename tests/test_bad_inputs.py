"""Issue 10, hostile inputs: every case of the catalogue has the outcome it promises, and the
readers hold up under property-based fuzzing with bounded time and memory.

The catalogue (``tests/bad_inputs.py``) generates each input; ``tests/bad_inputs_table.py``
prints the outcome table that ``docs/reliability.md`` quotes. Cases that once exhausted memory
run in a child process under ``RLIMIT_AS`` (``Case.memory``), so a regression fails there at
once instead of freezing the machine.
"""

from __future__ import annotations

import json
import struct
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bad_inputs
from m2p.errors import AudioError, M2PError, TrackError, VideoError
from m2p.palette_types import Palette, PaletteTrack

pytest.importorskip("moviepy")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> bad_inputs.Workspace:
    return bad_inputs.Workspace(tmp_path_factory.mktemp("hostile")).prepare()


@pytest.mark.parametrize("case", bad_inputs.CASES, ids=[c.id for c in bad_inputs.CASES])
def test_hostile_input_has_its_promised_outcome(case: bad_inputs.Case,
                                                workspace: bad_inputs.Workspace) -> None:
    outcome = bad_inputs.classify(case, workspace)
    assert outcome.kind == case.expect, f"{case.id}: {outcome.kind}: {outcome.detail}"


def test_catalogue_covers_every_defect() -> None:
    assert {c.defect for c in bad_inputs.CASES} >= set(range(1, 17))
    assert len({c.id for c in bad_inputs.CASES}) == len(bad_inputs.CASES)


def test_memory_limit_catches_a_runaway_allocation() -> None:
    """The RLIMIT_AS harness itself: asking for 8 GB fails at once in the child."""
    proc = bad_inputs.run_limited("import numpy\nnumpy.ones(1 << 30)", timeout=120)
    assert proc.returncode != 0 and "MemoryError" in proc.stderr


# ----------------------------------------------------------------------------------------------
# Property-based fuzzing of the readers (bounded: small inputs, a deadline, traced memory)

# No wall-clock deadline (shared CPUs make it flaky); _bounded asserts CPU time instead.
FUZZ = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _bounded(fn, limit_mb: float = 64.0, limit_cpu_s: float = 5.0):  # noqa: ANN001, ANN202
    """Run ``fn`` with warnings silenced; its traced peak memory must stay under ``limit_mb``
    and its CPU time under ``limit_cpu_s`` (CPU, not wall time: robust on a busy machine)."""
    tracemalloc.start()
    start = time.process_time()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    finally:
        used = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < limit_mb * 1e6, f"peak traced memory {peak / 1e6:.0f} MB"
        assert used < limit_cpu_s, f"{used:.1f} s of CPU"


@FUZZ
@given(rate=st.integers(0, 2**32 - 1), channels=st.integers(0, 300), bits=st.sampled_from([8, 16, 24, 32, 7, 0]),
       fmt_tag=st.sampled_from([1, 3, 0xFFFE, 0, 85]), data_size=st.integers(0, 2**32 - 1),
       payload=st.binary(max_size=4000))
def test_fuzzed_wav_headers_give_audio_or_a_typed_error(tmp_path_factory, rate, channels, bits,
                                                        fmt_tag, data_size, payload) -> None:
    from m2p.audio import decode as audio

    block = max(1, channels * max(bits, 8) // 8)
    fmt = struct.pack("<HHIIHH", fmt_tag, channels & 0xFFFF, rate, (rate * block) & 0xFFFFFFFF,
                      block & 0xFFFF, bits)
    blob = (b"RIFF" + struct.pack("<I", 36 + len(payload)) + b"WAVEfmt " + struct.pack("<I", 16)
            + fmt + b"data" + struct.pack("<I", data_size) + payload)
    path = tmp_path_factory.mktemp("wav") / "fuzz.wav"
    path.write_bytes(blob)
    try:
        out = _bounded(lambda: audio.load(path))
    except AudioError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert out.dtype == np.float32 and np.isfinite(out).all()
    assert len(out) <= 22050 * 5  # a few KB of payload can never decode to minutes


_json = st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


def _valid_doc() -> dict:
    a = Palette.from_hex(["#102030", "#a0b0c0", "#ff8800"])
    b = Palette.from_hex(["#302010", "#c0b0a0"])
    return PaletteTrack([1.0, 3.0], (a, b), window=2.0, hop=2.0, duration=4.0).to_dict()


@FUZZ
@given(path=st.lists(st.sampled_from(["palettes", 0, 1, "lch", "times", "overall", "window",
                                      "valence_arousal", "emotion", "hex", "hop", "duration",
                                      "version", "seed", "source"]), min_size=1, max_size=4),
       value=_json)
def test_fuzzed_track_documents_load_or_raise_track_error(path, value) -> None:
    doc = _valid_doc()
    node = doc
    for key in path[:-1]:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    if isinstance(node, dict):
        node[str(path[-1])] = value
    elif isinstance(node, list) and node:
        node[hash(str(path)) % len(node)] = value
    text = json.dumps(doc, allow_nan=True)
    try:
        track = _bounded(lambda: PaletteTrack.from_json(text))
    except TrackError as exc:
        assert "\n" not in str(exc)
        return
    assert all(1 <= len(p) <= 64 for p in track.palettes)
    assert np.all(np.abs(track.valence_arousal) <= 1.0)
    assert PaletteTrack.from_json(track.to_json()) == track


@FUZZ
@given(text=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_fuzzed_text_is_never_a_track(text) -> None:
    with pytest.raises(TrackError):
        PaletteTrack.from_json(text)


@FUZZ
@given(rows=st.lists(st.lists(st.one_of(st.text(max_size=6), st.floats().map(repr),
                                        st.integers(-10**20, 10**20).map(str)),
                              min_size=1, max_size=5), max_size=6))
def test_fuzzed_race_csv_reads_or_raises_video_error(tmp_path_factory, rows) -> None:
    import csv
    import io

    from m2p_plugins.video.race import MAX_VALUE, read_wide_csv

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path = tmp_path_factory.mktemp("csv") / "fuzz.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    try:
        data = _bounded(lambda: read_wide_csv(path))
    except VideoError as exc:
        assert "\n" not in str(exc) and str(path) in str(exc)
        return
    assert np.isfinite(data.values).all() and (data.values >= 0).all()
    assert (data.values <= MAX_VALUE).all()


# ----------------------------------------------------------------------------------------------
# Single defects, asserted directly (the catalogue checks them end to end)


def test_track_outputs_are_checked_before_the_model_runs(tmp_path: Path) -> None:
    """Defect 4 and 7: a bad output fails before inference (no model is even found here)."""
    from m2p.cli import core as cli

    song = tmp_path / "s.wav"
    song.write_bytes(bad_inputs.wav_bytes(bad_inputs.music(2.0), 22050))
    assert cli.main(["track", str(song), "-o", str(song), "--model", "/nonexistent"]) == 1
    assert cli.main(["track", str(song), "-o", "/dev/full", "--model", "/nonexistent"]) == 1


def test_atomic_outputs_leave_nothing_on_failure(tmp_path: Path) -> None:
    """Defect 3: two outputs are renamed together or not at all; no temporary file remains."""
    from m2p.errors import OutputError
    from m2p._internal.outputs import atomic_outputs

    a, b = tmp_path / "a.json", tmp_path / "b.png"
    a.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_outputs(a, b) as (ta, tb):
            ta.write_text("new")
            raise KeyboardInterrupt
    assert a.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]
    with pytest.raises(OutputError, match="nothing was written"):
        with atomic_outputs(a, b) as (ta, tb):
            ta.write_text("new")  # b never written
    assert a.read_text() == "old"
    with pytest.raises(OutputError, match="not a regular file"):
        with atomic_outputs("/dev/null"):
            pass
    with atomic_outputs(a, b) as (ta, tb):
        ta.write_text("new")
        tb.write_bytes(b"png")
    assert a.read_text() == "new" and b.read_bytes() == b"png"


def test_api_errors_are_m2p_errors_with_the_input_named(tmp_path: Path) -> None:
    with pytest.raises(M2PError, match="nope.json"):
        PaletteTrack.load_json(tmp_path / "nope.json")
