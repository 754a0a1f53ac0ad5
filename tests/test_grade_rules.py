"""The rules a colourist signs, on real pictures and real songs (issue 25).

* Strength is perceptual: at the default 0.6 every song moves the footage and the photos by a
  mean CIEDE2000 inside :data:`BAND_DEFAULT`; at 1.0 inside :data:`BAND_FULL` -- every pair,
  also where the memory-colour rules stop the palette transfer short (a palette that is the
  picture's own colours, or pulls it toward forbidden hues): there the tone lever (lightness
  and chroma, hue kept) takes the grade the rest of the way, in the palette's direction.
* Memory colours (grass and foliage, sky, skin, hair and browns) keep their hue within 20 degrees
  in every graded frame, on hue/lightness masks and on hand-picked rectangles of the photos.
* No flicker: within a shot the mean grade offset changes from frame to frame no more than the
  grade before issue 25 did on the same footage and songs (measured at the time: at most 0.98
  code values on vtest.avi's first 10 s for ten songs; 1.0 is the bound here).

The songs are palette tracks of real recordings made by the shipped model
(``tests/data/grade_tracks.json``, built by ``tests/data/make_grade_tracks.py``): the tests never
name a colour, so a new model needs only that file rebuilt. Photos: scikit-image's; footage: the
sample videos of Debian's opencv-doc (skipped where it is not installed).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("moviepy")
pytest.importorskip("cv2")

from footage import (  # noqa: E402
    MASKS,
    PHOTOS,
    RECTANGLES,
    hue_turn,
    photo,
    region_hue,
    video_excerpt,
)
from m2p.colour.convert_np import lab_to_lch  # noqa: E402
from m2p.palette_types import PaletteTrack  # noqa: E402
from m2p_plugins.video.grade import footage_colors  # noqa: E402
from m2p_plugins.video.recolor import grade_lut, reference_colors  # noqa: E402
from m2p_plugins.video.lut import apply_lut  # noqa: E402
from m2p_plugins.video.timeline import FrameGrader, hold_between, lut_track  # noqa: E402
from m2p_plugins.video.transfer import (  # noqa: E402
    MAX_GAIN,
    STRENGTH_DELTA_E,
    dominant_colors,
    grade_distance,
    perceptual_levers,
)

pytestmark = pytest.mark.slow

TRACKS = Path(__file__).parent / "data" / "grade_tracks.json"
SONGS = ("frantic", "defeat2", "battle", "the_king_is_dead", "rock")
"""The issue's extremes (frantic moved the campus clip 24.8, defeat2 5.0) and three between."""

FOOTAGE_SONGS = ("frantic", "defeat2", "rock")
"""The footage test's songs (every frame is checked: three keep it under a minute a video)."""

BAND_DEFAULT = (7.0, 10.0)
"""Mean CIEDE2000 moved at strength 0.6 (the scale puts it at 8.4)."""

BAND_FULL = (12.0, 16.0)
"""Mean CIEDE2000 moved at strength 1.0 (the scale puts it at 14)."""

HUE_LIMIT = 20.0
"""Largest hue turn of a memory-colour region, degrees."""

FLICKER_BOUND = 1.0
"""Largest frame-to-frame change of the mean grade offset within a shot, 8-bit code values."""


def _tracks(names: tuple[str, ...] = SONGS) -> dict[str, PaletteTrack]:
    songs = json.loads(TRACKS.read_text())["songs"]
    return {name: PaletteTrack.from_dict(songs[name]) for name in names}


def _lab(rgb8: np.ndarray) -> np.ndarray:
    """CIELAB of uint8 pixels through OpenCV (float32: within 0.6 of the exact conversion, plenty
    for masks and a region's mean hue, and eight times faster)."""
    import cv2

    rgb = np.ascontiguousarray(np.asarray(rgb8)[..., :3], dtype=np.float32) / 255.0
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).astype(np.float64)


def _check_band(moved: float, strength: float, what: str) -> None:
    lo, hi = BAND_DEFAULT if strength < 1.0 else BAND_FULL
    assert lo <= moved <= hi, f"{what}: moved {moved:.1f}, band {lo}-{hi}"


def _mask(lab: np.ndarray, name: str) -> np.ndarray:
    (h0, h1), (c0, c1), (l0, l1) = MASKS[name]
    lch = lab_to_lch(lab)
    return ((lch[..., 2] >= h0) & (lch[..., 2] <= h1) & (lch[..., 1] >= c0) & (lch[..., 1] <= c1)
            & (lch[..., 0] >= l0) & (lch[..., 0] <= l1))


@pytest.mark.parametrize("name", PHOTOS)
def test_photos_move_by_the_strength_asked_and_keep_memory_colours(name: str) -> None:
    image = photo(name)
    before = _lab(image)
    for song, track in _tracks().items():
        for strength in (0.6, 1.0):
            graded = apply_lut(image, grade_lut(track.overall, reference=image,
                                                strength=strength))
            _check_band(grade_distance(image, graded), strength,
                        f"{name} to {song} at {strength}")
            after = _lab(graded)
            for region, (rows, cols) in RECTANGLES[name].items():
                turn = hue_turn(region_hue(before[rows, cols]), region_hue(after[rows, cols]))
                assert abs(turn) <= HUE_LIMIT, f"{name} {region} to {song}: {turn:.1f} degrees"
            for region in MASKS:
                mask = _mask(before, region)
                if mask.mean() > 0.02:
                    turn = hue_turn(region_hue(before[mask]), region_hue(after[mask]))
                    assert abs(turn) <= HUE_LIMIT, f"{name} {region} to {song}: {turn:.1f}"


