"""What a palette track carries from window to window: the causal smoothing of the music
embedding and of the family scores, the family hysteresis, and the running sums of the whole
piece.

Everything here is causal (a window depends only on itself and earlier windows), so a live
stream (:mod:`m2p.inference.live`) makes the same choices as the offline track.

Coherence in time
    The decoder hears the music embedding smoothed over about :data:`EMBEDDING_SMOOTHING_SECONDS`
    (the same music heard at another phase of the window moved the palette by up to 19
    CIEDE2000 between neighbouring windows without it; ``docs/decisions.md``). A
    family-choosing model's family scores (and a length-keyed model's length keys, computed
    from the smoothed embedding) are smoothed over :data:`FAMILY_SMOOTHING_SECONDS`, and the
    family in use is kept unless another beats it by :data:`FAMILY_SWITCH_MARGIN`.

Whole-piece palette
    The mean over windows of the music embedding and of the encoder memory (patch tokens,
    position by position) is decoded once; its emotion is the mean of the windows' emotions
    (:class:`EncodingSum`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

    from m2p.model.encoder import MusicEncoding

__all__ = [
    "FAMILY_SMOOTHING_SECONDS",
    "EMBEDDING_SMOOTHING_SECONDS",
    "FAMILY_SWITCH_MARGIN",
    "ScoreSmoother",
    "FamilyChoice",
    "EncodingSum",
    "finite_array",
]

#: Time constant, s, of the smoothing of a family-choosing model's family scores (and of a
#: length-keyed model's length keys) along a track: the palette family and length follow
#: changes of the music, not near-ties between neighbouring windows.
FAMILY_SMOOTHING_SECONDS = 7.5
#: Time constant, s, of the smoothing of the music embedding the decoder hears along a track:
#: the same music heard at another phase of the window (a loop, a steady groove) moved the
#: palette by up to 19 CIEDE2000 between neighbouring windows without it (docs/decisions.md).
EMBEDDING_SMOOTHING_SECONDS = 7.5
#: Margin, nats, by which another palette family's smoothed score must beat the family in use
#: before a track switches to it: near-ties flipped a looped excerpt between two families.
FAMILY_SWITCH_MARGIN = 0.2


class ScoreSmoother:
    """Exponential smoothing of per-window rows (B, K) (family scores, embeddings) over
    consecutive windows (causal); passes None through.

    Parameters
    ----------
    hop_seconds
        Time between consecutive windows.
    time_constant
        Seconds over which an old row's weight falls to 1/e.
    """

    def __init__(self, hop_seconds: float, time_constant: float = FAMILY_SMOOTHING_SECONDS) -> None:
        self.keep = math.exp(-hop_seconds / time_constant)
        self.total: "torch.Tensor | None" = None  # sum of keep**age * row
        self.weight = 0.0  # sum of keep**age

    def update(self, scores: "torch.Tensor | None") -> "torch.Tensor | None":
        """Each row replaced by the weighted mean of the rows so far, weight ``keep ** age``
        (normalised, so the first windows are not pulled toward the very first one)."""
        if scores is None:
            return None
        out = scores.clone()
        for i in range(scores.shape[0]):
            row = scores[i]
            self.total = row if self.total is None else self.keep * self.total + row
            self.weight = self.keep * self.weight + 1.0
            out[i] = self.total / self.weight
        return out


class FamilyChoice:
    """Smoothed family scores (B, K) along a track, with the family in use favoured by
    :data:`FAMILY_SWITCH_MARGIN` (hysteresis: the default palette's family changes when the
    music changes, not at every near-tie); passes None through."""

    def __init__(self, hop_seconds: float) -> None:
        self.smoother = ScoreSmoother(hop_seconds)
        self.current: int | None = None

    def update(self, scores: "torch.Tensor | None") -> "torch.Tensor | None":
        """The scores of the next windows, smoothed, the family in use raised by the margin."""
        smoothed = self.smoother.update(scores)
        if smoothed is None:
            return None
        for i in range(smoothed.shape[0]):
            if self.current is not None:
                smoothed[i, self.current] += FAMILY_SWITCH_MARGIN
            self.current = int(smoothed[i].argmax())
        return smoothed


class EncodingSum:
    """Running sums of embeddings, memories and emotions over windows (bounded memory)."""

    def __init__(self) -> None:
        self.count = 0
        self.embedding = self.memory = self.emotion = self.va = None

    def add(self, encoding: "MusicEncoding") -> None:
        """Add a batch of windows' encodings."""
        emb = encoding.embedding.sum(0)
        mem = encoding.memory.sum(0)
        emo = _finite_tensor(encoding.emotion).sum(0)
        va = _finite_tensor(encoding.valence_arousal).sum(0)
        if self.count == 0:
            self.embedding, self.memory, self.emotion, self.va = emb, mem, emo, va
        else:
            # Every window has the same length (only a lone short clip differs), so the
            # memories have the same number of patches and add position by position.
            self.embedding, self.memory = self.embedding + emb, self.memory + mem
            self.emotion, self.va = self.emotion + emo, self.va + va
        self.count += encoding.embedding.shape[0]

    def mean(self) -> "MusicEncoding":
        """The mean encoding of the windows so far (one row; at least one window added)."""
        from m2p.model.encoder import MusicEncoding

        emb = (self.embedding / self.count).unsqueeze(0)
        mem = (self.memory / self.count).unsqueeze(0)
        emotion = (self.emotion / self.count).unsqueeze(0)
        va = (self.va / self.count).unsqueeze(0)
        return MusicEncoding(
            embedding=emb, memory=mem, memory_mask=None, valence_arousal=va,
            emotion=emotion, emotion_logits=emotion.log(),
        )

    def mean_emotion(self) -> tuple[np.ndarray, np.ndarray]:
        """The mean emotion distribution (8,) and valence-arousal (2,), never NaN."""
        return (
            finite_array(self.emotion / self.count),
            finite_array(self.va / self.count),
        )


def finite_array(tensor: "torch.Tensor") -> np.ndarray:
    """``tensor`` as a float64 NumPy array with NaN and infinities replaced by 0."""
    array = tensor.detach().to("cpu").double().numpy()
    return np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)


def _finite_tensor(tensor: "torch.Tensor") -> "torch.Tensor":
    import torch

    return torch.nan_to_num(tensor.double(), nan=0.0, posinf=0.0, neginf=0.0)
