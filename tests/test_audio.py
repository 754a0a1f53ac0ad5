"""Tests for m2p.audio.decode: formats, resampling, mix-down, streaming, memory, errors."""

from __future__ import annotations

import os
import subprocess
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from m2p.audio import decode as audio
from m2p.audio.decode import SAMPLE_RATE, AudioInfo, load, probe, stream
from m2p.errors import AudioDecodeError, AudioFileNotFoundError, InvalidAudioError, M2PError


def music(seconds: float, sr: int, *, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Chords + a melody + percussive clicks, float32 in [-1, 1], (n,) or (n, channels)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    y = np.zeros(n)
    for i, start in enumerate(range(0, n, sr // 4)):
        seg = slice(start, min(n, start + sr // 4))
        tt = t[seg] - t[start]
        env = np.exp(-4 * tt)
        for midi in (60, 64, 67, (72, 74, 76, 79)[i % 4]):
            y[seg] += 0.12 * env * np.sin(2 * np.pi * 440 * 2 ** ((midi - 69) / 12) * tt)
        k = min(n, start + sr // 100) - start
        y[start : start + k] += 0.3 * rng.standard_normal(k) * np.exp(-np.arange(k) / (sr / 2000))
    y = (0.8 * y / np.abs(y).max()).astype(np.float32)
    if channels == 1:
        return y
    gains = np.linspace(1.0, 0.5, channels, dtype=np.float32)
    return y[:, None] * gains[None, :]


def tone(freq: float, seconds: float, sr: int, amp: float = 0.5) -> np.ndarray:
    return (amp * np.sin(2 * np.pi * freq * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def peak_hz(y: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)), n=8 * len(y)))
    return float(np.argmax(spec) * sr / (8 * len(y)))


def ffmpeg() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def encode(src: Path, dst: Path, *args: str) -> Path:
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-i", str(src), *args, str(dst)], check=True,
                   stdin=subprocess.DEVNULL)
    return dst


def reference(y: np.ndarray, sr: int) -> np.ndarray:
    """Expected load() result: channel mean, one-shot resample_poly to 22,050 Hz."""
    mono = y.mean(axis=1, dtype=np.float64) if y.ndim == 2 else y.astype(np.float64)
    g = np.gcd(sr, SAMPLE_RATE)
    if sr == SAMPLE_RATE:
        return mono.astype(np.float32)
    return resample_poly(mono, SAMPLE_RATE // g, sr // g).astype(np.float32)


def assert_one_line_naming(err: pytest.ExceptionInfo, path: Path) -> None:
    msg = str(err.value)
    assert str(path) in msg, msg
    assert "\n" not in msg and "Traceback" not in msg, msg


# ------------------------------------------------------------------------------------------
# Formats


@pytest.mark.parametrize("fmt, subtype, lossless", [
    ("wav", "PCM_16", True), ("wav", "FLOAT", True), ("flac", "PCM_16", True),
    ("ogg", "VORBIS", False), ("mp3", "MPEG_LAYER_III", False),
])
def test_soundfile_formats(tmp_path: Path, fmt: str, subtype: str, lossless: bool) -> None:
    y = music(3.0, 44100, channels=2)
    path = tmp_path / f"music.{fmt}"
    sf.write(path, y, 44100, subtype=subtype)
    info = probe(path)
    assert info == AudioInfo(path.name, pytest.approx(3.0, abs=0.06), 44100, 2)
    out = load(path)
    assert out.dtype == np.float32 and out.ndim == 1
    ref = reference(y, 44100)
    if lossless:
        assert len(out) == len(ref)
        assert np.abs(out - ref).max() < 2e-4  # 16-bit quantisation
    else:
        assert abs(len(out) - len(ref)) < 0.06 * SAMPLE_RATE  # codec priming/padding
        n = min(len(out), len(ref))
        # Lossy codecs keep the spectrum: compare long-term magnitude spectra.
        a, b = (np.abs(np.fft.rfft(v[:n])) for v in (out, ref))
        assert np.corrcoef(a, b)[0, 1] > 0.95


@pytest.mark.parametrize("ext, args", [("m4a", ["-c:a", "aac"]), ("opus", ["-c:a", "libopus"])])
def test_ffmpeg_formats(tmp_path: Path, ext: str, args: list[str]) -> None:
    wav = tmp_path / "tone.wav"
    sf.write(wav, np.stack([tone(440, 2.0, 44100)] * 2, axis=1), 44100)
    path = encode(wav, tmp_path / f"tone.{ext}", *args)
    info = probe(path)
    assert info.name == path.name and info.channels == 2
    assert info.duration == pytest.approx(2.0, abs=0.1)
    out = load(path)
    assert out.dtype == np.float32
    assert abs(len(out) - 2.0 * SAMPLE_RATE) < 0.1 * SAMPLE_RATE
    assert peak_hz(out) == pytest.approx(440, abs=1.0)
    blocks = list(stream(path, block_seconds=0.5))
    np.testing.assert_array_equal(np.concatenate(blocks), out)


def test_ffmpeg_process_is_reaped_when_stream_closed_early(tmp_path: Path) -> None:
    wav = tmp_path / "long.wav"
    sf.write(wav, music(20.0, 22050), 22050)
    path = encode(wav, tmp_path / "long.m4a", "-c:a", "aac")
    # Children of earlier tests (multiprocessing's resource tracker lives as long as pytest).
    before = _children()
    gen = stream(path, block_seconds=1.0)
    next(gen)
    gen.close()
    assert _children() == before


def _children() -> list[str]:
    """Processes (live or zombie) whose parent is this process."""
    me, found = os.getpid(), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == me:
            found.append(stat.split(" ", 2)[1])
    return found


# ------------------------------------------------------------------------------------------
# Resampling, mix-down, arrays


@pytest.mark.parametrize("sr", [8000, 44100, 48000, 96000])
def test_resampling_keeps_pitch(tmp_path: Path, sr: int) -> None:
    y = tone(440.0, 3.0, sr)
    sf.write(tmp_path / "t.wav", y, sr, subtype="FLOAT")
    for out in (load(tmp_path / "t.wav"), load(y, sample_rate=sr)):
        assert len(out) == int(np.ceil(len(y) * SAMPLE_RATE / sr))
        assert peak_hz(out) == pytest.approx(440.0, abs=0.5)
        # The steady part keeps its amplitude (no gain change from the filter).
        assert np.abs(out[SAMPLE_RATE // 2 : -SAMPLE_RATE // 2]).max() == pytest.approx(0.5, abs=0.01)


def test_multichannel_mixdown(tmp_path: Path) -> None:
    y = music(2.0, 22050, channels=6)
    path = tmp_path / "six.wav"
    sf.write(path, y, 22050, subtype="FLOAT")
    assert probe(path).channels == 6
    np.testing.assert_allclose(load(path), y.mean(axis=1), atol=1e-6)
    np.testing.assert_allclose(load(y, sample_rate=22050), y.mean(axis=1), atol=1e-6)
    assert probe(y, sample_rate=22050) == AudioInfo("<array>", 2.0, 22050, 6)


def test_integer_arrays_are_scaled() -> None:
    y = tone(440, 1.0, 22050)
    pcm = np.round(y * 32767).astype(np.int16)
    np.testing.assert_allclose(load(pcm, sample_rate=22050), y, atol=1e-4)


def test_silence_is_valid(tmp_path: Path) -> None:
    sf.write(tmp_path / "quiet.wav", np.zeros(44100, np.float32), 44100)
    out = load(tmp_path / "quiet.wav")
    assert len(out) == 22050 and not out.any()
    assert not load(np.zeros(1000), sample_rate=8000).any()


def test_max_seconds(tmp_path: Path) -> None:
    sf.write(tmp_path / "m.flac", music(4.0, 44100), 44100)
    assert len(load(tmp_path / "m.flac", max_seconds=1.5)) == int(1.5 * SAMPLE_RATE)
    with pytest.raises(InvalidAudioError):
        load(tmp_path / "m.flac", max_seconds=0)


# ------------------------------------------------------------------------------------------
# Streaming


@pytest.mark.parametrize("sr", [44100, 22050, 96000])
def test_stream_concatenates_to_load_without_seams(tmp_path: Path, sr: int) -> None:
    y = music(12.0, sr, channels=2)  # several internal resampling segments
    path = tmp_path / "s.wav"
    sf.write(path, y, sr, subtype="FLOAT")
    blocks = list(stream(path, block_seconds=1.7))
    size = int(round(1.7 * SAMPLE_RATE))
    assert all(len(b) == size for b in blocks[:-1]) and 0 < len(blocks[-1]) <= size
    assert all(b.dtype == np.float32 for b in blocks)
    whole = load(path)
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    # Block-wise resampling equals one-shot resampling of the whole signal.
    np.testing.assert_allclose(whole, reference(y, sr), atol=1e-6)


def test_stream_memory_is_bounded(tmp_path: Path) -> None:
    """10 minutes at 8 kHz: the output alone would be 53 MB (float32) / 106 MB (float64)."""
    sr, minutes = 8000, 10
    path = tmp_path / "long.wav"
    with sf.SoundFile(path, "w", sr, 1, subtype="PCM_16") as f:
        for i in range(minutes * 6):  # write in 10 s pieces
            f.write(music(10.0, sr, seed=i))
    total = 0
    tracemalloc.start()
    try:
        for block in stream(path, block_seconds=30.0):
            total += len(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == int(np.ceil(minutes * 60 * sr * SAMPLE_RATE / sr))
    assert peak < 24e6, f"peak traced memory {peak / 1e6:.1f} MB"


def test_bad_block_seconds() -> None:
    with pytest.raises(InvalidAudioError):
        stream(np.zeros(100), sample_rate=8000, block_seconds=0)


# ------------------------------------------------------------------------------------------
# Bad inputs


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.mp3"
    for fn in (load, probe, lambda p: list(stream(p))):
        with pytest.raises(AudioFileNotFoundError) as err:
            fn(path)
        assert_one_line_naming(err, path)
        assert isinstance(err.value, FileNotFoundError) and isinstance(err.value, M2PError)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match="empty") as err:
        load(path)
    assert_one_line_naming(err, path)


@pytest.mark.parametrize("content", [b"this is not audio at all\n" * 40,
                                     bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)),
                                     b"RIFF\x00\x00\x00\x00WAVEfmt garbage"])
def test_non_audio_bytes(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fake.wav"
    path.write_bytes(content)
    with pytest.raises(AudioDecodeError) as err:
        load(path)
    assert_one_line_naming(err, path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(AudioDecodeError) as err:
        load(tmp_path)
    assert_one_line_naming(err, tmp_path)


def test_truncated_mp3(tmp_path: Path) -> None:
    full = tmp_path / "full.mp3"
    sf.write(full, music(4.0, 44100), 44100)
    data = full.read_bytes()
    half = tmp_path / "half.mp3"
    half.write_bytes(data[: len(data) // 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = load(half)  # what is there is decoded
    assert 1.0 * SAMPLE_RATE < len(out) < 3.0 * SAMPLE_RATE and np.isfinite(out).all()
    stub = tmp_path / "stub.mp3"
    stub.write_bytes(data[:200])  # not even one whole frame
    with pytest.raises(AudioDecodeError) as err:
        load(stub)
    assert_one_line_naming(err, stub)


def test_some_non_finite_samples_are_zeroed_with_a_warning(tmp_path: Path) -> None:
    y = music(2.0, 22050)
    y[1000:1100] = np.nan
    y[5000] = np.inf
    path = tmp_path / "nan.wav"
    sf.write(path, y, 22050, subtype="FLOAT")
    for src, kw in ((path, {}), (y, {"sample_rate": 22050})):
        with pytest.warns(UserWarning, match="non-finite"):
            out = load(src, **kw)
        assert np.isfinite(out).all()
        assert not out[1000:1100].any() and out[5000] == 0
        np.testing.assert_array_equal(out[:1000], y[:1000])


def test_all_non_finite_is_invalid(tmp_path: Path) -> None:
    path = tmp_path / "allnan.wav"
    sf.write(path, np.full(4000, np.nan, np.float32), 22050, subtype="FLOAT")
    with pytest.raises(InvalidAudioError) as err:
        load(path)
    assert_one_line_naming(err, path)
    with pytest.raises(InvalidAudioError):
        load(np.full((100, 2), np.inf), sample_rate=8000)


@pytest.mark.parametrize("rate", [None, 0, -8000, 22.05, 44100.5, True, float("nan"), "44100", 10**7])
def test_bad_sample_rate(rate: object) -> None:
    with pytest.raises(InvalidAudioError, match="sample_rate"):
        load(np.zeros(100), sample_rate=rate)


def test_sample_rate_with_a_file_is_refused(tmp_path: Path) -> None:
    sf.write(tmp_path / "a.wav", np.zeros(100), 8000)
    with pytest.raises(InvalidAudioError, match="sample_rate"):
        load(tmp_path / "a.wav", sample_rate=8000)


@pytest.mark.parametrize("bad", [np.zeros((2, 10000)), np.zeros(0), np.zeros((10, 2, 2)),
                                 np.array(["a", "b"]), np.zeros(10, complex)])
def test_bad_arrays(bad: np.ndarray) -> None:
    with pytest.raises(InvalidAudioError):
        load(bad, sample_rate=22050)


def test_public_names() -> None:
    assert audio.SAMPLE_RATE == 22050
    assert set(audio.__all__) >= {"SAMPLE_RATE", "AudioInfo", "probe", "stream", "load"}


def test_ffmpeg_path_with_odd_name(tmp_path: Path) -> None:
    wav = tmp_path / "t.wav"
    sf.write(wav, tone(440, 1.0, 22050), 22050)
    odd = encode(wav, tmp_path / "concat:odd name é.m4a", "-c:a", "aac")
    assert abs(len(load(odd)) - SAMPLE_RATE) < 0.1 * SAMPLE_RATE
    bad = tmp_path / "pipe:1.webm"
    bad.write_bytes(b"\x1aE\xdf\xa3 not really matroska" * 10)
    with pytest.raises(AudioDecodeError) as err:
        load(bad)
    assert_one_line_naming(err, bad)
    assert "file:" not in str(err.value)


@pytest.mark.parametrize("channels", [2, 3, 6, 7, 8, 12])
def test_mixdown_is_the_exact_channel_mean(channels: int) -> None:
    from m2p.audio.sources import _mix

    chunk = np.random.default_rng(channels).standard_normal((5000, channels)).astype(np.float32)
    expected = chunk.mean(axis=1, dtype=np.float64).astype(np.float32)
    np.testing.assert_array_equal(_mix(chunk), expected)
