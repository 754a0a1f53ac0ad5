"""Onset and tonality cues of the model v3 emotion head (m2p.features.onsets, .tonality)."""

import numpy as np
import pytest

from m2p.features import onsets, tonality

RATE = 16000


def _clicks(per_second: float, seconds: float = 6.0, offset: float = 0.25) -> np.ndarray:
    x = np.zeros(int(seconds * RATE), dtype=np.float32)
    x[int(offset * RATE)::int(RATE / per_second)] = 1.0
    return x


def _mel_db(samples: np.ndarray) -> np.ndarray:
    """musicnn's front end (the mel the encoder computes anyway), as power in dB."""
    import torch

    from m2p.model.musicnn import MelFrontEnd

    log_mel = MelFrontEnd()(torch.from_numpy(samples)).numpy()  # log10(10000 p + 1)
    power = (10.0 ** log_mel.astype(np.float64) - 1.0) / 10000.0
    return 10.0 * np.log10(np.maximum(power, 1e-10))


@pytest.mark.parametrize("rate", [1.0, 2.0, 4.0])
def test_onset_rate_counts_clicks(rate):
    env = onsets.onset_envelope(_mel_db(_clicks(rate)))
    assert onsets.onset_rate(env, frame_rate=RATE / 256) == pytest.approx(rate, rel=0.1)


def test_onset_rate_ignores_the_level_and_follows_tempo():
    from m2p.audio import load

    wave = load("examples/savino_caribbean_excerpt.ogg")
    from m2p.model.musicnn import resample_to_16k

    x = resample_to_16k(np.asarray(wave, dtype=np.float32))
    base = onsets.onset_rate(onsets.onset_envelope(_mel_db(x)), frame_rate=RATE / 256)
    quiet = onsets.onset_rate(onsets.onset_envelope(_mel_db(x * 0.5)), frame_rate=RATE / 256)
    assert 2.0 < base < 12.0
    assert quiet == pytest.approx(base, rel=0.05)


def test_onset_envelope_of_silence_is_zero():
    env = onsets.onset_envelope(np.full((100, 96), -100.0))
    assert not env.any()
    assert onsets.onset_rate(env, frame_rate=62.5) == 0.0


def _chord(freqs, seconds=3.0):
    t = np.arange(int(seconds * RATE)) / RATE
    return sum(np.sin(2 * np.pi * f * t) for f in freqs).astype(np.float32)


@pytest.mark.parametrize("root", [261.63, 220.0, 196.0, 329.63])
def test_mode_of_major_and_minor_triads(root):
    major = _chord([root, root * 2 ** (4 / 12), root * 2 ** (7 / 12)])
    minor = _chord([root, root * 2 ** (3 / 12), root * 2 ** (7 / 12)])
    assert tonality.mode_score(tonality.chroma_profile(major)) > 0
    assert tonality.mode_score(tonality.chroma_profile(minor)) < 0


def test_chroma_finds_the_pitch_class_and_ignores_gain():
    a = _chord([440.0])
    profile = tonality.chroma_profile(a)
    assert int(np.argmax(profile)) == 9  # A, with C first
    score = tonality.mode_score(profile)
    assert tonality.mode_score(tonality.chroma_profile(a * 0.1)) == pytest.approx(score, abs=1e-6)


def test_silence_has_no_mode():
    assert tonality.mode_score(tonality.chroma_profile(np.zeros(RATE))) == 0.0
