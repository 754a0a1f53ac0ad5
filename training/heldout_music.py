"""Held-out real-music evaluation: recordings from whole Debian game-music packages the model
never trained on (model v2, issue 9).

Usage::

    python -m training.heldout_music --model DIR [--out-json F] [--out-md F] [--picture PNG]
        [--pkgs ROOT] [--packages P ...] [--quick] [--quiet]

The audio comes from ``<pkgs>/<package>/`` (default ``training/cache/pkgs``, as unpacked by
``training.corpus.build``); for a package missing there, :data:`FALLBACK_ROOTS` are tried (for
Wesnoth: ``cd /tmp && apt-get download wesnoth-1.16-music && dpkg -x wesnoth-1.16-music_*.deb
/tmp/wesnoth``). Files: every ``.ogg`` of at least 3 s in the package's music folder, except
``silence.ogg``.

The mood groups (:data:`GROUPS`) were written from the file names (which name the scene: battle,
defeat, victory, sad...) before any model v2 result existed, and must not be edited after
seeing results.

Metrics (definitions also in the Markdown output, :func:`results_markdown`):

1. Mood ordering: AUC (Mann-Whitney, ties 0.5) of the whole-piece arousal for the arousal-high
   vs arousal-low files and of valence for valence-positive vs valence-negative, for the music
   emotion head (``Palette.valence_arousal``), for the palette's colour emotion
   (``m2p.colour.emotion.palette_valence_arousal``) and for Valdez & Mehrabian's (1994) published
   formulas applied to the palette (:func:`valdez_mehrabian`); per-group hue shares
   (:func:`hue_shares`).
2. Teacher agreement: Spearman between the model's whole-piece valence/arousal and vibenet's
   (mean over 10 s windows) and the zero-shot musicnn tag reading
   (``training.corpus.teachers.tag_valence_arousal``; skipped with ``--quick``).
3. Variety: hue-bin coverage (:func:`hue_bin_coverage`), mean matched distance between songs'
   palettes against emotion-matched corpus palettes of the same songs, palette lengths.
4. Alternatives: ``m2p.palettes(n=5)`` at the default noise: Multimodality and Emotion
   Similarity against the noise-free palette; determinism of a fixed seed.
5. Steadiness: a 10 s excerpt looped to 2 minutes through ``m2p.palette_track``.
6. Picture: a contact sheet of 16 songs' palettes (``--picture``).

Per-file teacher results are cached in ``training/cache/heldout/`` (vibenet and musicnn are
slow and do not depend on the evaluated model).
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "HELDOUT_PACKAGES",
    "GROUPS",
    "HeldoutFile",
    "find_heldout_files",
    "resolve_groups",
    "auc",
    "spearman",
    "valdez_mehrabian",
    "hue_histogram",
    "hue_shares",
    "hue_bin_coverage",
    "mean_pairwise_distance",
    "length_histogram",
    "steadiness",
    "picture_selection",
    "evaluate_heldout",
    "results_markdown",
    "main",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PKGS = REPO_ROOT / "training" / "cache" / "pkgs"
DEFAULT_CACHE = REPO_ROOT / "training" / "cache" / "heldout"
DEFAULT_CORPUS_CACHE = REPO_ROOT / "training" / "cache"
DEFAULT_CORPUS_PALETTES = DEFAULT_CORPUS_CACHE / "corpus" / "palettes.jsonl"

#: Held-out packages and the folder (relative to the package root) that holds their music.
HELDOUT_PACKAGES: dict[str, str] = {
    "wesnoth-1.16-music": "usr/share/games/wesnoth/1.16/data/core/music",
    "extremetuxracer-data": "usr/share/games/etr/music",
    "flare-game": "usr/share/games/flare/mods/fantasycore/music",
}

#: Other places a package may have been unpacked (``dpkg -x <deb> <root>``).
FALLBACK_ROOTS: dict[str, tuple[Path, ...]] = {
    "wesnoth-1.16-music": (Path("/tmp/wesnoth"),),
}

#: Files never evaluated (stems), per package.
SKIP_STEMS: dict[str, frozenset[str]] = {"wesnoth-1.16-music": frozenset({"silence"})}

MIN_SECONDS = 3.0

_W, _T, _F = "wesnoth-1.16-music", "extremetuxracer-data", "flare-game"

#: Mood groups, written down from the file names before any model v2 result existed.
#: group -> package -> file stems. A file may be in two groups.
GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    "arousal_high": {
        _W: ("battle", "battle-epic", "casualties_of_war", "frantic", "siege_of_laurelmor",
             "vengeful", "the_dangerous_symphony", "weight_of_revenge"),
        _T: ("race1-jt", "spunkyrace-ks", "raceintro-ks"),
        _F: ("battle_theme", "boss_theme", "unrest_theme"),
    },
    "arousal_low": {
        _W: ("sad", "love_theme", "nunc_dimittis", "journeys_end", "the_king_is_dead",
             "silvan_sanctuary", "transience", "elf-land"),
        _T: ("calmrace-ks",),
        _F: ("safe_room_theme", "town_theme", "wind_ambient", "forest_theme"),
    },
    "valence_positive": {
        _W: ("victory", "victory2", "traveling_minstrels", "love_theme", "elvish-theme",
             "return_to_wesnoth", "main_menu"),
        _T: ("wonrace1-jt",),
        _F: ("town_theme", "title_theme", "safe_room_theme"),
    },
    "valence_negative": {
        _W: ("defeat", "defeat2", "sad", "the_king_is_dead", "the_city_falls", "casualties_of_war"),
        _T: ("lostrace-ks",),
        _F: ("dungeon_theme", "boss_theme", "unrest_theme", "cave_theme"),
    },
}

#: The two contrasts of the mood-ordering metric: (quantity, positive group, negative group).
CONTRASTS: tuple[tuple[str, str, str], ...] = (
    ("arousal", "arousal_high", "arousal_low"),
    ("valence", "valence_positive", "valence_negative"),
)

#: Hue ranges (CIELCh h, degrees, [lo, hi)) of the hue-share report.
HUE_RANGES: dict[str, tuple[tuple[float, float], ...]] = {
    "blue_purple": ((200.0, 320.0),),
    "red": ((0.0, 45.0), (330.0, 360.0)),
    "yellow": ((60.0, 110.0),),
}
CHROMATIC_MIN_C = 15.0

#: The file looped for the steadiness check (first fallback: the first file of >= 40 s).
STEADY_FILE = "wesnoth-1.16-music/traveling_minstrels"
STEADY_START, STEADY_EXCERPT, STEADY_TOTAL = 30.0, 10.0, 120.0

PICTURE_SONGS = 16
ALTERNATIVES = 5
TEACHER_TAGGERS = ("MTT_vgg", "MSD_vgg")


# ------------------------------------------------------------------------------------ files


@dataclass(frozen=True)
class HeldoutFile:
    """One held-out recording."""

    package: str
    stem: str
    path: Path
    duration: float

    @property
    def key(self) -> str:
        """``<package>/<stem>``: the file's name in every table."""
        return f"{self.package}/{self.stem}"


