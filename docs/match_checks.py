"""The two honest checks of ``m2p match`` (issue 14), printed as Markdown for docs/results.md.

Usage::

    python docs/match_checks.py LIBRARY.parquet [--photos A.jpg B.jpg ...] [--video OUT.mp4]

1. **Recoloured pictures find their track.** Each photo is recoloured toward each library
   track X's whole-piece palette (``recolor_image``, the function behind ``m2p recolor``) and
   matched against the library; the share of cases where X ranks in the top 3 (chance: 3 / N).
   As its upper bound, a picture made of X's own whole-piece colours; and how much of the
   misses near-identical palettes in the library explain (``twins``).
2. **Direction.** Dark, desaturated versions of the photos (and a video made of them) should
   rank low-valence tracks above high-valence ones: the AUC over (low, high) pairs of tracks,
   split at the median valence (0.5 = chance, 1 = every low-valence track first); bright,
   saturated versions as the control (expected below 0.5).

Photos default to the real photographs shipped with Matplotlib (Grace Hopper) and, when
installed, scikit-learn (china, flower).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

WEIGHTS = (0.25, 0.0, 1.0)  # the default emotion weight, palette only, emotion only
# Recolour settings: the default strength, full strength, and a full transfer that also moves
# lightness all the way and does not protect skin tones (how far the recolouring is the limit).
RECOLOURS = ({"strength": 0.6}, {"strength": 1.0},
             {"strength": 1.0, "luminance": 1.0, "skin": 0.0})
# Palettes closer than this (mean nearest-colour CIEDE2000) count as twins: about one to two
# just-noticeable differences, the same palette to a viewer.
TWIN_DE = 3.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("library", type=Path)
    parser.add_argument("--photos", type=Path, nargs="*", default=None)
    parser.add_argument("--video", type=Path, default=None,
                        help="also write the dark test video here (default: a temporary file)")
    parser.add_argument("--size", type=int, default=360, help="photos are shrunk to this width")
    parser.add_argument("--checks", nargs="+", choices=("recolour", "twins", "bound", "direction"),
                        default=["recolour", "twins", "bound", "direction"],
                        help="twins: how much of check 1 near-identical palettes explain "
                             "(runs with recolour)")
    args = parser.parse_args(argv)

    from m2p.library.table import read_library

    rows = [r for r in read_library(args.library).to_pylist() if r["status"] == "ok"]
    photos = {p.name: _load(p, args.size) for p in (args.photos or _default_photos())}
    print(f"library: {args.library} ({len(rows)} tracks); photos: {', '.join(photos)}\n")
    if "recolour" in args.checks or "twins" in args.checks:
        recoloured(rows, photos, twins="twins" in args.checks)
    if "bound" in args.checks:
        swatch_bound(rows)
    if "direction" in args.checks:
        direction(rows, photos, args.video)
    return 0


def recoloured(rows: list[dict], photos: dict[str, np.ndarray], *, twins: bool = False) -> None:
    from m2p.library.table import row_track
    from m2p_plugins.video.matching import footage_palettes, match
    from m2p_plugins.video.recolor import recolor_image

    labels = [", ".join(f"{k} {v:g}" for k, v in options.items()) for options in RECOLOURS]
    ranks = {(label, w): [] for label in labels for w in WEIGHTS}
    cases = {label: [] for label in labels}  # (track index, footage, ranked paths at the default)
    for x, row in enumerate(rows):
        target = row_track(row).overall
        for image in photos.values():
            for label, options in zip(labels, RECOLOURS):
                shots = footage_palettes(recolor_image(image, target, **options))
                for weight in WEIGHTS:
                    order = [m.path for m in match(shots, rows, top=None, emotion_weight=weight)]
                    ranks[(label, weight)].append(order.index(row["path"]) + 1)
                    if weight == WEIGHTS[0]:
                        cases[label].append((x, shots, order))
    n = len(rows)
    print(f"### Check 1: a photo recoloured toward track X ranks X in the top 3 of {n} "
          f"({len(rows) * len(photos)} cases per line; chance {3 / n:.1%})\n")
    print("| recolour | emotion weight | top 3 | top 1 | median rank |")
    print("|---|---:|---:|---:|---:|")
    for (label, weight), r in ranks.items():
        r = np.asarray(r)
        print(f"| {label} | {weight:g} | {np.mean(r <= 3):.1%} | {np.mean(r == 1):.1%} | "
              f"{np.median(r):g} |")
    print()
    if twins:
        twin_diagnostics(rows, cases)


def twin_diagnostics(rows: list[dict], cases: dict[str, list]) -> None:
    """How much of check 1 the library's near-identical palettes explain.

    Two whole-piece palettes are *twins* when the matcher's palette distance between them (the
    symmetric mean nearest-colour CIEDE2000) is below TWIN_DE. Printed: how many tracks have
    three or more twins (no picture can single such a track out of the top 3), the check-1 rate
    when X's twins count as hits, and the rate on a library thinned so that no two palettes are
    twins (greedy, keeping the most isolated palettes first; the same recoloured pictures);
    and the tracks ranked first most often at the default recolour (the library's hubs).
    """
    from m2p_plugins.video.matching import match

    distance = whole_piece_distances(rows)
    twin = distance < TWIN_DE
    paths = [r["path"] for r in rows]
    keep: list[int] = []
    for i in np.argsort(-distance.min(1), kind="stable"):  # the most isolated palettes first
        if not twin[i, keep].any():
            keep.append(int(i))
    thinned = [rows[i] for i in sorted(keep)]
    counts = twin.sum(1)
    label, found = next(iter(cases.items()))  # the default recolour
    firsts = Counter(Path(order[0]).name for _, _, order in found).most_common(3)
    print(f"Twins (whole-piece palettes closer than {TWIN_DE:g} CIEDE2000): {np.sum(counts >= 3)} "
          f"of {len(rows)} tracks have 3 or more; median nearest other palette "
          f"{np.median(distance.min(1)):.1f}. Emotion weight {WEIGHTS[0]:g}. Most frequent first "
          f"places at {label}: {', '.join(f'{name} {n}' for name, n in firsts)} "
          f"(of {len(found)}).\n")
    print(f"| recolour | X or a twin in the top 3 | library without twins ({len(thinned)} tracks): "
          f"top 3 | chance |")
    print("|---|---:|---:|---:|")
    index = {p: i for i, p in enumerate(paths)}
    for label, found in cases.items():
        with_twins = [any(twin[x, index[p]] or index[p] == x for p in order[:3])
                      for x, _, order in found]
        alone = [[m.path for m in match(shots, thinned, top=None, emotion_weight=WEIGHTS[0])]
                 .index(paths[x]) < 3
                 for x, shots, _ in found if x in keep]
        print(f"| {label} | {np.mean(with_twins):.1%} | {np.mean(alone):.1%} | "
              f"{3 / len(thinned):.1%} |")
    print()


def whole_piece_distances(rows: list[dict]) -> np.ndarray:
    """(N, N) palette distance between the tracks' whole-piece palettes (inf on the diagonal)."""
    from m2p.colour.convert_np import lch_to_lab
    from m2p_plugins.video.matching import PALETTE_SCALE, Footage, _palette_fits

    palettes = [r["palette_lch"] for r in rows]
    out = np.empty((len(rows), len(rows)))
    for i, lch in enumerate(palettes):
        lab = lch_to_lab(np.asarray(lch, dtype=np.float64))[None]
        swatch = Footage(times=np.zeros(1), lab=lab, weights=np.full(lab.shape[:2], 1.0 / lab.shape[1]),
                         valence_arousal=np.zeros((1, 2)), duration=0.0)
        out[i] = (1.0 - _palette_fits(swatch, palettes)[0]) * PALETTE_SCALE
    out = (out + out.T) / 2.0
    np.fill_diagonal(out, np.inf)
    return out


def swatch_bound(rows: list[dict]) -> None:
    """What check 1 could reach at best: the picture is made of X's own whole-piece colours."""
    from m2p_plugins.video.matching import footage_palettes, match

    ranks = {w: [] for w in WEIGHTS}
    for row in rows:
        rgb = [[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in row["palette"]]
        picture = np.repeat(np.asarray(rgb, dtype=np.uint8)[None], 60, 0).repeat(40, 1)
        shots = footage_palettes(picture)
        for weight in WEIGHTS:
            order = [m.path for m in match(shots, rows, top=None, emotion_weight=weight)]
            ranks[weight].append(order.index(row["path"]) + 1)
    print(f"Upper bound: a picture made of X's own whole-piece colours ({len(rows)} cases)\n")
    print("| emotion weight | top 3 | top 1 | median rank |")
    print("|---:|---:|---:|---:|")
    for weight, r in ranks.items():
        r = np.asarray(r)
        print(f"| {weight:g} | {np.mean(r <= 3):.1%} | {np.mean(r == 1):.1%} | {np.median(r):g} |")
    print()


def direction(rows: list[dict], photos: dict[str, np.ndarray], video: Path | None) -> None:
    from m2p_plugins.video.matching import footage_palettes, match

    valence = {r["path"]: r["valence"] for r in rows}
    median = float(np.median(list(valence.values())))
    low = [p for p, v in valence.items() if v < median]
    high = [p for p, v in valence.items() if v >= median]
    print(f"### Check 2: dark, desaturated footage ranks low-valence tracks first "
          f"({len(low)} below the median valence {median:+.2f}, {len(high)} above)\n")
    print("| footage | AUC low > high | mean rank low | mean rank high | top 5 moods |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        dark_frames = {name: _dark_grey(img) for name, img in photos.items()}
        clip = _video(list(dark_frames.values()), video or Path(tmp) / "dark.mp4")
        cases = [(f"dark, grey {name}", img) for name, img in dark_frames.items()]
        cases += [(f"bright, saturated {name} (control)", _bright(img)) for name, img in photos.items()]
        cases.append((f"video: {clip.name} ({len(photos)} dark, grey photos)", clip))
        for label, footage in cases:
            shots = footage_palettes(footage)
            ranked = match(shots, rows, top=None)
            rank = {m.path: i + 1 for i, m in enumerate(ranked)}
            score = {m.path: m.score for m in ranked}
            auc = np.mean([(score[a] > score[b]) + 0.5 * (score[a] == score[b])
                           for a in low for b in high])
            moods = ", ".join(m.mood for m in ranked[:5])
            print(f"| {label} | {auc:.2f} | {np.mean([rank[p] for p in low]):.1f} | "
                  f"{np.mean([rank[p] for p in high]):.1f} | {moods} |")
    print()


def _dark_grey(image: np.ndarray) -> np.ndarray:
    dark = image.astype(np.float64) * 0.25
    grey = dark.mean(-1, keepdims=True)
    return (grey + 0.2 * (dark - grey)).astype(np.uint8)


def _bright(image: np.ndarray) -> np.ndarray:
    grey = image.astype(np.float64).mean(-1, keepdims=True)
    vivid = grey + 1.6 * (image - grey)
    return np.clip(40 + vivid * 0.9, 0, 255).astype(np.uint8)


def _video(frames: list[np.ndarray], out: Path) -> Path:
    """A slideshow of the frames (3 s each) encoded by ffmpeg as H.264."""
    from PIL import Image

    from m2p_plugins.video.media import ffmpeg_exe

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        inputs, links = [], []
        for i, frame in enumerate(frames):
            path = Path(tmp) / f"{i}.png"
            Image.fromarray(frame).resize((320, 240)).save(path)
            inputs += ["-loop", "1", "-t", "3", "-i", str(path)]
            links.append(f"[{i}:v]")
        graph = "".join(links) + f"concat=n={len(frames)}:v=1,format=yuv420p"
        subprocess.run([ffmpeg_exe(), "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex",
                        graph, "-r", "10", "-c:v", "libx264", str(out)], check=True, timeout=300)
    return out


def _load(path: Path, width: int) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as img:
        img = img.convert("RGB")
        img.thumbnail((width, width * 4))
        return np.asarray(img)


def _default_photos() -> list[Path]:
    from matplotlib import cbook

    photos = [Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]
    try:
        import sklearn

        folder = Path(sklearn.__file__).parent / "datasets" / "images"
        photos += [folder / "china.jpg", folder / "flower.jpg"]
    except ImportError:
        pass
    return [p for p in photos if p.is_file()]


if __name__ == "__main__":
    raise SystemExit(main())
