"""Music for a picture or a video: rank a library's tracks by how well they fit the footage.

>>> import m2p
>>> m2p.match("clip.mp4", "library.parquet", top=3)            # doctest: +SKIP
[Match(path='.../journeys_end.ogg', score=0.81, offset=42.5, ...), ...]

The footage is read as palettes over time: frames sampled ``fps`` times a second (a still
image is one frame), each reduced to its ``colors`` dominant colours
(:func:`.transfer.dominant_colors`), and each palette's colour emotion taken from the
palette colour-emotion model (:func:`m2p.colour.emotion.palette_valence_arousal`, after Ou et al.
2004). A track fits at an offset ``o`` (seconds into the music) by two measures averaged over
the frames, frame ``t`` meeting the music at ``o + t``:

* **emotion fit** ``1 - |va_footage - va_music| / (2 sqrt 2)``: distance in valence-arousal
  space, the plane in which the seed papers pair images and music (Kundu et al.; Wang et al.);
  the music's valence-arousal is the model's prediction for the window in force;
* **palette fit** ``1 - min(d, 50) / 50``, with ``d`` the symmetric mean nearest-colour
  CIEDE2000 between the frame's palette (weighted by pixel share) and a track palette; the
  mean of the fits to the palette of the window in force and to the whole-piece palette (what
  a user sees as "the track's colours"; a still picture is judged against both).

The score is ``emotion_weight * emotion fit + (1 - emotion_weight) * palette fit`` (in [0, 1];
``emotion_weight`` 0.25 by default, chosen by the rule in ``docs/decisions.md``),
maximised over offsets on the track's hop grid where the footage fits inside the music
(offset 0 when the footage is the longer).

**Hubness.** Some tracks fit many kinds of footage (a palette of greys and browns is near the
colours of most pictures); if one of them came first for most queries the answer would look
constant. ``docs/match_hubness.py`` counts how often each track comes first over real pictures
and clips: ranked by the score above, no track of a 50-track library was first for more than a
quarter of them, and on the query set the ranking was chosen on (apart from the one reported)
the hubness corrections tried (mutual proximity, Schnitzer et al. 2012; centring; CSLS) gave
their top track more first places, so the score itself ranks (``docs/decisions.md`` and
``docs/results.md``, issue 24).

References
----------
Schnitzer, D., Flexer, A., Schedl, M. and Widmer, G. (2012). Local and global scaling reduce
    hubs in space. Journal of Machine Learning Research 13, 2871-2902.
Radovanovic, M., Nanopoulos, A. and Ivanovic, M. (2010). Hubs in space: popular nearest
    neighbors in high-dimensional data. JMLR 11, 2487-2531.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2p.errors import InvalidArgumentError, VideoError

__all__ = ["Footage", "Match", "footage_palettes", "match", "IMAGE_SUFFIXES"]

#: Suffixes read as still images (anything else is opened as a video).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
#: Most frames read from a video (the sampling rate is lowered to fit).
MAX_FRAMES = 600
#: CIEDE2000 difference at which two palettes count as unrelated (palette fit 0).
PALETTE_SCALE = 50.0
# Most offsets tried per track (the hop grid is thinned beyond this).
_MAX_OFFSETS = 400
# Frames are shrunk to about this many pixels before their colours are counted.
_FRAME_PIXELS = 160_000
#: Default weight of the emotion fit against the palette fit (docs/decisions.md, "Match v2").
EMOTION_WEIGHT = 0.25
# Share of the whole-piece palette in a frame's palette fit (the rest: the window in force).
_WHOLE_PIECE_SHARE = 0.5


@dataclass(frozen=True)
class Match:
    """One library track's fit to the footage.

    Attributes
    ----------
    path
        The track's file.
    score
        Ranking score in [0, 1] (higher is better): ``emotion_weight * emotion_fit +
        (1 - emotion_weight) * palette_fit`` at the best offset.
    offset
        Seconds into the music where the footage fits best.
    emotion_fit, palette_fit
        The two measures at that offset, in [0, 1].
    mood
        The track's whole-piece mood.
    """

    path: str
    score: float
    offset: float
    emotion_fit: float
    palette_fit: float
    mood: str


@dataclass(frozen=True)
class Footage:
    """Palettes of footage over time.

    Attributes
    ----------
    times
        (F,) frame times in seconds from the start (0 for an image).
    lab
        (F, k, 3) dominant colours per frame, CIELAB.
    weights
        (F, k) pixel share of each colour (rows sum to 1).
    valence_arousal
        (F, 2) colour emotion of each frame's palette, in [-1, 1].
    duration
        Length in seconds (0 for an image).
    """

    times: np.ndarray
    lab: np.ndarray
    weights: np.ndarray
    valence_arousal: np.ndarray
    duration: float


def match(
    footage: str | os.PathLike[str] | np.ndarray | Footage,
    library: Any,
    *,
    top: int | None = 10,
    fps: float = 1.0,
    colors: int = 5,
    emotion_weight: float = EMOTION_WEIGHT,
) -> list[Match]:
    """Rank a library's tracks by how well they fit a picture or a video.

    Parameters
    ----------
    footage
        An image or video file, an image array ``(H, W, 3)`` (sRGB uint8 or float in [0, 1]),
        or :class:`Footage` from :func:`footage_palettes`.
    library
        A library table: a ``.parquet`` path (``m2p batch``), a ``pyarrow.Table``, or its rows
        (dicts). Error rows are left out.
    top
        How many matches to return (best first); None returns all.
    fps
        Video frames read per second of footage (> 0; at most :data:`MAX_FRAMES` in all).
    colors
        Dominant colours per frame (1 to 16).
    emotion_weight
        Weight of the emotion fit against the palette fit, in [0, 1].

    Returns
    -------
    list of Match
        Best first.

    Raises
    ------
    VideoError
        The footage cannot be read.
    InvalidArgumentError
        Bad options, or a library with no analysed track.
    """
    if not (isinstance(emotion_weight, (int, float)) and 0.0 <= emotion_weight <= 1.0):
        raise InvalidArgumentError(f"emotion_weight must be in [0, 1], got {emotion_weight!r}")
    if top is not None and (not isinstance(top, int) or isinstance(top, bool) or top < 1):
        raise InvalidArgumentError(f"top must be a positive integer or None, got {top!r}")
    rows = _usable_rows(library)  # the cheap check first
    shots = footage if isinstance(footage, Footage) else footage_palettes(footage, fps=fps, colors=colors)
    matches = [_fit(shots, row, emotion_weight) for row in rows]
    matches.sort(key=lambda m: (-m.score, m.path))
    return matches if top is None else matches[:top]


def _usable_rows(library: Any) -> list[dict[str, Any]]:
    """The library's analysed rows whose palettes and series can be used; the others are left
    out with one warning naming how many and the first (a NaN, empty or unreadable series)."""
    from m2p._internal.warn import warn
    from m2p.errors import M2PWarning

    rows = [r for r in _rows(library) if r.get("status") == "ok"]
    good, bad = [], []
    for row in rows:
        problem = _row_problem(row)
        (bad if problem else good).append((row, problem))
    if bad:
        row, problem = bad[0]
        where = f" ({os.fspath(library)})" if isinstance(library, (str, os.PathLike)) else ""
        message = (f"{len(bad)} library row{'s' if len(bad) > 1 else ''}{where} left out: "
                   f"{row.get('path')!r} {problem}")
        if not good:
            raise InvalidArgumentError(f"the library has no usable track: {message}")
        warn(message, M2PWarning)
    if not good and not bad:
        raise InvalidArgumentError("the library has no analysed track")
    return [row for row, _ in good]


def _row_problem(row: dict[str, Any]) -> str | None:
    """Why a library row cannot be matched, or ``None``."""
    try:
        track = json.loads(row["track"])
        times = np.asarray(track["times"], dtype=np.float64)
        windows = [np.asarray(p["lch"], dtype=np.float64).reshape(-1, 3) for p in track["palettes"]]
        float(track["duration"]), float(track["hop"])
        palette = np.asarray(row["palette_lch"], dtype=np.float64).reshape(-1, 3)
        valence = np.asarray(row["valence_t"], dtype=np.float64)
        arousal = np.asarray(row["arousal_t"], dtype=np.float64)
    except (KeyError, TypeError, ValueError) as exc:
        return f"has an unreadable track or series ({type(exc).__name__}: {str(exc)[:60]})"
    if not len(times) or len(windows) != len(times) or not len(palette):
        return "has an empty track or palette"
    if len(valence) != len(times) or len(arousal) != len(times):
        return "has a valence/arousal series of another length than its track"
    arrays = [times, palette, valence, arousal, *windows]
    if not all(np.isfinite(a).all() and a.size for a in arrays):
        return "has NaN or empty values in its track, palette or valence/arousal series"
    return None


def footage_palettes(footage: str | os.PathLike[str] | np.ndarray, *, fps: float = 1.0,
                     colors: int = 5) -> Footage:
    """The palettes and colour emotion of an image or a video over time (see :class:`Footage`)."""
    if not (isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0):
        raise InvalidArgumentError(f"fps must be a positive number, got {fps!r}")
    if not (isinstance(colors, int) and 1 <= colors <= 16):
        raise InvalidArgumentError(f"colors must be an integer from 1 to 16, got {colors!r}")
    if isinstance(footage, np.ndarray):
        return _from_frames([footage], np.zeros(1), 0.0, colors)
    path = Path(footage)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from m2p_plugins.video.recolor import read_image

        return _from_frames([read_image(path)], np.zeros(1), 0.0, colors)
    from m2p_plugins.video.media import close_quietly, open_video

    clip = open_video(path, audio=False)
    try:
        duration = float(clip.duration)
        step = max(1.0 / fps, duration / MAX_FRAMES)
        times = np.arange(0.0, duration, step)
        # The last frame sits a little before the end: MoviePy cannot read at the end itself.
        times = np.minimum(times, max(0.0, duration - 1.0 / float(clip.fps)))
        try:
            frames = [clip.get_frame(float(t)) for t in times]
        except Exception as exc:  # noqa: BLE001 - MoviePy raises many kinds on a bad stream
            raise VideoError(f"cannot read frames ({type(exc).__name__}: {exc})", source=path) from None
    finally:
        close_quietly(clip)
    return _from_frames(frames, times, duration, colors)


# ----------------------------------------------------------------------------------------------


def _from_frames(frames: Sequence[np.ndarray], times: np.ndarray, duration: float,
                 colors: int) -> Footage:
    import torch

    from m2p.colour.convert_np import lab_to_lch
    from m2p.colour.emotion import palette_valence_arousal
    from m2p_plugins.video.transfer import dominant_colors

    labs, weights = [], []
    for frame in frames:
        frame = np.asarray(frame)
        stride = max(1, int(math.sqrt(frame.shape[0] * frame.shape[1] / _FRAME_PIXELS)))
        lab, share = dominant_colors(frame[::stride, ::stride], colors)
        labs.append(lab)
        weights.append(share)
    lab = np.stack(labs)
    with torch.no_grad():
        va = palette_valence_arousal(torch.from_numpy(lab_to_lch(lab))).numpy()
    return Footage(times=np.asarray(times, dtype=np.float64), lab=lab, weights=np.stack(weights),
                   valence_arousal=va, duration=float(duration))


def _fit(shots: Footage, row: dict[str, Any], emotion_weight: float) -> Match:
    """The best offset of one track and its fits."""
    track = json.loads(row["track"])
    times = np.asarray(track["times"], dtype=np.float64)
    windows = [p["lch"] for p in track["palettes"]]
    fits = _palette_fits(shots, windows + [row["palette_lch"]])  # (F, W + 1)
    palette_fit = (1.0 - _WHOLE_PIECE_SHARE) * fits[:, :-1] + _WHOLE_PIECE_SHARE * fits[:, -1:]
    valence, arousal = np.asarray(row["valence_t"]), np.asarray(row["arousal_t"])
    offsets = _offsets(track["duration"], shots.duration, track["hop"])
    when = np.clip(offsets[:, None] + shots.times[None, :], 0.0, track["duration"])  # (O, F)
    music_va = np.stack([np.interp(when, times, valence), np.interp(when, times, arousal)], -1)
    gap = np.linalg.norm(music_va - shots.valence_arousal[None], axis=-1)
    emotion = 1.0 - gap / (2.0 * math.sqrt(2.0))  # (O, F)
    window = _nearest(times, when)  # (O, F) index of the window in force
    colour = palette_fit[np.arange(len(shots.times))[None, :], window]  # (O, F)
    score = emotion_weight * emotion.mean(1) + (1.0 - emotion_weight) * colour.mean(1)
    score = np.where(np.isfinite(score), score, -np.inf)  # never a NaN result
    best = int(np.argmax(score))
    value = float(score[best]) if np.isfinite(score[best]) else 0.0
    return Match(path=row["path"], score=value, offset=float(offsets[best]),
                 emotion_fit=float(np.nan_to_num(emotion[best].mean())),
                 palette_fit=float(np.nan_to_num(colour[best].mean())), mood=row["mood"])


def _palette_fits(shots: Footage, palettes: Sequence[Any]) -> np.ndarray:
    """(F, P) palette fit in [0, 1] of each frame to each CIELCh palette: ``1 - min(d, 50) / 50``
    with ``d`` the symmetric mean nearest-colour CIEDE2000 (frame colours weighted by pixel
    share)."""
    import torch

    from m2p.colour.convert import lch_to_lab
    from m2p.colour.difference import ciede2000
    from m2p.colour.emotion import pad_palettes

    lch, valid = pad_palettes(palettes)
    with torch.no_grad():
        music = lch_to_lab(torch.from_numpy(lch))  # (P, n, 3)
        frames = torch.from_numpy(shots.lab)  # (F, k, 3)
        d = ciede2000(frames[:, :, None, None, :], music[None, None, :, :, :]).numpy()  # (F,k,P,n)
    d = np.where(valid[None, None], d, np.inf)
    frame_to_music = (d.min(axis=3) * shots.weights[:, :, None]).sum(axis=1)  # (F, P)
    music_to_frame = np.where(valid[None], d.min(axis=1), 0.0).sum(axis=2) / valid.sum(1)[None]
    distance = (frame_to_music + music_to_frame) / 2.0
    return 1.0 - np.minimum(distance, PALETTE_SCALE) / PALETTE_SCALE


def _offsets(duration: float, footage: float, hop: float) -> np.ndarray:
    room = max(0.0, duration - footage)
    step = max(hop, room / _MAX_OFFSETS)
    return np.arange(0.0, room + 1e-9, step)


def _nearest(times: np.ndarray, when: np.ndarray) -> np.ndarray:
    right = np.clip(np.searchsorted(times, when), 1, len(times) - 1) if len(times) > 1 else np.zeros(
        when.shape, dtype=int)
    if len(times) == 1:
        return right
    left = right - 1
    return np.where(np.abs(when - times[left]) <= np.abs(times[right] - when), left, right)


def _rows(library: Any) -> list[dict[str, Any]]:
    """The library's rows, every analysed one checked (a bad table is one line naming its
    file, row and column: :func:`m2p.library.table.library_rows`)."""
    from m2p.library.table import library_rows

    return library_rows(library)