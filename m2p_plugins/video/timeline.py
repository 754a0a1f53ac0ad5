"""A grade that changes with the music: 3-D LUT keyframes at the palette-track windows.

:func:`lut_track` turns a :class:`m2p.palette_types.PaletteTrack` and the footage's source palette into
a :class:`LutTrack`: one LUT per window centre (palette transfer, :mod:`.transfer`), smoothed in
time with a Gaussian over keyframes, and evaluated at any time by linear interpolation *of the
LUTs* (never of frames). :class:`FrameGrader` applies it to uint8 frames: on the CPU through
expanded 8-bit tables (one gather per pixel, :class:`.lut.ExpandedLutPair`), on CUDA through
:func:`.lut.apply_lut_torch`.

Music shorter than the video: ``music_end="hold"`` (default) keeps the last palette's grade
to the end; ``"loop"`` starts the music's palette track again (time modulo the music's length).
A song started partway (``start``, ``m2p grade --music-start``) is read from there: video time
``t`` uses music time ``start + t``, and a loop goes back to ``start``.

On the music's clock (``sync="beat"|"downbeat"|"section"``, ``m2p grade --sync``): one LUT per
span between consecutive events (the palette ``track.at(t, sync=...)`` holds there), each held
until the next event (``LutTrack(steps=True)``), so the grade changes only at the events.

Shots: :func:`hold_between` turns a :class:`LutTrack` into one, in video time, that changes only
at given times (the footage's cuts, :mod:`.shots`): a short shot holds one grade, a long one
glides linearly between grades at least :data:`GLIDE_SECONDS` apart, and the grade may jump only
at a change time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from m2p.errors import InvalidArgumentError
from m2p_plugins.video.lut import DEFAULT_SIZE, ExpandedLutPair, apply_lut, expand_lut
from m2p_plugins.video.transfer import (
    match_palettes,
    palette_lab,
    tone_direction,
    transfer_lut,
)

MusicEnd = Literal["hold", "loop"]

DIRECT_PIXELS = 320 * 240
"""Frames smaller than this are graded by direct trilinear interpolation, larger ones through
expanded 8-bit tables (expanding costs about as much as interpolating half a million pixels)."""

DEFAULT_SMOOTHING = 1.0
"""Gaussian standard deviation, in seconds, of the temporal smoothing of LUT keyframes."""

GLIDE_SECONDS = 4.0
"""Within a shot the grade glides linearly between anchors at least this far apart (and a shot
shorter than this holds one grade): about three times slower than the music's own keyframes, so
a change inside a shot reads as a slow drift, never a jump."""

_STEP = 1e-4  # seconds between the two keyframes of a change: far less than a frame


@dataclass(frozen=True, eq=False)
class LutTrack:
    """LUT keyframes over time.

    Attributes
    ----------
    times
        ``(K,)`` keyframe times in seconds (the palette windows' centres), increasing.
    luts
        ``(K, N, N, N, 3)`` float32 LUTs (see :mod:`.lut`).
    duration
        Length of the music in seconds (used by ``music_end="loop"``).
    music_end
        ``"hold"``: before the first / after the last keyframe the nearest LUT holds, and past
        the end of the music the last grade holds. ``"loop"``: the music from ``start`` to
        ``duration`` repeats.
    start
        Music time, in seconds, at video time 0 (``0 <= start < duration``).
    steps
        Each keyframe holds from its time until the next one's (a grade on the music's clock)
        instead of interpolating between them.
    ids
        ``(K,)`` for each keyframe the first keyframe with an equal LUT (set on creation).
    """

    times: np.ndarray
    luts: np.ndarray
    duration: float
    music_end: MusicEnd = "hold"
    start: float = 0.0
    steps: bool = False
    ids: np.ndarray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        luts = np.asarray(self.luts, dtype=np.float32)
        if luts.ndim != 5 or luts.shape[0] != times.size or times.size == 0:
            raise InvalidArgumentError(f"need (K, N, N, N, 3) LUTs for K times, got "
                                       f"{luts.shape} for {times.size} times")
        if np.any(np.diff(times) <= 0):
            raise InvalidArgumentError("keyframe times must be strictly increasing")
        if self.music_end not in ("hold", "loop"):
            raise InvalidArgumentError(
                f"music_end must be 'hold' or 'loop', got {self.music_end!r}")
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "luts", luts)
        object.__setattr__(self, "duration", float(self.duration))
        start = float(self.start)
        if not (math.isfinite(start) and 0.0 <= start and (start < self.duration or start == 0)):
            raise InvalidArgumentError(f"start must be from 0 to the music's {self.duration:g} s, "
                                       f"got {self.start!r}")
        object.__setattr__(self, "start", start)
        ids, seen = [], {}
        for k in range(luts.shape[0]):  # equal LUTs share one expanded table when grading
            ids.append(seen.setdefault(luts[k].tobytes(), k))
        object.__setattr__(self, "ids", np.asarray(ids, dtype=np.int64))

    @property
    def size(self) -> int:
        """LUT nodes per axis."""
        return int(self.luts.shape[1])

    def local_time(self, t: float) -> float:
        """Music time used for video time ``t`` (seconds) under :attr:`music_end`."""
        t = float(t)
        if self.music_end == "loop" and self.duration > self.start:
            return self.start + t % (self.duration - self.start)
        return self.start + t

    def segment(self, t: float) -> tuple[int, int, float]:
        """Keyframes around ``t`` and the blend weight: LUT(t) = (1 - a) LUT[i] + a LUT[j]."""
        u = self.local_time(t)
        k = self.times.size
        j = int(np.searchsorted(self.times, u, side="right"))
        if self.steps:  # the keyframe at or before u holds until the next
            return max(j - 1, 0), max(j - 1, 0), 0.0
        if j == 0:
            return 0, 0, 0.0
        if j >= k:
            return k - 1, k - 1, 0.0
        i = j - 1
        a = (u - self.times[i]) / (self.times[j] - self.times[i])
        return i, j, float(np.clip(a, 0.0, 1.0))

    def at(self, t: float) -> np.ndarray:
        """The LUT in force at ``t`` seconds, ``(N, N, N, 3)`` float32."""
        i, j, a = self.segment(t)
        if i == j or a == 0.0 or self.ids[i] == self.ids[j]:
            return self.luts[i]
        return (1.0 - a) * self.luts[i] + a * self.luts[j]

    def max_step(self, fps: float) -> float:
        """Largest change of any LUT entry between consecutive frames, in 8-bit code values."""
        if self.times.size < 2:
            return 0.0
        if self.steps:  # a held grade changes at once: the whole jump lands on one frame
            return float(np.abs(np.diff(self.luts, axis=0)).max() * 255.0)
        diffs = np.abs(np.diff(self.luts, axis=0)).reshape(self.times.size - 1, -1).max(1)
        return float((diffs * 255.0 / (np.diff(self.times) * fps)).max())


def lut_track(track: Any, source_lab: np.ndarray, *, strength: float = 0.6,
              size: int = DEFAULT_SIZE, smoothing: float = DEFAULT_SMOOTHING,
              music_end: MusicEnd = "hold", luminance: float = 0.5, skin: float = 0.8,
              start: float = 0.0, needed: tuple[float, float] | None = None,
              sync: str | None = None, sample: Any = None) -> LutTrack:
    """Build the keyframe LUTs that grade footage (source palette) toward a palette track.

    Parameters
    ----------
    track
        :class:`m2p.palette_types.PaletteTrack` (``.times``, ``.palettes``, ``.duration``), or a single
        :class:`m2p.palette_types.Palette` (a constant grade).
    source_lab
        ``(k, 3)`` CIELAB dominant colours of the footage (:func:`.transfer.dominant_colors`).
    strength, size, luminance, skin
        See :func:`.transfer.transfer_lut`: each keyframe's transfer is scaled so that the
        footage moves by the same perceptual amount (:func:`.transfer.perceptual_levers`;
        one tone direction serves all the keyframes built).
    sample
        The footage's colours, ``(lab, weight)`` of :func:`.transfer.color_sample` (default: the
        source palette).
    smoothing
        Gaussian standard deviation in seconds applied across keyframes (0 disables).
    music_end, start
        ``"hold"`` or ``"loop"``, and the music time at video time 0 (s); see :class:`LutTrack`.
    needed
        ``(first, last)`` music times, in seconds, the video will read: keyframes farther out
        than eight ``smoothing`` widths and one keyframe are not built (a 10 s clip from a
        4-minute song builds a handful of LUTs, not a hundred, at about 0.3 s each).
    sync
        ``"beat"``, ``"downbeat"`` or ``"section"``: hold one grade from each such event of
        ``track.rhythm`` to the next (the palette of :meth:`~m2p.palette_types.PaletteTrack.at`
        with that ``sync``), changing only at the events; ``smoothing`` is not applied. None
        (default): keyframes at the windows, smoothed and interpolated.

    Returns
    -------
    LutTrack
    """
    if hasattr(track, "palettes"):
        times = np.asarray(track.times, dtype=np.float64)
        palettes = list(track.palettes)
        duration = float(track.duration)
    else:
        times, palettes, duration = np.zeros(1), [track], 1.0
    if sync is not None and hasattr(track, "palettes"):
        return _synced_lut_track(track, source_lab, sync, strength=strength, size=size,
                                 music_end=music_end, luminance=luminance, skin=skin,
                                 start=start, needed=needed, sample=sample)
    if needed is not None and len(times) > 1:
        margin = 8.0 * smoothing  # 4 widths for the needed keyframes' own neighbours too
        inside = np.flatnonzero((times >= needed[0] - margin) & (times <= needed[1] + margin))
        lo = max(0, (int(inside[0]) if inside.size else int(np.searchsorted(times, needed[0])))
                 - 1)
        hi = min(len(times), (int(inside[-1]) if inside.size else lo) + 2)
        times, palettes = times[lo:hi], palettes[lo:hi]
    targets = [palette_lab(p) for p in palettes]
    if len({t.shape[0] for t in targets}) == 1:
        slots = match_palettes(source_lab, np.stack(targets))  # one fixed correspondence
        per_frame = [slots] * len(targets)
    else:
        per_frame = [match_palettes(source_lab, t) for t in targets]
    luts = _keyframe_luts(source_lab, [tgt[s] for tgt, s in zip(targets, per_frame)],
                          strength=strength, size=size, luminance=luminance, skin=skin,
                          sample=sample)
    if smoothing > 0 and len(times) > 1:
        w = np.exp(-0.5 * ((times[:, None] - times[None, :]) / smoothing) ** 2)
        w /= w.sum(1, keepdims=True)
        luts = np.tensordot(w, luts, axes=(1, 0)).astype(np.float32)
    return LutTrack(times, luts, duration, music_end, start)


def _synced_lut_track(track: Any, source_lab: np.ndarray, sync: str, *, strength: float,
                      size: int, music_end: MusicEnd, luminance: float, skin: float,
                      start: float, needed: tuple[float, float] | None,
                      sample: Any = None) -> LutTrack:
    """One held LUT per span between ``sync`` events (see :func:`lut_track`)."""
    track.at(0.0, sync=sync)  # a track without a rhythm, or a bad name: its one clear error
    events = np.asarray(track.rhythm.events(sync), dtype=np.float64)
    duration = float(track.duration)
    times = np.concatenate([[0.0], events[(events > 0) & (events < duration)]])
    if needed is not None and len(times) > 1:  # the spans the clip reads, not the whole song
        lo = max(int(np.searchsorted(times, needed[0], side="right")) - 1, 0)
        hi = max(int(np.searchsorted(times, needed[1], side="right")), lo + 1)
        times = times[lo:hi]
    targets = [palette_lab(track.at(float(t), sync=sync)) for t in times]
    same_size = len({t.shape[0] for t in targets}) == 1
    fixed = match_palettes(source_lab, np.stack(targets)) if same_size else None
    paired = [tgt[fixed if same_size else match_palettes(source_lab, tgt)] for tgt in targets]
    luts = _keyframe_luts(source_lab, paired, strength=strength, size=size, luminance=luminance,
                          skin=skin, sample=sample)
    return LutTrack(times, luts, duration, music_end, start, steps=True)


def _keyframe_luts(source_lab: np.ndarray, paired: list[np.ndarray], *, strength: float,
                   size: int, luminance: float, skin: float, sample: Any) -> np.ndarray:
    """``(K, size, size, size, 3)`` LUTs of the keyframes' paired target palettes, all with one
    tone direction (the sum of theirs, :func:`.transfer.tone_direction`): a keyframe toning the
    footage darker beside one toning it brighter would blend into a grade that does neither
    (measured: the tree clip to love_theme fell from 13 to 6.4 CIEDE2000 between two such
    keyframes)."""
    direction = None
    if strength != 0.0:
        ways = [tone_direction(source_lab, tgt, sample=sample, luminance=luminance, skin=skin)
                for tgt in paired]
        direction = (float(sum(w[0] for w in ways)), float(sum(w[1] for w in ways)))
    return np.stack([transfer_lut(source_lab, tgt, strength=strength, size=size,
                                  luminance=luminance, skin=skin, sample=sample,
                                  direction=direction)
                     for tgt in paired])


def hold_between(luts: LutTrack, changes: Sequence[float], *, duration: float,
                 glide: float = GLIDE_SECONDS) -> LutTrack:
    """The grade of ``luts`` in video time, allowed to jump only at ``changes``.

    The video is cut at ``changes`` (seconds, e.g. :meth:`.shots.Scan.cut_times`) into spans.
    A span shorter than ``glide`` holds the grade of its middle; a longer one is anchored at
    its ends and every ``span / floor(span / glide)`` seconds in between to the grade of ``luts``
    there, and glides linearly from anchor to anchor. So within a span the grade is constant or
    changes by at most (the change of ``luts`` over ``glide`` seconds) / (``glide`` x fps) per
    frame, and any jump falls on a change time. Any list of allowed change times works (shot
    cuts here; musical events would fit the same way).

    Parameters
    ----------
    luts
        The grade over music time (:func:`lut_track`).
    changes
        Video times, seconds, where the grade may jump; those outside ``(0, duration)`` are
        ignored.
    duration
        Length of the video, seconds.
    glide
        Least seconds between anchors inside a span.

    Returns
    -------
    LutTrack
        Keyframes in video time (``start`` 0, ``music_end`` "hold", ``duration`` the video's).
    """
    duration = float(duration)
    if not (math.isfinite(duration) and duration > 0):
        raise InvalidArgumentError(f"duration must be positive seconds, got {duration!r}")
    if not glide > 0:
        raise InvalidArgumentError(f"glide must be positive seconds, got {glide!r}")
    inner = sorted({float(c) for c in changes if 0.0 < float(c) < duration})
    bounds = [0.0, *inner, duration]
    times: list[float] = []
    frames: list[np.ndarray] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        span = b - a
        if span < glide:
            anchors, values = [a, b], [0.5 * (a + b)] * 2
        else:
            n = int(span // glide)
            anchors = list(np.linspace(a, b, n + 1))
            values = anchors
        anchors[-1] = b - _STEP if b < duration else b  # the next span starts at b itself
        for t, v in zip(anchors, values):
            if times and t <= times[-1]:
                continue  # a span shorter than two steps: keep the first grade
            times.append(t)
            frames.append(luts.at(v))
    return LutTrack(np.asarray(times), np.stack(frames), duration, "hold", 0.0)


class FrameGrader:
    """Grade uint8 RGB frames at given times with a :class:`LutTrack`.

    Parameters
    ----------
    luts
        The keyframe LUTs.
    device
        ``"cpu"`` (expanded 8-bit tables in NumPy, about 40 ms per 1080p frame on one core; direct
        trilinear interpolation below :data:`DIRECT_PIXELS`) or a
        torch device such as ``"cuda"`` (trilinear in torch on that device).
    """

    def __init__(self, luts: LutTrack, device: Any = "cpu") -> None:
        self.luts = luts
        self.device = str(device)
        self._expanded: dict[int, np.ndarray] = {}
        self._pair_key: tuple[int, int] | None = None
        self._pair: ExpandedLutPair | None = None
        self._torch_luts = None

    def __call__(self, frame: np.ndarray, t: float) -> np.ndarray:
        """Grade one frame.

        Parameters
        ----------
        frame
            ``(H, W, 3)`` uint8 (float frames in ``[0, 255]`` are rounded; a fourth channel is
            passed through).
        t
            Video time in seconds.

        Returns
        -------
        numpy.ndarray
            ``(H, W, C)`` uint8, same channels as ``frame``.
        """
        frame = np.asarray(frame)
        if frame.dtype != np.uint8:
            frame = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
        rgb = frame[..., :3]
        if self.device == "cpu" and rgb.shape[0] * rgb.shape[1] < DIRECT_PIXELS:
            out = apply_lut(rgb, self.luts.at(t))  # small frames: cheaper than expanding
        elif self.device == "cpu":
            out = self._grade_cpu(rgb, t)
        else:
            out = self._grade_torch(rgb, t)
        if frame.shape[-1] == 4:
            out = np.concatenate([out, frame[..., 3:]], axis=-1)
        return out

    def _grade_cpu(self, rgb: np.ndarray, t: float) -> np.ndarray:
        i, j, a = self.luts.segment(t)
        i, j = int(self.luts.ids[i]), int(self.luts.ids[j])  # equal LUTs: one table
        key = (i, i) if (i == j or a == 0.0) else (i, j)
        if key != self._pair_key:
            tables = {k: self._expanded.get(k) for k in set(key)}
            for k in tables:
                if tables[k] is None:
                    tables[k] = expand_lut(self.luts.luts[k])
            self._expanded = tables  # keep only the keyframes in use (64 MiB each)
            second = None if key[0] == key[1] else tables[key[1]]
            self._pair = ExpandedLutPair(tables[key[0]], second)
            self._pair_key = key
        assert self._pair is not None
        return self._pair(rgb, 0.0 if key[0] == key[1] else a)

    def _grade_torch(self, rgb: np.ndarray, t: float) -> np.ndarray:
        import torch

        from m2p_plugins.video.lut import apply_lut_torch

        if self._torch_luts is None:
            self._torch_luts = torch.from_numpy(self.luts.luts).to(self.device)
        i, j, a = self.luts.segment(t)
        lut = torch.lerp(self._torch_luts[i], self._torch_luts[j], a)
        x = torch.from_numpy(np.ascontiguousarray(rgb)).to(self.device, non_blocking=True)
        return apply_lut_torch(x, lut).cpu().numpy()


__all__ = ["DEFAULT_SMOOTHING", "FrameGrader", "GLIDE_SECONDS", "LutTrack", "MusicEnd",
           "hold_between", "lut_track"]
