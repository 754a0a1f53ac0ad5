"""One way from what the user gave to a palette: a path, samples, a Palette or a PaletteTrack.

Every consumer of palettes (the Matplotlib and Altair adapters, video grading, recolouring,
LUT export, bar-chart races) resolves its ``source`` / ``music`` argument here, so

* the model runs at most once per audio content, arguments and process: audio goes through the
  content-hash cache of :mod:`m2p.cache`;
* a whole-piece palette is the cached palette track's ``overall`` (what :func:`m2p.palette`
  returns too), so ``m2p.palette``, ``m2p.style``, ``m2p.style(at=30)``, ``m2p grade`` and
  ``m2p recolor`` on one song run the model once;
* value types are recognised by type (``isinstance``), not by their attributes.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from m2p.errors import TrackError
from m2p.palette_types import Palette, PaletteTrack


def resolve_track(source: Any, **inference: Any) -> PaletteTrack:
    """The palette track of ``source``.

    Parameters
    ----------
    source
        A :class:`~m2p.palette_types.PaletteTrack` (returned as is), an audio path, or NumPy
        samples (pass ``sample_rate=``).
    **inference
        Keyword arguments of :func:`m2p.palette_track` (``seed``, ``model``, ``window``...),
        used for audio only.

    Raises
    ------
    TypeError
        ``source`` is none of those (a single :class:`~m2p.palette_types.Palette` has no time).
    """
    if isinstance(source, PaletteTrack):
        return source
    if _is_audio(source):
        from m2p import api  # torch only once audio is analysed

        return api.palette_track(source, **inference)
    raise TypeError(f"expected an audio path, NumPy samples or a PaletteTrack, "
                    f"got {type(source).__name__}")


def resolve_palette(source: Any, *, at: float | None = None, **inference: Any) -> Palette:
    """The palette of ``source``: the whole piece, or the one in force ``at`` seconds.

    Parameters
    ----------
    source
        A :class:`~m2p.palette_types.Palette`, a :class:`~m2p.palette_types.PaletteTrack`, an
        audio path or NumPy samples (pass ``sample_rate=``).
    at
        Seconds into the piece; ``None`` means the whole-piece palette. For audio, a time
        needs the palette track (computed once, cached).
    **inference
        Keyword arguments of :func:`m2p.palette` / :func:`m2p.palette_track`, audio only.

    Raises
    ------
    m2p.errors.TrackError
        ``at`` is outside ``[0, duration]``, not a number, or given with a single Palette.
    TypeError
        ``source`` is none of the accepted kinds.
    """
    if isinstance(source, Palette):
        if at is not None:
            raise TrackError(f"at={at!r} needs a PaletteTrack or an audio file, got one Palette")
        return source
    if isinstance(source, PaletteTrack):
        return source.overall if at is None else track_at(source, at)
    if _is_audio(source):
        from m2p import api  # torch only once audio is analysed

        track = api.palette_track(source, **inference)  # one model run for both, cached
        return track.overall if at is None else track_at(track, at)
    raise TypeError(f"expected an audio path, NumPy samples, a Palette or a PaletteTrack, "
                    f"got {type(source).__name__}")


def track_at(track: PaletteTrack, at: float) -> Palette:
    """``track.at(at)`` with a :class:`~m2p.errors.TrackError` naming the track's span outside it."""
    duration = float(track.duration)
    try:
        t = float(at)
    except (TypeError, ValueError):
        raise TrackError(f"at= must be a number of seconds, got {at!r}",
                         source=track.source) from None
    if not math.isfinite(t) or t < 0.0 or t > duration:
        raise TrackError(f"at={t:g} s is outside the track, which covers 0 to {duration:.3f} s",
                         source=track.source)
    return track.at(t)


def _is_audio(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike, np.ndarray))


__all__ = ["resolve_palette", "resolve_track", "track_at"]
