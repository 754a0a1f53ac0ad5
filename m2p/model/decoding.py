"""The one decode policy: from a music encoding and the caller's seeds to gamut-mapped palettes.

Every palette m2p hands out (a track's windows, a whole piece, ``palettes(n)``) is decoded by
:meth:`DecodePlan.decode`, in five steps:

1. per seed, once per call: a Gaussian noise vector (plus, for seed-centred mixture models, a
   centre) and a stop quantile, drawn on the CPU from the seed
   (:meth:`~m2p.model.network.Music2Palette.noise_for`,
   :meth:`~m2p.model.network.Music2Palette.stop_quantiles`);
2. per embedding row: how characteristic each palette family is of the music
   (:meth:`~m2p.model.network.Music2Palette.component_scores`), passed through the caller's
   ``family_filter`` (a track smooths them and keeps its family through near-ties);
3. per (row, seed): the centre of the family the seed's alternative number picks, added to
   the seed's noise (:meth:`~m2p.model.network.Music2Palette.music_offsets`);
4. per (row, seed): the seed's stop quantile moved by the row's length key
   (:meth:`~m2p.model.network.Music2Palette.length_keys`,
   :meth:`~m2p.model.network.Music2Palette.keyed_quantiles`);
5. generate from ``embedding + noise`` with that quantile, gamut-map into sRGB, never NaN.

:class:`DecodingOptions` holds what the caller chooses (seeds, noise, alternatives), as
Whisper's ``DecodingOptions`` does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from m2p.model.encoder import MusicEncoding

if TYPE_CHECKING:
    from m2p.model.network import Music2Palette

__all__ = ["DecodingOptions", "DecodePlan", "alternative_numbers", "ROWS_PER_CALL"]

#: Rows a whole-piece decode runs per model call (``palettes(n)`` for any ``n`` in bounded
#: memory); every call is this full, padded if need be (see :meth:`DecodePlan.decode`).
ROWS_PER_CALL = 64
# Mid grey, substituted by the never-NaN guard for a colour the decoder failed to produce.
_GREY = (50.0, 0.0, 0.0)


@dataclass(frozen=True)
class DecodingOptions:
    """What a caller chooses about decoding.

    Attributes
    ----------
    seeds
        One or more seeds; each gets its own noise vector and stop quantile.
    noise_scale
        Standard deviation of the embedding noise (0 = deterministic, seeds irrelevant).
    alternatives
        For a family-choosing model, the alternative number of each seed (0 = the family most
        characteristic of the music); None: the seeds themselves. All 0 when ``noise_scale``
        is 0 (:func:`alternative_numbers`).
    """

    seeds: tuple[int, ...] = (0,)
    noise_scale: float = 0.0
    alternatives: tuple[int, ...] | None = None


def alternative_numbers(seeds: Sequence[int], noise_scale: float,
                        alternatives: Sequence[int] | None = None) -> list[int]:
    """The alternative number of each seed for a family-choosing model
    (``Music2Palette.music_offsets``): ``alternatives``, by default the seeds themselves, and
    0 for every seed when ``noise_scale`` is 0, because noise 0 is deterministic (the family
    most characteristic of the music, whatever the seed).
    """
    if not noise_scale > 0:
        return [0] * len(seeds)
    return [int(a) for a in (seeds if alternatives is None else alternatives)]


FamilyFilter = Callable[["torch.Tensor | None"], "torch.Tensor | None"]


class DecodePlan:
    """The decode policy for one call: the seeds' draws (step 1) made once, then
    :meth:`decode` for each batch of encodings.

    Parameters
    ----------
    model
        The network (in eval mode, under ``torch.inference_mode()`` while decoding).
    options
        Seeds, noise and alternatives.
    device
        Where the draws are kept (the model's device).
    """

    def __init__(self, model: "Music2Palette", options: DecodingOptions,
                 device: torch.device) -> None:
        self.model = model
        seeds = [int(s) for s in options.seeds]
        noise_scale = float(options.noise_scale)
        # One noise vector per seed, shared by every window (a steady passage keeps its palette).
        with torch.no_grad():
            self.noise = model.noise_for(seeds, noise_scale).to(device)  # (S, d)
        self.quantile = model.stop_quantiles(seeds, noise_scale).to(device)  # (S,)
        self.alternatives = alternative_numbers(seeds, noise_scale, options.alternatives)

    def decode(self, encoding: MusicEncoding, *, seeds: slice = slice(None),
               family_filter: FamilyFilter | None = None,
               rows_per_call: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Palettes for every (embedding row, seed) pair, rows first (steps 2 to 5).

        Parameters
        ----------
        encoding
            B rows (windows, or the one whole-piece mean).
        seeds
            Which of the plan's seeds (default all, S of them).
        family_filter
            Applied to the family scores (B, K) (or None) before the choice: a track's
            smoothing and hysteresis.
        rows_per_call
            Decode in model calls of exactly this many rows, the last padded by repeating its
            last row: the float rounding of the decoder's matrix products depends on the
            batch size, and a row's palette must not depend on how many rows there are
            (``palettes(n=6)[:5]`` equals ``palettes(n=5)``). None: one call.

        Returns
        -------
        lch, lengths
            float64 ``(B * S, max_colors, 3)`` CIELCh, gamut-mapped into sRGB, pair
            ``(b, s)`` at ``b * S + s``; int ``(B * S,)`` palette lengths.
        """
        model = self.model
        noise, quantile = self.noise[seeds], self.quantile[seeds]
        alternatives = self.alternatives[seeds]
        embedding = encoding.embedding
        scores = model.component_scores(embedding)  # 2
        if family_filter is not None:
            scores = family_filter(scores)
        offsets = model.music_offsets(scores, alternatives)  # 3: (B or 1, S, d)
        keys = model.length_keys(embedding)  # 4: (B,) or None
        b, s, d = embedding.shape[0], noise.shape[0], noise.shape[1]
        rows_noise = (noise.unsqueeze(0) + offsets).expand(b, s, d).reshape(b * s, d)
        row_keys = None if keys is None else keys.unsqueeze(1).expand(b, s)
        rows_quantile = model.keyed_quantiles(quantile.unsqueeze(0).expand(b, s), row_keys)
        rows_quantile = rows_quantile.expand(b, s).reshape(b * s)
        n = b * s
        per_call = n if rows_per_call is None else int(rows_per_call)
        lch_parts, length_parts = [], []
        for start in range(0, n, per_call):
            index = torch.arange(start, min(start + per_call, n))
            k = len(index)
            if k < per_call:
                index = torch.cat([index, index[-1:].expand(per_call - k)])
            lch, lengths = self._generate(_rows(encoding, index, s, n), rows_noise[index],
                                          rows_quantile[index])  # 5
            lch_parts.append(lch[:k])
            length_parts.append(lengths[:k])
        return np.concatenate(lch_parts), np.concatenate(length_parts)

    def _generate(self, encoding: MusicEncoding, noise: torch.Tensor, quantile: torch.Tensor
                  ) -> tuple[np.ndarray, np.ndarray]:
        """Step 5 for rows (N,): generate from the noisy embeddings, gamut-mapped LCh."""
        from m2p.colour.gamut import gamut_map_lch

        embedding = encoding.embedding
        noisy = dataclasses.replace(encoding, embedding=embedding + noise.to(embedding.dtype))
        lch, lengths = self.model.generate(noisy, noise_scale=0.0, stop_quantile=quantile)
        lch = gamut_map_lch(lch.to(torch.float64)).cpu().numpy()
        bad = ~np.isfinite(lch).all(axis=-1)
        if bad.any():  # guard only: never hand out NaN
            lch[bad] = _GREY
        return lch, lengths.cpu().numpy()


def _rows(encoding: MusicEncoding, index: torch.Tensor, seeds: int, n: int) -> MusicEncoding:
    """The encoding rows of the (row, seed) pairs ``index`` (pair ``i`` is row ``i // seeds``)."""
    batch = index.shape[0]
    if encoding.embedding.shape[0] == 1:  # one row for every pair: a view, no copy
        mask = encoding.memory_mask
        return dataclasses.replace(
            encoding, embedding=encoding.embedding.expand(batch, -1),
            memory=encoding.memory.expand(batch, -1, -1),
            memory_mask=None if mask is None else mask.expand(batch, -1))
    if seeds == 1 and batch == n and bool((index == torch.arange(n)).all()):
        return encoding  # every row once, in order
    return encoding.select((index // seeds).to(encoding.embedding.device))
