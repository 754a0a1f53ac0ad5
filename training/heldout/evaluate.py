"""The held-out run: every metric of one model over the held-out files, as one JSON-ready
result (:func:`evaluate_heldout`)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from training.heldout.files import (
    _W,
    DEFAULT_CACHE,
    DEFAULT_CORPUS_PALETTES,
    DEFAULT_PKGS,
    HELDOUT_PACKAGES,
    PICTURE_SONGS,
    STEADY_EXCERPT,
    STEADY_FILE,
    STEADY_START,
    STEADY_TOTAL,
    HeldoutFile,
    find_heldout_files,
    picture_selection,
    resolve_groups,
)
from training.heldout.metrics import (
    emotion_similarity_va,
    hue_bin_coverage,
    hue_shares,
    length_histogram,
    mean_pairwise_distance,
    mood_ordering,
    steadiness,
    teacher_agreement,
    valdez_mehrabian,
)
from training.heldout.teachers import TEACHER_TAGGERS, teacher_scores

__all__ = ["ALTERNATIVES", "evaluate_heldout", "looped_excerpt"]

#: Palettes per song of the alternatives check (``m2p.palettes(n=...)``).
ALTERNATIVES = 5


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
    from m2p._internal.progress import progress_bar

    import m2p
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
