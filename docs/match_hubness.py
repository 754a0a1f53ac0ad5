"""Hubness of ``m2p match``: how often each track of a library comes first over varied footage.

    python docs/match_hubness.py --library library.parquet --set B    # choose
    python docs/match_hubness.py --library library.parquet --set A    # check (needs scikit-image)

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
should find that track first. Last it names the ranking the selection rule of
``docs/decisions.md`` picks on the set: the smallest largest share among the rankings whose
guard is within :data:`GUARD_POINTS` of raw scores'; ties by more distinct first tracks, then
the order of :data:`CANDIDATES`.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

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
#: The guard: a ranking qualifies if it finds a track's own palette first at most this much less
#: often than raw scores do.
GUARD_POINTS = 0.10


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


#: Pictures in the reference of typical footage, and their dominant colours each.
REFERENCE_FRAMES, REFERENCE_COLOURS = 96, 5
#: Most windows of a track the reference reads (evenly spaced): its spread, not every window.
_REFERENCE_WINDOWS = 24


def typical_footage(frames: int = REFERENCE_FRAMES, colors: int = REFERENCE_COLOURS):
    """A fixed set of pictures' palettes as footage usually has them: each colour's L* uniform
    in [8, 92], its chroma exponential with mean 14 (most of a photograph is near-neutral),
    its hue uniform, shares from a flat Dirichlet; seeded, so every run uses the same set."""
    import torch

    from m2p.colour.convert_np import lab_to_lch, lch_to_lab
    from m2p.colour.emotion import palette_valence_arousal
    from m2p.colour.gamut import gamut_map_lch
    from m2p_plugins.video.matching import Footage

    rng = np.random.default_rng(20240)
    lch = np.stack([rng.uniform(8.0, 92.0, (frames, colors)),
                    rng.exponential(14.0, (frames, colors)),
                    rng.uniform(0.0, 360.0, (frames, colors))], axis=-1)
    lab = lch_to_lab(gamut_map_lch(lch.reshape(-1, 3))).reshape(frames, colors, 3)
    with torch.no_grad():
        va = palette_valence_arousal(torch.from_numpy(lab_to_lch(lab))).numpy()
    return Footage(times=np.zeros(frames), lab=lab, weights=rng.dirichlet(np.ones(colors), frames),
                   valence_arousal=va, duration=0.0)


def still_scores(frames, row: dict[str, Any], emotion_weight: float) -> np.ndarray:
    """(F,) the raw score of each frame of ``frames`` read as a still picture against a
    library row: the best of an even sample of its windows, as ``m2p.match`` scores a still
    (vectorised over frames)."""
    from m2p_plugins.video.matching import _WHOLE_PIECE_SHARE, _palette_fits

    track = json.loads(row["track"])
    keep = np.unique(np.linspace(0, len(track["palettes"]) - 1, _REFERENCE_WINDOWS).astype(int))
    windows = [track["palettes"][i]["lch"] for i in keep]
    fits = _palette_fits(frames, windows + [row["palette_lch"]])  # (F, W + 1)
    palette_fit = (1.0 - _WHOLE_PIECE_SHARE) * fits[:, :-1] + _WHOLE_PIECE_SHARE * fits[:, -1:]
    music = np.stack([np.asarray(row["valence_t"])[keep], np.asarray(row["arousal_t"])[keep]],
                     -1)  # (W, 2)
    gap = np.linalg.norm(frames.valence_arousal[:, None, :] - music[None], axis=-1)
    emotion = 1.0 - gap / (2.0 * math.sqrt(2.0))
    score = emotion_weight * emotion + (1.0 - emotion_weight) * palette_fit
    return score.max(axis=1)


def library_stills(rows: list[dict[str, Any]]):
    """The library's whole-piece palettes as still pictures (equal shares of their colours)."""
    import torch

    from m2p.colour.convert_np import lch_to_lab
    from m2p.colour.emotion import pad_palettes, palette_valence_arousal
    from m2p_plugins.video.matching import Footage

    lch, valid = pad_palettes([r["palette_lch"] for r in rows])
    lch = np.where(valid[..., None], lch, lch[:, :1])
    with torch.no_grad():
        va = palette_valence_arousal(torch.from_numpy(np.asarray(lch))).numpy()
    weights = valid / valid.sum(axis=1, keepdims=True)
    return Footage(times=np.zeros(len(rows)), lab=lch_to_lab(lch), weights=weights,
                   valence_arousal=va, duration=0.0)


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
    typical = np.stack([still_scores(typical_footage(), r, weight) for r in rows])
    stills = library_stills(rows)
    library = np.stack([still_scores(stills, r, weight) for r in rows])
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
    clips_word = "clip" if clips == 1 else "clips"
    print(f"\nset {args.set}: {n} queries ({n - clips} pictures, {clips} {clips_word}), "
          f"{len(rows)} tracks")
    print("| ranking | distinct first tracks | most firsts (share) | median raw top-1 minus "
          "top-4 | own palette found first |")
    print("|---|---|---|---|---|")
    shares, distinct, guards = {}, {}, {}
    for kind in CANDIDATES:
        order = np.argsort(-ranked[kind], axis=1, kind="stable")
        first = collections.Counter(names[j] for j in order[:, 0])
        name, count = first.most_common(1)[0]
        shares[kind], distinct[kind] = count / n, len(first)
        spread = np.median(raw[np.arange(n), order[:, 0]] - raw[np.arange(n), order[:, 3]])
        found = guards[kind] = np.mean(np.argmax(guard[kind], axis=1) == np.arange(len(rows)))
        default = " (default)" if _same(ranked[kind][0], shipped, rows) else ""
        print(f"| {NAMES[kind]}{default} | {len(first)} | {name}: {count} of {n} "
              f"({count / n:.0%}) | {spread:.3f} | {found:.0%} |")
    qualified = [k for k in CANDIDATES if guards[k] >= guards["raw"] - GUARD_POINTS - 1e-9]
    chosen = min(qualified, key=lambda k: (shares[k], -distinct[k], CANDIDATES.index(k)))
    print(f"\nthe selection rule picks on set {args.set}: {NAMES[chosen]}")
    default = next((k for k in CANDIDATES if _same(ranked[k][0], shipped, rows)), None)
    if default is not None:
        print(f"check for m2p match's default ({NAMES[default]}): no track first for more than "
              f"a third of the queries: {'pass' if shares[default] <= 1 / 3 else 'FAIL'}")


def _present(paths) -> list[Path]:
    """The paths that exist; one line on stderr for each missing one."""
    out = []
    for path in paths:
        if path.exists():
            out.append(path)
        else:
            print(f"skip {path}: missing", file=sys.stderr)
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
