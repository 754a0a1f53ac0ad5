"""Plumbing shared by the built-in adapters: the palette a ``source`` argument stands for, and
the names they register it under. The colour science they use lives in :mod:`m2p.colour`
(:mod:`~m2p.colour.legibility` for chart colours, :mod:`~m2p.colour.ramps` for colormaps).

* :func:`palette_and_stem`: :func:`m2p.resolve.resolve_palette` plus a stem for names.
* :func:`readable_stem`: an identifier-like stem of any text.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np

from m2p import cache, resolve
from m2p.palette_types import Palette, PaletteTrack

INFERENCE_KEYS = frozenset({"device", "window", "hop", "noise", "batch_size", "sample_rate",
                            "progress"})
"""Keyword arguments that adapters pass through to :func:`m2p.palette` / ``palette_track``."""


def palette_and_stem(source: Any, *, at: float | None = None, model: Any = None, seed: int = 0,
                     **inference_kwargs: Any) -> tuple[Any, str]:
    """Turn an adapter's ``source`` argument into ``(Palette, stem)``.

    The palette comes from the core's one resolver, :func:`m2p.resolve.resolve_palette` (cached
    per audio content); this adds the stem the adapters name their colormaps and themes by.

    Parameters
    ----------
    source
        Audio path (str / PathLike), NumPy samples (pass ``sample_rate=``), a
        :class:`~m2p.palette_types.Palette` or a :class:`~m2p.palette_types.PaletteTrack`.
    at
        Seconds into the piece: the palette in force then. ``None`` uses the whole-piece palette.
    model, seed, **inference_kwargs
        Passed to :func:`m2p.palette` / :func:`m2p.palette_track` for audio inputs.

    Returns
    -------
    (Palette, str)
        The palette and a stable, identifier-like stem for colormap names
        (file stem, plus ``_t<seconds>`` when ``at`` is given).

    Raises
    ------
    m2p.errors.TrackError
        ``at`` is outside ``[0, duration]`` or given with a single Palette.
    """
    if isinstance(source, (str, os.PathLike, np.ndarray)):
        palette = resolve.resolve_palette(source, at=at, model=model, seed=seed,
                                          **inference_kwargs)
        if isinstance(source, np.ndarray):
            digest = cache.content_digest(
                source, sample_rate=inference_kwargs.get("sample_rate")) or ""
            stem = "array_" + digest.split(":")[-1][:8]
        else:
            stem = _stem_of(source) or "song"
    else:
        palette = resolve.resolve_palette(source, at=at)
        if isinstance(source, Palette):
            stem = "palette_" + _short_hash(",".join(source.hex))
        else:
            assert isinstance(source, PaletteTrack)
            stem = _stem_of(source.source) or "track_" + _short_hash(source.to_json())
    return palette, stem if at is None else stem + _at_suffix(at)


track_at = resolve.track_at
"""``track.at(at)`` with a clear :class:`~m2p.errors.TrackError` outside the track (the core's)."""


def _stem_of(source: Any) -> str | None:
    if source is None:
        return None
    try:
        name = Path(os.fspath(source)).stem
    except TypeError:
        return None
    return readable_stem(name)


def readable_stem(text: str) -> str | None:
    """An identifier-like stem of ``text``: accents folded to their letters (NFKD, so "Ünicode
    Çafé" is ``unicode_cafe``), other letters of any script kept, everything else ``_``."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    stem = re.sub(r"[\W_]+", "_", folded).strip("_").casefold()
    return stem or None


def _at_suffix(at: float) -> str:
    return "_t" + f"{float(at):g}".replace(".", "p").replace("-", "m")


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
