"""Calibrate a trained family-choosing model after training (no weights change).

Usage::

    python -m training.calibrate --model training/cache/candidates/model_v12 \\
        --out training/cache/candidates/model_v12c --timbre-weight 0.5

1. **Timbre statistics**: the mean and standard deviation of the model's tag logits over the
   training windows, so the timbre term of the family scores (``family_timbre_weight``) sees how
   a song differs from the training music, not what all game music shares.
2. **Length keys** (with ``--length-keying``): the mean and standard deviation of the music's
   projection on the model's fixed length direction over the training windows
   (``ModelConfig.length_keying``), so the keys are about standard normal.
3. **Stop temperature**: on the validation windows (seeds 0-4, the model's default noise, decoded
   as the library decodes), the temperature in :data:`TEMPERATURES` whose palette-length
   distribution is closest (total variation) to that of the windows' candidate palettes.

The timbre weight and the length keying are given, not tuned. The result is written as a new
model folder.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from typing import Any, Iterator

import numpy as np
import torch

from training.dataset import (
    CORPUS_DIR,
    FEATURE_DIR,
    FeatureCache,
    WindowDataset,
    evenly,
    load_corpus,
    model_window_seconds,
)

__all__ = ["TEMPERATURES", "tag_logit_statistics", "length_key_statistics", "length_distribution",
           "calibrate_stop", "main"]

TEMPERATURES = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 2.0, 3.0)


@torch.no_grad()
def tag_logit_statistics(model: Any, data: WindowDataset, *, batch_size: int = 64
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (T,) of the tag head's logits over ``data``'s windows."""
    stacked = torch.cat([e.tag_logits for e in _encodings(model, data, batch_size)]).double()
    return stacked.mean(0).numpy(), stacked.std(0).numpy()


@torch.no_grad()
def length_key_statistics(model: Any, data: WindowDataset, *, batch_size: int = 64
                          ) -> tuple[float, float]:
    """Mean and standard deviation of the embedding's projection on ``length_direction`` over
    ``data``'s windows (the model must have ``length_keying``)."""
    stacked = torch.cat([e.embedding @ model.heads.length_direction
                         for e in _encodings(model, data, batch_size)]).double()
    return float(stacked.mean()), float(stacked.std())


def length_distribution(lengths: Any, lo: int = 3, hi: int = 8) -> np.ndarray:
    """Shares (hi - lo + 1,) of the palette lengths lo..hi."""
    counts = Counter(int(n) for n in np.asarray(lengths).ravel())
    total = max(sum(counts.values()), 1)
    return np.array([counts.get(n, 0) / total for n in range(lo, hi + 1)])


@torch.no_grad()
def calibrate_stop(model: Any, data: WindowDataset, log=print) -> tuple[float, dict[str, float]]:
    """The stop temperature of :data:`TEMPERATURES` with the smallest total variation between
    generated and candidate lengths, and the distance of each."""
    from training.evaluate import generate_palettes
    from training.select_model import SEEDS

    truth = length_distribution(data.targets_lengths)
    distances = {}
    for temperature in TEMPERATURES:
        model.config.stop_temperature = temperature
        lengths = [len(p) for s in SEEDS for p in generate_palettes(
            model, data, noise_scale=float(model.config.noise_scale), seed=s)[0]]
        distances[str(temperature)] = float(0.5 * np.abs(length_distribution(lengths) - truth).sum())
        log(f"  stop temperature {temperature}: total variation {distances[str(temperature)]:.3f}")
    best = min(TEMPERATURES, key=lambda t: distances[str(t)])
    model.config.stop_temperature = best
    return best, distances


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    import dataclasses

    from m2p.model.network import Music2Palette
    from m2p.model.weights import load_model, save_model

    ap = argparse.ArgumentParser(prog="python -m training.calibrate", description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--timbre-weight", type=float, required=True)
    ap.add_argument("--length-keying", action="store_true",
                    help="let the music choose where in the length distribution palettes stop")
    ap.add_argument("--corpus", default=str(CORPUS_DIR),
                    help="corpus whose candidate lengths the stop temperature matches")
    ap.add_argument("--train-windows", type=int, default=3000)
    ap.add_argument("--val-windows", type=int, default=240)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    trained = load_model(args.model).eval()
    config = dataclasses.replace(trained.config, family_timbre_weight=args.timbre_weight,
                                 length_keying=bool(args.length_keying))
    model = Music2Palette(config)
    model.load_state_dict(trained.state_dict(), strict=False)  # + the new statistics buffers
    model.metadata = dict(trained.metadata)
    model.eval()

    corpus = load_corpus(args.corpus)
    cache = FeatureCache(FEATURE_DIR, window_seconds=model_window_seconds(model))
    train = WindowDataset.from_cache(cache, evenly(corpus.split("train"), args.train_windows),
                                     max_colors=config.max_colors)
    if args.timbre_weight > 0:  # the statistics buffers exist only then
        mean, std = tag_logit_statistics(model, train)
        model.heads.tag_logit_mean.copy_(torch.from_numpy(mean))
        model.heads.tag_logit_std.copy_(torch.from_numpy(std))
    if config.length_keying:
        key_mean, key_std = length_key_statistics(model, train)
        model.heads.length_key_mean.fill_(key_mean)
        model.heads.length_key_std.fill_(key_std)
    val = WindowDataset.from_cache(cache, evenly(corpus.split("val"), args.val_windows),
                                   max_colors=config.max_colors)
    temperature, distances = calibrate_stop(model, val)
    print(f"stop temperature {temperature} (total variation {distances[str(temperature)]:.3f})")
    meta = dict(model.metadata)
    previous = meta.get("calibration")
    meta["calibration"] = {
        "from": str(args.model),
        **({"previous": previous} if previous else {}),
        "family_timbre_weight": args.timbre_weight,
        "length_keying": bool(args.length_keying),
        "corpus": str(args.corpus),
        "tag_statistics_windows": len(train),
        "stop_temperature": temperature,
        "stop_temperature_total_variation": distances,
        "rule": "training.calibrate: tag statistics on training windows; stop temperature with "
                "the smallest total variation to the validation candidates' lengths",
    }
    save_model(model, args.out, extra=meta)
    return 0


def _encodings(model: Any, data: WindowDataset, batch_size: int) -> Iterator[Any]:
    """The noise-free ``MusicEncoding`` of ``data``'s windows, ``batch_size`` at a time."""
    for i in range(0, len(data), batch_size):
        b = data.batch(np.arange(i, min(i + batch_size, len(data))))
        yield model.encode(b["features"], b["frame_mask"])


if __name__ == "__main__":
    sys.exit(main())
