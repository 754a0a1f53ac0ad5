"""Re-pair an existing corpus with music-keyed candidates into a new corpus folder.

Usage::

    python -m training.corpus.repair --corpus training/cache/corpus --out training/cache/corpus_keyed

``--tempo-lightness W`` adds ``training.corpus.pairing.tempo_lightness`` (W L* per standard
deviation of the log onset rate) to the refinement: off in the shipped recipe, 8 in round 9 of
``docs/model_selection_v2.md``.

Labels, palettes and tracks are copied; every window's candidates are chosen again by
``training.corpus.pairing.pair`` with the key hues of ``training.corpus.colour_key`` (the
feature cache is keyed by window, so training reuses it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from training.corpus import colour_key, pairing


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m training.corpus.repair", description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=Path("training/cache/corpus"))
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--tempo-lightness", type=float, default=0.0, metavar="W",
                    help="L* per standard deviation of the log onset rate (default 0: off)")
    args = ap.parse_args(argv)
    t0 = time.time()
    windows = [json.loads(line) for line in open(args.corpus / "windows.jsonl", encoding="utf-8")]
    palettes = [json.loads(line) for line in open(args.corpus / "palettes.jsonl", encoding="utf-8")]
    reg = np.array([w["cues"]["register_midi"] for w in windows])
    z_reg = (reg - reg.mean()) / (reg.std() + 1e-9)
    keys = colour_key.key_hues([w["cues"] for w in windows])
    extra = pairing.tempo_lightness(windows, args.tempo_lightness) if args.tempo_lightness else None
    stats = pairing.pair(windows, palettes, z_reg, key_hues=keys, extra_lightness=extra)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in ("tracks.jsonl", "palettes.jsonl"):
        shutil.copyfile(args.corpus / name, args.out / name)
    tmp = args.out / "windows.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for w, key in zip(windows, keys):
            w["key_hue"] = round(float(key), 2)
            f.write(json.dumps(w) + "\n")
    tmp.replace(args.out / "windows.jsonl")
    summary = json.loads((args.corpus / "summary.json").read_text())
    summary["pairing"] = {**stats, "key_hues": "training.corpus.colour_key", "from": str(args.corpus),
                          "tempo_lightness": args.tempo_lightness}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))
    print(f"re-paired {len(windows)} windows in {time.time() - t0:.0f} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
