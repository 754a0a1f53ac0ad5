"""The held-out metrics: rank statistics (AUC, Spearman), Valdez & Mehrabian's palette
emotion, hue shares and coverage, palette distances, lengths and steadiness, and the two
tables over files (mood ordering, teacher agreement)."""

from __future__ import annotations

import itertools
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["CONTRASTS", "HUE_RANGES", "auc", "emotion_similarity_va", "hue_bin_coverage",
           "hue_histogram", "hue_shares", "length_histogram", "mean_pairwise_distance",
           "mood_ordering", "spearman", "steadiness", "teacher_agreement", "valdez_mehrabian"]

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
