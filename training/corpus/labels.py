"""Proxy valence/arousal labels: a blend of vibenet and an audio-cue estimate.

Each dimension is ``tanh(scale * w . z)`` where ``z`` are corpus-standardised features:

- arousal: log tempo, log onset rate, loudness (dB), log brightness, vibenet energy
- valence: mode score, register, log tempo, vibenet valence (brightness is left out: in the
  renders it moves with register and would take over the valence fit)

Loudness and register are standardised within each kind (game / midi); the others over the corpus.

The non-negative weights ``w`` are fitted on the controlled MIDI renders of the *training*
tunes by pairwise logistic regression (variant pairs where the literature says which of the two
should be higher: faster > slower and louder > softer in arousal; major > parallel minor and
higher > lower register in valence), with an L2 pull toward a literature prior
(Eerola, Friberg & Bresin 2013: mode > tempo > register > dynamics > timbre). ``scale`` sets
the corpus standard deviation of ``w . z`` to 0.8 before the tanh.
"""

from __future__ import annotations

import numpy as np

AROUSAL_FEATURES = ("tempo", "onset", "loudness", "brightness", "vibenet_a")
VALENCE_FEATURES = ("mode", "register", "tempo", "vibenet_v")
# loudness and register are standardised within each kind (game / midi): the absolute level of a
# render is the synthesiser gain and that of a game track its mastering, and the spectral register
# of a full band mix sits lower than that of a solo melody, so only relative values are cues.
PER_KIND = ("loudness", "register")
PRIOR = {
    "arousal": np.array([0.35, 0.25, 0.25, 0.10, 0.30]),
    "valence": np.array([0.50, 0.15, 0.15, 0.30]),
}
PRIOR_STRENGTH = 1.0
TARGET_STD = 0.8

# variant pairs (lower, higher) and the dimension they speak to
PAIRS = {
    "tempo -> arousal": ("arousal", [("slow", "base"), ("base", "fast"), ("slow", "fast")]),
    "loudness -> arousal": ("arousal", [("soft", "base"), ("base", "loud"), ("soft", "loud")]),
    "mode -> valence": ("valence", "mode"),
    "register -> valence": ("valence", [("low", "base"), ("base", "high"), ("low", "high")]),
}
# the pairs used in the agreement table (one per tune and cue, like the "7 of 16")
TABLE_PAIRS = {
    "tempo -> arousal": ("arousal", ("slow", "fast")),
    "loudness -> arousal": ("arousal", ("soft", "loud")),
    "mode -> valence": ("valence", "mode"),
    "register -> valence": ("valence", ("low", "high")),
}


def raw_features(win: dict, kind: str = "game") -> dict[str, float]:
    c = win["cues"]
    vb = win.get("vibenet")
    return {
        "kind": kind,
        "tempo": float(np.log2(max(c["tempo_bpm"], 30.0))),
        "onset": float(np.log1p(c["onset_rate"])),
        "loudness": float(c["loudness_db"]),
        "brightness": float(np.log2(max(c["brightness_hz"], 50.0))),
        "mode": float(c["mode_major"]),
        "register": float(c["register_midi"]),
        "vibenet_a": float(vb[1]) if vb else np.nan,
        "vibenet_v": float(vb[0]) if vb else np.nan,
    }


class Standardiser:
    """Corpus z-scores of the label features (loudness and register within each kind).

    A feature with no finite value (vibenet when it is not installed) gets mean NaN, so its
    z-score becomes 0, the corpus mean, in :meth:`__call__`.
    """

    def __init__(self, rows: list[dict]):
        keys = [k for k in rows[0].keys() if k != "kind"]
        self.mean = {k: _finite_mean([r[k] for r in rows]) for k in keys}
        self.std = {k: _finite_std([r[k] for r in rows]) for k in keys}
        for kind in sorted({r["kind"] for r in rows}):
            for k in PER_KIND:
                vals = [r[k] for r in rows if r["kind"] == kind]
                self.mean[f"{k}@{kind}"] = _finite_mean(vals)
                self.std[f"{k}@{kind}"] = _finite_std(vals)

    def __call__(self, row: dict, names) -> np.ndarray:
        def key(k):
            kk = f"{k}@{row['kind']}"
            return kk if k in PER_KIND and kk in self.mean else k

        z = np.array([(row[k] - self.mean[key(k)]) / self.std[key(k)] for k in names])
        return np.nan_to_num(z, nan=0.0)  # missing vibenet -> corpus mean

    def to_dict(self):
        return {"mean": self.mean, "std": self.std}


