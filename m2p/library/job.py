"""The work on one file, the same in every engine (so engines give identical rows): the
:class:`Job` (options shipped to workers), decoding, the palette track of one file and its row.

An engine (:mod:`m2p.library.engines`) decides *where* these run: :func:`init_worker` once per
worker process or actor, then :func:`analyse_file` (streaming a file) or :func:`decode_file` and
:func:`analyse` (samples decoded elsewhere). A bad file becomes a row with ``status ==
"error"`` and the error's one line; it never stops the job.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from m2p._internal.checks import check_options, integer
from m2p._internal.warn import warn
from m2p.errors import M2PError
from m2p.inference import DEFAULT_BATCH_SIZE, DEFAULT_HOP, DEFAULT_WINDOW
from m2p.library.table import one_line

if TYPE_CHECKING:
    import numpy as np

    from m2p.palette_types import PaletteTrack

__all__ = ["WARNINGS_KEY", "Job", "analyse", "analyse_file", "decode_file", "error_line",
           "give_warnings", "init_worker", "job_options", "make_job", "track_row"]

WARNINGS_KEY = "_warnings"
"""Key of a row (not a column) holding the warnings its analysis gave, for the parent process
to show (a worker's own stderr would print them raw, with a source line)."""

PARENT_POLL_SECONDS = 0.5
"""How often a worker checks that the process that started it still exists."""

PathArg = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to analyse files the same way (picklable, shipped to workers).

    ``model`` is a model directory (resolved), ``noise`` the resolved noise scale.
    """

    model: str
    model_version: str
    device: str
    seed: int
    noise: float
    window: float
    hop: float
    batch_size: int

    @property
    def settings(self) -> str:
        """The options that change the result, as the JSON stored in every row."""
        return json.dumps({"seed": self.seed, "noise": self.noise, "window": self.window,
                           "hop": self.hop}, sort_keys=True)


def job_options(*, model: PathArg | None = None, device: str = "auto", seed: int = 0,
                noise: float | None = None, window: float = DEFAULT_WINDOW,
                hop: float = DEFAULT_HOP, batch_size: int = DEFAULT_BATCH_SIZE) -> dict[str, Any]:
    """The inference options of a library job with their defaults, checked (cheap: before any
    file is listed or model loaded).

    Raises
    ------
    TypeError, m2p.errors.InvalidArgumentError
        A bad option.
    """
    check_options(seed=seed, noise=noise, window=window, hop=hop)
    integer(batch_size, "batch_size", minimum=1)
    if model is not None and not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a model directory or None, got {type(model).__name__}")
    return dict(model=model, device=device, seed=seed, noise=noise, window=window, hop=hop,
                batch_size=batch_size)


def make_job(options: dict[str, Any]) -> Job:
    """The :class:`Job` for :func:`job_options`: the model is found and loaded once here, so a
    missing or broken model stops the job before any file is read."""
    from m2p.api import load_for_inference
    from m2p.model.weights import WEIGHTS_FILE, find_model_dir

    directory = find_model_dir(options["model"])
    net, _, noise_scale = load_for_inference(directory, options["device"], options["noise"])
    name = str(getattr(net, "metadata", {}).get("training", {}).get("config", {}).get("name", "model"))
    return Job(model=str(directory), model_version=f"{name}@{_sha256(directory / WEIGHTS_FILE)[:12]}",
               device=str(options["device"]), seed=int(options["seed"]), noise=noise_scale,
               window=float(options["window"]), hop=float(options["hop"]),
               batch_size=int(options["batch_size"]))


def decode_file(path: str) -> tuple["np.ndarray | None", str | None]:
    """Mono float32 samples at 22,050 Hz, or None and the error's one line."""
    from m2p.audio.decode import load

    try:
        return load(path), None
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the library
        return None, error_line(path, exc)


def analyse(job: Job, path: str, digest: str | None, audio: "str | np.ndarray | None",
            error: str | None = None) -> dict[str, Any]:
    """One table row: the palette track of ``audio`` (the file itself, streamed, or its
    decoded samples at 22,050 Hz), or the row of an error.

    A file is streamed in 10 s blocks and samples are cut into the same blocks, whose
    concatenation equals the decoded samples (:func:`m2p.audio.decode.stream`), so both give the
    same row, bit for bit.
    """
    import dataclasses

    from m2p.api import load_for_inference
    from m2p.audio.decode import SAMPLE_RATE
    from m2p.inference.engine import run_inference

    caught: list = []
    if error is None:
        # A worker's warnings (a damaged file "using what decodes") would print raw, with a
        # source line, on the worker's stderr: they travel with the row, good or bad, and the
        # process that writes the table gives them (:func:`give_warnings`).
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", UserWarning)
                net, dev, _ = load_for_inference(job.model, job.device, job.noise)
                rate = None if isinstance(audio, str) else SAMPLE_RATE
                result = run_inference(audio, model=net, device=dev, seeds=[job.seed],
                                       noise_scale=job.noise, window=job.window, hop=job.hop,
                                       batch_size=job.batch_size, sample_rate=rate)
            assert result.track is not None
            row = track_row(dataclasses.replace(result.track, source=path), digest, job)
            return {**row, WARNINGS_KEY: _messages(caught)}
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the library
            error = error_line(path, exc)
    return {"path": path, "content_hash": digest, "status": "error", "error": error,
            "model_version": job.model_version, "settings": job.settings,
            WARNINGS_KEY: _messages(caught)}


def give_warnings(row: dict[str, Any]) -> dict[str, Any]:
    """Take the warnings out of ``row`` and give them here (one :class:`UserWarning` each, in
    the process that writes the table: the command line prints each as one line)."""
    for text in row.pop(WARNINGS_KEY, ()):
        warn(text)
    return row


def _messages(caught: list) -> list[str]:
    """Each warning's text once, in order, on one line."""
    return list(dict.fromkeys(one_line(w.message) for w in caught))


def track_row(track: "PaletteTrack", digest: str | None, job: Job) -> dict[str, Any]:
    """The row of a palette track."""
    overall = track.overall
    va = track.valence_arousal
    return {
        "path": track.source, "content_hash": digest, "status": "ok", "error": None,
        "duration": track.duration, "palette": list(overall.hex),
        "palette_lch": overall.lch.tolist(), "mood": overall.dominant_emotion,
        "valence": float(overall.valence_arousal[0]), "arousal": float(overall.valence_arousal[1]),
        "times": track.times.tolist(), "valence_t": va[:, 0].tolist(),
        "arousal_t": va[:, 1].tolist(), "track": track.to_json(),
        "model_version": job.model_version, "settings": job.settings,
    }


def init_worker(job: Job) -> None:
    """Make a process ready to analyse: one torch thread (the pool gives the parallelism, and
    results do not depend on the thread count), the model loaded once (cached per process)."""
    import signal

    # First of all (importing torch takes seconds): a worker whose parent is gone exits.
    _exit_with_parent()
    # Ctrl-C reaches the whole process group: the parent stops the pool and says so once;
    # workers printing a KeyboardInterrupt traceback each would be noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    from m2p.api import load_for_inference

    torch.set_num_threads(1)
    load_for_inference(job.model, job.device, job.noise)


def _exit_with_parent() -> None:
    """End this worker when the process that started it is gone (``kill -9`` of ``m2p
    batch`` cannot stop its pool): a daemon thread watches the parent's pid."""
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(PARENT_POLL_SECONDS)
            if os.getppid() != parent:
                os._exit(1)  # no clean-up to do: the parent owned every output

    threading.Thread(target=watch, name="m2p-parent-watch", daemon=True).start()


def analyse_file(job: Job, path: str, digest: str | None) -> dict[str, Any]:
    """Analyse one file in this process, streaming it (the local engine's task: memory does
    not grow with the length of the file)."""
    return analyse(job, path, digest, path)


def error_line(path: str, exc: BaseException) -> str:
    """The error column: the file, then what went wrong (typed errors by their reason)."""
    if isinstance(exc, M2PError):
        return f"{path}: {exc.reason}"
    return f"{path}: {type(exc).__name__}: {one_line(exc)}"


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()
