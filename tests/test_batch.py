"""m2p batch: a library of real audio files into one resumable table."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import m2p
from m2p.cli import core as cli
from m2p.library.batch import find_audio
from m2p.library.table import library_schema, read_library, row_track
from m2p.errors import AudioFileNotFoundError, InvalidArgumentError
from tests.library_audio import FAST, FAST_ARGS, write_songs


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("music")
    write_songs(folder)
    (folder / "broken.mp3").write_bytes(b"ID3 this is not audio at all")
    (folder / "notes.txt").write_text("not picked up: not an audio suffix")
    return folder


@pytest.fixture(scope="module")
def library(music, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lib") / "library.parquet"
    m2p.batch(music, output=out, workers=2, **FAST)
    return out


def test_one_row_per_file_and_one_error_row(library, music):
    table = read_library(library)
    assert table.schema.equals(library_schema())
    rows = {Path(r["path"]).name: r for r in table.to_pylist()}
    assert sorted(rows) == ["bright.wav", "broken.mp3", "chord.wav", "dark.flac", "drums.ogg"]
    bad = rows.pop("broken.mp3")
    assert bad["status"] == "error" and "broken.mp3" in bad["error"] and bad["track"] is None
    for row in rows.values():
        assert row["status"] == "ok" and row["error"] is None
        assert len(row["content_hash"]) == 64 and row["model_version"]
        assert 4.9 < row["duration"] < 5.1
        assert 3 <= len(row["palette"]) <= 8 and len(row["palette_lch"]) == len(row["palette"])
        assert len(row["times"]) == len(row["valence_t"]) == len(row["arousal_t"]) >= 4
        assert all(-1 <= v <= 1 for v in row["valence_t"] + row["arousal_t"])


def test_row_holds_the_palette_track_of_the_file(library):
    row = next(r for r in read_library(library).to_pylist() if r["path"].endswith("dark.flac"))
    track = row_track(row)
    direct = m2p.palette_track(row["path"], **FAST)
    assert track.source == row["path"] and list(track.overall.hex) == row["palette"]
    np.testing.assert_allclose(track.times, direct.times)
    np.testing.assert_allclose(track.valence_arousal, direct.valence_arousal, atol=1e-4)
    assert [len(p) for p in track] == [len(p) for p in direct]
    for ours, theirs in zip(track, direct):
        np.testing.assert_allclose(ours.lch, theirs.lch, atol=1e-2)


def test_rerun_skips_files_done_and_retries_errors(library, music, tmp_path, capsys):
    copy = tmp_path / "library.parquet"
    copy.write_bytes(library.read_bytes())
    extra = tmp_path / "more"
    write_songs(extra, seconds=3.0)
    new = extra / "bright.wav"
    code = cli.main(["batch", str(music), str(new), "-o", str(copy), "--workers", "1", "-q",
                     *FAST_ARGS])
    out, err = capsys.readouterr()
    assert code == 0, err
    # 4 good files skipped by content hash; the broken one retried; the new one analysed.
    assert out.strip().endswith("6 files, 2 analysed, 4 already done, 1 errors")
    table = read_library(copy)
    assert table.num_rows == 6
    before = {r["path"]: r for r in read_library(library).to_pylist()}
    for row in table.to_pylist():
        if row["path"] in before and row["status"] == "ok":
            assert row == before[row["path"]]  # the old rows are kept exactly
    assert not list(tmp_path.glob(".*"))  # no journal, no temporary file left


def test_killed_batch_finishes_only_the_rest(tmp_path):
    music = tmp_path / "music"
    write_songs(music, seconds=12.0)
    out = tmp_path / "library.parquet"
    journal = tmp_path / ".library.parquet.parts"
    command = [sys.executable, "-m", "m2p", "batch", str(music), "-o", str(out), "--workers", "1",
               "--flush-every", "1", "-q", *FAST_ARGS]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not list(journal.glob("part-*.parquet")) and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.05)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # the CLI and its pool worker, mid-job
        first.wait()
    assert not out.exists()  # never a half-written table
    done = {r["path"] for part in journal.glob("part-*.parquet")
            for r in pq.read_table(part).to_pylist()}
    assert 1 <= len(done) < 4
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300,
                           stdin=subprocess.DEVNULL)
    assert rerun.returncode == 0, rerun.stderr
    assert rerun.stdout.strip().endswith(
        f"4 files, {4 - len(done)} analysed, {len(done)} already done, 0 errors")
    table = read_library(out)
    assert sorted(Path(p).name for p in table.column("path").to_pylist()) == [
        "bright.wav", "chord.wav", "dark.flac", "drums.ogg"]
    assert set(table.column("status").to_pylist()) == {"ok"}
    assert not journal.exists() and not list(tmp_path.glob(".*"))


def test_find_audio_folders_files_and_patterns(music, tmp_path):
    names = [Path(p).name for p in find_audio(music)]
    assert names == ["bright.wav", "broken.mp3", "chord.wav", "dark.flac", "drums.ogg"]
    assert [Path(p).name for p in find_audio([str(music / "*.wav"), music / "dark.flac"])] == [
        "bright.wav", "chord.wav", "dark.flac"]
    with pytest.raises(AudioFileNotFoundError, match="nowhere"):
        find_audio(tmp_path / "nowhere")
    with pytest.raises(InvalidArgumentError, match="matches no file"):
        find_audio(str(tmp_path / "*.flac"))
    with pytest.raises(InvalidArgumentError, match="no audio files"):
        find_audio(tmp_path)


@pytest.mark.parametrize("name, content, message", [
    ("out.csv", None, "unsupported output extension"),
    ("other.parquet", "table", "missing columns"),
    ("junk.parquet", "junk", "not a parquet library"),
])
def test_bad_output_is_one_line_before_any_work(music, tmp_path, capsys, name, content, message):
    out = tmp_path / name
    if content == "table":
        import pyarrow as pa

        pq.write_table(pa.table({"x": [1]}), out)
    elif content == "junk":
        out.write_text("not parquet")
    code = cli.main(["batch", str(music), "-o", str(out), "-q", *FAST_ARGS])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and message in err and str(out) in err


def test_importing_m2p_imports_neither_pyarrow_nor_ray():
    code = ("import sys, m2p, m2p.library.batch, m2p.cli.library; m2p.batch; "
            "print('pyarrow' in sys.modules, 'ray' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.stdout.split() == ["False", "False"], result.stderr


def _in_process_engine(todo, job, *, workers, sink):
    """A toy engine: the shared per-file work, one file after the other, in this process."""
    from m2p.library.job import analyse_file, init_worker

    init_worker(job)
    for path, digest in todo:
        sink(analyse_file(job, path, digest))


def test_an_engine_is_a_function_and_one_line_in_the_registry(library, music, tmp_path,
                                                             monkeypatch):
    import torch

    from m2p.library import engines

    monkeypatch.setitem(engines.ENGINES, "inline",
                        engines.Engine(__name__, "_in_process_engine", "this process, in order"))
    threads = torch.get_num_threads()  # init_worker makes it 1, as in the pool's workers
    try:
        table = m2p.batch(music, engine="inline", output=tmp_path / "inline.parquet", **FAST)
    finally:
        torch.set_num_threads(threads)
    ours = {r["path"]: r for r in table.to_pylist()}
    pool = {r["path"]: r for r in read_library(library).to_pylist()}
    assert sorted(ours) == sorted(pool)
    for path, row in ours.items():  # the same rows, bit for bit, whichever engine ran them
        assert row == pool[path], path
    with pytest.raises(InvalidArgumentError, match="engine must be one of local, ray, inline"):
        m2p.batch(music, engine="gpu", output=tmp_path / "x.parquet", **FAST)


def test_a_damaged_file_is_one_warning_line_even_from_a_worker(tmp_path):
    """A slightly damaged MP3 (3 kB of noise in the middle of a real encode) decodes with a
    warning; from the worker process it used to print raw, with a source line."""
    from m2p._internal.ffmpeg import ffmpeg_exe

    folder = tmp_path / "music"
    folder.mkdir()
    song = folder / "damaged.mp3"
    example = Path(__file__).resolve().parents[1] / "examples" / "savino_caribbean_excerpt.ogg"
    subprocess.run([ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(example), "-t", "12",
                    str(song)], check=True, timeout=120)
    data = bytearray(song.read_bytes())
    middle = len(data) // 2
    noise = np.random.default_rng(1).integers(0, 256, 3000, np.uint8)
    data[middle:middle + 3000] = noise.tobytes()
    song.write_bytes(bytes(data))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run([sys.executable, "-m", "m2p", "batch", str(folder), "-o",
                             str(tmp_path / "library.parquet"), "--workers", "1", "-q",
                             *FAST_ARGS], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("m2p: warning: ") and "damaged.mp3: damaged audio" in lines[0]
    assert read_library(tmp_path / "library.parquet").column("status").to_pylist() == ["ok"]