def _finite_mean(values) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.mean()) if v.size else float("nan")


def _finite_std(values) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(v.std() + 1e-9) if v.size else 1.0


def _pairs_for(tracks_by_tune: dict, spec, dim_names, featmean) -> list[np.ndarray]:
    """Feature differences (higher - lower) of track-mean standardised features."""
    diffs = []
    for tune_id, variants in tracks_by_tune.items():
        if spec == "mode":
            base = variants.get("base")
            swp = variants.get("mode")
            if base is None or swp is None:
                continue
            tune_mode = base["tune_mode"]
            lo, hi = (swp, base) if tune_mode == "major" else (base, swp)
            pairs = [(lo, hi)]
        else:
            pairs = [(variants.get(a), variants.get(b)) for a, b in spec]
        for lo, hi in pairs:
            if lo is None or hi is None:
                continue
            diffs.append(featmean[hi["track_id"]] - featmean[lo["track_id"]])
    return diffs


def fit_weights(diffs: list[np.ndarray], prior: np.ndarray, strength: float = PRIOR_STRENGTH) -> np.ndarray:
    from scipy.optimize import minimize

    X = np.array(diffs) if diffs else np.zeros((0, len(prior)))

    def loss(w):
        s = X @ w
        l = np.logaddexp(0.0, -s).sum() if len(X) else 0.0
        g = -(X * (1 / (1 + np.exp(s)))[:, None]).sum(axis=0) if len(X) else np.zeros_like(w)
        return l + strength * len(X) * 0.05 * np.sum((w - prior) ** 2), g + strength * len(X) * 0.1 * (w - prior)

    res = minimize(loss, prior.copy(), jac=True, method="L-BFGS-B", bounds=[(0.0, None)] * len(prior))
    return res.x


