"""The model-selection check of ``docs/model_selection_v2.md``: validation data only.

Usage::

    python -m training.select_model --models model training/cache/candidates/model_v12 \\
        [--windows 240] [--picture docs/img/validation_palettes.png] [--out-json F]

For each model, on the **validation** split (whole packages and MIDI tunes never trained on):

1. Noise: ``Multimodality`` of the palettes of seeds 0-4 at the model's default noise, per
   window (mean matched CIEDE2000 between them), on ``--windows`` validation windows decoded
   as the library decodes (``training.evaluate.generate_palettes``); the share of the most
   common palette length over all those palettes.
2. Mood: mean absolute error of the predicted valence and arousal against the windows' labels.
3. Variety: the whole-piece palette (``m2p.palette``, seed 0, library defaults) of every
   validation recording: hue bins of 30 degrees holding >= 3 % of their chromatic colours, the
   mean matched distance between different recordings' palettes, and the share of the most
   common length.

The rule that turns these numbers into a choice is written in ``docs/model_selection_v2.md``
before the candidates finish; this script only measures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from training.dataset import (
    CACHE_DIR,
    CORPUS_DIR,
    FEATURE_DIR,
    FeatureCache,
    WindowDataset,
    evenly,
    load_corpus,
    model_window_seconds,
)

__all__ = ["validation_metrics", "main"]

SEEDS = (0, 1, 2, 3, 4)


def validation_metrics(model_dir: str, *, windows: int = 240, corpus_dir: str = str(CORPUS_DIR),
                       features_dir: str = str(FEATURE_DIR), log=print) -> dict[str, Any]:
    """The numbers of the module docstring for one model folder."""
    import m2p
    from m2p.model.weights import load_model
    from training.evaluate import generate_palettes
    from training.heldout.metrics import hue_bin_coverage, mean_pairwise_distance
    from training.metrics import multimodality

    model = load_model(model_dir).eval()
    noise = float(model.config.noise_scale)
    corpus = load_corpus(corpus_dir)
    chosen = evenly(corpus.split("val"), windows)
    cache = FeatureCache(features_dir, window_seconds=model_window_seconds(model))
    data = WindowDataset.from_cache(cache, chosen, max_colors=model.config.max_colors)

    with torch.no_grad():
        per_seed = [generate_palettes(model, data, noise_scale=noise, seed=s) for s in SEEDS]
    palettes = [p for p, _ in per_seed]
    va = per_seed[0][1]
    mm = float(np.mean([multimodality([palettes[s][i] for s in range(len(SEEDS))])
                        for i in range(len(data))]))
    lengths = Counter(len(p) for seed_palettes in palettes for p in seed_palettes)
    va_mae = float(np.abs(va - data.valence_arousal).mean())
    log(f"  {model_dir}: {len(data)} validation windows, Multimodality {mm:.2f}, VA MAE {va_mae:.3f}")

    recordings = [t for t in corpus.tracks.values() if t.split == "val" and t.kind == "game"]
    whole = {}
    for t in sorted(recordings, key=lambda t: t.track_id):
        pal = m2p.palette(CACHE_DIR / t.path, model=model)
        whole[t.track_id] = {"lch": np.asarray(pal.lch).tolist(), "hex": list(pal.hex),
                             "valence_arousal": np.asarray(pal.valence_arousal).tolist()}
    lch = [np.asarray(r["lch"]) for r in whole.values()]
    whole_lengths = Counter(len(p) for p in lch)
    return {
        "model": str(model_dir),
        "noise_scale": noise,
        "windows": len(data),
        "multimodality": mm,
        "length_share": max(lengths.values()) / sum(lengths.values()),
        "lengths": {str(k): v for k, v in sorted(lengths.items())},
        "va_mae": va_mae,
        "recordings": len(whole),
        "hue_bins": hue_bin_coverage(lch),
        "between_songs": mean_pairwise_distance(lch),
        "whole_length_share": max(whole_lengths.values()) / sum(whole_lengths.values()),
        "whole": whole,
    }


def markdown(results: Sequence[dict[str, Any]]) -> str:
    """One table row per model."""
    lines = [
        "| model | Multimodality (seeds 0-4) | most common length | VA MAE | recordings | hue bins "
        "(of 12) | between songs | whole-piece most common length |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['model']} | {r['multimodality']:.2f} | {100 * r['length_share']:.0f} % | "
            f"{r['va_mae']:.3f} | {r['recordings']} | {r['hue_bins']} | {r['between_songs']:.2f} | "
            f"{100 * r['whole_length_share']:.0f} % |"
        )
    return "\n".join(lines)


def picture(results: Sequence[dict[str, Any]], path: str, *, swatch: int = 30) -> None:
    """PNG: the validation recordings' whole-piece palettes, one column block per model."""
    from PIL import Image, ImageDraw

    from m2p.palette_types import Palette
    from m2p.exporters.render import BACKGROUND, INK, _font, palette_strip

    font = _font(13)
    keys = list(results[0]["whole"])
    name_w, pad, row_h, block_w = 250, 8, swatch + 6, 8 * swatch + 20
    img = Image.new("RGB", (name_w + block_w * len(results) + 2 * pad,
                            2 * pad + 24 + row_h * len(keys)), BACKGROUND)
    draw = ImageDraw.Draw(img)
    for j, r in enumerate(results):
        draw.text((name_w + pad + j * block_w, pad), Path(r["model"]).name, fill=INK, font=font)
    for i, key in enumerate(keys):
        y = pad + 24 + i * row_h
        draw.text((pad, y + 6), key.split("/", 1)[1], fill=INK, font=font)
        for j, r in enumerate(results):
            strip = palette_strip(Palette.from_hex(r["whole"][key]["hex"]), swatch_size=swatch,
                                  labels=False)
            img.paste(strip, (name_w + pad + j * block_w, y))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m training.select_model",
                                 description=__doc__.split("\n")[0])
    ap.add_argument("--models", nargs="+", required=True, help="model folders")
    ap.add_argument("--windows", type=int, default=240, help="validation windows for item 1-2")
    ap.add_argument("--picture", default=None, help="PNG of the recordings' palettes")
    ap.add_argument("--out-json", default=None)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = [validation_metrics(m, windows=args.windows) for m in args.models]
    print(markdown(results))
    if args.picture:
        picture(results, args.picture)
    if args.out_json:
        Path(args.out_json).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