def package_music_dir(package: str, pkgs_root: str | os.PathLike[str] = DEFAULT_PKGS,
                      fallbacks: Mapping[str, Sequence[Path]] = FALLBACK_ROOTS) -> Path | None:
    """The music folder of ``package`` under ``pkgs_root`` or a fallback root; None if absent."""
    sub = HELDOUT_PACKAGES[package]
    candidates = [Path(pkgs_root) / package / sub, *(Path(r) / sub for r in fallbacks.get(package, ()))]
    for c in candidates:
        if c.is_dir() and any(c.glob("*.ogg")):
            return c
    return None


def find_heldout_files(pkgs_root: str | os.PathLike[str] = DEFAULT_PKGS,
                       packages: Iterable[str] = tuple(HELDOUT_PACKAGES), *,
                       fallbacks: Mapping[str, Sequence[Path]] = FALLBACK_ROOTS,
                       min_seconds: float = MIN_SECONDS) -> tuple[list[HeldoutFile], list[str]]:
    """The held-out ``.ogg`` files of ``packages`` (sorted by key) and the packages not found."""
    import soundfile as sf

    files, missing = [], []
    for pkg in packages:
        if pkg not in HELDOUT_PACKAGES:
            raise ValueError(f"{pkg!r} is not a held-out package ({', '.join(HELDOUT_PACKAGES)})")
        folder = package_music_dir(pkg, pkgs_root, fallbacks)
        if folder is None:
            missing.append(pkg)
            continue
        for path in sorted(folder.glob("*.ogg")):
            if path.stem in SKIP_STEMS.get(pkg, ()):
                continue
            try:
                duration = float(sf.info(str(path)).duration)
            except Exception:  # undecodable: not evaluated
                continue
            if duration >= min_seconds:
                files.append(HeldoutFile(pkg, path.stem, path, duration))
    return sorted(files, key=lambda f: f.key), missing


def resolve_groups(keys: Iterable[str],
                   groups: Mapping[str, Mapping[str, Sequence[str]]] = GROUPS
                   ) -> tuple[dict[str, list[str]], list[str]]:
    """Map each group to the file keys present; also list the group stems not found.

    Returns
    -------
    resolved, missing
        ``{group: [package/stem, ...]}`` (only present files, in key order) and the
        ``package/stem`` names of the groups that are not among ``keys``.
    """
    present = set(keys)
    resolved: dict[str, list[str]] = {}
    missing: list[str] = []
    for g, by_pkg in groups.items():
        want = [f"{pkg}/{stem}" for pkg, stems in by_pkg.items() for stem in stems]
        resolved[g] = sorted(k for k in want if k in present)
        missing += [k for k in want if k not in present and k not in missing]
    return resolved, missing


def picture_selection(keys: Sequence[str], resolved: Mapping[str, Sequence[str]],
                      n: int = PICTURE_SONGS) -> list[str]:
    """The fixed song selection of the picture and of the alternatives check.

    The grouped files first, then the others, each part sorted by file name (stem, then
    package); the first ``n``.
    """
    grouped = {k for ks in resolved.values() for k in ks}

    def name(k: str) -> tuple[str, str]:
        pkg, stem = k.split("/", 1)
        return stem, pkg

    first = sorted((k for k in keys if k in grouped), key=name)
    rest = sorted((k for k in keys if k not in grouped), key=name)
    return (first + rest)[:n]


# ------------------------------------------------------------------------------- statistics