@pytest.mark.parametrize("video", ["vtest.avi", "Megamind.avi", "tree.avi"])
def test_footage_moves_by_the_strength_asked_keeps_memory_colours_and_does_not_flicker(
        video: str) -> None:
    """Every frame of the first 4 s of each sample video, graded to three songs (shots on)."""
    from m2p_plugins.video.shots import cut_times, detect_cuts

    frames, fps = video_excerpt(video, 4.0)
    duration = len(frames) / fps
    cuts = detect_cuts(frames, fps)
    shots_of = np.searchsorted(np.asarray(cuts), np.arange(len(frames)), side="right")
    before = [_lab(f) for f in frames]
    masks = {r: [_mask(b, r) for b in before] for r in MASKS}
    for song, track in _tracks(FOOTAGE_SONGS).items():
        source, sample = footage_colors(None, track.max_colors,
                                        pictures=frames[:: max(1, len(frames) // 8)])
        for strength in (0.6, 1.0):
            luts = lut_track(track, source, strength=strength, sample=sample,
                             needed=(0.0, duration))
            grader = FrameGrader(hold_between(luts, cut_times(cuts, fps), duration=duration))
            graded = [grader(f, k / fps) for k, f in enumerate(frames)]
            moved = float(np.mean([grade_distance(f, g) for f, g in zip(frames[::6],
                                                                        graded[::6])]))
            _check_band(moved, strength, f"{video} to {song} at {strength}")
            for k, g in enumerate(graded):
                after = _lab(g)
                for region, mask in masks.items():
                    if mask[k].mean() > 0.02:
                        turn = hue_turn(region_hue(before[k][mask[k]]),
                                        region_hue(after[mask[k]]))
                        assert abs(turn) <= HUE_LIMIT, (
                            f"{video} frame {k} {region} to {song} at {strength}: {turn:.1f}")
            offset = np.array([(g.astype(float) - f).reshape(-1, 3).mean(0)
                               for f, g in zip(frames, graded)])
            step = np.abs(np.diff(offset, axis=0)).max(1)
            within = step[shots_of[1:] == shots_of[:-1]]  # a cut may change the picture
            assert within.max() <= FLICKER_BOUND, (video, song, strength, within.max())


def test_strength_scale_is_documented_and_monotone() -> None:
    """0 is the identity; the distance grows with strength (on one real photo and song)."""
    image = photo("coffee")
    track = _tracks()["battle"]
    moved = [grade_distance(image, apply_lut(image, grade_lut(track.overall, reference=image,
                                                              strength=s)))
             for s in (0.0, 0.3, 0.6)]
    assert moved[0] < 1e-6  # the identity
    assert moved[0] < moved[1] < moved[2]
    assert abs(moved[1] - 0.3 * STRENGTH_DELTA_E) < 1.5


@pytest.mark.parametrize("name", ["chelsea", "astronaut"])
def test_where_the_transfer_stops_short_the_tone_follows_the_palette(name: str) -> None:
    """A palette of the picture's own colours a little darker (or brighter) barely moves it by
    the transfer: the tone lever reaches the strength, darker (brighter) as the palette is, with
    the hues of the memory colours kept."""
    image = photo(name)
    source, _ = dominant_colors(image, 5)
    before = _lab(image)
    light = {}
    for shift in (-3.0, 3.0):
        palette = source.copy()
        palette[:, 0] += shift
        lch = lab_to_lch(palette)
        levers = perceptual_levers(source, palette, strength=1.0,
                                   sample=reference_colors(image, 5)[1])
        assert levers.gain == MAX_GAIN and abs(levers.tone[0]) > 0, (shift, levers)
        graded = apply_lut(image, grade_lut(lch, reference=image, source=source, strength=1.0))
        _check_band(grade_distance(image, graded), 1.0, f"{name}, own palette {shift:+g} L*")
        after = _lab(graded)
        light[shift] = after[..., 0].mean() - before[..., 0].mean()
        for region, (rows, cols) in RECTANGLES[name].items():
            turn = hue_turn(region_hue(before[rows, cols]), region_hue(after[rows, cols]))
            assert abs(turn) <= HUE_LIMIT, f"{name} {region}, shift {shift}: {turn:.1f}"
    assert light[-3.0] < -2.0 and light[3.0] > 2.0, light


def test_tone_moves_lightness_and_chroma_never_hue_and_keeps_black_white_and_order() -> None:
    """The tone lever at its largest, both ways: hue kept, black and white kept, lightness order
    kept (a curve, not a posterisation), greys not coloured."""
    from m2p_plugins.video.transfer import TONE_CHROMA, TONE_LIGHTNESS, apply_tone

    rng = np.random.default_rng(0)
    lab = np.column_stack([rng.uniform(0, 100, 4000), rng.uniform(-60, 60, (4000, 2))])
    ramp = np.column_stack([np.linspace(0, 100, 1001), np.zeros((1001, 2))])
    for tone in ((TONE_LIGHTNESS, TONE_CHROMA), (-TONE_LIGHTNESS, -TONE_CHROMA)):
        out = apply_tone(lab, tone)
        before, after = lab_to_lch(lab), lab_to_lch(out)
        coloured = before[:, 1] > 1.0
        turn = (after[coloured, 2] - before[coloured, 2] + 180.0) % 360.0 - 180.0
        assert np.abs(turn).max() < 1e-6
        assert np.abs(out[:, 0] - lab[:, 0]).max() > 0.9 * TONE_LIGHTNESS
        grey = apply_tone(ramp, tone)
        assert np.all(np.diff(grey[:, 0]) > 0)  # the order of lightness is kept
        assert abs(grey[0, 0]) < 1e-9 and abs(grey[-1, 0] - 100.0) < 1e-9
        assert np.abs(grey[:, 1:]).max() == 0.0
