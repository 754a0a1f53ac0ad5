"""Latency of live palettes: from the end of a window to its palette.

Usage::

    python benchmarks/live.py SONG [--model DIR] [--block 0.1] [--threads 2]

The song is decoded first, then fed to ``m2p.PaletteStream`` in blocks of ``--block`` seconds
as fast as the stream takes them. A window's latency is the duration of the ``feed`` call that
delivers its last sample (that call encodes and decodes the window). The obvious alternative,
``m2p.palette`` on the last ``window`` seconds each time a window completes, is timed on the
same windows. Prints one table with the median, 95th percentile and maximum of each.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("song")
    ap.add_argument("--model", default=None)
    ap.add_argument("--block", type=float, default=0.1, help="seconds per fed block")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    import m2p
    from m2p.audio.decode import SAMPLE_RATE, load
    from m2p.inference.engine import resolve_model
    from m2p.inference.windows import DEFAULT_WINDOW

    model, _ = resolve_model(args.model, "cpu")
    audio = load(args.song)
    block = int(round(args.block * SAMPLE_RATE))

    stream = m2p.PaletteStream(sample_rate=SAMPLE_RATE, model=model, device="cpu")
    stream.feed(audio[:block])  # warm-up outside the measurement: first-call allocations
    stream = m2p.PaletteStream(sample_rate=SAMPLE_RATE, model=model, device="cpu")
    latencies, ends = [], []
    for start in range(0, len(audio), block):
        t0 = time.perf_counter()
        done = stream.feed(audio[start:start + block])
        elapsed = time.perf_counter() - t0
        for window in done:
            latencies.append(elapsed)
            ends.append(window.end)

    window = int(DEFAULT_WINDOW * SAMPLE_RATE)
    recompute = []
    for end in ends:
        stop = int(round(end * SAMPLE_RATE))
        piece = audio[max(0, stop - window):stop]
        t0 = time.perf_counter()
        m2p.palette(piece, sample_rate=SAMPLE_RATE, model=model, device="cpu")
        recompute.append(time.perf_counter() - t0)

    print(f"# {os.path.basename(args.song)}: {len(audio) / SAMPLE_RATE:.1f} s, "
          f"{len(latencies)} windows, blocks of {args.block:g} s; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, torch threads {torch.get_num_threads()}")
    print("| method | median ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    for name, values in (("PaletteStream.feed (window end -> palette)", latencies),
                         ("m2p.palette on the last window (recompute)", recompute)):
        v = 1000 * np.asarray(values)
        print(f"| {name} | {np.median(v):.0f} | {np.percentile(v, 95):.0f} | {v.max():.0f} |")


if __name__ == "__main__":
    main()
