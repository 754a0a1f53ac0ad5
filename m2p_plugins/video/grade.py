"""Grade video to music: the :class:`MusicGrade` MoviePy effect and :func:`grade_video`.

>>> from moviepy import VideoFileClip                                   # doctest: +SKIP
>>> import m2p
>>> track = m2p.palette_track("song.mp3")                                 # doctest: +SKIP
>>> clip = VideoFileClip("in.mp4").with_effects([m2p.video.MusicGrade(track)])  # doctest: +SKIP
>>> clip.write_videofile("out.mp4"); clip.close()                         # doctest: +SKIP

Each frame at time ``t`` is graded with the LUT in force at ``t`` (:mod:`.timeline`): the
palette-based transfer (:mod:`.transfer`) from the footage's dominant colours to the palette of
the window, scaled to a perceptual strength, tabulated as a 3-D LUT, smoothed and interpolated in
time; with ``shots="auto"`` the grade changes only at the footage's cuts (:mod:`.shots`) and
glides slowly within long shots.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from m2p._internal.outputs import atomic_output, check_output
from m2p._internal.text import first_line
from m2p.errors import InvalidArgumentError, VideoError
from m2p.palette_types import Palette, PaletteTrack
from m2p.resolve import resolve_track
from m2p.rhythm.rhythm_types import check_sync
from m2p_plugins.video.lut import DEFAULT_SIZE, check_lut_size
from m2p_plugins.video.media import (
    VIDEO_SUFFIXES,
    check_encoder,
    close_quietly,
    encoding_logger,
    even_size_params,
    frames_must_decode,
    open_audio,
    open_video,
)
from m2p_plugins.video.shots import SAMPLE_FRAMES, Scan, analysis_size, clip_scan, scan_video
from m2p_plugins.video.soundtrack import (
    check_music_start,
    clip_track,
    fit_audio,
    music_duration,
)
from m2p_plugins.video.timeline import (
    DEFAULT_SMOOTHING,
    FrameGrader,
    LutTrack,
    hold_between,
    lut_track,
)
from m2p_plugins.video.transfer import (
    check_strength,
    color_sample,
    dominant_colors_of_sample,
)

try:  # MoviePy is optional: the effect is a real moviepy.Effect when MoviePy is installed.
    from moviepy import Effect as _EffectBase
except ImportError:  # pragma: no cover - exercised only without the [video] extra
    _EffectBase = object

SOURCE_SAMPLE_FRAMES = SAMPLE_FRAMES
"""Frames sampled evenly over a clip to find its source palette."""

STILL_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
"""Still-image suffixes ``m2p grade`` refuses (an animated GIF is footage and is graded)."""


@dataclass
class MusicGrade(_EffectBase):  # type: ignore[misc, valid-type]
    """MoviePy 2 effect: grade each frame toward the palette in force at its time.

    Use with ``clip.with_effects([MusicGrade(track)])``. Only the colour frames change; the
    mask (alpha), duration, audio and size are kept.

    Parameters
    ----------
    track
        :class:`m2p.palette_types.PaletteTrack`, a single :class:`m2p.palette_types.Palette` (constant
        grade), a ready :class:`.timeline.LutTrack`, or an audio path (its palette track is
        computed with the shipped model).
    strength
        How far the footage's colours move: the transfer is scaled (and, where the
        memory-colour rules stop it short, a tone of lightness and chroma added) so that they
        move by ``STRENGTH_DELTA_E * strength`` CIEDE2000 on average (14 x strength; 0 is no
        change), whatever the song (:func:`.transfer.perceptual_levers`).
    source
        ``(k, 3)`` CIELAB source palette of the footage; default: the dominant colours of
        :data:`SOURCE_SAMPLE_FRAMES` frames sampled over the clip (``k`` = longest palette).
    lut_size
        LUT nodes per axis (33).
    smoothing
        Temporal Gaussian smoothing of the LUT keyframes, seconds.
    music_end
        ``"hold"`` the last grade past the end of the music (default) or ``"loop"`` the track.
    luminance, skin
        See :func:`.transfer.transfer_lut`.
    device
        ``"cpu"`` or a torch device (``"cuda"``) for the per-frame work.
    music_start
        Seconds into the music at the clip's first frame (ignored for a ready ``LutTrack``,
        which carries its own ``start``).
    sync
        ``"downbeat"``, ``"beat"`` or ``"section"``: hold the grade from one such event of the
        track's rhythm to the next and change it only there (``smoothing`` then unused); None
        (default): the smooth grade.
    sample
        The footage's colours the strength is measured on (``(lab, weight)`` of
        :func:`.transfer.color_sample`); default: from the frames the source palette comes from.
    shots
        ``"auto"`` (default): find the clip's cuts (:mod:`.shots`) and let the grade change only
        there, gliding slowly within long shots (:func:`.timeline.hold_between`; ignored with
        ``sync``, whose events are then the only change times); ``"off"``:
        the grade follows the music continuously; or a list of cut times in seconds.
    """

    track: Any
    strength: float = 0.6
    source: Any = None
    lut_size: int = DEFAULT_SIZE
    smoothing: float = DEFAULT_SMOOTHING
    music_end: str = "hold"
    luminance: float = 0.5
    skin: float = 0.8
    device: str = "cpu"
    music_start: float = 0.0
    sync: str | None = None
    sample: Any = None
    shots: Any = "auto"

    def apply(self, clip: Any) -> Any:
        """Return ``clip`` graded (a new clip built with ``clip.transform``)."""
        check_strength(self.strength)
        check_lut_size(self.lut_size)
        shots = check_shots(self.shots)
        if self.sync is not None:  # on the music's clock the grade changes only on its events
            shots = "off"
        scan = None
        if shots == "auto" or (self.source is None and not isinstance(self.track, LutTrack)):
            scan = clip_scan(clip, detect=shots == "auto")  # one read for cuts and colours
        luts = self.lut_track_for(clip, scan=scan)
        if shots != "off":
            changes = scan.cut_times() if shots == "auto" and scan is not None else shots
            luts = hold_between(luts, changes, duration=float(clip.duration))
        grader = FrameGrader(luts, device=self.device)

        def grade_frame(get_frame: Any, t: float) -> np.ndarray:
            return grader(get_frame(t), t)

        return clip.transform(grade_frame, apply_to=[])

    def lut_track_for(self, clip: Any | None = None, *, scan: Scan | None = None) -> LutTrack:
        """The :class:`.timeline.LutTrack` this effect applies to ``clip``, over music time
        (before the shots rule); ``scan`` supplies ready analysis frames."""
        if isinstance(self.track, LutTrack):
            return self.track
        track = self.track
        if not isinstance(track, Palette):  # a Palette is a constant grade
            track = resolve_track(track)
        source, sample = self.source, self.sample
        if source is None:
            if clip is None and scan is None:
                raise InvalidArgumentError("MusicGrade needs a clip or an explicit source palette")
            source, found = footage_colors(clip, k=_palette_size(track),
                                           pictures=None if scan is None else scan.pictures)
            sample = found if sample is None else sample
        elif sample is None and scan is not None:  # measure the strength on the footage
            sample = color_sample(np.concatenate([p.reshape(-1, 3) for p in scan.pictures]))
        return lut_track(track, np.asarray(source, dtype=np.float64), strength=self.strength,
                         size=self.lut_size, smoothing=self.smoothing,
                         music_end=self.music_end,  # type: ignore[arg-type]
                         luminance=self.luminance, skin=self.skin, start=self.music_start,
                         needed=self._needed(clip), sync=self.sync, sample=sample)

    def _needed(self, clip: Any) -> tuple[float, float] | None:
        """Music times a held (not looped) grade of ``clip`` reads; None: all of them."""
        duration = getattr(clip, "duration", None)
        if self.music_end != "hold" or not duration:
            return None
        return self.music_start, self.music_start + float(duration)


def check_shots(shots: Any) -> Any:
    """``shots`` as ``"auto"``, ``"off"`` or a tuple of cut times in seconds.

    Raises
    ------
    m2p.errors.InvalidArgumentError
        Anything else (a time that is not a finite number included).
    """
    if isinstance(shots, str):
        if shots in ("auto", "off"):
            return shots
        raise InvalidArgumentError(f"shots must be 'auto', 'off' or cut times, got {shots!r}")
    try:
        times = tuple(float(t) for t in shots)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"shots must be 'auto', 'off' or cut times in seconds, got "
                                   f"{shots!r}") from None
    if not all(math.isfinite(t) for t in times):
        raise InvalidArgumentError(f"cut times must be finite seconds, got {shots!r}")
    return times


def source_palette(clip: Any, k: int = 5, *, frames: int = SOURCE_SAMPLE_FRAMES) -> np.ndarray:
    """Dominant CIELAB colours of a clip from ``frames`` frames sampled evenly over it.

    Parameters
    ----------
    clip
        Any MoviePy video clip.
    k
        Number of colours.

    Returns
    -------
    numpy.ndarray
        ``(k, 3)`` CIELAB, sorted by L*.
    """
    return footage_colors(clip, k, frames=frames)[0]


def footage_colors(clip: Any, k: int = 5, *, frames: int = SOURCE_SAMPLE_FRAMES,
                   pictures: Sequence[np.ndarray] | None = None,
                   ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The source palette of a clip and the colour sample its grade's strength is measured on.

    Parameters
    ----------
    clip
        Any MoviePy video clip (ignored when ``pictures`` are given).
    k
        Number of colours.
    frames
        Frames sampled evenly over the clip.
    pictures
        Ready frames (for example the analysis frames of :func:`.shots.scan_video`).

    Returns
    -------
    source : numpy.ndarray
        ``(k, 3)`` CIELAB dominant colours, sorted by L*.
    sample : tuple of numpy.ndarray
        ``(lab (M, 3), weight (M,))`` of :func:`.transfer.color_sample`.
    """
    if pictures is None:
        duration = float(clip.duration or 0.0)
        fps = float(getattr(clip, "fps", None) or 25.0)
        last = max(duration - 1.0 / fps, 0.0)
        times = np.linspace(0.0, last, max(1, frames)) if duration > 0 else np.zeros(1)
        pictures = [analysis_size(np.asarray(clip.get_frame(float(t)))) for t in times]
    pixels = np.concatenate([np.asarray(p)[..., :3].reshape(-1, 3) for p in pictures])
    if pixels.dtype != np.uint8:
        pixels = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    sample = color_sample(pixels)
    return dominant_colors_of_sample(sample, k)[0], sample


