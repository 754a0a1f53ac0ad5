"""m2p batch --engine ray on a local Ray cluster: the same rows as the local engine."""

from __future__ import annotations

from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="the ray engine needs the 'ray' extra (pip install 'music2palette[ray]')")

import m2p  # noqa: E402
from m2p.cli import core as cli  # noqa: E402
from m2p.library.table import read_library  # noqa: E402
from tests.library_audio import FAST, FAST_ARGS, write_songs  # noqa: E402


@pytest.fixture(scope="module")
def music(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("music")
    write_songs(folder, seconds=4.0)
    (folder / "broken.ogg").write_bytes(b"OggS but not really")
    return folder


@pytest.fixture(scope="module")
def local_cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    yield
    ray.shutdown()


def _by_path(table) -> dict[str, dict]:
    return {row["path"]: row for row in table.to_pylist()}


def test_ray_and_local_engines_give_identical_rows(music, local_cluster, tmp_path):
    on_ray = m2p.batch(music, engine="ray", workers=2, output=tmp_path / "ray.parquet", **FAST)
    local = m2p.batch(music, engine="local", workers=2, output=tmp_path / "local.parquet", **FAST)
    assert on_ray.num_rows == local.num_rows == 5
    assert _by_path(on_ray) == _by_path(local)  # every column, bit for bit
    errors = [r for r in on_ray.to_pylist() if r["status"] == "error"]
    assert len(errors) == 1 and "broken.ogg" in errors[0]["error"]


def test_ray_command_resumes_like_the_local_one(music, local_cluster, tmp_path, capsys):
    out = tmp_path / "library.parquet"
    assert cli.main(["batch", str(music / "*.wav"), "-o", str(out), "--engine", "ray",
                     "--workers", "1", "-q", *FAST_ARGS]) == 0
    assert capsys.readouterr().out.strip().endswith("2 files, 2 analysed, 0 already done, 0 errors")
    assert cli.main(["batch", str(music), "-o", str(out), "--engine", "ray", "--workers", "1",
                     "-q", *FAST_ARGS]) == 0
    assert capsys.readouterr().out.strip().endswith("5 files, 3 analysed, 2 already done, 1 errors")
    assert read_library(out).num_rows == 5
