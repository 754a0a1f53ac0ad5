"""Hubness of ``m2p match``: how often each track of a library comes first over varied footage.

    PYTHONPATH=/path/to/scikit-image python docs/match_hubness.py --library library.parquet --set B
    PYTHONPATH=/path/to/scikit-image python docs/match_hubness.py --library library.parquet --set A

Two fixed query sets of real pictures and clips (``docs/decisions.md``, issue 24, session 30):

* **A, the check** (``docs/results.md``, "Hubness"): the colour and grey photographs that ship
  inside scikit-image (``skimage.data``, no download), the repository's test photo, and the 4
  sample videos of Debian's ``opencv-doc``;
* **B, the selection set** on which the ranking was chosen: the photographs, paintings, renders
  and illustrations of ``opencv-doc``'s examples and Matplotlib's sample data (one per stereo
  pair or sequence), and the intro clip of Debian's ``fillets-ng-data``.

For each query every candidate ranking orders the library; the script prints how many queries
each track wins, the largest share (the check: at most a third), the top-1 minus top-4 spread of
the raw scores, and a relevance guard: each track's own whole-piece palette as a still picture
should find that track first.
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: skimage.data pictures that ship in the wheel (no download), colour and grey (set A).
PICTURES = ("astronaut", "chelsea", "coffee", "colorwheel", "hubble_deep_field",
            "immunohistochemistry", "retina", "rocket", "logo", "camera", "coins", "moon",
            "page", "text", "brick", "grass", "gravel", "horse", "clock", "cell")
OPENCV = Path("/usr/share/doc/opencv-doc/examples")
#: Set A's clips.
VIDEOS = ("Megamind.avi", "Megamind_bugy.avi", "tree.avi", "vtest.avi")
#: Set B's pictures in opencv-doc's examples (the rule that picked them: docs/decisions.md).
OPENCV_B = tuple(f"data/{name}" for name in (
    "Blender_Suzanne1.jpg", "HappyFish.jpg", "aero1.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg",
    "basketball1.png", "board.jpg", "box_in_scene.png", "building.jpg", "butterfly.jpg",
    "chicky_512.png", "ela_original.jpg", "fruits.jpg", "graf1.png", "home.jpg", "left.jpg",
    "left01.jpg", "leuvenA.jpg", "licenseplate_motion.jpg", "messi5.jpg", "orange.jpg",
    "rubberwhale1.png", "smarties.png", "squirrel_cls.jpg", "starry_night.jpg", "stuff.jpg")) + (
    "alphamat/input_images/plant.jpg", "fuzzy/input.png", "dnn_superres/butterfly.png")
#: Set B's clip: the intro of fillets-ng-data, installed or unpacked from its .deb.
FILLETS = ("/usr/share/games/fillets-ng/images/menu/intro.mpg",
           "/work/cache/pkgs/fillets-ng-data/usr/share/games/fillets-ng/images/menu/intro.mpg")
#: Candidate rankings, in the order of the selection rule's last tie-break.
CANDIDATES = ("raw", "mp-typical", "mp-library", "centring", "csls")
NAMES = {"raw": "raw scores",
         "mp-typical": "mutual proximity, typical-footage reference",
         "mp-library": "mutual proximity, library-palette reference",
         "centring": "centring, typical-footage reference",
         "csls": "CSLS (k = 10), typical-footage reference"}
CSLS_K = 10


def queries_a(folder: Path) -> list[Path]:
    """Set A: scikit-image's pictures written as PNG files into ``folder``, the repository's
    photo, opencv-doc's videos."""
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
    out.extend(_present(OPENCV / "data" / name for name in VIDEOS))
    return out


def queries_b() -> list[Path]:
    """Set B: opencv-doc's and Matplotlib's pictures, fillets-ng's intro clip."""
    from matplotlib import cbook

    out = _present(OPENCV / name for name in OPENCV_B)
    out.append(Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)))
    clip = next((Path(p) for p in FILLETS if Path(p).exists()), None)
    if clip is None:
        print("skip fillets-ng intro.mpg: not installed", file=sys.stderr)
    else:
        out.append(clip)
    return out


