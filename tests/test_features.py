"""Tests for m2p.features.frames: every block against librosa 0.11, shapes, batching, edge cases.

librosa is a test dependency only; these tests compare our torch implementation with it on
a few seconds of synthesised music (chords, melody, bass, percussive clicks and a -50 dB
noise floor, as in real recordings). Tolerances are stated per block below.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from m2p.features import frames as F
from m2p.features.frames import FEATURE_BLOCKS, FEATURE_DIM, HOP_LENGTH, N_FFT, extract_features

librosa = pytest.importorskip("librosa")

SR = 22050


def music(seconds: float, *, seed: int = 0, noise: float = 3e-3) -> np.ndarray:
    """Chords, a melody, a bass line, percussive clicks and a little noise; float32."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n)
    beat = SR // 4  # a note every 0.25 s (clicks every 0.5 s): clear tempogram peaks
    chords = [(60, 64, 67), (57, 60, 64), (53, 57, 60), (55, 59, 62)]
    for i, start in enumerate(range(0, n, beat)):
        length = min(beat, n - start)
        t = np.arange(length) / SR
        env = np.exp(-5 * t)
        chord = chords[(i // 8) % 4]
        for midi, amp in [(m, 0.08) for m in chord] + [(chord[0] + 12 + rng.integers(0, 8), 0.2),
                                                        (chord[0] - 24, 0.15)]:
            f = 440.0 * 2 ** ((midi - 69) / 12)
            y[start : start + length] += amp * env * sum(np.sin(2 * np.pi * f * h * t) / h for h in (1, 2, 3))
        if i % 2 == 0:
            k = min(length, 300)
            y[start : start + k] += 0.4 * rng.standard_normal(k) * np.exp(-np.arange(k) / 50)
    y += noise * rng.standard_normal(n)
    return (0.8 * y / np.abs(y).max()).astype(np.float32)


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    return music(4.0)


@pytest.fixture(scope="module")
def ours(signal: np.ndarray) -> np.ndarray:
    """Our features, (539, frames) like librosa's layout."""
    return extract_features(torch.from_numpy(signal)[None])[0].numpy().T


def block(feats: np.ndarray, name: str) -> np.ndarray:
    return feats[FEATURE_BLOCKS[name]]


# ------------------------------------------------------------------------------------------
# Filter banks


def test_filter_banks_match_librosa() -> None:
    np.testing.assert_allclose(F.mel_filters(), librosa.filters.mel(sr=SR, n_fft=N_FFT), atol=1e-8)
    np.testing.assert_allclose(F.chroma_filters(), librosa.filters.chroma(sr=SR, n_fft=N_FFT), atol=1e-7)
    mels = np.linspace(0, 130, 50)
    np.testing.assert_allclose(F.mel_to_hz(mels), librosa.mel_to_hz(mels), rtol=1e-12)
    np.testing.assert_allclose(F.hz_to_mel(F.mel_to_hz(mels)), mels, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------------------
# Each block against librosa


def test_mel_db(signal: np.ndarray, ours: np.ndarray) -> None:
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=signal, sr=SR), ref=1.0, top_db=80.0)
    # float32 STFTs (torch vs numpy FFT): 0.01 dB.
    np.testing.assert_allclose(block(ours, "mel"), ref, atol=1e-2)


def test_chroma(signal: np.ndarray, ours: np.ndarray) -> None:
    ref = librosa.feature.chroma_stft(y=signal, sr=SR, tuning=0.0)
    np.testing.assert_allclose(block(ours, "chroma"), ref, atol=1e-4)


def test_spectral_contrast(signal: np.ndarray, ours: np.ndarray) -> None:
    ref = librosa.feature.spectral_contrast(y=signal, sr=SR)
    # 0.05 dB. (Valleys of a noise-free synthetic signal sit at the float32 rounding floor,
    # where two FFT implementations legitimately differ; hence the fixture's noise floor.)
    np.testing.assert_allclose(block(ours, "contrast"), ref, atol=5e-2)


def test_tonnetz_from_stft_chroma(signal: np.ndarray, ours: np.ndarray) -> None:
    ref = librosa.feature.tonnetz(chroma=librosa.feature.chroma_stft(y=signal, sr=SR, tuning=0.0))
    np.testing.assert_allclose(block(ours, "tonnetz"), ref, atol=1e-4)


def test_tempogram(signal: np.ndarray, ours: np.ndarray) -> None:
    ref = librosa.feature.tempogram(y=signal, sr=SR, hop_length=HOP_LENGTH, win_length=384)
    np.testing.assert_allclose(block(ours, "tempogram"), ref, atol=1e-3)
    assert np.corrcoef(block(ours, "tempogram").ravel(), ref.ravel())[0, 1] > 0.9999


def test_rms(signal: np.ndarray, ours: np.ndarray) -> None:
    ref = librosa.feature.rms(y=signal, frame_length=N_FFT, hop_length=HOP_LENGTH)
    np.testing.assert_allclose(block(ours, "rms"), ref, atol=1e-6, rtol=1e-4)


def test_pitch_is_yin_in_midi(signal: np.ndarray, ours: np.ndarray) -> None:
    f0 = librosa.yin(signal, fmin=F.PITCH_FMIN, fmax=F.PITCH_FMAX, sr=SR, frame_length=N_FFT,
                     hop_length=HOP_LENGTH)
    pitch = block(ours, "pitch")[0]
    voiced = pitch > 0
    assert voiced.mean() > 0.2  # polyphony (chords + bass) makes many frames aperiodic for YIN
    assert np.all((pitch[voiced] >= 35.9) & (pitch[voiced] <= 96.1))
    # Voiced frames: the same YIN estimate as librosa within 0.01 semitone (>= 98% of frames;
    # float rounding may flip a near-tie between two troughs).
    close = np.abs(pitch[voiced] - librosa.hz_to_midi(f0[voiced])) < 0.01
    assert close.mean() >= 0.98


def test_pitch_of_a_pure_tone_and_unvoiced_noise() -> None:
    t = np.arange(SR) / SR
    out = extract_features(torch.from_numpy((0.5 * np.sin(2 * np.pi * 220.0 * t)).astype(np.float32)))
    pitch = out[5:-5, FEATURE_BLOCKS["pitch"]].numpy()
    np.testing.assert_allclose(pitch, 57.0, atol=0.05)  # A3 (YIN + parabolic interpolation: ~3 cents)
    noise = torch.from_numpy(np.random.default_rng(0).standard_normal(SR).astype(np.float32) * 0.3)
    assert (extract_features(noise)[:, FEATURE_BLOCKS["pitch"]] == 0).float().mean() > 0.9


# ------------------------------------------------------------------------------------------
# Shapes, batching, edge cases, devices


def test_layout() -> None:
    assert FEATURE_DIM == 539 and N_FFT == 2048 and HOP_LENGTH == 512
    sizes = {"mel": 128, "chroma": 12, "contrast": 7, "tonnetz": 6, "tempogram": 384, "rms": 1, "pitch": 1}
    assert list(FEATURE_BLOCKS) == list(sizes)
    start = 0
    for name, size in sizes.items():
        assert FEATURE_BLOCKS[name] == slice(start, start + size)
        start += size
    assert start == FEATURE_DIM


@pytest.mark.parametrize("n", [0, 1, 100, 511, 512, 1023, 2048, 5000])
def test_short_inputs_and_frame_count(n: int) -> None:
    assert F.frames_for_samples(n) == 1 + n // 512
    x = torch.from_numpy(music(1.0)[:n]) if n else torch.zeros(0)
    out = extract_features(x[None])
    assert out.shape == (1, F.frames_for_samples(n), FEATURE_DIM) and out.dtype == torch.float32
    assert torch.isfinite(out).all()
    if n >= 512:
        assert out.shape[1] == librosa.feature.rms(y=x.numpy()).shape[-1]


def test_silence_is_finite() -> None:
    out = extract_features(torch.zeros(2, SR))
    assert torch.isfinite(out).all()
    assert (out[..., FEATURE_BLOCKS["mel"]] == -100.0).all()  # 10 log10(amin)
    assert (out[..., FEATURE_BLOCKS["pitch"]] == 0).all()
    assert (out[..., FEATURE_BLOCKS["chroma"]] == 0).all()


def test_batch_equals_per_item() -> None:
    items = [music(3.0, seed=s) for s in range(3)]
    items[2] = items[2] * 0.01  # a quiet one: top_db is per item
    batch = extract_features(torch.from_numpy(np.stack(items)))
    for i, y in enumerate(items):
        single = extract_features(torch.from_numpy(y)[None])[0]
        p = FEATURE_BLOCKS["pitch"]
        rest = torch.ones(FEATURE_DIM, dtype=torch.bool)
        rest[p] = False
        torch.testing.assert_close(batch[i][:, rest], single[:, rest], atol=1e-3, rtol=1e-4)
        assert (batch[i][:, p] - single[:, p]).abs().lt(1e-3).float().mean() > 0.99


def test_one_dimensional_input_and_dtypes() -> None:
    y = torch.from_numpy(music(1.0))
    out = extract_features(y)
    assert out.shape == (F.frames_for_samples(len(y)), FEATURE_DIM)
    torch.testing.assert_close(extract_features(y.double()), out, atol=1e-3, rtol=1e-4)
    with pytest.raises(ValueError):
        extract_features(torch.zeros(1, 2, 100))


def test_device_follows_input() -> None:
    out = extract_features(torch.zeros(1, 4096, device="cpu"))
    assert out.device.type == "cpu"
    assert F.feature_extractor("cpu") is F.feature_extractor(torch.device("cpu"))
    assert F.feature_extractor("cpu").mel_basis.device.type == "cpu"
    if torch.cuda.is_available():
        y = torch.from_numpy(music(2.0))[None]
        gpu = extract_features(y.cuda())
        assert gpu.device.type == "cuda"
        torch.testing.assert_close(gpu.cpu()[..., :-1], extract_features(y)[..., :-1], atol=1e-2, rtol=1e-3)


def test_standardise() -> None:
    x = torch.randn(2, 5, FEATURE_DIM)
    mean, std = torch.randn(FEATURE_DIM), torch.rand(FEATURE_DIM) + 0.5
    std[0] = 0.0
    z = F.standardise(x, mean, std)
    assert torch.isfinite(z).all()
    torch.testing.assert_close(z[..., 1:], (x[..., 1:] - mean[1:]) / std[1:])


def test_librosa_not_imported_at_runtime() -> None:
    code = ("import sys, torch, m2p.features.frames as F; F.extract_features(torch.zeros(1, 3000));"
            "assert 'librosa' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_chunked_pitch_equals_unchunked(monkeypatch: pytest.MonkeyPatch) -> None:
    y = torch.from_numpy(np.stack([music(2.0, seed=1), music(2.0, seed=2)]))
    whole = extract_features(y)
    monkeypatch.setattr(F, "_YIN_CHUNK_FRAMES", 14)  # 7 frames per chunk for a batch of 2
    torch.testing.assert_close(extract_features(y), whole)


EXAMPLE = __import__("pathlib").Path(__file__).resolve().parents[1] / "examples" / "savino_caribbean_excerpt.ogg"


@pytest.mark.skipif(not EXAMPLE.exists(), reason="example recording not in this checkout")
def test_real_recording_matches_librosa() -> None:
    from m2p.audio.decode import load

    y = load(EXAMPLE, max_seconds=8.0)
    ours = extract_features(torch.from_numpy(y)).numpy().T
    chroma = librosa.feature.chroma_stft(y=y, sr=SR, tuning=0.0)
    np.testing.assert_allclose(block(ours, "mel"), librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=SR)),
                               atol=1e-2)
    np.testing.assert_allclose(block(ours, "chroma"), chroma, atol=1e-4)
    np.testing.assert_allclose(block(ours, "tonnetz"), librosa.feature.tonnetz(chroma=chroma), atol=1e-4)
    np.testing.assert_allclose(block(ours, "tempogram"),
                               librosa.feature.tempogram(y=y, sr=SR, win_length=384), atol=1e-3)
    # Contrast: 0.15 dB in the six octave bands; in the top band (6.4-11 kHz, above the
    # codec's low-pass) valleys are ~0 and float32 FFT rounding moves some cells by ~1 dB.
    diff = np.abs(block(ours, "contrast") - librosa.feature.spectral_contrast(y=y, sr=SR))
    assert diff[:6].max() < 0.15
    assert np.median(diff[6]) < 0.05 and diff[6].max() < 2.0


