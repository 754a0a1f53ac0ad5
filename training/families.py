"""Palette families: the corpus palettes clustered by hue content (model v2, ``component_head``).

Many palettes fit one emotion, and a decoder trained toward all of them learns their average:
one hue template for every song (v1; run 11's free mixture learnt five such templates). Here
every candidate palette belongs to one of ``K`` families, the decoder is told the family (its
mixture centre), and a head learns which families the music's candidates come from. Which
family fits is not arbitrary: in the corpus pairing, 9.5 % of the candidates of sad windows
(valence < -0.3) are blue-purple and 0.3 % of happy ones; 29 % of calm windows' candidates are
near-grey and none of the intense ones' (measured on the training split, 2026-12-01).

A palette's descriptor (13 numbers) is its chroma-weighted hue histogram over 12 soft bins of
30 degrees (von Mises-like kernel ``exp(3 (cos(h - centre) - 1))``, each colour weighted by
``min(C / 40, 1)``, summed and divided by the palette length), plus its greyness ``0.5 (1 -
mean min(C / 40, 1))``. Families are the k-means clusters of the training candidates'
descriptors (k-means++ start, fixed seed).

>>> import numpy as np
>>> blue = np.array([[40.0, 50.0, 260.0], [60.0, 45.0, 250.0]])
>>> int(np.argmax(palette_descriptor(blue)[:12])) * 30  # the 240-degree bin
240
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["HUE_BINS", "palette_descriptor", "fit_families", "assign_families", "family_shares"]

#: Hue bins of the descriptor (30 degrees each, centred on 0, 30, ..., 330).
HUE_BINS = 12
_CHROMA_FULL = 40.0
_KERNEL = 3.0


def palette_descriptor(lch: np.ndarray) -> np.ndarray:
    """Hue-content descriptor (13,) of one palette (n, 3) in LCh (see the module docstring)."""
    lch = np.asarray(lch, dtype=np.float64).reshape(-1, 3)
    if len(lch) == 0:
        return np.zeros(HUE_BINS + 1)
    weight = np.clip(lch[:, 1] / _CHROMA_FULL, 0.0, 1.0)
    centres = np.arange(HUE_BINS) * (2 * np.pi / HUE_BINS)
    kernel = np.exp(_KERNEL * (np.cos(np.deg2rad(lch[:, 2])[:, None] - centres[None, :]) - 1.0))
    hist = (kernel * weight[:, None]).sum(0) / len(lch)
    return np.concatenate([hist, [0.5 * (1.0 - weight.mean())]])


def fit_families(palettes: Sequence[np.ndarray], k: int, *, seed: int = 0,
                 iterations: int = 50) -> np.ndarray:
    """Family centroids (k, 13): k-means of the palettes' descriptors (k-means++ start)."""
    x = np.stack([palette_descriptor(p) for p in palettes])
    if len(x) < k:
        raise ValueError(f"need at least {k} palettes to form {k} families, got {len(x)}")
    rng = np.random.default_rng(seed)
    centroids = [x[rng.integers(len(x))]]
    for _ in range(1, k):  # k-means++: far-apart starting points
        d2 = ((x[:, None, :] - np.stack(centroids)[None]) ** 2).sum(-1).min(1)
        centroids.append(x[rng.choice(len(x), p=d2 / d2.sum())])
    c = np.stack(centroids)
    for _ in range(iterations):
        labels = _nearest(x, c)
        moved = np.stack([x[labels == j].mean(0) if (labels == j).any() else c[j] for j in range(k)])
        if np.allclose(moved, c):
            break
        c = moved
    return c


def assign_families(palettes: Sequence[np.ndarray], centroids: np.ndarray) -> np.ndarray:
    """Family index (N,) int64 of each palette: the nearest centroid of its descriptor."""
    if len(palettes) == 0:
        return np.zeros(0, dtype=np.int64)
    return _nearest(np.stack([palette_descriptor(p) for p in palettes]), np.asarray(centroids))


def family_shares(labels: np.ndarray, k: int) -> np.ndarray:
    """Share (k,) of each family among ``labels``, floored at 1e-3 and renormalised (a family
    no training candidate belongs to must not get an infinite log-prior)."""
    shares = np.bincount(np.asarray(labels).ravel(), minlength=k).astype(np.float64)
    shares = np.maximum(shares / max(shares.sum(), 1.0), 1e-3)
    return shares / shares.sum()


def _nearest(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    d2 = ((x[:, None, :] - centroids[None, :, :]) ** 2).sum(-1)
    return d2.argmin(1).astype(np.int64)