def grade_video(video: str | os.PathLike[str], music: Any, output: str | os.PathLike[str], *,
                strength: float = 0.6, keep_audio: bool = False, track: Any = None,
                music_end: str = "hold", lut_size: int = DEFAULT_SIZE,
                smoothing: float = DEFAULT_SMOOTHING, codec: str = "libx264",
                preset: str = "medium", audio_codec: str = "aac", threads: int | None = None,
                grade_device: str = "cpu", music_start: float = 0.0, progress: bool = False,
                on_track: Callable[[Any], None] | None = None, sync: str | None = None,
                shots: Any = "auto",
                **inference: Any) -> Path:
    """Grade a video to a piece of music and write it with the music as its soundtrack.

    Parameters
    ----------
    video
        Input video file.
    music
        Audio file (its palette track drives the grade and, unless ``keep_audio``, it becomes
        the soundtrack, trimmed to the video; with ``music_end="loop"`` it is looped).
        A video too short to span :data:`.soundtrack.MIN_WINDOWS` analysis windows gets shorter
        windows for its passage of music, with a warning (unless ``window`` / ``hop`` are
        given).
    output
        Output video file; written to a temporary name and renamed when complete.
    strength
        0 to 1, see :class:`MusicGrade`.
    keep_audio
        Keep the video's own sound instead of the music (a video without sound stays silent).
    track
        A precomputed :class:`m2p.palette_types.PaletteTrack` (skips inference).
    music_end
        ``"hold"`` the last palette when the music is shorter than the video, or ``"loop"``.
    lut_size, smoothing
        See :class:`MusicGrade`.
    codec, preset, audio_codec, threads
        ffmpeg encoder settings (MoviePy's defaults: libx264, medium).
    grade_device
        ``"cpu"`` or ``"cuda"`` for the per-frame grading (``device`` in ``inference`` is the
        model's).
    music_start
        Seconds into the music at the video's first frame (the file is not cut: the palettes
        are those of the whole song's track from there on).
    progress
        Show progress bars (inference and encoding); off by default in the API (the command
        line turns them on for a terminal). MoviePy's own messages are never printed.
    on_track
        Called with the palette track the grade uses (or the Palette), before encoding (the
        command line prints its palette in its one-line summary).
    sync
        ``"downbeat"``, ``"beat"`` or ``"section"``: the grade changes only on those events of
        the music (see :class:`MusicGrade`); None (default): the smooth grade.
    shots
        ``"auto"`` (default): the grade changes only at the video's cuts, gliding slowly within
        long shots; ``"off"``: it follows the music continuously (see :class:`MusicGrade`).
        The cuts, the frames for the source palette and a check that every frame decodes come
        from one decode at analysis size (:func:`.shots.scan_video`).
    **inference
        Passed to :func:`m2p.palette_track` (``seed``, ``model``, ``window``, ``hop``...).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    m2p.errors.VideoError
        Unreadable video, a still image (use :func:`.recolor.recolor`), missing encoder,
        unwritable output or unknown output suffix (checked before any work), or a frame that
        cannot be decoded (a damaged video).
    m2p.errors.InvalidArgumentError
        ``strength`` outside [0, 1] or NaN, ``lut_size`` outside [2, 65], ``music_start``
        outside the music, an unknown ``sync``.
    m2p.errors.TrackError
        ``sync`` with a precomputed ``track`` that carries no rhythm.
    m2p.errors.M2PError
        ``grade_device`` is not available (checked before any work).
    m2p.errors.AudioError
        Unreadable music.
    """
    refuse_still_image(video)
    out = check_output(output, inputs=(video, music), suffixes=VIDEO_SUFFIXES, error=VideoError)
    check_strength(strength)
    check_lut_size(lut_size)
    shots = check_shots(shots)
    if grade_device != "cpu":
        from m2p.model.weights import resolve_device

        grade_device = str(resolve_device(grade_device))  # fails now, not after the model ran
    check_encoder(codec)
    if music_end not in ("hold", "loop"):
        raise InvalidArgumentError(f"music_end must be 'hold' or 'loop', got {music_end!r}")
    check_sync(sync)
    clip = graded = audio = None
    tmpdir = tempfile.mkdtemp(prefix="m2p-grade-")
    try:
        clip = open_video(video, audio=keep_audio)  # fail fast on a bad video, before inference
        refuse_still_image(video, clip)
        # One decode at analysis size, before inference and any output: a damaged middle is
        # refused, and the cuts and the frames for the source palette come with it.
        scan = scan_video(video, size=clip.size, fps=clip.fps, duration=clip.duration,
                          detect=shots == "auto")
        if track is None:
            length = music_duration(music, sample_rate=inference.get("sample_rate"))
        else:
            length = float(getattr(track, "duration", math.inf))  # a Palette has no end
        start = check_music_start(music_start, length, source=music if track is None else None)
        track = clip_track(music, start=start, span=min(float(clip.duration), length - start),
                           track=track, label=f"{Path(video).name} ({clip.duration:.1f} s)",
                           progress=progress, **inference)
        if on_track is not None:
            on_track(track)
        source, sample = footage_colors(clip, _palette_size(track), pictures=scan.pictures)
        effect = MusicGrade(track, strength=strength, lut_size=lut_size, smoothing=smoothing,
                            music_end=music_end, device=grade_device, music_start=start,
                            source=source, sample=sample,
                            sync=sync if isinstance(track, PaletteTrack) else None,
                            # on the music's clock the grade changes only on its events
                            shots="off" if sync is not None else
                            (scan.cut_times() if shots == "auto" else shots))
        graded = clip.with_effects([effect])
        if not keep_audio and isinstance(music, (str, os.PathLike)):
            audio = open_audio(music)
            graded = graded.with_audio(fit_audio(audio, start=start, duration=clip.duration,
                                                 music_end=music_end))
        with atomic_output(out, error=VideoError) as tmp, frames_must_decode(video):
            try:
                graded.write_videofile(
                    str(tmp), fps=clip.fps, codec=codec, preset=preset, audio_codec=audio_codec,
                    threads=threads, ffmpeg_params=even_size_params(clip.size, codec),
                    temp_audiofile_path=tmpdir,
                    logger=encoding_logger(progress, label=f"grading {Path(video).name}"))
            except (OSError, IOError, BrokenPipeError) as exc:
                raise VideoError(f"encoding failed ({first_line(exc, limit=200)})",
                                 source=out) from exc
    finally:
        close_quietly(graded, audio, clip)
        shutil.rmtree(tmpdir, ignore_errors=True)
    return out


def refuse_still_image(video: str | os.PathLike[str], clip: Any = None) -> None:
    """Refuse a still image (by its suffix, or an opened clip of one frame): grading it would
    write a 0.04 s video; ``m2p recolor`` is the tool for pictures.

    Raises
    ------
    m2p.errors.VideoError
        Naming the file and the command to use instead.
    """
    frames = None if clip is None else getattr(getattr(clip, "reader", None), "n_frames", None)
    if Path(video).suffix.lower() in STILL_SUFFIXES or (frames is not None and frames <= 1):
        raise VideoError("is a still image, not a video; recolour it with 'm2p recolor "
                         f"{Path(video).name} --music SONG -o OUT' instead", source=video)


def _palette_size(track: PaletteTrack | Palette) -> int:
    if isinstance(track, PaletteTrack):
        return int(track.max_colors)
    return max(3, len(track))


__all__ = ["MusicGrade", "SOURCE_SAMPLE_FRAMES", "STILL_SUFFIXES", "check_shots",
           "footage_colors", "grade_video", "refuse_still_image", "source_palette"]