def rankings(raw: np.ndarray, typical: np.ndarray, library: np.ndarray) -> dict[str, np.ndarray]:
    """Each candidate's ranking scores (Q, T) from the raw fits ``raw`` (Q, T) and the tracks'
    raw fits to the references ``typical`` (T, F) and ``library`` (T, T)."""
    def proximity(reference: np.ndarray) -> np.ndarray:
        mean, spread = reference.mean(1), np.maximum(reference.std(1), 1e-3)
        z = (raw - mean) / spread
        return 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))

    top = np.sort(typical, axis=1)[:, -CSLS_K:].mean(1)
    return {"raw": raw, "mp-typical": proximity(typical), "mp-library": proximity(library),
            "centring": raw - typical.mean(1), "csls": raw - top}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", required=True, help="a table made by 'm2p batch'")
    parser.add_argument("--set", choices=("A", "B"), required=True, help="query set (see above)")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per query")
    args = parser.parse_args()
    import m2p
    from m2p_plugins.video import matching

    rows = matching._usable_rows(args.library)
    weight = matching.EMOTION_WEIGHT
    names = [Path(r["path"]).stem for r in rows]
    typical = np.stack([matching.still_scores(matching.typical_footage(), r, weight) for r in rows])
    stills = matching._stills(rows)
    library = np.stack([matching.still_scores(stills, r, weight) for r in rows])
    with tempfile.TemporaryDirectory() as tmp:
        files = queries_a(Path(tmp)) if args.set == "A" else queries_b()
        raw, shipped = [], []
        for i, path in enumerate(files):
            shots = matching.footage_palettes(path)
            raw.append([matching._fit(shots, row, weight).score for row in rows])
            if i == 0:  # which candidate m2p.match ranks by
                shipped = [m.path for m in m2p.match(shots, args.library, top=None)]
            print(f"{i + 1}/{len(files)} {path.name}", file=sys.stderr, flush=True)
    raw = np.asarray(raw)
    ranked = rankings(raw, typical, library)
    # The guard: each track's whole-piece palette as a still; the right answer is the track.
    own = np.asarray([[matching._fit(_one(stills, i), row, weight).score for row in rows]
                      for i in range(len(rows))])
    guard = rankings(own, typical, library)
    n, clips = len(files), sum(p.suffix.lower() not in matching.IMAGE_SUFFIXES for p in files)
    if args.verbose:
        for q, path in enumerate(files):
            print(f"{path.name:28s} " + " ".join(
                f"{k}: {names[int(np.argmax(ranked[k][q]))]:24s}" for k in CANDIDATES))
    print(f"\nset {args.set}: {n} queries ({n - clips} pictures, {clips} clips), {len(rows)} tracks")
    print("| ranking | distinct first tracks | most firsts (share) | median raw top-1 minus "
          "top-4 | own palette found first |")
    print("|---|---|---|---|---|")
    shares = {}
    for kind in CANDIDATES:
        order = np.argsort(-ranked[kind], axis=1, kind="stable")
        first = collections.Counter(names[j] for j in order[:, 0])
        name, count = first.most_common(1)[0]
        shares[kind] = count / n
        spread = np.median(raw[np.arange(n), order[:, 0]] - raw[np.arange(n), order[:, 3]])
        found = np.mean(np.argmax(guard[kind], axis=1) == np.arange(len(rows)))
        default = " (default)" if _same(ranked[kind][0], shipped, rows) else ""
        print(f"| {NAMES[kind]}{default} | {len(first)} | {name}: {count} of {n} "
              f"({count / n:.0%}) | {spread:.3f} | {found:.0%} |")
    default = next((k for k in CANDIDATES if _same(ranked[k][0], shipped, rows)), None)
    if default is not None:
        print(f"\ncheck for m2p match's default ({NAMES[default]}): no track first for more than "
              f"a third of the queries: {'pass' if shares[default] <= 1 / 3 else 'FAIL'}")


def _present(paths) -> list[Path]:
    """The paths that exist; one line on stderr for each missing one."""
    out = []
    for path in paths:
        (out.append(path) if path.exists() else print(f"skip {path}: missing", file=sys.stderr))
    return out


def _one(footage, i):
    """Frame ``i`` of a set of stills as a still picture of its own."""
    from m2p_plugins.video.matching import Footage

    return Footage(times=footage.times[i:i + 1], lab=footage.lab[i:i + 1],
                   weights=footage.weights[i:i + 1],
                   valence_arousal=footage.valence_arousal[i:i + 1], duration=0.0)


def _same(scores: np.ndarray, shipped: list[str], rows) -> bool:
    """Whether ranking by ``scores`` (T,) gives the order ``m2p.match`` gave (ties aside)."""
    order = [rows[j]["path"] for j in np.argsort(-scores, kind="stable")]
    return order[:10] == shipped[:10]


if __name__ == "__main__":
    main()
