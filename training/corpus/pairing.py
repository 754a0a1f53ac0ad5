"""Music-palette pairing (paper section 3.2) with the automatic refinement step.

1. Emotion vectors: windows get ``va_to_emotion(valence, arousal)``; palettes get the colour-emotion
   model's valence/arousal, *calibrated* (z-scored, then given the music labels' mean and spread)
   before ``va_to_emotion``, because the raw palette VA cloud sits lower and narrower than the
   music labels and would otherwise send most windows to a handful of palettes.
2. Cosine similarity, top-5 candidates per window among the palettes that passed the harmony and
   distinguishability check (``kept``).
3. Refinement of each of the five candidates (``targets_lch``; ``target_lch`` is the top-1) toward the window's cues (Palmer et al. 2013: faster, major,
   louder music -> lighter, more saturated, warmer/yellower colours):
   - L += (6 * valence + 2 * clip(z_register, -2, 2) + extra) * min(1, 2 * headroom / 100),
     headroom being 100 - L for a lightening and L for a darkening shift (so light colours do not
     clip to white); ``extra`` is 0 in the shipped recipe. The option ``tempo_lightness`` gives
     ``w * clip(z_tempo, -2, 2)``, ``z_tempo`` the z-scored log onset rate: Palmer et al.'s
     direct tempo -> lightness association, tried at w = 8 in rounds 8-9 of
     ``docs/model_selection_v2.md`` and not shipped (the palettes followed a quarter of it)
   - lightness contrast around the palette mean scaled by (1 + 0.15 * arousal)
   - C *= 1 + 0.25 * arousal
   - hue rotated toward yellow (90 deg) by up to 10 deg * max(valence, 0) and toward orange-red
     (40 deg) by up to 8 deg * max(arousal, 0), weighted by chroma (greys do not move)
   then gamut-mapped with ``m2p.colour.gamut.gamut_map_lch``.
"""

from __future__ import annotations

import numpy as np

TOP_K = 5


def _rotate_toward(h: np.ndarray, target: float, amount: np.ndarray) -> np.ndarray:
    d = (target - h + 180.0) % 360.0 - 180.0
    step = np.sign(d) * np.minimum(np.abs(d), amount)
    return (h + step) % 360.0


def refine(lch: np.ndarray, valence: float, arousal: float, z_register: float,
           extra_lightness: float = 0.0) -> np.ndarray:
    """The refined palette (n, 3), gamut-mapped (see the module docstring)."""
    return gamut_map(_shift(lch, valence, arousal, z_register, extra_lightness))


def tempo_lightness(windows: list[dict], weight: float) -> np.ndarray:
    """Lightness shift (N,) in L* units: ``weight * clip(z, -2, 2)``, ``z`` the z-score over
    ``windows`` of the log onset rate (onsets per second, floored at 0.1)."""
    log_rate = np.log(np.maximum([float(w["cues"]["onset_rate"]) for w in windows], 0.1))
    z = (log_rate - log_rate.mean()) / (log_rate.std() + 1e-9)
    return weight * np.clip(z, -2.0, 2.0)


def gamut_map(lch: np.ndarray) -> np.ndarray:
    """``m2p.colour.gamut.gamut_map_lch`` of any (..., 3) array (one call for many palettes)."""
    import torch

    from m2p.colour.gamut import gamut_map_lch

    with torch.no_grad():
        return gamut_map_lch(torch.tensor(np.asarray(lch), dtype=torch.float64)).numpy()


def _shift(lch: np.ndarray, valence: float, arousal: float, z_register: float,
           extra_lightness: float = 0.0) -> np.ndarray:
    """The refinement's lightness, chroma and hue moves, before gamut mapping."""
    lch = np.array(lch, dtype=np.float64)
    L, C, h = lch[:, 0], lch[:, 1], lch[:, 2]
    d = 6.0 * valence + 2.0 * float(np.clip(z_register, -2, 2)) + extra_lightness
    # soft limits: the shift fades out near white / black so that light colours do not all clip to 100
    room = np.clip(2.0 * ((100.0 - L) if d > 0 else L) / 100.0, 0.0, 1.0)
    L = L + d * room
    m = L.mean()
    L = m + (L - m) * (1.0 + 0.15 * arousal)
    L = np.where(L > 98.0, 98.0 + (L - 98.0) * 0.1, L)
    C = C * (1.0 + 0.25 * arousal)
    wchroma = np.clip(C / 30.0, 0.0, 1.0)
    h = _rotate_toward(h, 90.0, 10.0 * max(valence, 0.0) * wchroma)
    h = _rotate_toward(h, 40.0, 8.0 * max(arousal, 0.0) * wchroma)
    return np.stack([np.clip(L, 0, 100), np.clip(C, 0, None), h], axis=1)


