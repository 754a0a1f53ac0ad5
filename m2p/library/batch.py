"""A whole music library in one table: every file's palette track, analysed once.

>>> import m2p
>>> table = m2p.batch("~/Music", output="library.parquet")     # doctest: +SKIP
>>> table.num_rows, table.column_names[:3]                     # doctest: +SKIP
(812, ['path', 'content_hash', 'status'])

The inputs (folders, searched recursively for audio files; files; glob patterns) are listed,
each file's content is hashed (:func:`m2p.cache.content_digest`), files whose hash already has
a good row for the same model and settings are skipped, and the rest go to an engine by name
(:mod:`m2p.library.engines`: ``"local"``, a process pool; ``"ray"``, Ray Data), which runs the
same per-file work everywhere (:mod:`m2p.library.job`). Rows are journaled as they come and the
table is replaced whole at the end (:mod:`m2p.library.journal`), so a killed job resumes; the
table's columns are in :mod:`m2p.library.table`.

One job writes a table at a time: a second job on the same table is refused with one line
while the first runs (:mod:`m2p._internal.locks`; a killed holder leaves no lock behind). Every
file gets its own row when it fails: an unreadable file, and each copy of a file whose content
fails, so four identical empty files are four error rows (the same content under a second
name is analysed once only when it succeeds). A finished job leaves its table and nothing else;
an interrupted one its table and its journal.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from m2p._internal.checks import integer
from m2p._internal.extras import require, translating
from m2p.errors import AudioFileNotFoundError, InvalidArgumentError
from m2p.inference import DEFAULT_BATCH_SIZE, DEFAULT_HOP, DEFAULT_WINDOW
from m2p.library.engines import engine as find_engine
from m2p.library.job import give_warnings, job_options, make_job
from m2p.library.journal import Journal
from m2p.library.table import check_library, read_library

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["AUDIO_SUFFIXES", "DEFAULT_FLUSH_EVERY", "BatchSummary", "batch", "find_audio",
           "run_batch"]

PathArg = Union[str, "os.PathLike[str]"]

#: Suffixes picked up when a folder is searched (files named explicitly are always tried).
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".m4a", ".aac",
                            ".aif", ".aiff", ".wma", ".mka", ".webm"})
#: Rows kept in memory before they are written to the journal.
DEFAULT_FLUSH_EVERY = 16
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True)
class BatchSummary:
    """What one :func:`run_batch` call did (counts of files)."""

    output: Path
    total: int
    analysed: int
    skipped: int
    errors: int


@translating("m2p.batch")
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
    """Analyse a music library into one table (its columns: :mod:`m2p.library.table`).

    Parameters
    ----------
    paths
        A folder (searched recursively for :data:`AUDIO_SUFFIXES`), an audio file, a glob
        pattern (``"~/Music/**/*.flac"``), or a list of those.
    output
        The ``.parquet`` file to create or complete (resumable); None keeps the table in
        memory only.
    engine
        A name of :data:`m2p.library.engines.ENGINES`: ``"local"`` (a process pool on this
        machine) or ``"ray"`` (Ray Data; ``pip install "music2palette[ray]"``; joins
        ``$RAY_ADDRESS`` or an already initialised Ray, else starts a local one).
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


def run_batch(paths: PathArg | Sequence[PathArg], *, output: PathArg, engine: str = "local",
              workers: int | None = None, flush_every: int = DEFAULT_FLUSH_EVERY,
              progress: bool = False, **inference: Any) -> BatchSummary:
    """:func:`batch` writing ``output`` and returning counts instead of the table (the CLI);
    ``inference`` are :func:`batch`'s ``seed``, ``noise``, ``window``, ``hop``, ``model``,
    ``device`` and ``batch_size`` (:func:`m2p.library.job.job_options`)."""
    from m2p._internal.locks import exclusive

    require("pyarrow", extra="library", feature="m2p.batch")
    run = find_engine(engine)
    options = job_options(**inference)
    integer(flush_every, "flush_every", minimum=1)
    n_workers = integer(workers, "workers", minimum=1) if workers is not None else (os.cpu_count() or 1)
    files = find_audio(paths)
    out = _check_library_output(output, files)
    with exclusive(out, what="another m2p batch"):  # before the model loads: refused at once
        return _run_locked(files, out, run, options, n_workers, flush_every, progress)


def _run_locked(files: list[str], out: Path, run: Any, options: dict[str, Any], n_workers: int,
                flush_every: int, progress: bool) -> BatchSummary:
    """:func:`run_batch` once the table's lock is held."""
    job = make_job(options)
    journal = Journal(out, flush_every=flush_every)
    done = journal.done_hashes(job)
    bar = _bar(len(files), progress)
    todo: list[tuple[str, str | None]] = []
    copies: dict[str, list[str]] = {}  # content hash -> the other names of a file in todo
    first: dict[str, str] = {}
    skipped = 0
    try:
        for path in files:
            digest = _digest(path)
            if digest is not None and digest in done:
                skipped += 1
                bar.update(1)
                continue
            if digest is not None and digest in first:
                copies.setdefault(digest, []).append(path)  # analysed once, as the first name
                continue
            if digest is not None:
                first[digest] = path
            todo.append((path, digest))
        errors = analysed = 0

        def sink(row: dict[str, Any]) -> None:
            nonlocal errors, analysed, skipped
            give_warnings(row)
            rows = [row]
            others = copies.pop(row.get("content_hash") or "", [])
            if row["status"] != "ok":  # each copy of a bad file is its own error row
                rows += [_copy_row(row, other) for other in others]
            else:
                skipped += len(others)  # the same music under another name: already done
                bar.update(len(others))
            for item in rows:
                errors += item["status"] != "ok"
                analysed += 1
                journal.add(item)
                bar.update(1)

        try:
            if todo:
                run(todo, job, workers=min(n_workers, len(todo)), sink=sink)
        finally:
            journal.flush()  # finished rows survive an interrupt or a crash of the engine
        journal.commit()
    finally:
        bar.close()
    return BatchSummary(output=out, total=len(files), analysed=analysed, skipped=skipped,
                        errors=errors)


def _copy_row(row: dict[str, Any], path: str) -> dict[str, Any]:
    """The error row of another file with the same content: its own path in both columns."""
    error = str(row.get("error") or "")
    if error.startswith(f"{row['path']}: "):
        error = f"{path}: {error[len(row['path']) + 2:]}"
    return {**row, "path": path, "error": error}


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
    """The content hash, or None for a file that cannot be read (it still gets its row: the
    analysis says why, e.g. "permission denied")."""
    from m2p.cache import content_digest

    try:
        digest = content_digest(path)
    except OSError:
        return None
    return None if digest is None else digest.split(":", 1)[1]


def _bar(total: int, enabled: bool) -> Any:
    from m2p._internal.progress import progress_bar

    return progress_bar(total=total, unit="file", desc="library", enabled=enabled)
