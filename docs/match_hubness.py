"""Hubness of ``m2p match``: how often each track of a library comes first over varied footage.

    PYTHONPATH=/path/to/scikit-image python docs/match_hubness.py --library library.parquet

The queries are real pictures and clips: the colour and grey photographs that ship inside
scikit-image (``skimage.data``, no download), the repository's test photo, and the sample
videos of Debian's ``opencv-doc`` (``/usr/share/doc/opencv-doc/examples/data/*.avi``). For each
query the library is ranked twice, with the hubness correction (the default: mutual proximity,
see :mod:`m2p_plugins.video.matching`) and by raw scores, and the script prints how many
queries each track wins, the largest share (the check: at most a third), and the top-4 spread.
"""

from __future__ import annotations

import argparse
import collections
import glob
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: skimage.data pictures that ship in the wheel (no download), colour and grey.
PICTURES = ("astronaut", "chelsea", "coffee", "colorwheel", "hubble_deep_field",
            "immunohistochemistry", "retina", "rocket", "logo", "camera", "coins", "moon",
            "page", "text", "brick", "grass", "gravel", "horse", "clock", "cell")
VIDEOS = "/usr/share/doc/opencv-doc/examples/data/*.avi"


def queries(folder: Path) -> list[Path]:
    """Write the pictures as PNG files into ``folder``; return them with the videos."""
    import skimage.data
    from PIL import Image

    out = []
    for name in PICTURES:
        try:
            image = np.asarray(getattr(skimage.data, name)())
        except Exception as exc:  # noqa: BLE001 - a picture that needs a download: skip it
            print(f"skip {name}: {type(exc).__name__}", file=sys.stderr)
            continue
        if image.dtype != np.uint8:
            image = np.clip(image / max(float(image.max()), 1e-9) * 255.0, 0, 255).astype(np.uint8)
        if image.ndim == 3 and image.shape[-1] == 4:
            image = image[..., :3]
        path = folder / f"{name}.png"
        Image.fromarray(image).convert("RGB").save(path)
        out.append(path)
    out.append(ROOT / "tests" / "data" / "bowl_by_freespace.jpg")
    out.extend(Path(p) for p in sorted(glob.glob(VIDEOS)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", required=True, help="a table made by 'm2p batch'")
    args = parser.parse_args()
    import m2p

    with tempfile.TemporaryDirectory() as tmp:
        files = queries(Path(tmp))
        first = {"corrected": collections.Counter(), "raw": collections.Counter()}
        spread = {"corrected": [], "raw": []}
        for path in files:
            ranked = m2p.match(path, args.library, top=None)
            raw = sorted(ranked, key=lambda m: (-m.raw_score, m.path))
            for kind, order, value in (("corrected", ranked, "score"), ("raw", raw, "raw_score")):
                first[kind][Path(order[0].path).name] += 1
                top4 = [getattr(m, value) for m in order[:4]]
                spread[kind].append(top4[0] - top4[-1])
            print(f"{path.name:28s} corrected: {Path(ranked[0].path).name:32s} "
                  f"raw: {Path(raw[0].path).name}", flush=True)
    n = len(files)
    tracks = len(m2p.match(files[0], args.library, top=None)) if files else 0
    print(f"\n{n} queries, {tracks} tracks")
    print("| ranking | distinct first tracks | most firsts (share) | median top-1 minus top-4 |")
    print("|---|---|---|---|")
    for kind in ("raw", "corrected"):
        name, count = first[kind].most_common(1)[0]
        print(f"| {kind} | {len(first[kind])} | {name}: {count} of {n} ({count / n:.0%}) | "
              f"{np.median(spread[kind]):.3f} |")
    worst = first["corrected"].most_common(1)[0][1]
    print(f"\ncheck (at most a third of the queries): {'pass' if worst <= n / 3 else 'FAIL'}")


if __name__ == "__main__":
    main()
