"""Shadows and neutrals under the palette transfer, on a real photo (tests/data/README.md).

The photo has a flat grey concrete wall, a near-black shadow and a saturated orange bowl: the
grade should move the bowl, keep the shadow black and the wall grey (tinted, in one hue).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from m2p.palette_types import Palette
from m2p_plugins.video.lut import apply_lut, write_cube
from m2p_plugins.video.recolor import grade_lut

PHOTO = Path(__file__).parent / "data" / "bowl_by_freespace.jpg"
# The case: maroon and deep teal in the dark, yellow and cyan close in lightness.
PALETTE = Palette.from_hex(["#3b0d1a", "#0b4f55", "#c9b52f", "#2fb3bd", "#efe9dc"])
WALL = (slice(5, 60), slice(5, 60))  # a flat grey patch of the concrete (C* about 2)


def _photo() -> np.ndarray:
    return np.asarray(Image.open(PHOTO).convert("RGB"))


def _lch(rgb8: np.ndarray) -> np.ndarray:
    from m2p.colour.convert import lab_to_lch, srgb_to_lab

    lab = srgb_to_lab(torch.from_numpy(rgb8.reshape(-1, 3) / 255.0))
    return lab_to_lch(lab).numpy()


def _hue_spread(rgb8: np.ndarray) -> float:
    """Chroma-weighted circular standard deviation of hue, degrees: 0 for one hue, large when
    a patch splits into opposite hues (greys with no chroma do not count)."""
    from m2p.colour.convert import srgb_to_lab

    ab = srgb_to_lab(torch.from_numpy(rgb8.reshape(-1, 3) / 255.0)).numpy()[:, 1:]
    resultant = np.hypot(*ab.mean(0)) / max(np.hypot(*ab.T).mean(), 1e-9)
    return float(np.degrees(np.sqrt(-2.0 * np.log(max(resultant, 1e-12)))))


def test_recolour_keeps_blacks_black_and_greys_grey_but_moves_colours() -> None:
    image = _photo()
    before = _lch(image)
    after = _lch(apply_lut(image, grade_lut(PALETTE, reference=image, strength=0.6)))
    dark = before[:, 0] < 15
    neutral = (before[:, 1] < 6) & (before[:, 0] >= 15) & (before[:, 0] <= 85)
    vivid = before[:, 1] > 40
    assert dark.mean() > 0.01 and neutral.mean() > 0.3 and vivid.mean() > 0.2
    change = np.abs(after[:, 1] - before[:, 1])
    # Measured before this protection: 13.4 (near-black) and 19.1 (near-neutral).
    assert change[dark].mean() < 8.0
    assert change[neutral].mean() < 12.0
    assert after[dark, 0].mean() < 15.0  # the shadow stays dark
    # ...while the bowl still takes the palette (its hue turns by tens of degrees).
    turn = np.abs((after[vivid, 2] - before[vivid, 2] + 180.0) % 360.0 - 180.0)
    assert np.median(turn) > 10.0 or np.median(np.abs(after[vivid, 1] - before[vivid, 1])) > 10


def test_default_cube_tints_a_grey_wall_in_one_hue(tmp_path: Path) -> None:
    from m2p_plugins.video.media import ffmpeg_exe

    cube = tmp_path / "look.cube"
    write_cube(cube, grade_lut(PALETTE))  # the default LUT: no reference footage
    src, out = tmp_path / "photo.png", tmp_path / "graded.png"
    Image.fromarray(_photo()).save(src)
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(src), "-vf",
                    f"lut3d=file={cube}", str(out)], check=True, stdin=subprocess.DEVNULL)
    wall = np.asarray(Image.open(out).convert("RGB"))[WALL]
    # Measured before: 35 degrees (yellow and cyan patches); one tint is under 15.
    assert _hue_spread(wall) < 15.0
    assert _lch(wall)[:, 1].mean() < 15.0  # a tint, not a new colour


@pytest.mark.parametrize("level", [40, 60, 90, 128, 170, 210])
def test_default_cube_turns_a_noisy_flat_grey_into_one_hue(level: int) -> None:
    rng = np.random.default_rng(level)
    grey = level + rng.normal(0, 2.5, (64, 64, 1)) + rng.normal(0, 1.0, (64, 64, 3))
    patch = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    graded = apply_lut(patch, grade_lut(PALETTE))
    # One hue, or a tint too faint to see (mean C* under 3, about one just-noticeable
    # difference: where the maroon and teal tints meet in the shadows they cancel out).
    assert _hue_spread(graded) < 15.0 or _lch(graded)[:, 1].mean() < 3.0