def fit_and_label(tracks: list[dict], windows_by_track: dict[str, list[dict]], log=print) -> dict:
    """Fit the blend on training-split controlled renders; write valence/arousal into windows."""
    kind_of = {t["track_id"]: t["kind"] for t in tracks}
    all_rows = [raw_features(w, kind_of.get(tid, "game")) for tid, ws in windows_by_track.items() for w in ws]
    std = Standardiser(all_rows)
    names = {"arousal": AROUSAL_FEATURES, "valence": VALENCE_FEATURES}
    cue_only = {d: tuple(n for n in names[d] if not n.startswith("vibenet")) for d in names}

    def track_mean(tid, feat_names):
        ws = windows_by_track.get(tid, [])
        if not ws:
            return None
        return np.mean([std(raw_features(w, kind_of.get(tid, "game")), feat_names) for w in ws], axis=0)

    ctrl = [t for t in tracks if t["kind"] == "midi" and t.get("variant") in
            ("base", "slow", "fast", "soft", "loud", "low", "high", "mode") and windows_by_track.get(t["track_id"])]
    by_tune: dict[str, dict[str, dict]] = {}
    for t in ctrl:
        by_tune.setdefault(t["tune_id"], {})[t["variant"]] = t
    train_tunes = {k: v for k, v in by_tune.items() if v.get("base", {}).get("split") == "train"}
    held_tunes = {k: v for k, v in by_tune.items() if v.get("base", {}).get("split") in ("val", "test")}

    weights = {}
    for dim in ("arousal", "valence"):
        fm = {t["track_id"]: track_mean(t["track_id"], names[dim]) for t in ctrl}
        diffs = []
        for label, (d, spec) in PAIRS.items():
            if d == dim:
                diffs += _pairs_for(train_tunes, spec, names[dim], fm)
        w = fit_weights(diffs, PRIOR[dim])
        # cue-only weights (same fit without the vibenet column), for the agreement table
        idx = [i for i, n in enumerate(names[dim]) if not n.startswith("vibenet")]
        w_cue = fit_weights([x[idx] for x in diffs], PRIOR[dim][idx])
        zs = np.array([std(r, names[dim]) for r in all_rows])
        scale = TARGET_STD / (np.std(zs @ w) + 1e-9)
        scale_cue = TARGET_STD / (np.std(zs[:, idx] @ w_cue) + 1e-9)
        weights[dim] = {"features": list(names[dim]), "w": w.tolist(), "scale": float(scale),
                        "cue_features": list(cue_only[dim]), "w_cue": w_cue.tolist(), "scale_cue": float(scale_cue),
                        "n_pairs": len(diffs)}
        log(f"  blend {dim}: " + ", ".join(f"{n}={x:.3f}" for n, x in zip(names[dim], w)) + f" (pairs {len(diffs)})")

    # label every window
    for tid, ws in windows_by_track.items():
        for w in ws:
            r = raw_features(w, kind_of.get(tid, "game"))
            va = []
            for dim in ("valence", "arousal"):
                z = std(r, names[dim])
                va.append(float(np.tanh(weights[dim]["scale"] * z @ np.array(weights[dim]["w"]))))
            w["valence"], w["arousal"] = round(va[0], 4), round(va[1], 4)
            cue = []
            for dim in ("valence", "arousal"):
                zc = std(r, cue_only[dim])
                cue.append(float(np.tanh(weights[dim]["scale_cue"] * zc @ np.array(weights[dim]["w_cue"]))))
            w["cue_va"] = [round(cue[0], 4), round(cue[1], 4)]

    table = agreement_table(by_tune, train_tunes, held_tunes, windows_by_track)
    return {"weights": weights, "standardiser": std.to_dict(), "agreement": table,
            "n_tunes": {"train": len(train_tunes), "held_out": len(held_tunes)}}


def _source_value(ws: list[dict], source: str, dim: str) -> float | None:
    k = 0 if dim == "valence" else 1
    if source == "vibenet":
        vals = [w["vibenet"][k] for w in ws if w.get("vibenet")]
    elif source == "cues":
        vals = [w["cue_va"][k] for w in ws]
    else:
        vals = [w[dim] for w in ws]
    return float(np.mean(vals)) if vals else None


def agreement_table(by_tune, train_tunes, held_tunes, windows_by_track) -> dict:
    """How often each label source moves in the literature's direction, per tune pair."""
    table = {}
    for label, (dim, spec) in TABLE_PAIRS.items():
        row = {}
        for subset_name, subset in (("held_out", held_tunes), ("all", by_tune)):
            for source in ("vibenet", "cues", "blend"):
                right = total = 0
                for tune_id, variants in subset.items():
                    if spec == "mode":
                        base, swp = variants.get("base"), variants.get("mode")
                        if base is None or swp is None:
                            continue
                        lo, hi = (swp, base) if base["tune_mode"] == "major" else (base, swp)
                    else:
                        lo, hi = variants.get(spec[0]), variants.get(spec[1])
                        if lo is None or hi is None:
                            continue
                    a = _source_value(windows_by_track[lo["track_id"]], source, dim)
                    b = _source_value(windows_by_track[hi["track_id"]], source, dim)
                    if a is None or b is None:
                        continue
                    total += 1
                    right += int(b > a)
                row[f"{subset_name}/{source}"] = [right, total]
        table[label] = row
    return table


# ----------------------------------------------------------------------------------------------
# Model v2: teacher labels for recordings
# ----------------------------------------------------------------------------------------------

