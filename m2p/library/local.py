"""A whole music library in one table: every file's palette track, analysed once.

>>> import m2p
>>> table = m2p.batch("~/Music", output="library.parquet")     # doctest: +SKIP
>>> table.num_rows, table.column_names[:3]                     # doctest: +SKIP
(812, ['path', 'content_hash', 'status'])

The job
    The inputs (folders, searched recursively for audio files; files; glob patterns) are
    listed, each file's content is hashed (:func:`m2p.cache.content_digest`), files whose
    hash already has a good row for the same model and settings are skipped, and the rest are
    analysed by an *engine*: ``"local"``, a process pool sized to the cores (each worker loads
    the model once, one torch thread each), or ``"ray"``, the same steps on Ray Data
    (:mod:`m2p.library.ray`). A bad file becomes one row with ``status == "error"`` and the
    error's one line; it never stops the job.

Resumable, never half-written
    Finished rows are written every ``flush_every`` rows (or 30 s) to small parquet files in a
    hidden journal folder next to the output (``.library.parquet.parts/``), each one renamed
    into place whole (:func:`m2p._internal.outputs.atomic_output`). At the end the existing table and
    the journal are streamed, one row group at a time, into the new table, which replaces the
    old one atomically; the journal is then removed. A killed job leaves the old table and the
    journal; running it again skips what either holds. Memory stays bounded: at most
    ``flush_every`` rows are held, the local engine streams each file, and at most two files
    per worker are in flight.

The table (:func:`library_schema`, one row per distinct audio content)
    ``path`` (absolute), ``content_hash``, ``status`` (``"ok"``/``"error"``), ``error``,
    ``duration`` (s), ``palette`` (whole-piece hex codes), ``palette_lch`` (its CIELCh
    colours), ``mood`` (dominant emotion), ``valence``/``arousal`` (whole piece, [-1, 1]),
    ``times`` (window centres, s), ``valence_t``/``arousal_t`` (per window), ``track`` (the
    palette track as JSON, exact: :func:`row_track`), ``model_version``, ``settings``
    (JSON: seed, noise, window, hop).
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from m2p._internal.progress import progress_bar
from m2p._internal.text import first_line
from m2p.errors import AudioFileNotFoundError, InvalidArgumentError, M2PError
from m2p.inference import DEFAULT_BATCH_SIZE, DEFAULT_HOP, DEFAULT_WINDOW

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from m2p.palette_types import PaletteTrack

__all__ = [
    "AUDIO_SUFFIXES",
    "ENGINES",
    "BatchSummary",
    "Job",
    "batch",
    "check_library",
    "find_audio",
    "library_schema",
    "read_library",
    "row_track",
    "rows_table",
    "run_batch",
]

PathArg = Union[str, "os.PathLike[str]"]

#: Suffixes picked up when a folder is searched (files named explicitly are always tried).
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac",
                            ".aif", ".aiff", ".wma", ".mka", ".webm"})
#: The engines :func:`batch` knows.
ENGINES = ("local", "ray")
#: Rows kept in memory before they are written to the journal.
DEFAULT_FLUSH_EVERY = 16
# Finished rows are also written after this many seconds, so a slow job loses little when killed.
_FLUSH_SECONDS = 30.0
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class BatchSummary:
    """What one :func:`run_batch` call did (counts of files)."""

    output: Path
    total: int
    analysed: int
    skipped: int
    errors: int


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


def batch(
    paths: PathArg | Sequence[PathArg],
    *,
    output: PathArg | None = None,
    engine: str = "local",
    workers: int | None = None,
    seed: int = 0,
    noise: float | None = None,
    window: float = DEFAULT_WINDOW,
    hop: float = DEFAULT_HOP,
    model: PathArg | None = None,
    device: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    flush_every: int = DEFAULT_FLUSH_EVERY,
    progress: bool = False,
) -> "pa.Table":
    """Analyse a music library into one table (see the module docstring for its columns).

    Parameters
    ----------
    paths
        A folder (searched recursively for :data:`AUDIO_SUFFIXES`), an audio file, a glob
        pattern (``"~/Music/**/*.flac"``), or a list of those.
    output
        The ``.parquet`` file to create or complete (resumable); None keeps the table in
        memory only.
    engine
        ``"local"`` (a process pool on this machine) or ``"ray"`` (Ray Data; ``pip install
        "music2palette[ray]"``; joins ``$RAY_ADDRESS`` or an already initialised Ray, else
        starts a local one).
    workers
        Local worker processes, or Ray model actors; default: the CPU count.
    seed, noise, window, hop, batch_size
        As in :func:`m2p.palette_track` (window and hop in seconds).
    model
        Model directory; None for the shipped weights (``$M2P_MODEL_DIR`` first).
    device
        ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``... for the local engine; Ray
        actors ask for a GPU when the cluster has one.
    flush_every
        Rows written to the journal at a time (>= 1): a killed job loses at most this many.
    progress
        Show a progress bar over files on stderr.

    Returns
    -------
    pyarrow.Table
        The whole table (all rows of ``output``, old and new); ``.to_pandas()`` for pandas.

    Raises
    ------
    AudioFileNotFoundError
        A named file or folder does not exist.
    InvalidArgumentError
        No audio found, a bad option, or ``output`` is not a music2palette library.
    OutputError
        ``output`` cannot be written.
    """
    import tempfile

    options = dict(engine=engine, workers=workers, seed=seed, noise=noise, window=window,
                   hop=hop, model=model, device=device, batch_size=batch_size,
                   flush_every=flush_every, progress=progress)
    if output is not None:
        return read_library(run_batch(paths, output=output, **options).output)
    with tempfile.TemporaryDirectory(prefix="m2p-batch-") as tmp:
        return read_library(run_batch(paths, output=Path(tmp) / "library.parquet", **options).output)


def run_batch(
    paths: PathArg | Sequence[PathArg],
    *,
    output: PathArg,
    engine: str = "local",
    workers: int | None = None,
    seed: int = 0,
    noise: float | None = None,
    window: float = DEFAULT_WINDOW,
    hop: float = DEFAULT_HOP,
    model: PathArg | None = None,
    device: str = "auto",
    batch_size: int = DEFAULT_BATCH_SIZE,
    flush_every: int = DEFAULT_FLUSH_EVERY,
    progress: bool = False,
) -> BatchSummary:
    """:func:`batch` writing ``output`` and returning counts instead of the table (the CLI)."""
    from m2p.api import _int, check_options

    if engine not in ENGINES:
        raise InvalidArgumentError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    check_options(seed=seed, noise=noise, window=window, hop=hop)
    _int(batch_size, "batch_size", minimum=1)
    _int(flush_every, "flush_every", minimum=1)
    n_workers = _int(workers, "workers", minimum=1) if workers is not None else (os.cpu_count() or 1)
    files = find_audio(paths)
    out = _check_library_output(output, files)
    job = make_job(model=model, device=device, seed=seed, noise=noise, window=window, hop=hop,
                   batch_size=batch_size)
    journal = _Journal(out, flush_every=flush_every)
    done = journal.done_hashes(job)
    bar = _bar(len(files), progress)
    todo: list[tuple[str, str | None]] = []
    skipped = 0
    try:
        for path in files:
            digest = _digest(path)
            if digest is not None and digest in done:
                skipped += 1
                bar.update(1)
                continue
            if digest is not None:
                done.add(digest)  # the same content under a second name is analysed once
            todo.append((path, digest))
        errors = 0

        def sink(row: dict[str, Any]) -> None:
            nonlocal errors
            errors += row["status"] != "ok"
            journal.add(row)
            bar.update(1)

        try:
            if todo:
                workers_used = min(n_workers, len(todo))
                if engine == "ray":
                    from m2p.library.ray import run_ray

                    run_ray(todo, job, workers=workers_used, sink=sink)
                else:
                    run_local(todo, job, workers=workers_used, sink=sink)
        finally:
            journal.flush()  # finished rows survive an interrupt or a crash of the engine
        journal.commit()
    finally:
        bar.close()
    return BatchSummary(output=out, total=len(files), analysed=len(todo), skipped=skipped,
                        errors=errors)


def find_audio(paths: PathArg | Sequence[PathArg]) -> list[str]:
    """The audio files named by ``paths``, absolute, sorted within each argument, without
    repeats.

    Raises
    ------
    AudioFileNotFoundError
        A path (not a pattern) does not exist.
    InvalidArgumentError
        Nothing was found, or a pattern matches nothing.
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise InvalidArgumentError("no paths given")
    found: dict[str, None] = {}
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"paths must be file, folder or glob strings, got {type(item).__name__}")
        text = os.path.expanduser(os.fspath(item))
        path = Path(text)
        if path.is_dir():
            matches = sorted(str(p) for p in path.rglob("*")
                             if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        elif path.exists():
            matches = [text]
        elif _GLOB_CHARS & set(text):
            matches = sorted(p for p in glob.glob(text, recursive=True) if os.path.isfile(p))
            if not matches:
                raise InvalidArgumentError(f"the pattern {text!r} matches no file")
        else:
            raise AudioFileNotFoundError("no such file or folder", source=text)
        for match in matches:
            found.setdefault(os.path.abspath(match))
    if not found:
        raise InvalidArgumentError("no audio files found in " + ", ".join(map(os.fspath, items)))
    return list(found)


def make_job(*, model: PathArg | None, device: str, seed: int, noise: float | None,
             window: float, hop: float, batch_size: int) -> Job:
    """The :class:`Job` for these options: the model is found and loaded once here, so a
    missing or broken model stops the job before any file is read."""
    from m2p.api import load_for_inference
    from m2p.model.weights import WEIGHTS_FILE, find_model_dir

    if model is not None and not isinstance(model, (str, os.PathLike)):
        raise TypeError(f"model must be a model directory or None, got {type(model).__name__}")
    directory = find_model_dir(model)
    net, _, noise_scale = load_for_inference(directory, device, noise)
    name = str(getattr(net, "metadata", {}).get("training", {}).get("config", {}).get("name", "model"))
    return Job(model=str(directory), model_version=f"{name}@{_sha256(directory / WEIGHTS_FILE)[:12]}",
               device=str(device), seed=int(seed), noise=noise_scale, window=float(window),
               hop=float(hop), batch_size=int(batch_size))


def read_library(path: PathArg) -> "pa.Table":
    """A library table written by :func:`batch`.

    Raises
    ------
    InvalidArgumentError
        The file is missing, not parquet, or lacks the library's columns.
    """
    import pyarrow.parquet as pq

    check_library(path)
    try:
        return pq.read_table(path)
    except Exception as exc:  # noqa: BLE001 - a damaged body behind a good footer
        raise InvalidArgumentError(f"unreadable library ({first_line(exc, limit=300)})", source=path) from None


def check_library(path: PathArg) -> None:
    """Refuse a file that is not a library table, reading only its footer (schema).

    Raises
    ------
    InvalidArgumentError
        The file is missing, not parquet, or lacks the library's columns.
    """
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except FileNotFoundError:
        raise InvalidArgumentError("no such library file", source=path) from None
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for a bad file
        raise InvalidArgumentError(f"not a parquet library ({first_line(exc, limit=300)})", source=path) from None
    missing = [name for name in library_schema().names if name not in schema.names]
    if missing:
        raise InvalidArgumentError("not a music2palette library (missing columns: "
                                   + ", ".join(missing) + ")", source=path)


def row_track(row: dict[str, Any]) -> "PaletteTrack":
    """The :class:`~m2p.palette_types.PaletteTrack` of a good row (exact, from its JSON)."""
    from m2p.errors import TrackError
    from m2p.palette_types import PaletteTrack

    if row.get("status") != "ok" or not row.get("track"):
        raise TrackError(f"no palette track: {row.get('error') or 'row has no track'}",
                         source=row.get("path"))
    return PaletteTrack.from_json(row["track"])


def library_schema() -> "pa.Schema":
    """The table's columns and types (see the module docstring)."""
    import pyarrow as pa

    floats = pa.list_(pa.float64())
    return pa.schema([
        ("path", pa.string()), ("content_hash", pa.string()), ("status", pa.string()),
        ("error", pa.string()), ("duration", pa.float64()), ("palette", pa.list_(pa.string())),
        ("palette_lch", pa.list_(floats)), ("mood", pa.string()), ("valence", pa.float64()),
        ("arousal", pa.float64()), ("times", floats), ("valence_t", floats),
        ("arousal_t", floats), ("track", pa.string()), ("model_version", pa.string()),
        ("settings", pa.string()),
    ])


# ----------------------------------------------------------------------------------------------
# The work on one file (the same functions in every engine, so engines give identical rows)
# ----------------------------------------------------------------------------------------------


def decode_file(path: str) -> tuple["np.ndarray | None", str | None]:
    """Mono float32 samples at 22,050 Hz, or None and the error's one line."""
    from m2p.audio.decode import load

    try:
        return load(path), None
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the library
        return None, _error_line(path, exc)


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

    if error is None:
        try:
            net, dev, _ = load_for_inference(job.model, job.device, job.noise)
            rate = None if isinstance(audio, str) else SAMPLE_RATE
            result = run_inference(audio, model=net, device=dev, seeds=[job.seed],
                                   noise_scale=job.noise, window=job.window, hop=job.hop,
                                   batch_size=job.batch_size, sample_rate=rate)
            assert result.track is not None
            return track_row(dataclasses.replace(result.track, source=path), digest, job)
        except Exception as exc:  # noqa: BLE001 - one bad file must not stop the library
            error = _error_line(path, exc)
    return {"path": path, "content_hash": digest, "status": "error", "error": error,
            "model_version": job.model_version, "settings": job.settings}


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
    import torch

    from m2p.api import load_for_inference

    torch.set_num_threads(1)
    load_for_inference(job.model, job.device, job.noise)


def analyse_file(job: Job, path: str, digest: str | None) -> dict[str, Any]:
    """Analyse one file in this process, streaming it (the local engine's task: memory does
    not grow with the length of the file)."""
    return analyse(job, path, digest, path)


# ----------------------------------------------------------------------------------------------
# The local engine
# ----------------------------------------------------------------------------------------------


def run_local(todo: Sequence[tuple[str, str | None]], job: Job, *, workers: int,
              sink: Callable[[dict[str, Any]], None]) -> None:
    """Analyse ``(path, digest)`` pairs in a pool of ``workers`` processes, handing each row to
    ``sink`` as it finishes. At most two files per worker are in flight (bounded memory)."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn, not fork: a forked torch (OpenMP threads, a CUDA context) is unsafe.
    context = multiprocessing.get_context("spawn")
    pending = iter(todo)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=init_worker,
                             initargs=(job,)) as pool:
        running = set()
        try:
            while True:
                for path, digest in pending:
                    running.add(pool.submit(analyse_file, job, path, digest))
                    if len(running) >= 2 * workers:
                        break
                if not running:
                    return
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    sink(future.result())
        except BaseException:
            for future in running:
                future.cancel()
            raise


# ----------------------------------------------------------------------------------------------
# The journal: finished rows on disk, then one atomic table
# ----------------------------------------------------------------------------------------------


class _Journal:
    """Rows of an unfinished job, in whole parquet files next to the output (see module
    docstring), and the final merge into the output."""

    def __init__(self, output: Path, *, flush_every: int) -> None:
        self.output = output
        self.folder = output.with_name(f".{output.name}.parts")
        self.flush_every = flush_every
        self.rows: list[dict[str, Any]] = []
        self.last_flush = time.monotonic()
        self.count = 0
        self._clean_leftovers()

    def done_hashes(self, job: Job) -> set[str]:
        """Hashes with a good row for this model and settings, in the output or the journal."""
        done: set[str] = set()
        for table in self._stored(columns=["content_hash", "status", "model_version", "settings"]):
            for digest, status, version, settings in zip(*(table.column(i).to_pylist()
                                                           for i in range(4))):
                if (status == "ok" and digest and version == job.model_version
                        and settings == job.settings):
                    done.add(digest)
        return done

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.flush_every or time.monotonic() - self.last_flush > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the rows held in memory to one new journal file (renamed into place whole)."""
        import pyarrow.parquet as pq

        from m2p._internal.outputs import atomic_output

        if not self.rows:
            return
        self.folder.mkdir(exist_ok=True)
        table = rows_table(self.rows)
        name = f"part-{time.time_ns():020d}-{os.getpid()}-{self.count:06d}.parquet"
        with atomic_output(self.folder / name) as tmp:
            pq.write_table(table, tmp)
        self.count += 1
        self.rows = []
        self.last_flush = time.monotonic()

    def commit(self) -> None:
        """Stream the old table (minus the rows redone) and the journal into a new output,
        replace the output atomically, and remove the journal."""
        import pyarrow.parquet as pq

        from m2p._internal.outputs import atomic_output

        parts = self._parts()
        if not parts and self.output.exists():
            return  # nothing new: the table stays as it is
        # A hash with a new row replaces its older rows (errors retried, other settings).
        newer: set[str] = set()
        for part in parts:
            newer.update(h for h in pq.read_table(part, columns=["content_hash"])
                         .column(0).to_pylist() if h)
        schema = library_schema()
        with atomic_output(self.output) as tmp:
            with pq.ParquetWriter(tmp, schema) as writer:
                if self.output.exists():
                    for batch_ in pq.ParquetFile(self.output).iter_batches(batch_size=256):
                        table = _conform(batch_, schema)
                        keep = [h not in newer for h in table.column("content_hash").to_pylist()]
                        writer.write_table(table.filter(keep))
                for part in parts:
                    writer.write_table(_conform(pq.read_table(part), schema))
        shutil.rmtree(self.folder, ignore_errors=True)

    def _stored(self, *, columns: list[str]) -> Iterator["pa.Table"]:
        import pyarrow.parquet as pq

        if self.output.exists():
            check_library(self.output)  # refuses a file that is not a library, naming it
            yield pq.read_table(self.output, columns=columns)
        for part in self._parts():
            yield pq.read_table(part, columns=columns)

    def _parts(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(p for p in self.folder.glob("part-*.parquet"))

    def _clean_leftovers(self) -> None:
        """Temporary files a killed run left (never under a real name: they are hidden)."""
        stem, suffix = self.output.stem, self.output.suffix
        leftovers = list(self.output.parent.glob(f".{stem}.*.part{suffix}"))
        if self.folder.is_dir():
            leftovers += list(self.folder.glob(".part-*"))
        for leftover in leftovers:
            with contextlib.suppress(OSError):
                leftover.unlink()


def rows_table(rows: list[dict[str, Any]]) -> "pa.Table":
    """Rows (dicts) as a table of :func:`library_schema`."""
    import pyarrow as pa

    schema = library_schema()
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows],
                                schema=schema)


def _conform(data: Any, schema: "pa.Schema") -> "pa.Table":
    import pyarrow as pa

    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    return table.select(schema.names).cast(schema)


def _check_library_output(output: PathArg, files: Iterable[str]) -> Path:
    from m2p._internal.outputs import check_output

    if not isinstance(output, (str, os.PathLike)):
        raise TypeError(f"output must be a path, got {type(output).__name__}")
    out = check_output(os.path.abspath(os.path.expanduser(os.fspath(output))), inputs=files,
                       suffixes=[".parquet"])
    if out.exists():
        check_library(out)  # fail before any work, naming the file
    return out


def _digest(path: str) -> str | None:
    from m2p.cache import content_digest

    digest = content_digest(path)
    return None if digest is None else digest.split(":", 1)[1]


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
    return sha.hexdigest()


def _error_line(path: str, exc: BaseException) -> str:
    """The error column: the file, then what went wrong (typed errors by their reason)."""
    if isinstance(exc, M2PError):
        return f"{path}: {exc.reason}"
    return f"{path}: {type(exc).__name__}: {first_line(exc, limit=300)}"


def _bar(total: int, enabled: bool) -> Any:
    return progress_bar(total=total, unit="file", desc="library", enabled=enabled)