def auc(positive: Sequence[float], negative: Sequence[float]) -> float:
    """Mann-Whitney AUC: P(score of a positive > score of a negative), ties counting 0.5.

    NaN when either side is empty.
    """
    p = np.asarray(positive, dtype=np.float64).ravel()
    n = np.asarray(negative, dtype=np.float64).ravel()
    if p.size == 0 or n.size == 0:
        return float("nan")
    diff = p[:, None] - n[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties); NaN for fewer than 3 pairs or a
    constant input."""
    from scipy.stats import rankdata

    x = np.asarray(a, dtype=np.float64).ravel()
    y = np.asarray(b, dtype=np.float64).ravel()
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < 3:
        return float("nan")
    rx, ry = rankdata(x), rankdata(y)
    if rx.std() == 0 or ry.std() == 0:
        return float("nan")
    return float(np.corrcoef(rx, ry)[0, 1])


def valdez_mehrabian(lch: np.ndarray) -> tuple[float, float]:
    """Valdez & Mehrabian's (1994) pleasure and arousal of a palette, their published formulas.

    ``pleasure = 0.69 z(L*) + 0.22 z(C*)`` and ``arousal = -0.31 z(L*) + 0.60 z(C*)`` per
    colour, z-scored with the sRGB-gamut reference statistics of :mod:`m2p.colour.emotion`
    (``REFERENCE_L_*``, ``REFERENCE_C_*``), averaged over the palette's colours with equal
    weights. Independent of the library's colour-emotion model (no hue terms, no squashing).
    """
    from m2p.colour.emotion import REFERENCE_C_MEAN, REFERENCE_C_STD, REFERENCE_L_MEAN, REFERENCE_L_STD

    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    if lch.shape[0] == 0:
        return float("nan"), float("nan")
    zl = (lch[:, 0] - REFERENCE_L_MEAN) / REFERENCE_L_STD
    zc = (lch[:, 1] - REFERENCE_C_MEAN) / REFERENCE_C_STD
    return float((0.69 * zl + 0.22 * zc).mean()), float((-0.31 * zl + 0.60 * zc).mean())


def _chromatic_hues(lch: np.ndarray, chroma_min: float = CHROMATIC_MIN_C) -> np.ndarray:
    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    return np.mod(lch[lch[:, 1] > chroma_min, 2], 360.0)


def hue_histogram(lch: np.ndarray, bins: int = 12, chroma_min: float = CHROMATIC_MIN_C) -> np.ndarray:
    """Counts of the chromatic colours (C* > ``chroma_min``) in ``bins`` equal hue bins from 0 deg."""
    h = _chromatic_hues(lch, chroma_min)
    idx = np.minimum((h / (360.0 / bins)).astype(int), bins - 1)
    return np.bincount(idx, minlength=bins).astype(np.float64)


def hue_shares(palettes: Sequence[np.ndarray], ranges: Mapping[str, Sequence[tuple[float, float]]] = HUE_RANGES,
               chroma_min: float = CHROMATIC_MIN_C) -> dict[str, Any]:
    """Per-group mean hue shares: for each palette, the share of its chromatic colours
    (C* > ``chroma_min``) in each hue range; averaged over the palettes that have a chromatic
    colour (``n_chromatic`` of ``n``). Also the mean 12-bin hue histogram (``histogram``)."""
    shares: dict[str, list[float]] = {name: [] for name in ranges}
    hists = []
    for p in palettes:
        h = _chromatic_hues(p, chroma_min)
        if h.size == 0:
            continue
        for name, spans in ranges.items():
            inside = np.zeros(h.size, dtype=bool)
            for lo, hi in spans:
                inside |= (h >= lo) & (h < hi)
            shares[name].append(float(inside.mean()))
        hh = hue_histogram(p, 12, chroma_min)
        hists.append(hh / hh.sum())
    out: dict[str, Any] = {name: (float(np.mean(v)) if v else float("nan")) for name, v in shares.items()}
    out["n"] = len(palettes)
    out["n_chromatic"] = len(hists)
    out["histogram"] = (np.mean(hists, axis=0) if hists else np.zeros(12)).round(4).tolist()
    return out


def hue_bin_coverage(palettes: Sequence[np.ndarray], bins: int = 12, min_share: float = 0.03,
                     chroma_min: float = CHROMATIC_MIN_C) -> int:
    """How many of ``bins`` equal hue bins hold at least ``min_share`` of all the chromatic
    colours (C* > ``chroma_min``) of ``palettes`` pooled."""
    total = np.zeros(bins)
    for p in palettes:
        total += hue_histogram(p, bins, chroma_min)
    if total.sum() == 0:
        return 0
    return int((total / total.sum() >= min_share).sum())


def mean_pairwise_distance(palettes: Sequence[np.ndarray]) -> float:
    """Mean :func:`training.metrics.palette_distance` (CIEDE2000 after Hungarian matching) over
    all pairs of different palettes (e.g. of different songs)."""
    from training.metrics import palette_distance

    pairs = list(itertools.combinations(range(len(palettes)), 2))
    if not pairs:
        return float("nan")
    return float(np.mean([palette_distance(palettes[i], palettes[j]) for i, j in pairs]))


def length_histogram(palettes: Sequence[np.ndarray], lo: int = 3, hi: int = 8) -> dict[str, float]:
    """Share of palettes with each length ``lo..hi`` (and ``other``); shares sum to 1."""
    n = np.array([len(np.asarray(p).reshape(-1, 3)) for p in palettes])
    out = {str(k): float(np.mean(n == k)) if n.size else float("nan") for k in range(lo, hi + 1)}
    out["other"] = float(np.mean((n < lo) | (n > hi))) if n.size else float("nan")
    out["mean"] = float(n.mean()) if n.size else float("nan")
    return out


def steadiness(palettes: Sequence[np.ndarray], skip_edges: int = 1) -> dict[str, float]:
    """Matched CIEDE2000 between consecutive windows' palettes, ignoring ``skip_edges`` windows
    at each end: ``max``, ``mean`` and ``pairs``."""
    from training.metrics import palette_distance

    inner = list(palettes)[skip_edges: len(palettes) - skip_edges] if skip_edges else list(palettes)
    d = [palette_distance(a, b) for a, b in zip(inner[:-1], inner[1:])]
    if not d:
        return {"max": float("nan"), "mean": float("nan"), "pairs": 0}
    return {"max": float(np.max(d)), "mean": float(np.mean(d)), "pairs": len(d)}


def emotion_similarity_va(music_va: np.ndarray, lch: np.ndarray) -> float:
    """Emotion Similarity of one palette: cosine of ``va_to_emotion(music VA)`` and
    ``palette_emotion(palette)`` (``training.metrics.emotion_similarity``)."""
    import torch

    from m2p.colour.emotion import palette_emotion, va_to_emotion
    from training.metrics import emotion_similarity

    me = va_to_emotion(torch.as_tensor(np.array(music_va, dtype=np.float64))).numpy()
    pe = palette_emotion(torch.as_tensor(np.array(lch, dtype=np.float64))).numpy()
    return emotion_similarity(me, pe)


# --------------------------------------------------------------------------------- teachers


def _cache_file(cache_dir: Path, f: HeldoutFile) -> Path:
    return cache_dir / f"{f.package}__{f.stem}.json"


def _file_tag(f: HeldoutFile) -> str:
    st = f.path.stat()
    return hashlib.sha1(f"{f.key}:{st.st_size}".encode()).hexdigest()[:16]


def teacher_scores(f: HeldoutFile, cache_dir: Path, *, musicnn: bool,
                   vibenet_model: Callable[[], Any] | None,
                   taggers: Callable[[], Sequence[Any]], corpus_cache: Path | None = DEFAULT_CORPUS_CACHE
                   ) -> dict[str, Any]:
    """vibenet (and, with ``musicnn``, musicnn) scores of one file, cached as JSON in ``cache_dir``.

    ``vibenet_model`` and ``taggers`` are called (lazily) only when a score must be computed.

    Both are computed exactly as the corpus build computes its teacher signals, and read from
    the build's own caches under ``corpus_cache`` (``corpus/analysis``, ``corpus/teachers``)
    when it has already analysed the file (it analyses the held-out packages too, for their
    test split; files under 30 s are not in the corpus and are analysed here):

    * ``vibenet``: [valence, energy], mean over the 10 s windows (5 s hop) of
      ``training.corpus.cues.analyse`` (``vibenet_va`` of each window; windows below -55 dBFS
      skipped).
    * ``musicnn``: per tagger (MTT_vgg, MSD_vgg) the mean over the same windows of the tag
      probabilities of each window's central 3 s patch (``training.corpus.teachers.
      analyse_track``: every second window heard, the others interpolated), and the zero-shot
      valence and arousal of those mean tags (``tag_valence_arousal``). One patch per 10 s
      instead of every 3 s patch of ``tag_audio``: the taggers cost 0.1-0.3 s of CPU per patch.
    """
    path = _cache_file(cache_dir, f)
    tag = _file_tag(f)
    doc: dict[str, Any] = {}
    if path.exists():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            doc = {}
        if doc.get("file_tag") != tag:
            doc = {}
    changed = False
    safe = f"game__{f.package}__{f.stem}"
    if "vibenet" not in doc:
        rows, source = None, None
        done = corpus_cache / "corpus" / "analysis" / f"{safe}.json" if corpus_cache else None
        if done is not None and done.exists():
            wins = json.loads(done.read_text(encoding="utf-8"))
            rows = [w["vibenet"] for w in wins if w.get("vibenet") is not None] or None
            source = "corpus analysis cache"
        vm = vibenet_model() if rows is None and vibenet_model is not None else None
        if vm is not None:
            from training.corpus import cues

            wins = cues.analyse(cues.load_audio(f.path), vm)
            rows = [w["vibenet"] for w in wins if w.get("vibenet") is not None] or None
            source = "computed"
        if rows:
            doc["vibenet"] = np.mean(rows, axis=0).round(5).tolist()
            doc["vibenet_windows"] = len(rows)
            doc["vibenet_source"] = source
            changed = True
    if musicnn and "musicnn" not in doc:
        from training.corpus import teachers as T

        tags, source = None, None
        done = corpus_cache / "corpus" / "teachers" / f"{safe}.npz" if corpus_cache else None
        if done is not None and done.exists():
            with np.load(done) as z:
                if all(m in z.files for m in TEACHER_TAGGERS) and len(z["starts"]):
                    tags = {m: z[m].astype(np.float64) for m in TEACHER_TAGGERS}
                    source = "corpus teachers cache"
        if tags is None:
            import torch

            with torch.inference_mode():
                res = T.analyse_track(f.path, taggers())
            tags = {m: np.asarray(res[m], dtype=np.float64) for m in TEACHER_TAGGERS}
            source = "computed"
        if all(len(t) for t in tags.values()):
            means = {m: t.mean(0) for m, t in tags.items()}
            v, a = T.tag_valence_arousal({m: x[None] for m, x in means.items()})
            doc["musicnn"] = {"valence": float(v[0]), "arousal": float(a[0]), "source": source,
                              "windows": int(len(next(iter(tags.values())))),
                              "tags": {m: x.round(5).tolist() for m, x in means.items()}}
            changed = True
    if changed:
        doc["file_tag"] = tag
        doc["key"] = f.key
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc) + "\n", encoding="utf-8")
        tmp.replace(path)
    return doc


# ------------------------------------------------------------------------------- evaluation


def _corpus_palettes(path: Path) -> tuple[list[np.ndarray], np.ndarray, list[str]] | None:
    """Kept corpus palettes: LCh arrays, unit calibrated emotion vectors (N, 8), ids."""
    if not path.exists():
        return None
    lch, emo, ids = [], [], []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            if not row.get("kept") or row.get("emotion_calibrated") is None:
                continue
            lch.append(np.asarray(row["lch"], dtype=np.float64))
            emo.append(row["emotion_calibrated"])
            ids.append(str(row.get("id")))
    if not lch:
        return None
    e = np.asarray(emo, dtype=np.float64)
    e /= np.linalg.norm(e, axis=1, keepdims=True) + 1e-12
    return lch, e, ids


def looped_excerpt(path: str | os.PathLike[str], start: float = STEADY_START,
                   excerpt: float = STEADY_EXCERPT, total: float = STEADY_TOTAL) -> np.ndarray:
    """``excerpt`` seconds of ``path`` from ``start``, tiled to ``total`` seconds (22,050 Hz)."""
    from m2p.audio.decode import SAMPLE_RATE, load

    y = load(path, max_seconds=start + excerpt)
    a = int(round(start * SAMPLE_RATE))
    n = int(round(excerpt * SAMPLE_RATE))
    seg = y[a: a + n]
    if seg.size < n:
        raise ValueError(f"{path} is shorter than {start + excerpt:g} s")
    return np.tile(seg, int(math.ceil(total / excerpt)))[: int(round(total * SAMPLE_RATE))]


class _FeatureMemo:
    """Within the block, ``m2p.features.frames.extract_features`` answers a repeated batch of windows
    from memory (keyed by the samples' bytes), so the several public calls made on one file
    (``palette``, ``palettes``, ``palette(noise=0)``) compute its features once. The features
    are a pure function of the samples; results are the same as without the memo."""

    def __init__(self, max_bytes: int = 1 << 30) -> None:
        self.max_bytes, self.used, self.store = max_bytes, 0, {}

    def __enter__(self) -> "_FeatureMemo":
        import m2p.features.frames as F

        self._module, self._orig = F, F.extract_features

        def memo(waves, *args, **kwargs):
            if args or kwargs:
                return self._orig(waves, *args, **kwargs)
            arr = waves.detach().cpu().contiguous().numpy()
            key = (tuple(arr.shape), str(arr.dtype), hashlib.sha1(arr.tobytes()).hexdigest())
            hit = self.store.get(key)
            if hit is None:
                hit = self._orig(waves)
                size = hit.element_size() * hit.nelement()
                if self.used + size <= self.max_bytes:
                    self.store[key] = hit
                    self.used += size
            return hit

        F.extract_features = memo
        return self

    def __exit__(self, *exc: Any) -> None:
        self._module.extract_features = self._orig
        self.store.clear()


def _group_rows(per_file: Mapping[str, Mapping[str, Any]], resolved: Mapping[str, Sequence[str]],
                keys: Sequence[str]) -> dict[str, list[str]]:
    scope = set(keys)
    return {g: [k for k in ks if k in scope] for g, ks in resolved.items()}


def mood_ordering(per_file: Mapping[str, Mapping[str, Any]], groups: Mapping[str, Sequence[str]]
                  ) -> dict[str, dict[str, Any]]:
    """AUCs of every scorer (``music``, ``palette``, ``valdez_mehrabian``, teachers) for the two
    contrasts of :data:`CONTRASTS` over the files in ``groups``."""
    scorers = {
        "music": lambda r, q: r["music_va"][0 if q == "valence" else 1],
        "palette": lambda r, q: r["palette_va"][0 if q == "valence" else 1],
        "valdez_mehrabian": lambda r, q: r["vm_pa"][0 if q == "valence" else 1],
        "vibenet": lambda r, q: (r.get("vibenet") or [np.nan, np.nan])[0 if q == "valence" else 1],
        "musicnn": lambda r, q: (r.get("musicnn_va") or [np.nan, np.nan])[0 if q == "valence" else 1],
    }
    out: dict[str, dict[str, Any]] = {}
    for name, fn in scorers.items():
        out[name] = {}
        for q, pos, neg in CONTRASTS:
            p = [fn(per_file[k], q) for k in groups[pos]]
            n = [fn(per_file[k], q) for k in groups[neg]]
            if any(not np.isfinite(x) for x in p + n):
                out[name][q] = None
                continue
            out[name][q] = auc(p, n)
        out[name]["n"] = {q: [len(groups[pos]), len(groups[neg])] for q, pos, neg in CONTRASTS}
    return out


def teacher_agreement(per_file: Mapping[str, Mapping[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    """Spearman of the model's whole-piece valence / arousal with each teacher's, over ``keys``."""
    def col(field: str, i: int) -> list[float]:
        return [float((per_file[k].get(field) or [np.nan, np.nan])[i]) for k in keys]

    out: dict[str, Any] = {}
    pairs = [("music_va", "vibenet"), ("music_va", "musicnn_va"), ("vibenet", "musicnn_va"),
             ("palette_va", "vibenet")]
    for a, b in pairs:
        name = f"{a}~{b}"
        n = sum(1 for k in keys if per_file[k].get(a) is not None and per_file[k].get(b) is not None)
        out[name] = {"valence": spearman(col(a, 0), col(b, 0)) if n >= 3 else None,
                     "arousal": spearman(col(a, 1), col(b, 1)) if n >= 3 else None, "n": n}
    return out


def _alternatives(f: HeldoutFile, net: Any, device: str) -> tuple[dict[str, Any], list[np.ndarray]]:
    """``m2p.palettes(n=5)`` at the default noise against the noise-free palette of one file."""
    import m2p
    from training.metrics import multimodality

    alts = m2p.palettes(f.path, n=ALTERNATIVES, model=net, device=device)
    free = m2p.palette(f.path, model=net, noise=0.0, device=device)
    va = np.asarray(free.valence_arousal, dtype=np.float64)
    free_lch = np.asarray(free.lch, dtype=np.float64)
    alt_lch = [np.asarray(a.lch, dtype=np.float64) for a in alts]
    es_alts = [emotion_similarity_va(va, a) for a in alt_lch]
    row = {"key": f.key, "multimodality": multimodality(alt_lch),
           "es_alternatives": float(np.mean(es_alts)), "es_noise_free": emotion_similarity_va(va, free_lch),
           "distance_to_noise_free": float(np.mean([mean_pairwise_distance([a, free_lch]) for a in alt_lch])),
           "hex": [list(a.hex) for a in alts], "hex_noise_free": list(free.hex)}
    return row, alt_lch


def evaluate_heldout(model: Any, *, pkgs_root: str | os.PathLike[str] = DEFAULT_PKGS,
                     packages: Sequence[str] = tuple(HELDOUT_PACKAGES), quick: bool = False,
                     cache_dir: str | os.PathLike[str] = DEFAULT_CACHE,
                     corpus_palettes: str | os.PathLike[str] = DEFAULT_CORPUS_PALETTES,
                     device: str = "cpu", progress: bool = True, max_files: int | None = None,
                     alternatives_files: int = PICTURE_SONGS, steady: bool = True,
                     teachers: bool = True, steady_loop: tuple[float, float, float] = (
                         STEADY_START, STEADY_EXCERPT, STEADY_TOTAL),
                     log: Callable[[str], None] = print) -> dict[str, Any]:
    """Run every held-out metric for ``model`` (a model folder or a ``Music2Palette``).

    ``quick`` skips the musicnn taggers; ``max_files`` keeps only the first files (in
    :func:`picture_selection` order) for development; ``teachers`` False skips vibenet too.
    Returns the JSON-ready results (per-file rows under ``files``).
    """
    import torch

    import m2p
    from m2p._internal.progress import progress_bar
    from m2p.colour.emotion import palette_valence_arousal, va_to_emotion
    from m2p.model.weights import load_model

    t_start = time.monotonic()
    model_label = str(model) if isinstance(model, (str, os.PathLike)) else type(model).__name__
    net = load_model(model, device=device) if isinstance(model, (str, os.PathLike)) else model
    net.eval()
    files, missing_pkgs = find_heldout_files(pkgs_root, packages)
    if not files:
        raise SystemExit(f"no held-out audio found under {pkgs_root} (or the fallbacks)")
    keys_all = [f.key for f in files]
    resolved_all, missing_stems = resolve_groups(keys_all)
    order = picture_selection(keys_all, resolved_all, n=len(keys_all))
    if max_files is not None:
        order = order[:max_files]
    by_key = {f.key: f for f in files}
    files = [by_key[k] for k in order]
    keys = [f.key for f in files]
    groups = _group_rows({}, resolved_all, keys)
    cache = Path(cache_dir)
    timings: dict[str, float] = {}

    # -- whole-piece palettes (seed 0, default noise) and teachers
    _vib: list[Any] = []

    def vib() -> Any:
        if not _vib:
            from training.corpus.cues import load_vibenet

            _vib.append(load_vibenet())
            if _vib[0] is None:
                log("vibenet is not installed: teacher agreement with vibenet skipped")
        return _vib[0]
    _taggers: list[Any] = []

    def taggers() -> list[Any]:
        if not _taggers:
            from m2p.model.musicnn import load_musicnn

            _taggers.extend(load_musicnn(n) for n in TEACHER_TAGGERS)
        return _taggers

    per_file: dict[str, dict[str, Any]] = {}
    raw_lch: dict[str, np.ndarray] = {}
    alt_keys = picture_selection(keys, groups, n=alternatives_files)
    alt_rows: list[dict[str, Any]] = []
    first_alts: list[np.ndarray] = []
    t0 = time.monotonic()
    t_teach = t_alt = 0.0
    for f in progress_bar(files, desc="held-out files", unit="file", enabled=progress):
        with _FeatureMemo():
            p = m2p.palette(f.path, model=net, seed=0, device=device)
            if f.key in alt_keys:
                ta = time.monotonic()
                row_alt, alt_lch = _alternatives(f, net, device)
                alt_rows.append(row_alt)
                first_alts = first_alts or alt_lch
                t_alt += time.monotonic() - ta
        lch = np.array(p.lch, dtype=np.float64)
        raw_lch[f.key] = lch
        pva = palette_valence_arousal(torch.as_tensor(lch)).numpy()
        row: dict[str, Any] = {
            "package": f.package, "stem": f.stem, "duration": round(f.duration, 2),
            "groups": [g for g, ks in groups.items() if f.key in ks],
            "music_va": [float(x) for x in p.valence_arousal],
            "palette_va": [float(x) for x in pva],
            "vm_pa": list(valdez_mehrabian(lch)),
            "hex": list(p.hex), "lch": lch.round(3).tolist(),
        }
        if teachers:
            ts = time.monotonic()
            doc = teacher_scores(f, cache, musicnn=not quick, vibenet_model=vib, taggers=taggers)
            t_teach += time.monotonic() - ts
            row["vibenet"] = doc.get("vibenet")
            if doc.get("musicnn") is not None and not quick:
                row["musicnn_va"] = [doc["musicnn"]["valence"], doc["musicnn"]["arousal"]]
        per_file[f.key] = row
    timings["per_file_loop_s"] = time.monotonic() - t0
    timings["teachers_s"] = t_teach
    timings["alternatives_s"] = t_alt
    alt_rows.sort(key=lambda r: alt_keys.index(r["key"]))

    lchs = [raw_lch[k] for k in keys]

    # -- 1. mood ordering and hue shares
    scopes = {"all": keys}
    w_keys = [k for k in keys if k.startswith(_W + "/")]
    if w_keys and len(w_keys) < len(keys):
        scopes[_W] = w_keys
    ordering = {s: mood_ordering(per_file, _group_rows(per_file, groups, ks)) for s, ks in scopes.items()}
    hues = {g: hue_shares([raw_lch[k] for k in ks]) for g, ks in groups.items()}
    low_neg = sorted(set(groups["arousal_low"]) | set(groups["valence_negative"]))
    hues["arousal_low+valence_negative"] = hue_shares([raw_lch[k] for k in low_neg])
    hues["all"] = hue_shares(lchs)

    # -- 2. teacher agreement
    agreement = {s: teacher_agreement(per_file, ks) for s, ks in scopes.items()}

    # -- 3. variety
    t0 = time.monotonic()
    variety: dict[str, Any] = {
        "hue_bins_covered": hue_bin_coverage(lchs),
        "hue_histogram_all": hue_shares(lchs)["histogram"],
        "between_songs_distance": mean_pairwise_distance(lchs),
        "lengths": length_histogram(lchs),
        "songs": len(lchs),
    }
    corp = _corpus_palettes(Path(corpus_palettes))
    if corp is None:
        log(f"no corpus palettes with emotion_calibrated in {corpus_palettes}: corpus comparison skipped")
    else:
        c_lch, c_emo, c_ids = corp
        va = np.array([per_file[k]["music_va"] for k in keys])
        me = va_to_emotion(torch.as_tensor(va)).numpy()
        best = np.argmax(me @ c_emo.T, axis=1)
        matched = [c_lch[i] for i in best]
        for k, i in zip(keys, best):
            per_file[k]["corpus_match"] = c_ids[i]
        d_model, d_corp = variety["between_songs_distance"], mean_pairwise_distance(matched)
        variety.update({
            "corpus_matched_distance": d_corp,
            "distance_ratio": d_model / d_corp if d_corp > 0 else float("nan"),
            "corpus_matched_distinct": int(len(set(best.tolist()))),
            "corpus_matched_hue_bins_covered": hue_bin_coverage(matched),
            "corpus_lengths": length_histogram(c_lch),
            "corpus_palettes": len(c_lch),
            "corpus_palettes_file": str(corpus_palettes),
            "corpus_palettes_modified_utc": time.strftime(
                "%Y-%m-%dT%H:%M:%SZ", time.gmtime(Path(corpus_palettes).stat().st_mtime)),
        })
    timings["variety_s"] = time.monotonic() - t0

    # -- 4. alternatives (computed in the file loop) and determinism (outside the feature memo)
    t0 = time.monotonic()
    first = files[0]
    again = m2p.palette(first.path, model=net, seed=0, device=device)
    det_palette = bool(np.array_equal(np.asarray(again.lch, dtype=np.float64), raw_lch[first.key]))
    det_palettes = None
    if alt_rows:
        re = m2p.palettes(by_key[alt_rows[0]["key"]].path, n=ALTERNATIVES, model=net, device=device)
        det_palettes = len(re) == len(first_alts) and all(
            np.array_equal(np.asarray(a.lch, dtype=np.float64), b) for a, b in zip(re, first_alts))
    alternatives = {
        "files": len(alt_rows), "noise_scale": float(net.config.noise_scale),
        "multimodality": float(np.mean([r["multimodality"] for r in alt_rows])) if alt_rows else None,
        "distance_to_noise_free": float(np.mean([r["distance_to_noise_free"] for r in alt_rows])) if alt_rows else None,
        "es_alternatives": float(np.mean([r["es_alternatives"] for r in alt_rows])) if alt_rows else None,
        "es_noise_free": float(np.mean([r["es_noise_free"] for r in alt_rows])) if alt_rows else None,
        "rows": alt_rows,
        "deterministic_palette": det_palette, "deterministic_palettes": det_palettes,
        "deterministic_file": first.key,
    }
    if alt_rows:
        alternatives["es_delta"] = alternatives["es_alternatives"] - alternatives["es_noise_free"]
    timings["determinism_s"] = time.monotonic() - t0

    # -- 5. steadiness
    steady_res: dict[str, Any] | None = None
    if steady:
        t0 = time.monotonic()
        st, ex, tot = steady_loop
        cand = [by_key[STEADY_FILE]] if STEADY_FILE in by_key else []
        cand += [f for f in files if f.duration >= st + ex + 1]
        if cand:
            from m2p.audio.decode import SAMPLE_RATE

            sf_ = cand[0]
            y = looped_excerpt(sf_.path, st, ex, tot)
            track = m2p.palette_track(y, sample_rate=SAMPLE_RATE, model=net, seed=0, device=device)
            pals = [np.asarray(p.lch, dtype=np.float64) for p in track.palettes]
            steady_res = {"file": sf_.key, "excerpt": [st, st + ex], "seconds": tot,
                          "windows": len(pals), **steadiness(pals, 1)}
        timings["steadiness_s"] = time.monotonic() - t0

    timings["total_s"] = time.monotonic() - t_start
    return {
        "model": model_label, "evaluated_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "quick": quick, "packages": list(packages), "missing_packages": missing_pkgs,
        "missing_group_stems": missing_stems, "n_files": len(keys),
        "audio_minutes": round(sum(f.duration for f in files) / 60, 1),
        "groups": groups, "mood_ordering": ordering, "hue_shares": hues,
        "teacher_agreement": agreement, "variety": variety, "alternatives": alternatives,
        "steadiness": steady_res, "picture_songs": picture_selection(keys, groups),
        "timings": {k: round(v, 1) for k, v in timings.items()}, "files": per_file,
    }


# ---------------------------------------------------------------------------------- outputs


def _f(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    if isinstance(x, bool):
        return "yes" if x else "**no**"
    if isinstance(x, float):
        return f"{x:.{digits}f}"
    return str(x)


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_f(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


_SCORER_LABEL = {
    "music": "music emotion head (`Palette.valence_arousal`)",
    "palette": "palette colour emotion (`m2p.colour.emotion.palette_valence_arousal`)",
    "valdez_mehrabian": "Valdez & Mehrabian 1994 formulas on the palette",
    "vibenet": "teacher: vibenet (reference, not the model)",
    "musicnn": "teacher: musicnn zero-shot tags (reference, not the model)",
}


def results_markdown(res: Mapping[str, Any], heading: int = 3, note: str | None = None) -> str:
    """Markdown tables (each preceded by a one-line definition) and the group lists; ``note``
    (e.g. which held-out files an older model did train on) goes under the heading."""
    h = "#" * heading
    L: list[str] = []
    L += [f"{h} Held-out real music",
          "",
          f"Model `{res['model']}`, {res['n_files']} recordings ({res['audio_minutes']} min) from "
          f"whole Debian packages held out of training since model v2 "
          f"({', '.join(f'`{p}`' for p in res['packages'])}), "
          f"{res['evaluated_utc']}; `python -m training.heldout_music`"
          + (" (`--quick`: no musicnn)" if res.get("quick") else "") + ".", ""]
    if note or res.get("note"):
        L += [f"*Note:* {note or res.get('note')}", ""]
    if res.get("missing_packages"):
        L += [f"Packages not found: {', '.join(res['missing_packages'])}.", ""]

    L += ["**Mood ordering.** AUC (Mann-Whitney, ties 0.5) of the whole-piece score: arousal of "
          "the arousal-high vs arousal-low files, valence of the valence-positive vs "
          "valence-negative files; 0.5 = chance, 1 = perfect order. Valdez & Mehrabian: "
          "pleasure = 0.69 z(L*) + 0.22 z(C*), arousal = -0.31 z(L*) + 0.60 z(C*), z over the "
          "sRGB-gamut reference statistics of `m2p.colour.emotion`, mean over the palette.", ""]
    rows = []
    for scope, table in res["mood_ordering"].items():
        for name, r in table.items():
            n = r["n"]
            rows.append([scope, _SCORER_LABEL.get(name, name), r.get("arousal"), r.get("valence"),
                         f"{n['arousal'][0]} / {n['arousal'][1]}", f"{n['valence'][0]} / {n['valence'][1]}"])
    L += [_table(["files", "score", "AUC arousal ↑", "AUC valence ↑", "n high / low", "n pos / neg"], rows), ""]

    L += ["**Hues by mood group.** Per song, the share of its chromatic colours (C* > 15) in "
          "blue-purple (h 200-320°), red (0-45° and 330-360°) and yellow (60-110°) hues, averaged "
          "over the group's songs that have a chromatic colour (expected: sad / calm -> blue, "
          "agitated -> red, happy -> yellow; Lindborg & Friberg 2015, Palmer et al. 2013).", ""]
    hrows = [[g, r["blue_purple"], r["red"], r["yellow"], f"{r['n_chromatic']} / {r['n']}"]
             for g, r in res["hue_shares"].items()]
    L += [_table(["group", "blue-purple", "red", "yellow", "songs with chromatic colour"], hrows), ""]

    L += ["**Teacher agreement.** Spearman rank correlation over the held-out files between the "
          "model's whole-piece valence / arousal and vibenet's (valence / energy, mean over 10 s "
          "windows) or the zero-shot musicnn tag reading (`training.corpus.teachers."
          "tag_valence_arousal` of the patch-mean MTT_vgg and MSD_vgg tags); the teacher-teacher "
          "row is a reference for how far two independent listeners agree.", ""]
    arows = []
    names = {"music_va~vibenet": "model ~ vibenet", "music_va~musicnn_va": "model ~ musicnn tags",
             "vibenet~musicnn_va": "vibenet ~ musicnn tags (reference)",
             "palette_va~vibenet": "palette colour emotion ~ vibenet"}
    for scope, table in res["teacher_agreement"].items():
        for name, r in table.items():
            arows.append([scope, names.get(name, name), r["valence"], r["arousal"], r["n"]])
    L += [_table(["files", "pair", "ρ valence ↑", "ρ arousal ↑", "n"], arows), ""]

    v = res["variety"]
    L += ["**Variety.** Whole-piece palettes (seed 0) of all held-out songs: hue bins = how many "
          "of the 12 hue bins of 30° hold >= 3 % of the chromatic colours (C* > 15); between-song "
          "distance = mean CIEDE2000 after Hungarian matching over all pairs of different songs' "
          "palettes; the same for the emotion-matched corpus palette of each song (kept corpus "
          "palette with the highest cosine between its `emotion_calibrated` and "
          "`va_to_emotion` of the song's predicted valence-arousal).", ""]
    vrows = [["model", v["hue_bins_covered"], v["between_songs_distance"], v["songs"], v["lengths"]["mean"]]]
    if "corpus_matched_distance" in v:
        vrows.append(["emotion-matched corpus palettes", v["corpus_matched_hue_bins_covered"],
                      v["corpus_matched_distance"], f"{v['corpus_matched_distinct']} distinct",
                      None])
        vrows.append(["ratio model / corpus", None, v["distance_ratio"], None, None])
    L += [_table(["palettes", "hue bins ≥ 3 %", "between-song distance", "songs", "mean length"], vrows), ""]
    lens = [str(k) for k in range(3, 9)] + ["other"]
    lrows = [["model (held-out songs)", *[v["lengths"][k] for k in lens]]]
    if "corpus_lengths" in v:
        lrows.append([f"corpus (kept, {v['corpus_palettes']})", *[v["corpus_lengths"][k] for k in lens]])
    L += ["Palette length: share of palettes with each number of colours.", "",
          _table(["palettes", *lens], lrows), ""]

    a = res["alternatives"]
    L += [f"**Alternatives.** `m2p.palettes(song, n={ALTERNATIVES})` at the default noise "
          f"(σ = {a['noise_scale']:g}) on {a['files']} songs: Multimodality = mean pairwise "
          "CIEDE2000 after matching between the alternatives; ES = cosine of `va_to_emotion(music "
          "VA)` and `palette_emotion(palette)`, for the alternatives and for the noise-free "
          "palette (`noise=0`); determinism = the same seed twice gives identical palettes.", ""]
    L += [_table(["songs", "Multimodality", "distance to noise-free", "ES alternatives",
                  "ES noise-free", "ES difference", "same seed identical"],
                 [[a["files"], a["multimodality"], a.get("distance_to_noise_free"),
                   a["es_alternatives"], a["es_noise_free"], a.get("es_delta"),
                   bool(a["deterministic_palette"]) and a["deterministic_palettes"] is not False]]), ""]

    s = res.get("steadiness")
    if s:
        L += [f"**Steadiness.** `{s['file']}` from {s['excerpt'][0]:g} to {s['excerpt'][1]:g} s "
              f"looped to {s['seconds']:g} s (stationary music) through `m2p.palette_track` "
              "(10 s windows, 2.5 s hop): matched CIEDE2000 between consecutive windows' palettes, "
              "first and last window left out.", ""]
        L += [_table(["windows", "pairs", "max", "mean"], [[s["windows"], s["pairs"], s["max"], s["mean"]]]), ""]

    L += ["**Groups** (file stems, written before any v2 result):", ""]
    for g, by_pkg in GROUPS.items():
        parts = "; ".join(f"{pkg}: {', '.join(stems)}" for pkg, stems in by_pkg.items())
        L.append(f"* {g.replace('_', ' ')}: {parts}")
    if res.get("missing_group_stems"):
        L += ["", f"Group files not found: {', '.join(res['missing_group_stems'])}."]
    L.append("")
    return "\n".join(L)


def summary_lines(res: Mapping[str, Any]) -> list[str]:
    """A short stdout summary."""
    o = res["mood_ordering"]["all"]
    ag = res["teacher_agreement"]["all"]
    v, a, s = res["variety"], res["alternatives"], res.get("steadiness") or {}
    out = [
        f"held-out files: {res['n_files']} ({res['audio_minutes']} min), model {res['model']}",
        "AUC arousal / valence: " + ", ".join(
            f"{k} {_f(r.get('arousal'))}/{_f(r.get('valence'))}" for k, r in o.items()),
        "Spearman model~vibenet v/a: {} / {}; model~musicnn: {} / {}".format(
            _f(ag["music_va~vibenet"]["valence"]), _f(ag["music_va~vibenet"]["arousal"]),
            _f(ag["music_va~musicnn_va"]["valence"]), _f(ag["music_va~musicnn_va"]["arousal"])),
        f"hue bins: {v['hue_bins_covered']}; between-song distance {_f(v['between_songs_distance'])}"
        f" vs corpus {_f(v.get('corpus_matched_distance'))} (ratio {_f(v.get('distance_ratio'))})",
        f"alternatives: MM {_f(a['multimodality'])}, ES delta {_f(a.get('es_delta'))}, "
        f"deterministic {a['deterministic_palette']}/{a['deterministic_palettes']}",
        f"steadiness: max {_f(s.get('max'))}, mean {_f(s.get('mean'))}",
        f"time: {res['timings'].get('total_s')} s",
    ]
    return out


def contact_sheet(res: Mapping[str, Any], path: str | os.PathLike[str], *, swatch: int = 44) -> None:
    """PNG: one row per picture song (name, groups, predicted VA, whole-piece palette)."""
    from PIL import Image, ImageDraw

    from m2p.palette_types import Palette
    from m2p.exporters.render import BACKGROUND, INK, FAINT_INK, palette_strip

    try:
        from m2p.exporters.render import _font
        font, small = _font(15), _font(12)
    except Exception:  # pragma: no cover - PIL's default font
        from PIL import ImageFont
        font = small = ImageFont.load_default()
    keys = res["picture_songs"]
    text_w, pad, row_h = 430, 10, swatch + 12
    width = text_w + 8 * swatch + 2 * pad
    height = pad * 2 + 30 + row_h * len(keys)
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.text((pad, pad), f"Held-out songs, whole-piece palettes (seed 0) - model {res['model']}",
              fill=INK, font=font)
    short = {"arousal_high": "A+", "arousal_low": "A-", "valence_positive": "V+", "valence_negative": "V-"}
    for i, k in enumerate(keys):
        r = res["files"][k]
        y = pad + 30 + i * row_h
        pal = Palette.from_hex(r["hex"])
        img.paste(palette_strip(pal, swatch_size=swatch, labels=False), (text_w + pad, y))
        draw.text((pad, y + 4), f"{r['stem']}  ({r['package'].split('-')[0]})", fill=INK, font=font)
        grp = " ".join(short[g] for g in r["groups"]) or "-"
        va = r["music_va"]
        draw.text((pad, y + 24), f"groups {grp}   predicted v {va[0]:+.2f}  a {va[1]:+.2f}",
                  fill=FAINT_INK, font=small)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    img.save(str(path))


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(prog="python -m training.heldout_music", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model folder (as m2p.model.weights.load_model takes)")
    ap.add_argument("--md-from-json", default=None, metavar="JSON",
                    help="only re-render the Markdown (to --out-md or stdout) from an earlier --out-json")
    ap.add_argument("--note", default=None, help="a line for the Markdown under its heading")
    ap.add_argument("--pkgs", default=str(DEFAULT_PKGS), help="root of the unpacked packages")
    ap.add_argument("--packages", nargs="+", default=list(HELDOUT_PACKAGES), choices=list(HELDOUT_PACKAGES))
    ap.add_argument("--out-json", default=None)
    ap.add_argument("--out-md", default=None)
    ap.add_argument("--picture", default=None, help="PNG contact sheet of 16 songs' palettes")
    ap.add_argument("--quick", action="store_true", help="skip the (slow) musicnn taggers")
    ap.add_argument("--no-teachers", action="store_true", help="skip vibenet and musicnn")
    ap.add_argument("--max-files", type=int, default=None, help="first N files only (development)")
    ap.add_argument("--alternatives-files", type=int, default=PICTURE_SONGS)
    ap.add_argument("--cache", default=str(DEFAULT_CACHE), help="per-file teacher cache")
    ap.add_argument("--corpus-palettes", default=str(DEFAULT_CORPUS_PALETTES))
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--quiet", action="store_true", help="no progress bars or log lines")
    args = ap.parse_args(argv)
    if args.md_from_json:
        md = results_markdown(json.loads(Path(args.md_from_json).read_text(encoding="utf-8")), note=args.note)
        if args.out_md:
            Path(args.out_md).write_text(md, encoding="utf-8")
        else:
            print(md)
        return 0
    if not args.model:
        ap.error("--model is required")
    import torch

    torch.set_num_threads(max(1, args.threads))
    log = (lambda m: None) if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    res = evaluate_heldout(args.model, pkgs_root=args.pkgs, packages=args.packages, quick=args.quick,
                           cache_dir=args.cache, corpus_palettes=args.corpus_palettes,
                           device=args.device, progress=not args.quiet, max_files=args.max_files,
                           alternatives_files=args.alternatives_files, teachers=not args.no_teachers,
                           log=log)
    if args.note:
        res["note"] = args.note
    md = results_markdown(res)
    if args.out_json:
        Path(args.out_json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out_json).write_text(json.dumps(res, indent=1, default=_json_default) + "\n", encoding="utf-8")
    if args.out_md:
        Path(args.out_md).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out_md).write_text(md, encoding="utf-8")
    if args.picture:
        contact_sheet(res, args.picture)
    print("\n".join(summary_lines(res)))
    return 0


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(type(o).__name__)


if __name__ == "__main__":
    sys.exit(main())