@pytest.mark.parametrize("largest", [False, True])
def test_grouped_extremes_equal_topk(largest: bool) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 50, 431, generator=g)
    x[0] = 0.0  # all ties (silence)
    x[1, :, ::7] = 0.5  # many ties
    for k in (1, 2, 6, 9):
        ours = F._extremes(x, k, largest=largest).sort(dim=-1).values
        ref = torch.topk(x, k, dim=-1, largest=largest).values.sort(dim=-1).values
        torch.testing.assert_close(ours, ref, atol=0, rtol=0)


def test_gradients_flow_when_asked() -> None:
    x = (0.1 * torch.randn(1, SR // 2, generator=torch.Generator().manual_seed(0))).requires_grad_()
    out = extract_features(x)
    out[..., : FEATURE_BLOCKS["rms"].stop].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with torch.no_grad():
        torch.testing.assert_close(extract_features(x.detach()), out.detach())


def test_gradients_flow_after_first_use_in_inference_mode() -> None:
    # Inference builds the cached extractor under torch.inference_mode(); a later training
    # step through the same extractor must still be able to backpropagate.
    F._CACHE.clear()
    with torch.inference_mode():
        extract_features(torch.zeros(1, SR // 4))
    x = (0.1 * torch.randn(1, SR // 4, generator=torch.Generator().manual_seed(1))).requires_grad_()
    extract_features(x)[..., : FEATURE_BLOCKS["rms"].stop].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
