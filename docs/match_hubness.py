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
    from m2p_plugins.video import matching

    rows = matching._usable_rows(args.library)
    stats = {}
    for kind in ("typical", "library"):  # the shipped reference, and the one measured worse
        matching._REFERENCE_KIND = kind
        stats[kind] = matching._reference(rows, matching.EMOTION_WEIGHT)
    matching._REFERENCE_KIND = "typical"
    kinds = ("raw", "typical", "library")
    first = {k: collections.Counter() for k in kinds}
    spread = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory() as tmp:
        files = queries(Path(tmp))
        for path in files:
            shots = matching.footage_palettes(path)
            raw = [matching._fit(shots, row, matching.EMOTION_WEIGHT) for row in rows]
            line = [f"{path.name:26s}"]
            for kind in kinds:
                ranked = raw if kind == "raw" else [matching._relative(m, stats[kind][m.path])
                                                    for m in raw]
                ranked = sorted(ranked, key=lambda m: (-m.score, m.path))
                first[kind][Path(ranked[0].path).name] += 1
                spread[kind].append(ranked[0].score - ranked[3].score)
                line.append(f"{kind}: {Path(ranked[0].path).stem:24s}")
            print(" ".join(line), flush=True)
    n = len(files)
    print(f"\n{n} queries ({n - len(glob.glob(VIDEOS))} pictures, {len(glob.glob(VIDEOS))} "
          f"clips), {len(rows)} tracks")
    print("| ranking | distinct first tracks | most firsts (share) | median top-1 minus top-4 |")
    print("|---|---|---|---|")
    names = {"raw": "raw scores", "typical": "corrected: typical-footage reference (shipped)",
             "library": "corrected: library-palette reference"}
    for kind in kinds:
        name, count = first[kind].most_common(1)[0]
        print(f"| {names[kind]} | {len(first[kind])} | {name}: {count} of {n} "
              f"({count / n:.0%}) | {np.median(spread[kind]):.3f} |")
    worst = first["typical"].most_common(1)[0][1]
    print(f"\ncheck (no track first for more than a third of the queries): "
          f"{'pass' if worst <= n / 3 else 'FAIL'}")


if __name__ == "__main__":
    main()
