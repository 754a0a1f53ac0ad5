"""Evaluate a trained model on a corpus split against the baselines; write the results.

Usage::

    python -m training.evaluate --model model --split test [--noise-draws 5] [--no-write]

Rows of the table (all on the same windows of the split):

* **Music2Palette (ours)** with the model's default noise (first seeded draw) and with noise
  off (deterministic).
* **(A) emotion-matched retrieval**: the corpus's automatic matching alone, i.e. the top-1
  corpus palette (``palette_ids[0]``) retrieved for the window's emotion label.
* **(B) single dominant colour per piece** (as the issue defines it): one colour for every
  window of a track, from the track's mean valence and arousal labels (rule below).
* **(B-w) single dominant colour per window**: a stricter variant of (B), one colour per window
  from that window's own labels; the model has to beat it too.
* **(C) random corpus palettes** (seeded).
* **Ground-truth pairs**: the refined target palette of each window (what the model is trained
  to produce).

Metrics (``training.metrics``): Diversity per palette; Multimodality over ``--noise-draws``
palettes per input (first ``--mm-windows`` windows); Convex Hull Overlap and Bhattacharyya
Coefficient of each method's colours against the ground-truth colours of the split; Emotion
Similarity and Jensen-Shannon divergence between the window's music-emotion label and the
palette emotion (``m2p.colour.emotion.palette_emotion``).

Directional check: on rendered MIDI variants that differ only in tempo (or only in mode), the
per-track mean of the generated palettes must move as the music-colour literature predicts
(faster / major: lighter, more saturated, yellower; Palmer et al. 2013, PNAS 110(22)); effect
sizes are paired Cohen's d_z. It runs twice: on the variants in the evaluated split, and on
``--heldout-tunes`` fresh tunes per music21 source that are not in the corpus at all
(``training.corpus.heldout``), which gives far more pairs than the test split's few tunes.

Writes ``docs/results.md``, ``<model>/evaluation.json`` and the evaluation section of
``<model>/MODEL_CARD.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import torch

from m2p.colour import emotion as colour_emotion
from m2p.colour.emotion import palette_emotion, palette_valence_arousal, va_to_emotion
from m2p.errors import InvalidArgumentError, M2PError
from m2p.model.decoding import alternative_numbers
from m2p._internal.outputs import atomic_outputs
from m2p.model.weights import load_model
from training import metrics as M
from training.corpus.heldout import heldout_corpus
from training.dataset import (
    CORPUS_DIR,
    FEATURE_DIR,
    Corpus,
    FeatureCache,
    Window,
    WindowDataset,
    cap_per_track,
    load_corpus,
    model_training_config,
    model_window_seconds,
)
from training.report import EVAL_END, EVAL_START, markdown_table

__all__ = [
    "evaluate",
    "EvalSplit",
    "load_split",
    "generate_palettes",
    "baselines",
    "dominant_colour",
    "results_table",
    "method_metrics",
    "beats_baselines",
    "directional_check",
    "track_means",
    "directional_effects",
    "results_markdown",
    "write_report",
    "main",
]

#: Name of the ground-truth row of the results table.
TRUTH = "Ground-truth pairs (refined targets)"

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The command, as argparse and the error lines name it.
PROG = "python -m training.evaluate"

#: Hue angles (degrees, CIELCh) used by the single-colour baseline.
_YELLOW, _BLUE, _RED = 85.0, 255.0, 35.0

#: Quantities of :func:`track_means`, in order.
TRACK_QUANTITIES = ("L", "C", "b", "palette_valence", "palette_arousal", "music_valence",
                    "music_arousal")

#: Predicted sign of (faster - slower) and (major - minor) per quantity (Palmer et al. 2013).
EXPECTED_DIRECTION = {
    "tempo": {"L": 1, "C": 1, "b": 1, "palette_arousal": 1, "music_arousal": 1},
    "mode": {"L": 1, "C": 1, "b": 1, "palette_valence": 1, "music_valence": 1},
}


def evaluate(model_dir: str | os.PathLike[str], *, split: str = "test",
             corpus_dir: str | os.PathLike[str] = CORPUS_DIR, noise_draws: int = 5,
             mm_windows: int = 200, seed: int = 0, device: str = "cpu",
             features_dir: str | os.PathLike[str] = FEATURE_DIR, heldout_tunes: int = 10,
             log: Any = print) -> dict[str, Any]:
    """Compute the results table and the directional checks (see the module docstring).

    Steps: load the model, load the split, generate our palettes, the baselines' palettes,
    every method's metrics, the directional checks. ``heldout_tunes`` music21 tunes per source
    outside the corpus are rendered for a second directional check
    (``training.corpus.heldout``); 0 skips it. :func:`write_report` writes the results.
    """
    model = load_model(model_dir, device=device)
    model.eval()
    ev = load_split(model, split=split, corpus_dir=corpus_dir, features_dir=features_dir, log=log)
    t0 = time.monotonic()
    ours = [generate_palettes(model, ev.data, noise_scale=model.config.noise_scale, seed=seed + k,
                              device=device) for k in range(max(noise_draws, 1))]
    ours_det, _ = generate_palettes(model, ev.data, noise_scale=0.0, seed=seed, device=device)
    log(f"generated {len(ev.windows)} x {noise_draws + 1} palettes in {time.monotonic() - t0:.0f} s")
    music_va = ours[0][1]
    base = baselines(ev.corpus, ev.windows, music_va, draws=max(noise_draws, 2), seed=seed)
    methods = _table_methods(model.config.noise_scale, [p for p, _ in ours], ours_det, base,
                             truth=[np.asarray(w.target_lch, dtype=np.float64) for w in ev.windows])
    n_mm = min(mm_windows, len(ev.windows))
    rows = results_table(methods, ev.data.emotion.astype(np.float64), n_mm=n_mm,
                         calibration=Calibration(ev.corpus))
    direction = directional_check(model, ev.corpus, ev.cache, split=split, device=device)
    direction_heldout = None
    if heldout_tunes > 0:
        held = heldout_corpus(Path(corpus_dir).parent, ev.corpus, tunes_per_source=heldout_tunes, log=log)
        direction_heldout = directional_check(model, held, ev.cache, split="heldout", device=device)
    ours_row = rows[next(iter(rows))]
    return {
        "model": str(model_dir), "split": split, "corpus": _display_path(corpus_dir),
        "windows": len(ev.windows),
        "tracks": len({w.track_id for w in ev.windows}), "noise_scale": float(model.config.noise_scale),
        "max_windows_per_track": ev.max_windows_per_track,
        "noise_draws": noise_draws, "mm_windows": n_mm, "seed": seed,
        "table": rows, "music_va_mae": float(np.abs(music_va - ev.data.valence_arousal).mean()),
        "beats_baselines": beats_baselines(rows),
        "multimodality_positive": bool((ours_row["multimodality"] or 0) > 0),
        "directional": direction,
        "directional_heldout": direction_heldout,
        "evaluated_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


@dataclass(frozen=True)
class EvalSplit:
    """The evaluated windows: their corpus, the feature cache and the batched features."""

    corpus: Corpus
    windows: list[Window]
    cache: FeatureCache
    data: WindowDataset
    #: The per-track cap the model was trained with (None: all windows).
    max_windows_per_track: int | None


def load_split(model: Any, *, split: str, corpus_dir: str | os.PathLike[str],
               features_dir: str | os.PathLike[str], log: Any = print) -> EvalSplit:
    """The windows of ``split``, capped per track as the model was trained, with their
    features (computed into the cache when missing) over the model's window length.

    Raises
    ------
    InvalidArgumentError
        The split has no windows in the corpus.
    """
    corpus = load_corpus(corpus_dir)
    per_track = model_training_config(model).get("max_windows_per_track")
    windows = cap_per_track(corpus.split(split), per_track)
    if not windows:
        raise InvalidArgumentError(f"split {split!r} has no windows", source=corpus.root)
    cache = FeatureCache(features_dir, window_seconds=model_window_seconds(model))
    cache.ensure(corpus, windows, log=log)
    data = WindowDataset.from_cache(cache, windows, max_colors=model.config.max_colors)
    return EvalSplit(corpus, windows, cache, data, per_track)


@torch.no_grad()
def generate_palettes(model: Any, data: WindowDataset, *, noise_scale: float, seed: int,
                      batch_size: int = 64, device: str | torch.device = "cpu"
                      ) -> tuple[list[np.ndarray], np.ndarray]:
    """Generate one palette per window, as the library does for a track with ``seed``: every
    window decoded with the same noise vector (``Music2Palette.noise_for``), plus, for a
    family-choosing model, the centre its music chooses (``Music2Palette.music_offsets``).

    Returns
    -------
    palettes, music_va
        List of (n_i, 3) LCh arrays and the network's predicted music valence-arousal (N, 2).
    """
    palettes: list[np.ndarray] = []
    vas = []
    noise = model.noise_for([int(seed)], float(noise_scale)).to(device)
    quantile = model.stop_quantiles([int(seed)], float(noise_scale)).to(device)
    alternatives = alternative_numbers([int(seed)], float(noise_scale))
    for i in range(0, len(data), batch_size):
        idx = np.arange(i, min(i + batch_size, len(data)))
        b = data.batch(idx, device)
        enc = model.encode(b["features"], b["frame_mask"])
        # Family-choosing models pick each window's family from its own music (no smoothing:
        # the windows here are not a track).
        chosen = model.music_offsets(model.component_scores(enc.embedding), alternatives)[:, 0]
        noisy = dataclasses.replace(enc, embedding=enc.embedding + noise + chosen)
        keyed = model.keyed_quantiles(quantile.expand(len(idx)), model.length_keys(enc.embedding))
        lch, lengths = model.generate(noisy, stop_quantile=keyed)
        lch, lengths = lch.cpu().numpy(), lengths.cpu().numpy()
        palettes.extend(lch[k, : lengths[k]].astype(np.float64) for k in range(len(idx)))
        vas.append(enc.valence_arousal.cpu().numpy())
    return palettes, np.concatenate(vas) if vas else np.zeros((0, 2))


def baselines(corpus: Corpus, windows: Sequence[Window], music_va: np.ndarray, *, draws: int,
              seed: int) -> dict[str, list[list[np.ndarray]]]:
    """The baselines' palettes: per baseline, a list of draws, each one (n_i, 3) LCh palette
    per window (deterministic baselines have one draw).

    Keys: ``"A"`` the corpus's top-1 palette of each window (``palette_ids[0]``, else its
    target), ``"B"`` one :func:`dominant_colour` per piece from its mean labels, ``"B-w"``
    one per window from its labels, ``"C"`` ``draws`` draws of random kept corpus palettes
    (``numpy.random.default_rng(seed)``), and the same (A) and (B-w) rules applied to the
    network's predicted music valence-arousal ``music_va`` (N, 2): ``"A'"`` (the kept corpus
    palette whose emotion is closest in cosine) and ``"B'"``.
    """
    rng = np.random.default_rng(seed)
    kept = [p for p in corpus.palettes.values() if p.get("kept", True)] or list(corpus.palettes.values())
    kept_lch = [np.asarray(p["lch"], dtype=np.float64) for p in kept]

    def retrieve(w: Window) -> np.ndarray:
        for pid in w.palette_ids:
            if pid in corpus.palettes:
                return np.asarray(corpus.palettes[pid]["lch"], dtype=np.float64)
        return np.asarray(w.target_lch, dtype=np.float64)

    piece_va: dict[str, list[tuple[float, float]]] = {}
    for w in windows:
        piece_va.setdefault(w.track_id, []).append((w.valence, w.arousal))
    piece_colour = {tid: dominant_colour(*np.mean(va, axis=0)) for tid, va in piece_va.items()}
    random_draws = [[kept_lch[i] for i in rng.integers(0, len(kept_lch), len(windows))]
                    for _ in range(draws)]
    # The same two rules driven by our network's predicted music valence-arousal instead of
    # the corpus labels: what the decoder adds over the encoder plus a fixed rule.
    kept_emo = np.array([p.get("emotion_calibrated") or p["emotion"] for p in kept], dtype=np.float64)
    kept_emo /= np.linalg.norm(kept_emo, axis=1, keepdims=True) + 1e-12
    pred_emo = va_to_emotion(torch.as_tensor(music_va, dtype=torch.float64)).numpy()
    best = np.argmax(pred_emo @ kept_emo.T, axis=1)
    return {
        "A": [[retrieve(w) for w in windows]],
        "B": [[piece_colour[w.track_id] for w in windows]],
        "B-w": [[dominant_colour(w.valence, w.arousal) for w in windows]],
        "C": random_draws,
        "A'": [[kept_lch[i] for i in best]],
        "B'": [[dominant_colour(v, a) for v, a in music_va]],
    }


def dominant_colour(valence: float, arousal: float) -> np.ndarray:
    """Baseline (B): one LCh colour from valence and arousal in [-1, 1].

    Rule from the colour-emotion literature (Valdez & Mehrabian 1994: pleasure rises with
    lightness, arousal with saturation; Palmer et al. 2013: happy music -> yellow, sad -> blue,
    agitated -> red): ``L = 55 + 20 v``, ``C = 40 + 30 a`` (floored at 5), hue the circular
    mean of yellow (weight ``(1 + v) / 2``), blue (``(1 - v) / 2``) and red (``max(a, 0)``).

    Returns
    -------
    np.ndarray
        (1, 3) LCh.
    """
    v = float(np.clip(valence, -1, 1))
    a = float(np.clip(arousal, -1, 1))
    angles = np.deg2rad([_YELLOW, _BLUE, _RED])
    w = np.array([(1 + v) / 2, (1 - v) / 2, max(a, 0.0)])
    h = math.degrees(math.atan2((w * np.sin(angles)).sum(), (w * np.cos(angles)).sum())) % 360
    return np.array([[55.0 + 20.0 * v, max(5.0, 40.0 + 30.0 * a), h]])


def results_table(methods: Mapping[str, Sequence[list[np.ndarray]] | list[np.ndarray]],
                  music_emotion: np.ndarray, *, n_mm: int,
                  calibration: "Calibration | None" = None) -> dict[str, dict[str, float | None]]:
    """The metrics of every method (:func:`method_metrics`), in the order given.

    ``methods`` maps a row name to a list of draws (each a palette per window; the first draw
    is the method's palettes, multimodality is over all draws' first ``n_mm`` windows and 0 for
    a single draw) or, for the ground truth, to the palettes themselves (no multimodality).
    Colour overlap is measured against the ``"Ground-truth pairs (refined targets)"`` row.
    """
    truth = methods[TRUTH]
    truth_colours = np.concatenate([np.asarray(p).reshape(-1, 3) for p in truth])
    rows = {}
    for name, value in methods.items():
        if name == TRUTH:
            rows[name] = method_metrics(truth, music_emotion, truth_colours, None, calibration)
            continue
        mm = [d[:n_mm] for d in value] if len(value) > 1 else [value[0][:n_mm]] * 2
        rows[name] = method_metrics(value[0], music_emotion, truth_colours, mm, calibration)
    return rows


def method_metrics(palettes: Sequence[np.ndarray], music_emotion: np.ndarray,
                   truth_colours: np.ndarray, draws: Sequence[Sequence[np.ndarray]] | None,
                   calibration: "Calibration | None" = None) -> dict[str, float | None]:
    """All table metrics of one method (``draws[k][i]``: draw k for window i, for MM).

    With ``calibration``, also ``es_calibrated`` / ``js_calibrated``: ES and JS with the
    corpus pairing's calibrated palette emotion (see :class:`Calibration`).
    """
    colours = np.concatenate([np.asarray(p).reshape(-1, 3) for p in palettes])
    pe = palette_emotions(palettes)
    extra: dict[str, float | None] = {"es_calibrated": None, "js_calibrated": None}
    if calibration is not None:
        pc = calibration.emotions(palettes)
        extra = {"es_calibrated": M.emotion_similarity(music_emotion, pc),
                 "js_calibrated": M.js_divergence(music_emotion, pc)}
    mm = None
    if draws is not None and len(draws) >= 2:
        n_mm = len(draws[0])
        mm = float(np.mean([M.multimodality([d[i] for d in draws]) for i in range(n_mm)]))
    return {
        "diversity": float(np.mean([M.diversity(p) for p in palettes])),
        "multimodality": mm,
        "convex_hull_overlap": M.convex_hull_overlap(colours, truth_colours),
        "bhattacharyya": M.bhattacharyya_coefficient(colours, truth_colours),
        "emotion_similarity": M.emotion_similarity(music_emotion, pe),
        "js_divergence": M.js_divergence(music_emotion, pe),
        "mean_colours": float(np.mean([len(p) for p in palettes])),
        "modal_length_share": float(np.bincount([len(p) for p in palettes]).max() / len(palettes)),
        **extra,
    }


def palette_emotions(palettes: Sequence[np.ndarray]) -> np.ndarray:
    """Colour-emotion vectors (N, 8) of palettes via ``m2p.colour.emotion.palette_emotion``."""
    return palette_emotion(*pad_palettes(palettes)).numpy()


def pad_palettes(palettes: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Variable-length palettes as one zero-padded LCh tensor (N, n, 3) and its mask (N, n)."""
    lch, mask = colour_emotion.pad_palettes(palettes)
    return torch.as_tensor(lch), torch.as_tensor(mask)


