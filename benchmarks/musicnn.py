"""Time the torch musicnn port per minute of audio, on CPU: front end and network separately.

    python benchmarks/musicnn.py [--models MTT_musicnn MTT_vgg ...] [--threads 2 1] [--repeats 5]

One minute of audio is the bundled example (25 s) repeated to 60 s, at 16 kHz: 3,751 mel frames,
20 non-overlapping 3 s patches. Columns, in seconds per minute of audio (median of ``--repeats``
runs after one warm-up run):

* ``resample``: 22,050 -> 16,000 Hz (``resample_to_16k``, scipy, single-threaded);
* ``front end``: log-mel frames and patches (``tagger.patches``);
* ``network``: all 20 patches, in batches of ``--batch`` (default 4: on this CPU, small batches
  run faster per patch than one batch of 20, whose activations leave the caches);
* ``net/patch``: network time per patch;
* ``patches in 0.15 s``: how many 3 s patches per minute the network fits in a 0.15 s budget
  after resampling and the front end (from CPU time).

Each cell is "wall / CPU" seconds: on a CPU shared with other jobs the wall-clock time mostly
measures the contention; the process CPU time of a one-thread run is what the work costs.

Also reports the network's multiply-adds per patch (counted from the layer shapes).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from m2p.model import musicnn as M
from m2p.audio.decode import SAMPLE_RATE, load

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 0.15


def macs_per_patch(net: torch.nn.Module) -> int:
    """Multiply-adds of one (187, 96) patch through ``net`` (convolutions and dense layers)."""
    total = 0
    hooks = []

    def conv_hook(mod, _inp, out):
        nonlocal total
        k = int(np.prod(mod.kernel_size)) * mod.in_channels // mod.groups
        total += k * out.numel()

    def lin_hook(mod, _inp, out):
        nonlocal total
        total += mod.in_features * out.numel()

    blocks = [m for m in net.modules() if isinstance(m, M._ConvReluBN)]
    for mod in net.modules():
        if isinstance(mod, (torch.nn.Conv1d, torch.nn.Conv2d)):
            hooks.append(mod.register_forward_hook(conv_hook))
        elif isinstance(mod, torch.nn.Linear):
            hooks.append(mod.register_forward_hook(lin_hook))
    try:
        for b in blocks:  # plain layer order, so that every convolution goes through its hook
            b.training = True
        with torch.no_grad():
            net(torch.zeros(1, M.PATCH_FRAMES, M.N_MELS))
    finally:
        for b in blocks:
            b.training = False
        for h in hooks:
            h.remove()
    return total


def median_time(fn, repeats: int) -> tuple[float, float]:
    """Median wall-clock and median process CPU seconds of ``fn()`` after one warm-up call."""
    fn()  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(M.MODELS))
    parser.add_argument("--threads", nargs="+", type=int, default=[2, 1])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=4, help="patches per network call")
    args = parser.parse_args(argv)

    clip = load(ROOT / "examples" / "savino_caribbean_excerpt.ogg")
    minute = np.resize(clip, 60 * SAMPLE_RATE).astype(np.float32)

    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs; 20 patches per minute of audio, in "
          f"batches of {args.batch}; median of {args.repeats} runs.")
    print("Seconds per minute of audio, 'wall / CPU' (CPU = process time, all threads; with one "
          "thread it is the cost on an idle core even when other jobs share the CPU).\n")
    print("| model | threads | resample | front end | network (20 patches) | net/patch (CPU) "
          f"| patches in {BUDGET_S} s (CPU) | GMAC/patch | load avg |")
    print("|---|---|---|---|---|---|---|---|---|", flush=True)
    for threads in args.threads:
        torch.set_num_threads(threads)
        rs = median_time(lambda: M.resample_to_16k(minute), args.repeats)
        wave16 = torch.from_numpy(M.resample_to_16k(minute))
        for name in args.models:
            tagger = M.load_musicnn(name)
            fe = median_time(lambda: tagger.patches(wave16), args.repeats)
            patches = tagger.patches(wave16)

            def network() -> None:
                for start in range(0, patches.shape[0], args.batch):
                    tagger(patches[start : start + args.batch])

            with torch.inference_mode():
                net = median_time(network, args.repeats)
            per_patch = net[1] / patches.shape[0]
            fit = max(0.0, (BUDGET_S - rs[1] - fe[1]) / per_patch)
            gmac = macs_per_patch(tagger.net) / 1e9
            print(f"| {name} | {threads} | {rs[0]:.3f} / {rs[1]:.3f} | {fe[0]:.3f} / {fe[1]:.3f} | "
                  f"{net[0]:.2f} / {net[1]:.2f} | {per_patch * 1000:.1f} ms | {fit:.1f} | {gmac:.2f} "
                  f"| {os.getloadavg()[0]:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
