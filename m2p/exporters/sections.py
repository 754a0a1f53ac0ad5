"""Sections of a palette track: split the song where its palette changes most.

``m2p export --sections`` writes one palette or LUT per section. The rule, in two parts:

*Where.* Every boundary between two neighbouring windows gets a change score: the order-free
CIEDE2000 distance (:func:`palette_change`) between the palettes ``k`` windows before and ``k``
windows after it, averaged over ``k = 1 .. lag`` with ``lag = round(window / (2 hop))`` (at
least 1). Overlapping windows spread one change of the music over several hops; the larger
lags see it whole, and the average peaks at the boundary nearest the change (a checkerboard
novelty along the diagonal, after Foote 2000, on palettes). Boundaries are taken
greedily, largest score first (equal scores: nearest an even split of the song first),
skipping any closer than ``min_length`` seconds to the start, the end or a boundary already
taken.

*How many.* ``n`` sections when asked (fewer when the spacing rule leaves no room: a short
track cannot hold eight sections of one window each). ``"auto"``: one section per
:data:`AUTO_SECONDS` of music, from 2 to :data:`AUTO_MAX`, and only at boundaries whose change
is at least :data:`AUTO_MIN_CHANGE` (palettes that close look the same, so a cut there would
only repeat the palette); then neighbouring sections whose palettes are closer than
:data:`MERGE_CHANGE` are merged, closest pair first (the change score is local, so three
cuts in a slow drift can leave sections whose own palettes look the same). ``min_length`` defaults to the larger of one analysis window (a
shorter section has no palette of its own) and half the mean section length (sections do not
crowd).

Each section's palette is the summary of the windows whose centres fall inside it (the same
per-slot CIELAB mean as a track's whole-piece palette), or the track at the section's middle
when no centre falls inside.

*A track with a rhythm* (``track.rhythm``, issue 26) is cut at the sections found in the music
itself (:mod:`m2p.rhythm.sections`: where its timbre and harmony change, on a downbeat) instead,
and neighbouring sections whose palettes are near-identical (a change under
:data:`MERGE_CHANGE`) are merged, most alike first: a song whose verse and chorus keep one
palette gets one section for them, not two files of the same colours. ``"auto"`` merges until
every neighbouring pair differs by at least :data:`MERGE_CHANGE` and at most :data:`AUTO_MAX`
sections remain; a number ``n`` merges the most alike neighbours until ``n`` remain. When the
music has fewer sections than asked (``n``, or fewer than two for ``"auto"``: a short or
uniform piece), the palette-change rule above cuts instead, as for a track without a rhythm.

References
----------
J. Foote (2000). Automatic audio segmentation using a measure of audio novelty. *Proc. IEEE
International Conference on Multimedia and Expo (ICME)*, 452-455.
G. Sharma, W. Wu, E. N. Dalal (2005). The CIEDE2000 color-difference formula: implementation
notes, supplementary test data, and mathematical observations. *Color Research & Application*
30(1), 21-30.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from m2p._internal.warn import warn
from m2p.errors import InvalidArgumentError
from m2p.palette_types import Palette, PaletteTrack

AUTO_SECONDS = 30.0
"""Seconds of music per section with ``n="auto"`` (about a verse or a chorus of a song)."""

AUTO_MAX = 8
"""Most sections ``n="auto"`` makes (and the largest ``n`` the command line accepts is 64)."""

AUTO_MIN_CHANGE = 2.0
"""Smallest change score (CIEDE2000) at which ``n="auto"`` cuts. A design choice, not a
published threshold: at an average of 2 units per colour two palettes shown side by side
read as the same palette, so a cut there would only repeat it."""

MAX_SECTIONS = 64
"""Largest ``n`` accepted."""

MERGE_CHANGE = 5.0
"""``n="auto"`` merges neighbouring sections whose palettes are closer than this (order-free
CIEDE2000, :func:`palette_change`), whether the cuts come from the palette or from the music.
A design choice: two 5-colour palettes in separate files, each colour within about 5 units of
its nearest in the other, are seen as the same palette (differences under 5 are visible only
side by side); the user asked for sections that differ. An explicit ``n`` is kept as asked."""


@dataclass(frozen=True)
class Section:
    """One section of a palette track.

    Attributes
    ----------
    index
        1-based position in the song.
    start, end
        Seconds; sections tile ``[0, duration]``.
    palette
        The section's palette.
    change
        Change score (CIEDE2000) of the boundary that starts the section; 0 for the first.
    """

    index: int
    start: float
    end: float
    palette: Palette
    change: float

    @property
    def label(self) -> str:
        """``"0:00-0:32"``: the span as minutes and seconds (for names in exported files)."""
        return f"{_clock(self.start)}-{_clock(self.end)}"


def track_sections(track: PaletteTrack, n: int | Literal["auto"] = "auto", *,
                   min_length: float | None = None) -> list[Section]:
    """Split a palette track into sections at its largest palette changes.

    Parameters
    ----------
    track
        The palette track.
    n
        Number of sections wanted (1 to :data:`MAX_SECTIONS`), or ``"auto"`` (see the module
        docstring).
    min_length
        Shortest section in seconds; default ``max(track.window, duration / (2 n))``.

    Returns
    -------
    list of Section
        In time order, tiling ``[0, track.duration]``; at most ``n`` (a ``UserWarning`` says
        when fewer than an explicit ``n`` fit).

    Raises
    ------
    m2p.errors.InvalidArgumentError
        ``n`` or ``min_length`` out of range.
    """
    duration = float(track.duration)
    if n == "auto":
        wanted = int(np.clip(round(duration / AUTO_SECONDS), 2, AUTO_MAX))
        floor = AUTO_MIN_CHANGE
    elif isinstance(n, (int, np.integer)) and not isinstance(n, bool) and 1 <= n <= MAX_SECTIONS:
        wanted, floor = int(n), 0.0
    else:
        raise InvalidArgumentError(f"sections must be 'auto' or a whole number from 1 to "
                                   f"{MAX_SECTIONS}, got {n!r}")
    if min_length is None:
        min_length = max(float(track.window), duration / (2 * wanted))
    elif not (isinstance(min_length, (int, float)) and math.isfinite(min_length)
              and min_length > 0):
        raise InvalidArgumentError(f"min_length must be a positive number of seconds, "
                                   f"got {min_length!r}")
    rhythm = getattr(track, "rhythm", None)
    if rhythm is not None and len(rhythm.sections) + 1 >= (2 if n == "auto" else wanted):
        return _music_sections(track, None if n == "auto" else wanted)
    times, scores = change_scores(track)
    # Equal scores (a flat stretch) are broken toward an even split of the song.
    even = duration * np.arange(1, wanted) / wanted
    off_even = np.abs(times[:, None] - even[None, :]).min(axis=1) if wanted > 1 else times * 0
    cuts: list[float] = []
    for k in np.lexsort((off_even, -np.round(scores, 9))):
        if len(cuts) == wanted - 1 or scores[k] < floor:
            break
        t = float(times[k])
        if min(t, duration - t) < min_length or any(abs(t - c) < min_length for c in cuts):
            continue
        cuts.append(t)
    score_at = dict(zip(times.tolist(), scores.tolist()))
    edges = [0.0, *sorted(cuts), duration]
    if n != "auto" and len(edges) - 1 < wanted:  # asked for more than fit: say so, never silently
        warn(f"{wanted} sections were asked for; {len(edges) - 1} fit in {duration:.4g} s of "
             f"music (each at least {min_length:.4g} s long)")
    palettes = [_span_palette(track, a, b) for a, b in zip(edges[:-1], edges[1:])]
    if n == "auto":  # near-identical neighbours: one section
        _merge_alike(track, edges, palettes, limit=len(palettes), floor=MERGE_CHANGE)
    return [Section(index=i + 1, start=a, end=b, palette=palette,
                    change=float(score_at.get(a, 0.0)) if i else 0.0)
            for i, (a, b, palette) in enumerate(zip(edges[:-1], edges[1:], palettes))]


def change_scores(track: PaletteTrack) -> tuple[np.ndarray, np.ndarray]:
    """The change score of every boundary between neighbouring windows.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``(T - 1,)`` boundary times (midpoints between window centres, seconds) and their
        scores (CIEDE2000, see the module docstring); both empty for a one-window track.
    """
    count = len(track)
    lag = max(1, round(track.window / (2.0 * track.hop)))
    lch = [p.lch for p in track.palettes]
    times = (track.times[:-1] + track.times[1:]) / 2.0
    # Boundary i lies between windows i - 1 and i; lag k compares windows i - k and i - 1 + k.
    scores = np.array([np.mean([palette_change(lch[max(0, i - k)], lch[min(count - 1, i - 1 + k)])
                                for k in range(1, lag + 1)])
                       for i in range(1, count)], dtype=np.float64)
    return np.asarray(times, dtype=np.float64), scores


def palette_change(lch_a: np.ndarray, lch_b: np.ndarray) -> float:
    """Order-free distance of two palettes: each colour to its nearest in the other palette,
    CIEDE2000, averaged both ways (so palettes of different lengths compare fairly)."""
    from m2p.colour.difference import ciede2000_matrix

    d = ciede2000_matrix(lch_a, lch_b)
    return float(0.5 * (d.min(axis=1).mean() + d.min(axis=0).mean()))


def _music_sections(track: PaletteTrack, wanted: int | None) -> list[Section]:
    """Sections at the music's own boundaries, near-identical neighbours merged (see the
    module docstring); ``wanted`` None: ``"auto"``."""
    duration = float(track.duration)
    edges = [0.0, *(float(t) for t in track.rhythm.sections), duration]
    palettes = [_span_palette(track, a, b) for a, b in zip(edges[:-1], edges[1:])]
    changes = _merge_alike(track, edges, palettes, limit=AUTO_MAX if wanted is None else wanted,
                           floor=MERGE_CHANGE if wanted is None else 0.0)
    return [Section(index=i + 1, start=a, end=b, palette=palettes[i],
                    change=changes[i - 1] if i else 0.0)
            for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))]


def _merge_alike(track: PaletteTrack, edges: list[float], palettes: list[Palette], *,
                 limit: int, floor: float) -> list[float]:
    """Merge the most alike neighbouring sections (in place) while more than ``limit`` remain
    or the most alike pair differs by less than ``floor``; returns the changes between the
    sections left."""
    changes = [palette_change(a.lch, b.lch) for a, b in zip(palettes[:-1], palettes[1:])]
    while changes:
        k = int(np.argmin(changes))  # the most alike neighbours: sections k and k + 1
        if len(palettes) <= limit and changes[k] >= floor:
            break
        del edges[k + 1]
        palettes[k:k + 2] = [_span_palette(track, edges[k], edges[k + 1])]
        changes = [palette_change(a.lch, b.lch) for a, b in zip(palettes[:-1], palettes[1:])]
    return changes


def _span_palette(track: PaletteTrack, start: float, end: float) -> Palette:
    inside = [i for i, t in enumerate(track.times) if start <= t < end or (t == end == track.duration)]
    if not inside:
        return track.at(0.5 * (start + end))
    if len(inside) == len(track):
        return track.overall
    part = PaletteTrack([track.times[i] for i in inside], [track.palettes[i] for i in inside],
                        window=track.window, hop=track.hop, duration=track.duration)
    return part.overall


def _clock(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


__all__ = ["AUTO_MAX", "AUTO_MIN_CHANGE", "AUTO_SECONDS", "MAX_SECTIONS", "MERGE_CHANGE", "Section",
           "change_scores", "palette_change", "track_sections"]