#: Weights of the standardised sources in the recording labels: the two pretrained teachers
#: (vibenet, the musicnn taggers read zero-shot) and the cue blend above, which was fitted on
#: piano renders only and on recordings followed tempo estimates and onset rate (issue 9).
RECORDING_WEIGHTS = {
    "valence": {"vibenet": 0.4, "tags": 0.4, "cues": 0.2},
    "arousal": {"vibenet": 0.4, "tags": 0.4, "cues": 0.2},
}


def label_recordings(tracks: list[dict], windows_by_track: dict[str, list[dict]],
                     teachers_by_track: dict[str, dict], log=print) -> dict:
    """Relabel the windows of recorded (game) tracks from the teachers; renders keep the blend.

    For each dimension the label is ``tanh(scale * sum_s w_s z_s)`` over the sources ``s`` of
    :data:`RECORDING_WEIGHTS`, each z-scored over the recorded windows that have it (a missing
    source counts as its mean, 0), ``scale`` giving the combination a standard deviation of
    :data:`TARGET_STD`. Stores ``teachers`` = {``tags`` (100 tag probabilities, MTT then MSD),
    ``tag_va`` (zero-shot valence, arousal)} in each window that the teachers heard, and the
    previous blend as ``blend_va``.

    Returns
    -------
    dict
        The per-source means and standard deviations, scales and window counts.
    """
    from .teachers import TEACHER_MODELS, tag_valence_arousal

    kind_of = {t["track_id"]: t["kind"] for t in tracks}
    rows = []  # (window, {source: (valence, arousal)})
    for tid, ws in windows_by_track.items():
        if kind_of.get(tid) != "game":
            continue
        teach = teachers_by_track.get(tid)
        lookup = {}
        if teach is not None and all(m in teach for m in TEACHER_MODELS):
            tag_v, tag_a = tag_valence_arousal({m: teach[m] for m in TEACHER_MODELS})
            for i, s in enumerate(teach["starts"]):
                lookup[round(float(s), 3)] = (
                    np.concatenate([teach[m][i].astype(np.float32) for m in TEACHER_MODELS]),
                    (float(tag_v[i]), float(tag_a[i])),
                )
        for w in ws:
            sources = {"cues": (w["valence"], w["arousal"])}
            if w.get("vibenet"):
                sources["vibenet"] = tuple(w["vibenet"])
            hit = lookup.get(round(float(w["start"]), 3))
            if hit is not None:
                w["teachers"] = {"tags": np.round(hit[0], 3).tolist(),
                                 "tag_va": [round(hit[1][0], 4), round(hit[1][1], 4)]}
                sources["tags"] = hit[1]
            rows.append((w, sources))
    if not rows:
        return {"windows": 0}
    stats: dict = {"windows": len(rows),
                   "with_tags": sum("tags" in s for _, s in rows),
                   "with_vibenet": sum("vibenet" in s for _, s in rows)}
    combined = {}
    for k, dim in enumerate(("valence", "arousal")):
        total = np.zeros(len(rows))
        for src, weight in RECORDING_WEIGHTS[dim].items():
            vals = np.array([s[src][k] if src in s else np.nan for _, s in rows], dtype=np.float64)
            mean, std = _finite_mean(vals), _finite_std(vals)
            z = np.nan_to_num((vals - mean) / std, nan=0.0)
            total += weight * z
            stats[f"{dim}/{src}"] = {"mean": mean, "std": std}
        scale = TARGET_STD / (np.std(total) + 1e-9)
        stats[f"{dim}/scale"] = float(scale)
        combined[dim] = np.tanh(scale * total)
    for i, (w, _) in enumerate(rows):
        w["blend_va"] = [w["valence"], w["arousal"]]
        w["valence"] = round(float(combined["valence"][i]), 4)
        w["arousal"] = round(float(combined["arousal"][i]), 4)
    log(f"  recording labels: {len(rows)} windows ({stats['with_tags']} with tags, "
        f"{stats['with_vibenet']} with vibenet)")
    return stats
