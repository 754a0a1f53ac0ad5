"""The journal of a library job: finished rows on disk as they come, then one atomic table.

Finished rows are written every ``flush_every`` rows (or :data:`FLUSH_SECONDS`) to small parquet
files in a hidden folder next to the output (``.library.parquet.parts/``), each renamed into
place whole (:func:`m2p._internal.outputs.atomic_output`). At the end the existing table and the
journal are streamed, one row group at a time, into the new table, which replaces the old one
atomically; the journal is then removed. A killed job leaves the old table and the journal;
running it again skips what either holds. At most ``flush_every`` rows are held in memory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from m2p._internal.outputs import atomic_output, remove_stale_parts
from m2p._internal.warn import warn
from m2p.errors import InvalidArgumentError
from m2p.library.table import check_library, conform, library_schema, one_line, rows_table

if TYPE_CHECKING:
    import pyarrow as pa

    from m2p.library.job import Job

__all__ = ["FLUSH_SECONDS", "Journal"]

FLUSH_SECONDS = 30.0
"""Finished rows are also written after this many seconds, so a slow job loses little when
killed."""


class Journal:
    """Rows of an unfinished job, in whole parquet files next to ``output`` (see the module
    docstring), and the final merge into ``output``."""

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
        if len(self.rows) >= self.flush_every or time.monotonic() - self.last_flush > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write the rows held in memory to one new journal file (renamed into place whole)."""
        import pyarrow.parquet as pq

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
                        table = conform(batch_, schema)
                        keep = [h not in newer for h in table.column("content_hash").to_pylist()]
                        writer.write_table(table.filter(keep))
                for part in parts:
                    writer.write_table(conform(pq.read_table(part), schema))
        shutil.rmtree(self.folder, ignore_errors=True)

    def _stored(self, *, columns: list[str]) -> Iterator["pa.Table"]:
        import pyarrow.parquet as pq

        if self.output.exists():
            check_library(self.output)  # refuses a file that is not a library, naming it
            try:
                table = pq.read_table(self.output, columns=columns)
            except Exception as exc:  # noqa: BLE001 - a damaged body behind a good footer
                raise InvalidArgumentError(f"unreadable library ({one_line(exc)})",
                                           source=self.output) from None
            yield table
        for part in self._parts():
            yield pq.read_table(part, columns=columns)

    def _parts(self) -> list[Path]:
        """The journal's parts that read as library rows. A part that does not (a disk that
        filled up under an old version) is removed with a warning naming the table, never the
        part: its files are simply analysed again."""
        import pyarrow.parquet as pq

        if not self.folder.is_dir():
            return []
        good = []
        for part in sorted(self.folder.glob("part-*.parquet")):
            try:
                names = pq.read_schema(part).names
            except Exception:  # noqa: BLE001 - pyarrow raises several kinds
                names = []
            if all(name in names for name in library_schema().names):
                good.append(part)
                continue
            with contextlib.suppress(OSError):
                part.unlink()
            warn(f"{self.output}: a damaged journal entry of an interrupted run was dropped; "
                 "its files are analysed again")
        return good

    def _clean_leftovers(self) -> None:
        """Temporary files a killed run left: only names music2palette makes, of processes
        that are gone (:func:`m2p._internal.outputs.remove_stale_parts`); a user's own
        ``.library.backup.part.parquet`` next to the table stays."""
        remove_stale_parts(self.output)
        if self.folder.is_dir():
            remove_stale_parts(self.folder, any_name=True)
