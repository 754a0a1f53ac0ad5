"""The promise of m2p/errors.py: bad values are InvalidArgumentError, device problems DeviceError."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p.errors import DeviceError, InvalidArgumentError, M2PError, TrackError
from m2p.palette_types import Palette, PaletteTrack

RED = Palette.from_hex(["#7a0a0a", "#e03a2f", "#ff9a8a"])


@pytest.mark.parametrize("make", [
    lambda: Palette([[120.0, 10.0, 0.0]]),                       # L > 100
    lambda: Palette([[50.0, -1.0, 0.0]]),                        # C < 0
    lambda: Palette(np.zeros((65, 3))),                          # too many colours
    lambda: Palette([[50.0, 10.0, float("nan")]]),               # NaN
    lambda: Palette([[50.0, 10.0, 0.0]], np.ones(3)),            # emotion of the wrong size
    lambda: PaletteTrack([], [], window=1.0, hop=1.0, duration=1.0),
    lambda: PaletteTrack([0.5, 0.2], [RED, RED], window=1.0, hop=1.0, duration=1.0),
    lambda: PaletteTrack([0.5], [RED], window=-1.0, hop=1.0, duration=1.0),
])
def test_value_types_raise_invalid_argument_error(make):
    with pytest.raises(InvalidArgumentError) as info:
        make()
    assert isinstance(info.value, ValueError) and isinstance(info.value, M2PError)


def test_bad_track_json_is_still_a_track_error():
    with pytest.raises(TrackError):
        PaletteTrack.from_dict({"format": "music2palette.track", "version": 1, "times": [0.5],
                                "palettes": [{"lch": [[120.0, 0.0, 0.0]]}], "window": 1.0,
                                "hop": 1.0, "duration": 1.0})


def test_colour_layer_raises_invalid_argument_error():
    from m2p.colour.convert_np import hex_to_rgb
    from m2p.colour.gamut import lch_to_rgb8

    with pytest.raises(InvalidArgumentError, match="not a hex colour"):
        hex_to_rgb("#12345z")
    with pytest.raises(InvalidArgumentError, match="NaN"):
        lch_to_rgb8([[50.0, float("nan"), 0.0]])


def test_video_building_blocks_raise_invalid_argument_error():
    from m2p_plugins.video.lut import apply_lut, identity_lut
    from m2p_plugins.video.timeline import LutTrack

    with pytest.raises(InvalidArgumentError, match="channels"):
        apply_lut(np.zeros((2, 2, 5), np.uint8), identity_lut(2))
    with pytest.raises(InvalidArgumentError, match="shape"):
        apply_lut(np.zeros((2, 2, 3), np.uint8), np.zeros((2, 3, 2, 3)))
    luts = np.stack([identity_lut(2)] * 2)
    with pytest.raises(InvalidArgumentError, match="strictly increasing"):
        LutTrack(np.array([1.0, 0.5]), luts, duration=2.0)
    with pytest.raises(InvalidArgumentError, match="music_end"):
        LutTrack(np.array([0.0, 1.0]), luts, duration=2.0, music_end="bounce")


def test_adapters_raise_invalid_argument_error():
    pytest.importorskip("altair")
    from m2p_plugins.altair import colors
    from m2p_plugins.matplotlib import animate_colors

    with pytest.raises(InvalidArgumentError, match="kind"):
        colors(RED, kind="rainbow")
    track = PaletteTrack([0.5], [RED], window=1.0, hop=1.0, duration=1.0)
    with pytest.raises(InvalidArgumentError, match="fps"):
        animate_colors(track).frames(fps=0)


@pytest.mark.parametrize("device", ["meta", "not-a-device"]
                         + ([] if torch.cuda.is_available() else ["cuda"]))
def test_device_problems_raise_device_error(device):
    from m2p.model.weights import resolve_device

    with pytest.raises(DeviceError) as info:
        resolve_device(device)
    assert isinstance(info.value, M2PError)
