"""Shots: where footage cuts, found with OpenCV on small frames, and one decode for analysis.

A colourist grades shot by shot: a look may change at a cut, never in the middle of a shot.
:func:`detect_cuts` finds the cuts of a run of frames: each frame, shrunk to
:data:`DETECT_WIDTH` pixels wide, becomes a hue-saturation-value histogram and an edge map
(OpenCV's ``calcHist`` and ``Canny``); a frame begins a new shot when both its histogram
distance (Bhattacharyya) and the share of its edges that moved are far above those of the
frames around it and above fixed floors (:data:`HIST_FLOOR`, :data:`EDGE_FLOOR`). The local
comparison keeps slow pans, people walking and flicker from counting as cuts; the edge test keeps
a lighting change (a lamp, a flash) from counting. Gradual transitions (dissolves, fades) are not
looked for.

:func:`scan_video` decodes a video file once, through ffmpeg, at analysis size
(:data:`ANALYSIS_SIZE` pixels on the long side, area-averaged) and the clip's frame rate: it
finds the cuts, keeps :data:`SAMPLE_FRAMES` frames spread over the clip for the source palette,
and reports decoding errors (a damaged file), all in the same pass.

Measured on 18 shots cut together from the opencv-doc sample videos (``tests/test_shots.py``,
``docs/video.md``).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2p.errors import VideoError

ANALYSIS_SIZE = 256
"""Long side, in pixels, of the frames the grade is analysed on (source palette, strength)."""

DETECT_WIDTH = 128
"""Width, in pixels, of the frames cuts are detected on."""

HIST_BINS = (16, 4, 4)
"""Hue, saturation and value bins of a frame's histogram."""

HIST_FLOOR = 0.2
"""Least Bhattacharyya distance between the histograms of two frames on either side of a cut."""

EDGE_FLOOR = 0.3
"""Least share of the edges of a frame that are not near an edge of the frame before (or the
other way round) at a cut (the edge change ratio of Zabih, Miller and Mai 1995)."""

LOCAL_RATIO = 3.0
"""A cut's histogram distance is at least this many times the median of the frames around it."""

LOCAL_SECONDS = 1.0
"""Half-width, in seconds, of the neighbourhood a frame's change is compared with."""

MIN_SHOT_SECONDS = 0.4
"""Shortest shot: of two cuts closer than this, the weaker is dropped (a flash is not two cuts)."""

SAMPLE_FRAMES = 8
"""Frames :func:`scan_video` keeps, spread evenly over the clip, for its source palette."""


@dataclass(frozen=True)
class Scan:
    """What one analysis decode of a video found.

    Attributes
    ----------
    fps
        Frame rate the frames were read at (the clip's).
    frames
        Number of frames read.
    cuts
        Frame indices that begin a new shot (increasing; frame 0 is never a cut), or ``None``
        when cuts were not looked for.
    pictures
        :data:`SAMPLE_FRAMES` uint8 frames at analysis size, spread evenly over the clip.
    """

    fps: float
    frames: int
    cuts: tuple[int, ...] | None
    pictures: tuple[np.ndarray, ...]

    def cut_times(self) -> list[float]:
        """The cuts in seconds: halfway between the last frame of a shot and the first of the
        next, so that a frame's own time never lands on a change."""
        return cut_times(self.cuts or (), self.fps)


def cut_times(cuts: Iterable[int], fps: float) -> list[float]:
    """Frame indices that begin shots -> change times in seconds (``(k - 0.5) / fps``)."""
    return [(int(k) - 0.5) / float(fps) for k in cuts]


def detect_cuts(frames: Iterable[np.ndarray], fps: float) -> list[int]:
    """Frame indices where a new shot begins.

    Parameters
    ----------
    frames
        uint8 RGB frames ``(H, W, 3)`` in order, any size (each is shrunk to
        :data:`DETECT_WIDTH` pixels wide).
    fps
        Their frame rate (the neighbourhoods are in seconds).

    Returns
    -------
    list of int
        Increasing frame indices (never 0).
    """
    detector = CutDetector(fps)
    for frame in frames:
        detector.add(frame)
    return detector.cuts()