class Calibration:
    """The corpus pairing's calibrated palette emotion (``training/corpus/pairing.py``).

    The raw palette valence-arousal of ``m2p.colour.emotion.palette_valence_arousal`` is z-scored over
    the kept corpus palettes, given the music labels' mean and spread, clipped to [-1, 1] and
    mapped with ``va_to_emotion``. Under this definition the retrieval baseline (A) is the
    arg-max of the similarity, so it is near 1 by construction.
    """

    def __init__(self, corpus: Corpus):
        kept = [p for p in corpus.palettes.values() if p.get("kept", True)]
        va_p = np.array([p["valence_arousal"] for p in kept], dtype=np.float64)
        va_m = np.array([[w.valence, w.arousal] for w in corpus.windows], dtype=np.float64)
        self.mean_p, self.std_p = va_p.mean(0), va_p.std(0) + 1e-9
        self.mean_m, self.std_m = va_m.mean(0), va_m.std(0)

    def emotions(self, palettes: Sequence[np.ndarray]) -> np.ndarray:
        """(N, 8) calibrated emotion vectors of palettes."""
        va = palette_valence_arousal(*pad_palettes(palettes)).numpy()
        cal = np.clip((va - self.mean_p) / self.std_p * self.std_m + self.mean_m, -1, 1)
        return va_to_emotion(torch.as_tensor(cal)).numpy()


