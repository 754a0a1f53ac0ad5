"""Tests of m2p.features.cues: key-profile mode, register, loudness and voicing from feature frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from m2p.features.frames import FEATURE_BLOCKS, FEATURE_DIM, extract_features
from m2p.features.cues import (
    CUE_NAMES,
    KRUMHANSL_KESSLER_MAJOR,
    KRUMHANSL_KESSLER_MINOR,
    mode_score,
    window_cues,
)

SR = 22050


def _chord(midi_notes: list[int], seconds: float = 3.0, amplitude: float = 0.1) -> torch.Tensor:
    t = np.arange(int(seconds * SR)) / SR
    y = sum(np.sin(2 * np.pi * 440.0 * 2 ** ((m - 69) / 12) * t) for m in midi_notes)
    return torch.from_numpy((amplitude * y / len(midi_notes)).astype(np.float32))


def test_mode_of_the_key_profiles_themselves() -> None:
    major = torch.tensor(KRUMHANSL_KESSLER_MAJOR)
    minor = torch.tensor(KRUMHANSL_KESSLER_MINOR)
    assert float(mode_score(major)) > 0.2
    assert float(mode_score(minor)) < -0.2
    # transposition does not change the mode
    torch.testing.assert_close(mode_score(torch.roll(major, 5)), mode_score(major))


def test_flat_and_silent_profiles_score_zero() -> None:
    assert float(mode_score(torch.ones(12))) == 0.0
    assert float(mode_score(torch.zeros(12))) == 0.0
    assert not torch.isnan(mode_score(torch.zeros(3, 12))).any()


def _cadence(third: int, sixth: int) -> torch.Tensor:
    # I - IV - V - I in C (a lone triad is ambiguous: C E G also fits E minor's profile).
    chords = [[60, 60 + third, 67], [65, 60 + sixth, 72], [67, 71, 74], [60, 60 + third, 67]]
    return torch.cat([_chord(c, seconds=1.0) for c in chords])


def test_major_and_minor_cadences_from_audio() -> None:
    # C major against C harmonic minor, through the real feature extractor.
    feats = extract_features(torch.stack([_cadence(4, 9), _cadence(3, 8)]))
    cues = window_cues(feats)
    assert cues.shape == (2, len(CUE_NAMES))
    mode = cues[:, CUE_NAMES.index("mode")]
    assert float(mode[0]) > 0 > float(mode[1])


def test_register_follows_pitch() -> None:
    low, high = _chord([45]), _chord([69])  # A2 (110 Hz) and A4 (440 Hz)
    cues = window_cues(extract_features(torch.stack([low, high])))
    register = cues[:, CUE_NAMES.index("register")]
    assert float(register[0]) == pytest.approx(45, abs=3)
    assert float(register[1]) == pytest.approx(69, abs=3)
    pitch = cues[:, CUE_NAMES.index("pitch")]
    assert float(pitch[0]) == pytest.approx(45, abs=0.5)
    assert float(pitch[1]) == pytest.approx(69, abs=0.5)
    assert float(cues[1, CUE_NAMES.index("voiced")]) > 0.9


def test_loudness_in_dbfs() -> None:
    # A sine of amplitude 0.1 has mean square 0.005: -23.0 dBFS.
    cues = window_cues(extract_features(_chord([69], amplitude=0.1).unsqueeze(0)))
    assert float(cues[0, CUE_NAMES.index("loudness")]) == pytest.approx(-23.0, abs=0.3)


def test_masked_frames_are_ignored() -> None:
    feats = extract_features(_chord([60, 64, 67]).unsqueeze(0))
    frames = feats.shape[1]
    padded = torch.cat([feats, torch.full((1, 40, FEATURE_DIM), 9.0)], dim=1)
    mask = torch.zeros(1, frames + 40, dtype=torch.bool)
    mask[0, :frames] = True
    torch.testing.assert_close(window_cues(padded, mask), window_cues(feats))


def test_silence_gives_finite_cues() -> None:
    cues = window_cues(extract_features(torch.zeros(1, SR)))
    assert torch.isfinite(cues).all()
    assert float(cues[0, CUE_NAMES.index("voiced")]) == 0.0
    assert float(cues[0, CUE_NAMES.index("mode")]) == 0.0


def test_blocks_used_exist() -> None:
    assert {"chroma", "mel", "rms", "pitch"} <= set(FEATURE_BLOCKS)


def test_cues_first_computed_in_inference_mode_still_work_with_autograd() -> None:
    # The key profiles and register bands are cached; a cache filled under inference_mode
    # must not break a later training step that needs gradients.
    from m2p.features.cues import _key_profiles, _register_bands

    _key_profiles.cache_clear()
    _register_bands.cache_clear()
    feats = extract_features(_cadence(4, 9).unsqueeze(0))
    with torch.inference_mode():
        window_cues(feats)
    trainable = feats.clone().abs().requires_grad_(True)
    window_cues(trainable).sum().backward()
    assert trainable.grad is not None and torch.isfinite(trainable.grad).all()
