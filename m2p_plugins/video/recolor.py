"""Still images: recolour a photo to a song, and the grade LUT that does it.

``m2p recolor photo.jpg --music song.mp3 -o out.jpg`` is Chang et al.'s palette-based photo
recolouring with the song's palette as the target (the Music2Palette paper's Figure 4 use).
:func:`grade_lut` is that transfer as a 3-D LUT; :mod:`m2p_plugins.video.export` writes it as
``.cube``, ``.3dl`` or a Hald CLUT (``m2p export song.mp3 --format cube -o look.cube``) for
ffmpeg (``-vf lut3d=look.cube``), DaVinci Resolve or Premiere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from m2p.errors import VideoError
from m2p.resolve import resolve_palette
from m2p.colour.convert_np import srgb_to_lab
from m2p_plugins.video.lut import DEFAULT_SIZE, apply_lut, lut_grid
from m2p._internal.outputs import atomic_output, check_output, path_inputs
from m2p_plugins.video.media import close_quietly
from m2p_plugins.video.transfer import (
    check_strength,
    color_sample,
    dominant_colors_of_sample,
    match_palettes,
    neutral_source,
    palette_lab,
    transfer_lut,
)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"}
"""File suffixes read as still images (anything else is opened as a video)."""

ANIMATION_SUFFIXES = {".gif": "GIF", ".webp": "WEBP", ".png": "PNG"}
"""Output suffixes that hold an animation (an animated input is recoloured frame by frame and
refused, with this list, for any other output), and their Pillow format names."""

NEUTRAL_SAMPLE_NODES = 9
"""Colours per sRGB axis (9**3 = 729) on which a LUT made without reference footage is
calibrated."""

MAX_IMAGE_PIXELS = 89_478_485
"""Largest image read, in pixels (Pillow's decompression-bomb threshold: about 9,500 x 9,500).
Checked from the header before decoding, so a hostile header cannot allocate gigabytes."""

_ANIMATED_FORMATS = {"GIF", "PNG", "WEBP"}
# Pillow's formats whose extra frames are an animation. A camera's MPO ".jpg" (a preview image
# as a second frame) and a multi-page TIFF (pages) are still pictures: their first frame is used.


def recolor_image(image: np.ndarray, palette: Any, *, strength: float = 0.6,
                  size: int = DEFAULT_SIZE, luminance: float = 0.5, skin: float = 0.8,
                  source: np.ndarray | None = None) -> np.ndarray:
    """Recolour an image toward a palette (palette-based transfer through a 3-D LUT).

    Parameters
    ----------
    image
        ``(H, W, 3)`` or ``(H, W, 4)`` sRGB, uint8 or float in ``[0, 1]``; alpha is kept.
    palette
        :class:`m2p.palette_types.Palette` or ``(n, 3)`` CIELCh target colours.
    strength, size, luminance, skin
        See :func:`.transfer.transfer_lut`.
    source
        ``(k, 3)`` CIELAB source palette; default the image's ``n`` dominant colours. The
        strength is measured on the image's own colours either way.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``image``.
    """
    lut = grade_lut(palette, reference=image, source=source, strength=strength, size=size,
                    luminance=luminance, skin=skin)
    return apply_lut(image, lut)


def grade_lut(palette: Any, *, reference: Any = None, source: np.ndarray | None = None,
              strength: float = 0.6, size: int = DEFAULT_SIZE, luminance: float = 0.5,
              skin: float = 0.8) -> np.ndarray:
    """The LUT that grades ``reference``-like footage toward ``palette``.

    Parameters
    ----------
    palette
        :class:`m2p.palette_types.Palette` or ``(n, 3)`` CIELCh.
    reference
        Image array, or a path to an image or video, whose dominant colours are the source
        palette and whose colours the strength is measured on. ``None`` (and no ``source``):
        a grey ramp at the palette's lightnesses, i.e. a split-tone look usable on any
        footage, whose strength is measured on the whole sRGB cube (:data:`NEUTRAL_SAMPLE_NODES`
        evenly spaced colours per axis).
    source
        Explicit ``(k, 3)`` CIELAB source palette (wins over the reference's own).
    strength
        0 to 1: the reference moves by ``STRENGTH_DELTA_E * strength`` CIEDE2000 on average
        (:func:`.transfer.perceptual_levers`).

    Returns
    -------
    numpy.ndarray
        float32 ``(size, size, size, 3)`` LUT.
    """
    target = palette_lab(palette)
    sample = None
    if reference is not None:
        found, sample = reference_colors(reference, target.shape[0])
        source = found if source is None else source
    elif source is None:
        source = neutral_source(target)
    if sample is None:
        sample = srgb_to_lab(lut_grid(NEUTRAL_SAMPLE_NODES).astype(np.float64))
    source = np.asarray(source, dtype=np.float64)
    slots = match_palettes(source, target)
    return transfer_lut(source, target[slots], strength=strength, size=size, luminance=luminance,
                        skin=skin, sample=sample)


def recolor(photo: str | os.PathLike[str], music: Any, output: str | os.PathLike[str], *,
            strength: float = 0.6, at: float | None = None, palette: Any = None,
            quality: int = 95, **inference: Any) -> Path:
    """Recolour a photo to a piece of music and save it (atomically).

    Parameters
    ----------
    photo
        Input image (JPEG, PNG, TIFF, WebP...); EXIF orientation is applied. An animated
        image (GIF, WebP, APNG) has every frame recoloured with one grade, and is written as an
        animation (the output must then be ``.gif``, ``.webp`` or ``.png``).
    music
        Audio file (or array with ``sample_rate=`` in ``inference``); ignored when ``palette``
        is given.
    output
        Output image; the format follows the suffix. Alpha is kept where the format has it
        (PNG, WebP, TIFF) and dropped for JPEG.
    strength
        0 to 1.
    at
        Seconds: use the palette of the music at that time instead of the whole-piece palette.
    palette
        A ready :class:`m2p.palette_types.Palette` (skips inference).
    quality
        JPEG/WebP quality.
    **inference
        Passed to :func:`m2p.palette` / :func:`m2p.palette_track` (``seed``, ``model``...).

    Returns
    -------
    pathlib.Path
        ``output``.
    """
    out = check_output(output, inputs=path_inputs(photo, music), suffixes=IMAGE_SUFFIXES,
                       error=VideoError)
    check_strength(strength)
    animation = read_animation(photo)
    if animation is not None and out.suffix.lower() not in ANIMATION_SUFFIXES:
        kinds = sorted(ANIMATION_SUFFIXES)
        raise VideoError(f"is an animation of {len(animation.frames)} frames; write the "
                         f"recoloured animation to a {', '.join(kinds[:-1])} or {kinds[-1]} "
                         f"file, not {out.suffix or 'a file without suffix'}", source=photo)
    image = read_image(photo) if animation is None else None
    if palette is None:
        palette = resolve_palette(music, at=at, **inference)
    if animation is None:
        save_image(recolor_image(image, palette, strength=strength), out, quality=quality)
        return out
    # One grade for every frame: the source palette and the strength come from all of them.
    lut = grade_lut(palette, reference=np.stack([f[..., :3] for f in animation.frames]),
                    strength=strength)
    save_animation(Animation(tuple(apply_lut(f, lut) for f in animation.frames),
                             animation.durations, animation.loop), out, quality=quality)
    return out


@dataclass(frozen=True)
class Animation:
    """The frames of an animated image (GIF, WebP, APNG).

    Attributes
    ----------
    frames
        uint8 ``(H, W, 3|4)`` frames, each a whole picture (Pillow composites partial frames).
    durations
        Milliseconds each frame shows.
    loop
        Times the animation repeats (0: for ever).
    """

    frames: tuple[np.ndarray, ...]
    durations: tuple[int, ...]
    loop: int = 0


def read_animation(path: str | os.PathLike[str]) -> Animation | None:
    """The frames of an animated image, or ``None`` for a still one (one frame).

    Raises
    ------
    m2p.errors.VideoError
        Missing or unreadable file, or more than :data:`MAX_IMAGE_PIXELS` pixels in all.
    """
    from PIL import Image, ImageSequence, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        return None  # read_image says what is wrong
    try:
        with Image.open(path) as img:
            count = int(getattr(img, "n_frames", 1))
            if count <= 1 or img.format not in _ANIMATED_FORMATS:
                return None  # a still, or an MPO ".jpg" / multi-page TIFF: its first frame
            width, height = img.size
            if width * height * count > MAX_IMAGE_PIXELS:
                raise VideoError(f"animation is {count} frames of {width} x {height} pixels; at "
                                 f"most {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels are read in all",
                                 source=path)
            loop = int(img.info.get("loop", 0) or 0)
            frames, durations = [], []
            for frame in ImageSequence.Iterator(img):
                durations.append(int(frame.info.get("duration", img.info.get("duration", 100))))
                frames.append(_to_uint8(frame))
    except VideoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            EOFError) as exc:
        raise VideoError(f"cannot read image ({_short(exc)})", source=path) from None
    if len({f.shape for f in frames}) > 1:  # a mode change midway (RGB, then RGBA)
        frames = [f if f.shape[-1] == 4 else np.concatenate(
            [f, np.full(f.shape[:2] + (1,), 255, np.uint8)], axis=-1) for f in frames]
    return Animation(tuple(frames), tuple(durations), loop)


def save_animation(animation: Animation, path: str | os.PathLike[str], *,
                   quality: int = 95) -> Path:
    """Save an :class:`Animation` atomically as GIF, WebP or APNG (by the suffix)."""
    from PIL import Image

    path = Path(path)
    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in animation.frames]
    with atomic_output(path, error=VideoError) as tmp:
        try:
            images[0].save(tmp, format=ANIMATION_SUFFIXES[path.suffix.lower()], save_all=True,
                           append_images=images[1:], duration=list(animation.durations),
                           loop=animation.loop, quality=quality, disposal=2)
        except (KeyError, ValueError, OSError) as exc:
            raise VideoError(f"cannot save the animation ({_short(exc)})", source=path) from None
    return path


def read_image(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an image as uint8 ``(H, W, 3)`` or ``(H, W, 4)`` (EXIF orientation applied).

    Raises
    ------
    m2p.errors.VideoError
        Missing or unreadable file.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.exists():
        raise VideoError("no such image file", source=path)
    if not path.is_file():
        raise VideoError("not a regular image file", source=path)
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width * height > MAX_IMAGE_PIXELS:
                raise VideoError(f"image is {width} x {height} pixels; at most "
                                 f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels are read", source=path)
            img = ImageOps.exif_transpose(img)
            return _to_uint8(img)
    except VideoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            EOFError) as exc:
        raise VideoError(f"cannot read image ({_short(exc)})", source=path) from None


def _to_uint8(img: Any) -> np.ndarray:
    """uint8 RGB(A) from any Pillow mode. 16- and 32-bit integer modes are scaled by their
    range (Pillow's own ``convert("RGB")`` clips them, turning a 16-bit grey photo white);
    float ("F") images are taken as [0, 1] when they fit there, else as 0-255."""
    mode = img.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(img, dtype=np.float64)
        if mode == "F":
            top = 1.0 if np.nanmax(values, initial=0.0) <= 1.0 else 255.0
        elif mode.startswith("I;16"):
            top = 65535.0
        else:  # 32-bit "I": 16-bit PNGs open as "I" in older Pillow
            top = 65535.0 if np.max(values, initial=0) > 255 else 255.0
        grey = np.clip(np.nan_to_num(values / top) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=-1)
    has_alpha = mode in ("RGBA", "LA", "PA") or "transparency" in img.info
    return np.asarray(img.convert("RGBA" if has_alpha else "RGB"))


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


def save_image(image: np.ndarray, path: str | os.PathLike[str], *, quality: int = 95) -> Path:
    """Save a uint8 image atomically; alpha is dropped for formats without it (JPEG)."""
    from PIL import Image

    path = Path(path)
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(np.rint(arr * 255.0), 0, 255).astype(np.uint8)
    if path.suffix.lower() in (".jpg", ".jpeg", ".bmp") and arr.shape[-1] == 4:
        arr = arr[..., :3]
    img = Image.fromarray(arr)
    with atomic_output(path, error=VideoError) as tmp:
        try:
            img.save(tmp, quality=quality)
        except (KeyError, ValueError):  # unknown suffix (the message would name our temp file)
            raise VideoError(f"cannot save an image with the suffix {path.suffix or '(none)'!r}",
                             source=path) from None
    return path


def reference_colors(reference: Any, k: int) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """The source palette and the colour sample of a reference (image array, image or video
    file): ``(k, 3)`` CIELAB dominant colours and :func:`.transfer.color_sample`'s
    ``(lab, weight)``, from the same pixels."""
    if isinstance(reference, (str, os.PathLike)):
        path = Path(reference)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            pixels = read_image(path)
        else:
            from m2p_plugins.video.grade import footage_colors
            from m2p_plugins.video.media import open_video

            clip = open_video(path, audio=False)
            try:
                return footage_colors(clip, k)
            finally:
                close_quietly(clip)
    else:
        pixels = np.asarray(reference)
    sample = color_sample(pixels)
    return dominant_colors_of_sample(sample, k)[0], sample


__all__ = ["ANIMATION_SUFFIXES", "Animation", "IMAGE_SUFFIXES", "grade_lut", "read_animation",
           "read_image", "recolor", "recolor_image", "reference_colors", "save_animation",
           "save_image"]
