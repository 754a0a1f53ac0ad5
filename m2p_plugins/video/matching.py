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

**Hubness.** Some tracks fit almost any footage: a palette of greys and browns is near the
colours of most pictures, so one such track came first for most queries of a library and the
answer looked constant (``docs/results.md``, issue 24). Ranking therefore uses each track's fit
*relative to how well it fits footage in general* (mutual proximity with a Gaussian model,
Schnitzer et al. 2012): a fixed, seeded set of pictures' palettes as footage usually has them
(:func:`typical_footage`: mostly near-neutral colours at every lightness) is the reference
set; a track's raw scores against them give its mean ``mu`` and spread ``sigma``, and the
ranking score is ``Phi((raw - mu) / sigma)``, the share of typical footage the
query beats for that track (in [0, 1]). The raw score stays in :attr:`Match.raw_score`. A library
of fewer than :data:`MIN_REFERENCE` tracks is ranked by raw scores.

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
#: Fewest analysed tracks for the hubness correction (a track's spread needs references).
MIN_REFERENCE = 8
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
        Ranking score in [0, 1] (higher is better): the raw fit relative to the track's fit to
        typical footage (see the module docstring; the raw fit itself for a small library).
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
    raw_score: float = float("nan")
    """The fit before the hubness correction, in [0, 1]."""


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
    if len(rows) >= MIN_REFERENCE:
        reference = _reference(rows, emotion_weight)
        matches = [_relative(m, reference[m.path]) for m in matches]
    matches.sort(key=lambda m: (-m.score, -m.raw_score, m.path))
    return matches if top is None else matches[:top]


def _relative(match: Match, stats: tuple[float, float]) -> Match:
    """``match`` scored by mutual proximity: ``Phi((raw - mu) / sigma)``."""
    import dataclasses

    mean, spread = stats
    z = (match.score - mean) / spread
    return dataclasses.replace(match, score=0.5 * (1.0 + math.erf(z / math.sqrt(2.0))),
                               raw_score=match.score)


def _reference(rows: list[dict[str, Any]], emotion_weight: float) -> dict[str, tuple[float, float]]:
    """Each track's mean and spread of raw scores against :func:`typical_footage` (cached per
    library content)."""
    key = (tuple((r["path"], r.get("content_hash")) for r in rows), float(emotion_weight),
           _REFERENCE_KIND)
    found = _REFERENCE_CACHE.get(key)
    if found is not None:
        return found
    frames = typical_footage() if _REFERENCE_KIND == "typical" else _stills(rows)
    stats: dict[str, tuple[float, float]] = {}
    for row in rows:
        scores = still_scores(frames, row, emotion_weight)
        stats[row["path"]] = (float(scores.mean()), max(float(scores.std()), 1e-3))
    if len(_REFERENCE_CACHE) > 8:
        _REFERENCE_CACHE.clear()
    _REFERENCE_CACHE[key] = stats
    return stats


_REFERENCE_CACHE: dict[Any, dict[str, tuple[float, float]]] = {}
_REFERENCE_KIND = "typical"  # or "library": the library's own palettes (measured worse)
#: Pictures in the reference of typical footage, and their dominant colours each.
REFERENCE_FRAMES, REFERENCE_COLOURS = 96, 5
# Most windows of a track the reference reads (evenly spaced): its spread, not every window.
_REFERENCE_WINDOWS = 24


def typical_footage(frames: int = REFERENCE_FRAMES, colors: int = REFERENCE_COLOURS) -> Footage:
    """A fixed set of pictures' palettes as footage usually has them: each colour's L* uniform
    in [8, 92], its chroma exponential with mean 14 (most of a photograph is near-neutral),
    its hue uniform, shares from a flat Dirichlet; seeded, so every run uses the same set."""
    import torch

    from m2p.colour.convert_np import lab_to_lch, lch_to_lab
    from m2p.colour.emotion import palette_valence_arousal
    from m2p.colour.gamut import gamut_map_lch

    rng = np.random.default_rng(20240)
    lch = np.stack([rng.uniform(8.0, 92.0, (frames, colors)),
                    rng.exponential(14.0, (frames, colors)),
                    rng.uniform(0.0, 360.0, (frames, colors))], axis=-1)
    lab = lch_to_lab(gamut_map_lch(lch.reshape(-1, 3))).reshape(frames, colors, 3)
    with torch.no_grad():
        va = palette_valence_arousal(torch.from_numpy(lab_to_lch(lab))).numpy()
    return Footage(times=np.zeros(frames), lab=lab, weights=rng.dirichlet(np.ones(colors), frames),
                   valence_arousal=va, duration=0.0)


def still_scores(frames: Footage, row: dict[str, Any], emotion_weight: float) -> np.ndarray:
    """(F,) the raw score of each frame of ``frames`` read as a still picture against a
    library row: the best window, as :func:`match` scores a still (vectorised over frames)."""
    track = json.loads(row["track"])
    keep = np.unique(np.linspace(0, len(track["palettes"]) - 1, _REFERENCE_WINDOWS).astype(int))
    windows = [track["palettes"][i]["lch"] for i in keep]
    fits = _palette_fits(frames, windows + [row["palette_lch"]])  # (F, W + 1)
    palette_fit = (1.0 - _WHOLE_PIECE_SHARE) * fits[:, :-1] + _WHOLE_PIECE_SHARE * fits[:, -1:]
    music = np.stack([np.asarray(row["valence_t"])[keep], np.asarray(row["arousal_t"])[keep]],
                     -1)  # (W, 2)
    gap = np.linalg.norm(frames.valence_arousal[:, None, :] - music[None], axis=-1)
    emotion = 1.0 - gap / (2.0 * math.sqrt(2.0))
    score = emotion_weight * emotion + (1.0 - emotion_weight) * palette_fit
    return score.max(axis=1)


def _stills(rows: list[dict[str, Any]]) -> Footage:
    """The library's whole-piece palettes as still pictures (equal shares of their colours)."""
    import torch

    from m2p.colour.convert_np import lch_to_lab
    from m2p.colour.emotion import pad_palettes, palette_valence_arousal

    lch, valid = pad_palettes([r["palette_lch"] for r in rows])
    lch = np.where(valid[..., None], lch, lch[:, :1])
    with torch.no_grad():
        va = palette_valence_arousal(torch.from_numpy(np.asarray(lch))).numpy()
    weights = valid / valid.sum(axis=1, keepdims=True)
    return Footage(times=np.zeros(len(rows)), lab=lch_to_lab(lch), weights=weights,
                   valence_arousal=va, duration=0.0)


def _usable_rows(library: Any) -> list[dict[str, Any]]:
    """The library's analysed rows whose palettes and series can be used; the others are left
    out with one warning naming how many and the first (a NaN, empty or unreadable series)."""
    import warnings

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
        warnings.warn(message, M2PWarning, stacklevel=3)
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
                 palette_fit=float(np.nan_to_num(colour[best].mean())), mood=row["mood"],
                 raw_score=value)


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