def beats_baselines(rows: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, bool]]:
    """Whether the first row (ours, noise on) has a higher Emotion Similarity and a lower JS
    divergence than each of the baselines (A), (B), (B-w) and (C)."""
    ours = rows[next(iter(rows))]
    return {
        name: {
            "es_better": ours["emotion_similarity"] > r["emotion_similarity"],
            "js_better": ours["js_divergence"] < r["js_divergence"],
        }
        for name, r in rows.items() if name.split(" ")[0] in ("(A)", "(B)", "(B-w)", "(C)")
    }


def directional_check(model: Any, corpus: Corpus, cache: FeatureCache, *, split: str | None,
                      device: str | torch.device = "cpu") -> dict[str, Any]:
    """Tempo and mode effects on the generated palettes of controlled MIDI variants.

    Tracks with ``tune_id`` in their metadata are the variants (those of ``split`` when it has
    at least 6, else all). Per track the generated palettes (noise off) of all its windows are
    averaged (:func:`track_means`), then paired across variants (:func:`directional_effects`).

    Returns
    -------
    dict
        ``tracks_used``, ``scope`` and for ``tempo`` and ``mode``: ``pairs`` and per quantity
        ``mean_diff``, ``d_z`` (mean / sd of paired differences), ``frac_expected`` (share of
        pairs moving in the predicted direction) and ``expected`` (+1 / -1).
    """
    variants, scope = _variant_tracks(corpus, split)
    by_track: dict[str, list[Window]] = {}
    for w in corpus.windows:
        if w.track_id in variants:
            by_track.setdefault(w.track_id, []).append(w)
    if not by_track:
        return {"tracks_used": 0, "scope": scope, "note": "no controlled variants in the corpus"}
    all_w = [w for ws in by_track.values() for w in ws]
    cache.ensure(corpus, all_w, log=lambda m: None)
    data = WindowDataset.from_cache(cache, all_w, max_colors=model.config.max_colors)
    pals, music_va = generate_palettes(model, data, noise_scale=0.0, seed=0, device=device)
    stats = track_means(pals, music_va, [len(ws) for ws in by_track.values()])
    stats = dict(zip(by_track, stats))
    return {"tracks_used": len(stats), "scope": scope or "all splits",
            **directional_effects(stats, {tid: variants[tid].meta for tid in stats})}