def pair(windows: list[dict], palettes: list[dict], z_register: np.ndarray, log=print, *,
         key_hues: np.ndarray | None = None, extra_lightness: np.ndarray | None = None) -> dict:
    """Pair every window with ``TOP_K`` refined candidate palettes (in place: ``emotion``,
    ``palette_ids``, ``palette_similarity``, ``targets_lch``, ``target_lch``). With
    ``key_hues`` (N,) degrees, the candidates are the emotion-matched palettes with the most
    colour near each window's key hue (``training.corpus.colour_key``); ``extra_lightness``
    (N,) L* units joins the refinement's lightness shift (e.g. ``tempo_lightness``)."""
    if extra_lightness is None:
        extra_lightness = np.zeros(len(windows))
    from training.corpus import colour_key

    import torch

    from m2p.colour import emotion as emotion

    kept = [p for p in palettes if p["kept"]]
    va_m = np.array([[w["valence"], w["arousal"]] for w in windows], dtype=np.float64)
    va_p = np.array([p["valence_arousal"] for p in kept], dtype=np.float64)
    cal = (va_p - va_p.mean(0)) / (va_p.std(0) + 1e-9) * va_m.std(0) + va_m.mean(0)
    cal = np.clip(cal, -1, 1)
    with torch.no_grad():
        e_m = emotion.va_to_emotion(torch.tensor(va_m)).numpy()
        e_p = emotion.va_to_emotion(torch.tensor(cal)).numpy()
    for p, c, e in zip(kept, cal, e_p):
        p["valence_arousal_calibrated"] = np.round(c, 4).tolist()
        p["emotion_calibrated"] = np.round(e, 5).tolist()
    nm = e_m / (np.linalg.norm(e_m, axis=1, keepdims=True) + 1e-12)
    npal = e_p / (np.linalg.norm(e_p, axis=1, keepdims=True) + 1e-12)
    ids = np.array([p["id"] for p in kept])
    top1 = []
    for start in range(0, len(windows), 2048):
        sim = nm[start : start + 2048] @ npal.T
        if key_hues is None:
            top = np.argsort(-sim, axis=1)[:, :TOP_K]
        else:
            kept_lch = [np.asarray(p["lch"]) for p in kept]
            top = [colour_key.choose(sim[j], kept_lch, float(key_hues[start + j]), TOP_K)
                   for j in range(len(sim))]
        for j, row in enumerate(top):
            i = start + j
            w = windows[i]
            w["emotion"] = np.round(e_m[i], 5).tolist()
            w["palette_ids"] = ids[row].tolist()
            w["palette_similarity"] = np.round(sim[j, row], 4).tolist()
            # Every candidate is refined: the decoder learns all five (one-to-many targets,
            # chosen among by the embedding noise), not only the top-1.
            shifted = [_shift(kept[r]["lch"], w["valence"], w["arousal"], float(z_register[i]),
                              float(extra_lightness[i])) for r in row]
            sizes = [len(x) for x in shifted]
            mapped = np.split(gamut_map(np.concatenate(shifted)), np.cumsum(sizes)[:-1])
            targets = [np.round(x, 3).tolist() for x in mapped]
            w["targets_lch"] = targets
            w["target_lch"] = targets[0]
            top1.append(ids[row[0]])
    n_distinct = len(set(top1))
    log(f"  pairing: {len(windows)} windows, {n_distinct} distinct top-1 palettes of {len(kept)} kept")
    return {"distinct_top1": n_distinct, "kept": len(kept)}
