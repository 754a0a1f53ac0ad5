"""Still images: recolour a photo to a song, and the grade LUT that does it.

``m2p recolor photo.jpg --music song.mp3 -o out.jpg`` is Chang et al.'s palette-based photo
recolouring with the song's palette as the target (the Music2Palette paper's Figure 4 use).
:func:`grade_lut` is that transfer as a 3-D LUT; :mod:`m2p_plugins.video.export` writes it as
``.cube``, ``.3dl`` or a Hald CLUT (``m2p export song.mp3 --format cube -o look.cube``) for
ffmpeg (``-vf lut3d=look.cube``), DaVinci Resolve or Premiere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from m2p.errors import VideoError
from m2p.resolve import resolve_palette
from m2p_plugins.video.lut import DEFAULT_SIZE, apply_lut
from m2p._internal.outputs import atomic_output, check_output, path_inputs
from m2p_plugins.video.media import close_quietly
from m2p_plugins.video.transfer import (
    check_strength,
    dominant_colors,
    match_palettes,
    neutral_source,
    palette_lab,
    transfer_lut,
)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"}
"""File suffixes read as still images (anything else is opened as a video)."""

MAX_IMAGE_PIXELS = 89_478_485
"""Largest image read, in pixels (Pillow's decompression-bomb threshold: about 9,500 x 9,500).
Checked from the header before decoding, so a hostile header cannot allocate gigabytes."""

ANIMATED_SUFFIXES = {".gif", ".png", ".webp"}
"""Output suffixes that animate (GIF, APNG, WebP): an animated input is recoloured frame by frame
only into one of these."""

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
        ``(k, 3)`` CIELAB source palette; default the image's ``n`` dominant colours.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype as ``image``.
    """
    lut = grade_lut(palette, reference=image if source is None else None, source=source,
                    strength=strength, size=size, luminance=luminance, skin=skin)
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
        palette. ``None`` (and no ``source``): a grey ramp at the palette's lightnesses, i.e. a
        split-tone look usable on any footage.
    source
        Explicit ``(k, 3)`` CIELAB source palette (wins over ``reference``).

    Returns
    -------
    numpy.ndarray
        float32 ``(size, size, size, 3)`` LUT.
    """
    target = palette_lab(palette)
    if source is None:
        if reference is None:
            source = neutral_source(target)
        else:
            source = _reference_palette(reference, target.shape[0])
    source = np.asarray(source, dtype=np.float64)
    slots = match_palettes(source, target)
    return transfer_lut(source, target[slots], strength=strength, size=size, luminance=luminance,
                        skin=skin)


def recolor(photo: str | os.PathLike[str], music: Any, output: str | os.PathLike[str], *,
            strength: float = 0.6, at: float | None = None, palette: Any = None,
            quality: int = 95, **inference: Any) -> Path:
    """Recolour a photo to a piece of music and save it (atomically).

    Parameters
    ----------
    photo
        Input image (JPEG, PNG, TIFF, WebP...); EXIF orientation is applied. An animated GIF,
        PNG or WebP is recoloured frame by frame with one LUT (so the frames keep one look),
        keeping each frame's duration; its output must animate too (``.gif``, ``.png``,
        ``.webp``: a ``.jpg`` is refused).
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
    frames, durations, loop = _read_frames(photo)
    if len(frames) > 1 and out.suffix.lower() not in ANIMATED_SUFFIXES:
        raise VideoError(f"an animated image of {len(frames)} frames cannot be written as "
                         f"{out.suffix}, which holds one frame: write a .gif, .png or .webp",
                         source=photo)
    if palette is None:
        palette = resolve_palette(music, at=at, **inference)
    # One LUT from the colours of every frame: the frames keep one look (no flicker).
    result = recolor_image(np.stack(frames), palette, strength=strength)
    if len(frames) == 1:
        save_image(result[0], out, quality=quality)
    else:
        _save_frames(list(result), durations, loop, out, quality=quality)
    return out


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


def _read_frames(path: str | os.PathLike[str]) -> tuple[list[np.ndarray], list[int], int]:
    """Every frame of an image (one for a still), as :func:`read_image` reads the first, with
    each frame's display time (ms) and the loop count.

    An animated file's frames together are held to :data:`MAX_IMAGE_PIXELS`, checked before
    any frame is decoded (a GIF of 10,000 full-HD frames is a few megabytes on disk).
    """
    from PIL import Image, ImageSequence

    first = read_image(path)  # every check of a still image, and its errors
    try:
        with Image.open(path) as img:
            count = int(getattr(img, "n_frames", 1))
            if count <= 1 or img.format not in _ANIMATED_FORMATS:
                return [first], [], 0
            width, height = img.size
            if count * width * height > MAX_IMAGE_PIXELS:
                raise VideoError(f"animated image of {count} frames of {width} x {height} "
                                 f"pixels; at most {MAX_IMAGE_PIXELS / 1e6:.0f} megapixels "
                                 f"are read in all", source=path)
            frames, durations = [], []
            alpha = first.shape[-1] == 4
            for frame in ImageSequence.Iterator(img):
                frames.append(np.asarray(frame.convert("RGBA" if alpha else "RGB")))
                durations.append(int(frame.info.get("duration", 100) or 100))
            loop = int(img.info.get("loop", 0) or 0)
    except VideoError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        raise VideoError(f"cannot read image ({_short(exc)})", source=path) from None
    if any(f.shape != frames[0].shape for f in frames):
        raise VideoError("animated image whose frames differ in size", source=path)
    return frames, durations, loop


def _save_frames(frames: list[np.ndarray], durations: list[int], loop: int,
                 path: Path, *, quality: int = 95) -> Path:
    """Save frames as one animated image (GIF, APNG, WebP), atomically."""
    from PIL import Image

    images = [Image.fromarray(np.asarray(f, dtype=np.uint8)) for f in frames]
    with atomic_output(path, error=VideoError) as tmp:
        images[0].save(tmp, save_all=True, append_images=images[1:], duration=durations,
                       loop=loop, quality=quality)
    return path


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


def _reference_palette(reference: Any, k: int) -> np.ndarray:
    if isinstance(reference, (str, os.PathLike)):
        path = Path(reference)
        if path.suffix.lower() in IMAGE_SUFFIXES:
            return dominant_colors(read_image(path), k)[0]
        from m2p_plugins.video.grade import source_palette
        from m2p_plugins.video.media import open_video

        clip = open_video(path, audio=False)
        try:
            return source_palette(clip, k)
        finally:
            close_quietly(clip)
    return dominant_colors(np.asarray(reference), k)[0]


__all__ = ["IMAGE_SUFFIXES", "grade_lut", "read_image", "recolor", "recolor_image",
           "save_image"]