def track_means(palettes: Sequence[np.ndarray], music_va: np.ndarray, counts: Sequence[int]
                ) -> list[dict[str, float]]:
    """Per-track means of the :data:`TRACK_QUANTITIES` of consecutive windows.

    Parameters
    ----------
    palettes
        One (n_i, 3) LCh palette per window, the windows of each track consecutive.
    music_va
        (N, 2) the network's music valence-arousal per window.
    counts
        Windows per track, in order (summing to N).

    Returns
    -------
    list of dict
        Per track: mean lightness ``L``, chroma ``C`` and ``b`` (CIELAB b*, yellow +, blue -)
        of its palettes' colours averaged per palette, the palettes' valence and arousal
        (``m2p.colour.emotion.palette_valence_arousal``) and the music's.
    """
    out = []
    offset = 0
    for n in counts:
        rows = []
        for k in range(offset, offset + n):
            p = palettes[k]
            lab = M.lch_to_cartesian(p)
            va = palette_valence_arousal(torch.as_tensor(p)[None]).numpy()[0]
            rows.append([p[:, 0].mean(), p[:, 1].mean(), lab[:, 2].mean(), va[0], va[1],
                         music_va[k, 0], music_va[k, 1]])
        offset += n
        out.append(dict(zip(TRACK_QUANTITIES, map(float, np.mean(rows, axis=0)))))
    return out


