"""The Ray engine of :func:`m2p.batch` (``engine="ray"``): the same job on Ray Data.

Imported only when that engine runs (``pip install "music2palette[ray]"``). The pipeline:

1. **files as a dataset**: one row per file to analyse (path, content hash), one block each;
2. **decoding as CPU tasks** (``Dataset.map``): each file is decoded where the task runs
   (:func:`m2p.library.job.decode_file`) into mono float32 samples at 22,050 Hz, passed on as bytes;
3. **the model in an actor pool** (``Dataset.map_batches`` with
   ``compute=ActorPoolStrategy(size=n)``): each actor loads the model once, from weights
   shipped through the object store (so nodes need the package, not the model files), asks for
   one GPU when the cluster has GPUs, and turns samples into a table row
   (:func:`m2p.library.job.analyse`, features and network in the actor);
4. rows stream back to the driver, which writes the same resumable table as the local engine.

Features are computed in the actor, next to the model, rather than in the CPU tasks: a
window's features (431 x 539 float32, 0.93 MB) are about 4x the audio they come from at the
default 4x window overlap, so shipping audio moves a quarter of the bytes.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from m2p._internal.streams import captured_stderr
from m2p.errors import M2PError
from m2p.library.job import Job, analyse, decode_file, init_worker
from m2p.library.table import rows_table

__all__ = ["run_ray"]

_MODEL_FILES = ("config.json", "model.safetensors")


def run_ray(todo: Sequence[tuple[str, str | None]], job: Job, *, workers: int,
            sink: Callable[[dict[str, Any]], None]) -> None:
    """Analyse ``(path, digest)`` pairs on Ray, handing each row to ``sink`` as it arrives.

    Joins the cluster at ``$RAY_ADDRESS`` or an already initialised Ray; otherwise starts a
    local one (and stops it at the end). ``workers`` is the number of model actors.

    Raises
    ------
    MissingExtraError
        Ray is not installed (the message has the install command).
    """
    from m2p._internal.extras import missing_extra, require

    require("ray", extra="ray", feature="the ray engine of m2p batch")
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "error")  # the C++ side's own threshold
    try:
        import ray
        import ray.data
    except ImportError as exc:  # found but broken (a missing dependency of Ray Data)
        raise (missing_extra(exc, "the ray engine of m2p batch")
               or M2PError(f"the ray engine needs Ray Data: pip install "
                           f"\"music2palette[ray]\" ({exc})")) from None

    # The job reports its own progress; Ray Data's INFO lines would bury it.
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    started = not ray.is_initialized()
    if started:
        address = os.environ.get("RAY_ADDRESS") or None
        # Ray's C++ core worker writes log lines ("core_worker.cc:...") straight to file
        # descriptor 2 while it starts and stops; they are kept off the terminal.
        with captured_stderr():
            ray.init(address=address, num_cpus=None if address else os.cpu_count(),
                     include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False  # the job has its own bar, over files
        context.print_on_execution_start = False
        gpus = int(ray.cluster_resources().get("GPU", 0))
        model = ray.put({name: (Path(job.model) / name).read_bytes() for name in _MODEL_FILES})
        actor_job = replace(job, device="cuda" if gpus else "cpu")
        decode_cpus, actor_cpus = _cpu_shares(ray, workers)
        items = [{"path": path, "content_hash": digest or ""} for path, digest in todo]
        rows = (
            ray.data.from_items(items, override_num_blocks=len(items))
            .map(_decode, num_cpus=decode_cpus)
            .map_batches(_Analyser, fn_constructor_args=(actor_job, model), batch_size=1,
                         batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=workers),
                         num_cpus=actor_cpus, num_gpus=1 if gpus else 0)
        )
        for batch in rows.iter_batches(batch_size=1, batch_format="pyarrow"):
            for row in batch.to_pylist():
                sink(row)
    finally:
        if started:
            with captured_stderr():
                ray.shutdown()


def _decode(item: dict[str, Any]) -> dict[str, Any]:
    """CPU task: a file's samples (as bytes), or the error's one line."""
    samples, error = decode_file(item["path"])
    return {"path": item["path"], "content_hash": item["content_hash"],
            "samples": b"" if samples is None else samples.tobytes(), "error": error or ""}


class _Analyser:
    """Actor: the model loaded once (from the shipped weights); one file's row per call."""

    def __init__(self, job: Job, model: Any) -> None:
        self.job = replace(job, model=str(_unpack_model(job.model_version, model)))
        init_worker(self.job)

    def __call__(self, batch: dict[str, Any]) -> Any:
        import numpy as np

        path = str(batch["path"][0])
        digest = str(batch["content_hash"][0]) or None
        error = str(batch["error"][0]) or None
        samples = None if error else np.frombuffer(batch["samples"][0], dtype=np.float32)
        return rows_table([analyse(self.job, path, digest, samples, error)])


def _cpu_shares(ray: Any, workers: int) -> tuple[float, float]:
    """CPUs asked per decoding task and per actor: one each, unless the actors would leave no
    CPU free for decoding (a small local cluster), where the actors share all but half a CPU
    and decoding gets that half (else the pipeline would wait for ever)."""
    cpus = float(ray.cluster_resources().get("CPU", 1))
    if cpus - workers >= 1:
        return 1.0, 1.0
    return 0.5, max(0.05, (cpus - 0.5) / workers)


def _unpack_model(version: str, model: Any) -> Path:
    """The shipped weights as a model folder on this node, written once per model version."""
    import shutil

    import ray

    folder = Path(tempfile.gettempdir()) / f"m2p-ray-model-{version.rsplit('@', 1)[-1]}"
    if all((folder / name).is_file() for name in _MODEL_FILES):
        return folder
    staging = Path(tempfile.mkdtemp(prefix=".m2p-ray-model-", dir=folder.parent))
    for name, data in ray.get(model).items():
        (staging / name).write_bytes(data)
    try:
        staging.rename(folder)  # whole or not at all; another actor may have won the race
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
