"""Benchmark ``m2p batch``: tracks per minute, local engine at 1 and 2 workers, and Ray.

Run::

    .venv/bin/python benchmarks/library.py FILE... [--limit 12]
    .venv/bin/python benchmarks/library.py --list files.txt --limit 12

What is timed, one after the other on the same files (wall time of the whole job: listing,
hashing, worker start-up and model loading included, as a user sees it):

1. the obvious alternative: a plain loop of ``m2p.palette_track(path)`` in this process
   (model loaded once before the clock starts, torch's default threads);
2. ``m2p.batch(engine="local", workers=1)``;
3. ``m2p.batch(engine="local", workers=2)``;
4. ``m2p.batch(engine="ray", workers=2)`` on a fresh local Ray cluster (``ray.init``, all CPUs;
   start-up included).

The three batch runs write fresh tables; their rows are compared (they must be identical).
The load average is printed before and after: on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--list", type=Path, help="a text file with one audio path per line")
    parser.add_argument("--limit", type=int, default=12, help="use the first N files (default 12)")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args(argv)
    files = list(args.files)
    if args.list:
        files += [Path(line) for line in args.list.read_text().split("\n") if line.strip()]
    files = [str(f) for f in files[: args.limit]]
    if not files:
        parser.error("no files")

    import m2p
    from m2p.audio.decode import probe
    from m2p.library.table import read_library

    minutes = sum(probe(f).duration for f in files) / 60
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, {platform.system()} {platform.release()}")
    print(f"files: {len(files)} ({minutes:.1f} min of audio); load average before: "
          f"{os.getloadavg()[0]:.1f}\n")
    results = []

    m2p.palette(files[0])  # loads the model and warms up before the clock starts
    start = time.perf_counter()
    for f in files:
        m2p.palette_track(f)
    results.append(("loop of m2p.palette_track (1 process)", time.perf_counter() - start))

    tables = {}
    runs = [("local", 1), ("local", 2)] + ([] if args.skip_ray else [("ray", 2)])
    with tempfile.TemporaryDirectory() as tmp:
        for engine, workers in runs:
            out = Path(tmp) / f"{engine}{workers}.parquet"
            start = time.perf_counter()
            m2p.batch(files, engine=engine, workers=workers, output=out, device="cpu")
            results.append((f"m2p batch --engine {engine} --workers {workers}",
                            time.perf_counter() - start))
            tables[(engine, workers)] = {r["path"]: r for r in read_library(out).to_pylist()}

    base = results[0][1]
    print("| job | wall s | tracks / min | audio min / min | speed vs loop |")
    print("|---|---:|---:|---:|---:|")
    for label, wall in results:
        print(f"| {label} | {wall:.1f} | {len(files) / wall * 60:.1f} | {minutes / wall * 60:.1f} | "
              f"{base / wall:.2f}x |")
    first = next(iter(tables.values()))
    same = all(t == first for t in tables.values())
    print(f"\nrows identical across {', '.join(f'{e}/{w}' for e, w in tables)}: {same}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