def directional_effects(stats: Mapping[str, Mapping[str, float]],
                        meta: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Paired tempo and mode effects between variant tracks.

    A *tempo pair* is two renderings of a tune (``tune_id``) equal in mode, ``loudness`` and
    ``transpose`` but with different ``tempo_factor`` (difference = faster - slower); a *mode
    pair* is equal in all but the mode, major vs minor (difference = major - minor; a variant
    with ``mode == "original"`` has the tune's ``tune_mode``).

    Parameters
    ----------
    stats
        Per track id, the quantities of :func:`track_means`.
    meta
        Per track id, its corpus metadata.

    Returns
    -------
    dict
        For ``tempo`` and ``mode``: ``pairs`` and, per quantity of
        :data:`EXPECTED_DIRECTION` when there is a pair, ``expected`` (+1 / -1), ``mean_diff``,
        ``d_z`` (mean / sd of the paired differences; NaN with fewer than 2 pairs) and
        ``frac_expected`` (share of pairs moving in the predicted direction).
    """
    def mode_of(tid: str) -> str:
        mode = str(meta[tid].get("mode"))
        return mode if mode in ("major", "minor") else str(meta[tid].get("tune_mode"))

    def key(tid: str, drop: str) -> tuple:
        m = meta[tid]
        return tuple((k, mode_of(tid) if k == "mode" else str(m.get(k)))
                     for k in ("tune_id", "tempo_factor", "mode", "loudness", "transpose")
                     if k != drop)

    out: dict[str, dict[str, Any]] = {}
    for factor, field in (("tempo", "tempo_factor"), ("mode", "mode")):
        groups: dict[tuple, list[str]] = {}
        for tid in stats:
            groups.setdefault(key(tid, field), []).append(tid)
        diffs: list[dict[str, float]] = []
        for tids in groups.values():
            for i in range(len(tids)):
                for j in range(i + 1, len(tids)):
                    a, b = meta[tids[i]], meta[tids[j]]
                    if factor == "tempo":
                        fa, fb = float(a.get(field, 1.0)), float(b.get(field, 1.0))
                        if fa == fb:
                            continue
                        hi, lo = (tids[i], tids[j]) if fa > fb else (tids[j], tids[i])
                    else:
                        if {mode_of(tids[i]), mode_of(tids[j])} != {"major", "minor"}:
                            continue
                        hi, lo = ((tids[i], tids[j]) if mode_of(tids[i]) == "major"
                                  else (tids[j], tids[i]))
                    diffs.append({q: stats[hi][q] - stats[lo][q] for q in stats[hi]})
        res: dict[str, Any] = {"pairs": len(diffs)}
        for q, sign in EXPECTED_DIRECTION[factor].items():
            d = np.array([x[q] for x in diffs])
            if len(d) == 0:
                continue
            sd = float(d.std(ddof=1)) if len(d) > 1 else float("nan")
            res[q] = {"expected": sign, "mean_diff": float(d.mean()),
                      "d_z": float(d.mean() / sd) if sd and sd > 0 else float("nan"),
                      "frac_expected": float(np.mean(np.sign(d) == sign))}
        out[factor] = res
    return out


def results_markdown(res: Mapping[str, Any], *, heading: int = 2) -> str:
    """Markdown for the results (tables, verdicts, directional check)."""
    h = "#" * heading
    header = ["method", "Diversity ↑", "Multimodality", "CHO ↑", "BC ↑", "ES ↑", "JS ↓",
              "ES cal.", "JS cal.", "colours", "modal length"]
    rows = [[name, r["diversity"], r["multimodality"], r["convex_hull_overlap"],
             r["bhattacharyya"], r["emotion_similarity"], r["js_divergence"],
             r.get("es_calibrated"), r.get("js_calibrated"), r["mean_colours"],
             r.get("modal_length_share")]
            for name, r in res["table"].items()]
    lines = [
        f"{h} Metrics on the `{res['split']}` split",
        "",
        f"Split `{res['split']}`: {res['windows']} windows from {res['tracks']} tracks "
        + (f"(at most {res['max_windows_per_track']} evenly spaced windows per track); "
           if res.get("max_windows_per_track") else "(all their windows); ")
        + f"multimodality over {res['noise_draws']} noise draws (σ = {res['noise_scale']:g}) of the "
        f"first {res['mm_windows']} windows; seed {res['seed']}. CHO and BC compare each "
        f"method's colours with the ground-truth colours of the split (so the ground-truth row "
        f"is 1 by construction). ES and JS compare the window's music-emotion label with the "
        f"palette's emotion under `m2p.colour.emotion.palette_emotion` (the library's colour-emotion "
        f"model, also used in the training loss); *ES cal.* / *JS cal.* use instead the corpus "
        f"pairing's calibrated palette emotion (z-scored palette VA given the music labels' "
        f"spread), under which (A) is the arg-max by construction. (A), (B) and (B-w) use the "
        f"corpus's automatic music labels (an oracle for the model, which hears only audio): "
        f"(B) one colour per piece from the piece's mean label, as the issue defines it, (B-w) "
        f"one colour per window from that window's label; (A′) and (B′) apply the (A) and (B-w) "
        f"rules to our network's predicted valence-arousal. *modal length*: share of palettes "
        f"with the most common length.",
        "",
        markdown_table(header, rows),
        "",
        f"Music emotion head: mean absolute error of valence-arousal on this split "
        f"{res['music_va_mae']:.3f} (labels in [-1, 1]).",
        "",
    ]
    verdicts = []
    for name, v in res["beats_baselines"].items():
        verdicts.append(f"* vs {name}: Emotion Similarity {'better' if v['es_better'] else '**not better**'}, "
                        f"JS {'better' if v['js_better'] else '**not better**'}.")
    mm = "positive" if res["multimodality_positive"] else "**zero**"
    lines += ["Done-when checks (model with noise on):", "", *verdicts,
              f"* Multimodality with noise on: {mm}.", ""]
    lines += [f"{h} Directional check (tempo and mode)", "",
              "Palettes with noise off, averaged per track. Predicted direction for faster and "
              "for major: higher L, higher C, higher b* (yellower), and higher arousal (tempo) / "
              "valence (mode). d_z = mean paired difference / its standard deviation.", ""]
    held = res.get("directional_heldout")
    if held:
        lines += [f"{h}# Held-out tunes (never in the corpus)", "",
                  f"{held.get('tracks_used', 0)} renders of music21 tunes drawn with another seed "
                  "and not in the corpus (base, 0.7x and 1.4x tempo, parallel mode; "
                  "`training/corpus/heldout.py`).", "", *_directional_table(held)]
    lines += [f"{h}# Corpus test split", "",
              f"{res['directional'].get('tracks_used', 0)} rendered variant tracks "
              f"({res['directional'].get('scope')}).", "", *_directional_table(res["directional"])]
    return "\n".join(lines)


def _directional_table(d: Mapping[str, Any]) -> list[str]:
    """Markdown lines of one directional check's effect sizes."""
    if not d.get("tracks_used"):
        return [d.get("note", "no controlled variants"), ""]
    drows = []
    for factor in ("tempo", "mode"):
        fr = d.get(factor, {})
        for q, v in fr.items():
            if q == "pairs":
                continue
            drows.append([f"{factor} ({fr['pairs']} pairs)", q, "+" if v["expected"] > 0 else "-",
                          v["mean_diff"], v["d_z"], v["frac_expected"]])
    return [markdown_table(["contrast", "quantity", "predicted", "mean diff", "d_z",
                            "share in predicted direction"], drows), ""]


def write_report(res: Mapping[str, Any], model_dir: str | os.PathLike[str], *,
                 results: str | os.PathLike[str]) -> list[Path]:
    """Write ``<model_dir>/evaluation.json``, ``results`` (``docs/results.md``) and, when the
    model card has the evaluation markers, its evaluation section; all or none of them.

    Returns
    -------
    list of Path
        The files written.
    """
    model_dir, results = Path(model_dir), Path(results)
    results.parent.mkdir(parents=True, exist_ok=True)
    texts = {model_dir / "evaluation.json": json.dumps(res, indent=2) + "\n",
             results: _results_text(results, results_markdown(res), res)}
    card = _card_with_evaluation(model_dir / "MODEL_CARD.md", results_markdown(res, heading=3))
    if card is not None:
        texts[model_dir / "MODEL_CARD.md"] = card
    with atomic_outputs(*texts) as temps:
        for tmp, text in zip(temps, texts.values()):
            tmp.write_text(text, encoding="utf-8")
    return list(texts)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring)."""
    ap = argparse.ArgumentParser(prog=PROG)
    ap.add_argument("--model", default=str(REPO_ROOT / "model"))
    ap.add_argument("--split", default="test")
    ap.add_argument("--corpus", default=str(CORPUS_DIR))
    ap.add_argument("--features", default=str(FEATURE_DIR), help="feature cache root")
    ap.add_argument("--noise-draws", type=int, default=5)
    ap.add_argument("--mm-windows", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--results", default=str(REPO_ROOT / "docs" / "results.md"))
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (1 is fastest on a shared machine)")
    ap.add_argument("--heldout-tunes", type=int, default=10,
                    help="music21 tunes per source outside the corpus rendered for the held-out "
                         "directional check (0: skip; needs fluidsynth and a GM soundfont)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    args = ap.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    try:
        res = evaluate(args.model, split=args.split, corpus_dir=args.corpus,
                       noise_draws=args.noise_draws, mm_windows=args.mm_windows, seed=args.seed,
                       device=args.device, features_dir=args.features,
                       heldout_tunes=args.heldout_tunes)
        print(results_markdown(res))
        if not args.no_write:
            write_report(res, args.model, results=args.results)
    except M2PError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    return 0


# ---------------------------------------------------------------------------------- helpers


def _table_methods(sigma: float, ours: list[list[np.ndarray]], ours_det: list[np.ndarray],
                   base: Mapping[str, list[list[np.ndarray]]], *, truth: list[np.ndarray]
                   ) -> dict[str, Any]:
    """The rows of the results table, named and in order, for :func:`results_table`."""
    return {
        f"Music2Palette (ours, noise σ={sigma:g})": ours,
        "Music2Palette (ours, noise off)": [ours_det],
        "(A) emotion-matched retrieval": base["A"],
        "(B) single dominant colour per piece from VA": base["B"],
        "(B-w) single dominant colour per window from VA": base["B-w"],
        "(C) random corpus palettes": base["C"],
        TRUTH: truth,
        "(A′) retrieval from our predicted VA": base["A'"],
        "(B′) single colour from our predicted VA": base["B'"],
    }


def _variant_tracks(corpus: Corpus, split: str | None) -> tuple[dict[str, Any], str | None]:
    """The controlled variants (tracks with a ``tune_id``) of ``split``, or of every split
    (scope None) when ``split`` is None or has fewer than 6 of them."""
    variants = {tid: t for tid, t in corpus.tracks.items() if t.meta.get("tune_id") is not None}
    if split is None:
        return variants, None
    in_split = {tid: t for tid, t in variants.items() if t.split == split}
    if len(in_split) < 6:
        return variants, None
    return in_split, split


def _display_path(path: str | os.PathLike[str]) -> str:
    """``path`` relative to the repository when it is inside it (as a command would name it)."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _cell(res: Mapping[str, Any], key: str) -> str:
    value = next(iter(res["table"].values())).get(key)
    return "–" if value is None else f"{value:.3f}"


def _card_with_evaluation(card: Path, md: str) -> str | None:
    """The model card's text with ``md`` as its evaluation section; None when there is no card
    or it has no evaluation markers."""
    if not card.exists():
        return None
    text = card.read_text(encoding="utf-8")
    if EVAL_START not in text or EVAL_END not in text:
        return None
    head, rest = text.split(EVAL_START, 1)
    tail = rest.split(EVAL_END, 1)[1]
    return f"{head}{EVAL_START}\nFull write-up: `docs/results.md`.\n\n{md}\n{EVAL_END}{tail}"


#: Markers around the two parts of ``docs/results.md`` this command writes; the rest of the
#: page (held-out music, model selection, earlier models) is written by hand and kept.
RESULTS_MARKERS = ("<!-- evaluate:results:start -->", "<!-- evaluate:results:end -->")
PAPER_MARKERS = ("<!-- evaluate:paper:start -->", "<!-- evaluate:paper:end -->")


def _results_text(path: Path, md: str, res: Mapping[str, Any]) -> str:
    """The new text of ``docs/results.md``: when the page has both marked parts, only they are
    replaced (the results with how they were produced; the metric definitions with the
    paper's table); otherwise a new page with just those parts."""
    produced = (f"Produced by `python -m training.evaluate --model {res['model']} --split "
                f"{res['split']} --corpus {res.get('corpus', CORPUS_DIR)}` ({res['evaluated_utc']}).\n\n")
    parts = {RESULTS_MARKERS: produced + md, PAPER_MARKERS: _paper_section(res)}
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if not all(start in text and end in text for start, end in parts):
        text = "# Results\n\n" + "\n".join(f"{start}\n{end}\n" for start, end in parts)
    for (start, end), body in parts.items():
        head, rest = text.split(start, 1)
        text = f"{head}{start}\n{body.strip()}\n{end}{rest.split(end, 1)[1]}"
    return text


def _paper_section(res: Mapping[str, Any]) -> str:
    """The metric definitions and the paper's Table 1 beside ours."""
    return f"""## Metric definitions used here

* **Diversity**: mean pairwise CIEDE2000 between the colours of a palette, averaged over
  palettes.
* **Multimodality**: for one input, mean pairwise distance between the palettes generated with
  different noise draws; the distance between two palettes is the mean CIEDE2000 after Hungarian
  matching. Deterministic methods score 0 by construction; random palettes score high without
  being useful.
* **Convex Hull Overlap (CHO)**: intersection-over-union of the 3-D convex hulls of all
  generated and all ground-truth colours, in the LCh cylinder written in Cartesian form
  (L, C cos h, C sin h) so that hue wraps.
* **Bhattacharyya Coefficient (BC)**: sum of sqrt(p q) over 8 x 8 x 12 (L, C, h) histograms of
  those two colour sets.
* **Emotion Similarity (ES)**: cosine between the music-emotion label and the palette emotion.
* **JS**: Jensen-Shannon divergence (bits) between the same two vectors, each normalised to a
  distribution.

## Comparison with the paper

The paper's Table 1 reports these metrics on its MuCED test set (2,634 expert-validated
music-palette pairs, human-annotated emotions, its own emotion-vector definition). Our numbers
come from a different corpus (automatically labelled windows and emotion-matched palettes), a
different colour-emotion model for the palette side of ES/JS, different histogram binning and
hull conventions, and a far smaller network trained briefly on a CPU, so the two columns are not
directly comparable; only the orderings between methods inside one table are meaningful.

The paper's Table 1 (Hu et al. 2025, MuCED test set; quoted from the facts collected in the
project's shared `paper.md`), beside ours. The paper marks CHO and BC lower-is-better and gives
no ground-truth value for them, which reads as overlap *among generated palettes*; ours compare
generated with ground-truth colours (higher = closer to the corpus), so those two columns differ
in meaning, not only in data.

| method | Div. ↑ | Multi. ↑ | CHO | BC | ES ↑ | JS ↓ |
|---|---|---|---|---|---|---|
| paper A: LP-MC + Text2Colors | 19.36 | 6.58 | 0.24 | 0.91 | 0.61 | 0.38 |
| paper B: LP-MC + GPT-o1 | 26.88 | 7.76 | 0.15 | 0.78 | 0.66 | 0.36 |
| paper C: CDCML + Color Thief | 31.13 | 9.62 | 0.08 | 0.77 | 0.50 | 0.43 |
| paper: Music2Palette | 28.91 | 11.12 | 0.07 | 0.76 | 0.74 | 0.33 |
| paper: ground truth | 30.39 | - | - | - | 0.76 | 0.32 |
| **ours** (test split, noise on) | {_cell(res, "diversity")} | {_cell(res, "multimodality")} | {_cell(res, "convex_hull_overlap")} | {_cell(res, "bhattacharyya")} | {_cell(res, "emotion_similarity")} | {_cell(res, "js_divergence")} |
"""


if __name__ == "__main__":
    sys.exit(main())