class CutDetector:
    """Incremental :func:`detect_cuts`: :meth:`add` frames one by one, then :meth:`cuts`.

    Keeps two numbers per frame, not the frames.
    """

    def __init__(self, fps: float) -> None:
        self.fps = float(fps) if fps and fps > 0 else 25.0
        self._hist: list[float] = []
        self._edge: list[float] = []
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def add(self, frame: np.ndarray) -> None:
        """Take the next frame (uint8 RGB, any size)."""
        cv2 = _cv2()
        small = _shrink(np.asarray(frame)[..., :3], DETECT_WIDTH)
        hsv = cv2.cvtColor(small, cv2.COLOR_RGB2HSV)
        hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256])
        hist = hist / max(float(hist.sum()), 1.0)
        grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        edges = cv2.Canny(grey, 60, 140) > 0
        near = cv2.dilate(edges.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        if self._prev is None:
            self._hist.append(0.0)
            self._edge.append(0.0)
        else:
            p_hist, p_edges, p_near = self._prev
            self._hist.append(float(cv2.compareHist(p_hist, hist, cv2.HISTCMP_BHATTACHARYYA)))
            self._edge.append(_edge_change(p_edges, p_near, edges, near))
        self._prev = (hist, edges, near)

    def cuts(self) -> list[int]:
        """The cuts of the frames added so far."""
        hist = np.asarray(self._hist)
        edge = np.asarray(self._edge)
        n = hist.size
        if n < 2:
            return []
        half = max(1, int(round(LOCAL_SECONDS * self.fps)))
        # Frames identical to the one before (a low-rate source read at a higher rate) carry no
        # information about how much this footage moves: leave them out of the neighbourhood.
        moving = hist > 1e-4
        candidates = []
        for i in np.flatnonzero((hist >= HIST_FLOOR) & (edge >= EDGE_FLOOR)):
            if i == 0:
                continue
            lo, hi = max(1, i - half), min(n, i + half + 1)
            around = np.concatenate([hist[lo:i], hist[i + 1:hi]])
            around = around[moving[np.r_[lo:i, i + 1:hi]]] if around.size else around
            level = float(np.median(around)) if around.size else 0.0
            if hist[i] >= LOCAL_RATIO * level:
                candidates.append(int(i))
        gap = max(1, int(round(MIN_SHOT_SECONDS * self.fps)))
        kept: list[int] = []
        for i in candidates:  # of two cuts closer than the shortest shot keep the stronger
            if kept and i - kept[-1] < gap:
                if hist[i] > hist[kept[-1]]:
                    kept[-1] = i
                continue
            kept.append(i)
        return kept

    @property
    def scores(self) -> tuple[np.ndarray, np.ndarray]:
        """Per frame: histogram distance and edge change ratio to the frame before."""
        return np.asarray(self._hist), np.asarray(self._edge)


def analysis_size(frame: np.ndarray, long_side: int = ANALYSIS_SIZE) -> np.ndarray:
    """``frame`` decimated by a whole stride to about ``long_side`` pixels on its long side
    (uint8 RGB in and out). A stride, not OpenCV's area resize: tens of times cheaper on a
    1080p frame and the same palette to 0.2 CIEDE2000 (``benchmarks/video.py --opencv``)."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8:
        frame = np.clip(np.rint(frame), 0, 255).astype(np.uint8)
    step = max(1, int(np.ceil(max(frame.shape[:2]) / long_side)))
    return np.ascontiguousarray(frame[::step, ::step, :3])


def clip_scan(clip: Any, *, detect: bool = True) -> Scan:
    """:func:`scan_video` for any MoviePy clip (its frames are read and shrunk one by one)."""
    fps = float(getattr(clip, "fps", None) or 25.0)
    total = max(1, int(np.floor(float(clip.duration) * fps + 1e-6)))
    keep = _sample_indices(total)
    detector = CutDetector(fps) if detect else None
    pictures = []
    for k in range(total):
        frame = analysis_size(np.asarray(clip.get_frame(k / fps)))
        if detector is not None:
            detector.add(frame)
        if k in keep:
            pictures.append(frame)
    return Scan(fps, total, tuple(detector.cuts()) if detector else None, tuple(pictures))


def scan_video(path: str | os.PathLike[str], *, size: Sequence[int], fps: float,
               duration: float, detect: bool = True) -> Scan:
    """Decode a video once at analysis size: its cuts, sample frames and decoding errors.

    Parameters
    ----------
    path
        The video file.
    size
        Its ``(width, height)`` as shown (after rotation), pixels.
    fps
        Frame rate to read at (the clip's: frame ``k`` is the clip's frame at ``k / fps``).
    duration
        Its length in seconds (to spread the sample frames).
    detect
        Look for cuts (``False``: only the sample frames).

    Returns
    -------
    Scan

    Raises
    ------
    m2p.errors.VideoError
        ffmpeg cannot run, or reports decoding errors (a damaged file).
    """
    from m2p_plugins.video.media import decode_failure, ffmpeg_exe

    path = Path(path)
    w, h = (int(v) for v in size)
    scale = min(1.0, ANALYSIS_SIZE / max(w, h))
    aw, ah = max(2, int(round(w * scale / 2)) * 2), max(2, int(round(h * scale / 2)) * 2)
    total = max(1, int(np.floor(duration * fps + 1e-6)))
    keep = _sample_indices(total)
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error", "-i",
           "file:" + str(path.absolute()), "-map", "0:v:0", "-vf",
           f"scale={aw}:{ah}:flags=area", "-r", f"{fps:.02f}", "-f", "rawvideo", "-pix_fmt",
           "rgb24", "-"]
    detector = CutDetector(fps) if detect else None
    pictures: list[np.ndarray] = []
    count = 0
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise VideoError(f"cannot run ffmpeg ({exc})", source=path) from exc
    try:
        assert proc.stdout is not None
        for frame in _raw_frames(proc.stdout, aw, ah):
            if detector is not None:
                detector.add(frame)
            if count in keep or (count >= total and len(pictures) < len(keep)):
                pictures.append(frame.copy())
            count += 1
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()
    problem = decode_failure(stderr, proc.returncode)
    if problem is not None:
        raise VideoError(problem, source=path)
    if count == 0:
        raise VideoError("no video frames could be decoded", source=path)
    return Scan(float(fps), count, tuple(detector.cuts()) if detector else None,
                tuple(pictures))


def _raw_frames(stream: Any, width: int, height: int) -> Iterator[np.ndarray]:
    size = width * height * 3
    while True:
        data = stream.read(size)
        if len(data) < size:
            return
        yield np.frombuffer(data, np.uint8).reshape(height, width, 3)


def _sample_indices(total: int) -> set[int]:
    return {int(round(v)) for v in np.linspace(0, max(total - 1, 0), min(SAMPLE_FRAMES, total))}


def _edge_change(p_edges: np.ndarray, p_near: np.ndarray, edges: np.ndarray,
                 near: np.ndarray) -> float:
    """Edge change ratio: the larger of the shares of entering and exiting edge pixels."""
    n_new, n_old = int(edges.sum()), int(p_edges.sum())
    entering = float((edges & ~p_near).sum()) / n_new if n_new else 0.0
    exiting = float((p_edges & ~near).sum()) / n_old if n_old else 0.0
    if n_new == 0 and n_old == 0:
        return 0.0
    if n_new == 0 or n_old == 0:
        return 1.0  # edges appear from (or vanish into) a flat frame: black, a flash
    return max(entering, exiting)


def _shrink(frame: np.ndarray, width: int) -> np.ndarray:
    h, w = frame.shape[:2]
    if w <= width:
        return np.ascontiguousarray(frame, dtype=np.uint8)
    height = max(1, int(round(h * width / w)))
    return _cv2().resize(np.ascontiguousarray(frame, dtype=np.uint8), (width, height),
                         interpolation=_cv2().INTER_AREA)


def _cv2() -> Any:
    """OpenCV, or :class:`~m2p.errors.MissingExtraError` with the install command (the
    ``[video]`` extra installs opencv-python-headless)."""
    from m2p._internal.extras import missing_extra, require

    require("cv2", extra="video", feature="shot detection (shots='auto', m2p grade --shots auto)")
    try:
        import cv2
    except ImportError as exc:  # found but broken (a missing system library)
        raise (missing_extra(exc, "shot detection") or exc) from None
    return cv2


__all__ = ["ANALYSIS_SIZE", "CutDetector", "DETECT_WIDTH", "EDGE_FLOOR", "HIST_FLOOR",
           "LOCAL_RATIO", "LOCAL_SECONDS", "MIN_SHOT_SECONDS", "SAMPLE_FRAMES", "Scan",
           "analysis_size", "clip_scan", "cut_times", "detect_cuts", "scan_video"]
