"""The engine's seams: another music encoder (another rate, hop and feature) runs end to end
through the public API, and a call opens and probes its input once."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

import m2p
from m2p.audio import sources
from m2p.model.config import ModelConfig
from m2p.model.encoder import ENCODERS, EncoderInput, EncoderOutput, MusicEncoder
from m2p.model.network import Music2Palette

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "savino_caribbean_excerpt.ogg"

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# ------------------------------------------------------------------ a toy encoder at 16 kHz


class ToyEncoder(MusicEncoder):
    """Hears 16 kHz, a frame every 256 samples, 5 features of its own (log energy of four
    bands and of the whole 512-sample frame); embedding = mean of the projected frames."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.input = EncoderInput(sample_rate=16_000, hop_length=256, feature_dim=5)
        self.proj = nn.Linear(5, config.d_model)
        self.heard: list[tuple[int, ...]] = []  # shapes of the windows it was given

    def features(self, waves: torch.Tensor) -> torch.Tensor:
        self.heard.append(tuple(waves.shape))
        padded = nn.functional.pad(waves, (256, 256))
        frames = padded.unfold(-1, 512, 256)  # (B, 1 + n // 256, 512), centred frames
        power = torch.fft.rfft(frames * torch.hann_window(512, device=waves.device)).abs() ** 2
        bands = [power[..., a:b].sum(-1) for a, b in ((0, 16), (16, 48), (48, 112), (112, 257))]
        return torch.log(torch.stack([*bands, power.sum(-1)], dim=-1) + 1e-6)

    def forward(self, features: torch.Tensor, frame_mask: torch.Tensor | None = None
                ) -> EncoderOutput:
        memory = self.proj(features)
        return EncoderOutput(embedding=memory.mean(dim=1), memory=memory, memory_mask=None)


@pytest.fixture
def toy_model() -> Music2Palette:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        model = Music2Palette(ModelConfig.tiny(), encoder=ToyEncoder(ModelConfig.tiny()))
    return model.eval()


@pytest.mark.skipif(not EXAMPLE.exists(), reason="example recording missing")
def test_a_toy_encoder_at_16_khz_runs_end_to_end(toy_model):
    encoder = toy_model.encoder
    track = m2p.palette_track(EXAMPLE, model=toy_model, device="cpu")
    # The layout follows the encoder: 10 s windows of 160,000 samples at 16 kHz, the hop a
    # whole number of its 256-sample frames (2.5 s -> 156 frames), the duration at 16 kHz.
    assert track.window == 10.0 and track.hop == 156 * 256 / 16_000
    assert track.duration == 25.0 and len(track) == 8
    assert encoder.heard == [(8, 160_000)]  # 7 windows and the end-aligned tail, one batch
    np.testing.assert_allclose(track.times, [5.0 + 2.496 * i for i in range(7)] + [20.0])
    assert all(3 <= len(p) <= 8 and np.isfinite(p.lch).all() for p in track.palettes)
    # The same music as an array at the file's own rate: decoded, mixed and resampled alike,
    # so the palettes are the file's, bit for bit.
    samples, rate = sf.read(str(EXAMPLE), dtype="float32")
    from_array = m2p.palette_track(samples, sample_rate=rate, model=toy_model, device="cpu")
    assert from_array.palettes == track.palettes and from_array.overall == track.overall
    # A live stream resamples to the encoder's rate too and gives the offline palettes.
    stream = m2p.PaletteStream(sample_rate=rate, model=toy_model, device="cpu")
    live = [w for i in range(0, len(samples), rate) for w in stream.feed(samples[i:i + rate])]
    live += stream.close()
    assert [round(w.time, 3) for w in live] == [round(float(t), 3) for t in track.times]
    assert stream.seconds == 25.0


def test_a_config_names_the_encoder_of_a_model_folder(monkeypatch, tmp_path):
    """Swapping the encoder is a registered encoder and a config key: the folder saves and
    loads through the ordinary weights code, and the state keeps the flat layout."""
    from m2p.model.weights import load_model, save_model

    monkeypatch.setitem(ENCODERS, "toy", ToyEncoder)
    config = ModelConfig.preset("tiny", encoder="toy")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        model = Music2Palette(config).eval()
    assert isinstance(model.encoder, ToyEncoder) and "proj.weight" in model.state_dict()
    folder = save_model(model, tmp_path / "toy_model")
    loaded = load_model(folder, device="cpu")
    assert isinstance(loaded.encoder, ToyEncoder) and loaded.input.sample_rate == 16_000
    rng = np.random.default_rng(0)
    clip = (0.1 * rng.standard_normal(3 * 48_000)).astype(np.float32)
    a = m2p.palette(clip, sample_rate=48_000, model=model, device="cpu", window=2.0, hop=1.0)
    b = m2p.palette(clip, sample_rate=48_000, model=folder, device="cpu", window=2.0, hop=1.0)
    assert a == b


def test_state_names_must_differ_between_the_parts():
    class Clashing(ToyEncoder):
        def __init__(self, config):
            super().__init__(config)
            self.stop_head = nn.Linear(2, 2)  # the decoder's name

    with pytest.raises(ValueError, match="stop_head"):
        Music2Palette(ModelConfig.tiny(), encoder=Clashing(ModelConfig.tiny()))


# ------------------------------------------------------------------ probe once


@pytest.fixture
def opens(monkeypatch):
    """Counts the sources opened (each open probes the header), and ffmpeg's runs, from
    the moment it is set up (list it after the fixtures that make files)."""
    counts = {"sources": 0, "ffmpeg -i": 0, "ffmpeg decode": 0}
    for cls in (sources._ArraySource, sources._SoundFileSource, sources._FfmpegSource):
        real = cls.__init__

        def counting(self, *args, _real=real, **kwargs):
            _real(self, *args, **kwargs)
            counts["sources"] += 1  # opened (libsndfile refusing an m4a is no open)

        monkeypatch.setattr(cls, "__init__", counting)
    real_run, real_popen = subprocess.run, subprocess.Popen

    def run(cmd, *args, **kwargs):
        counts["ffmpeg -i"] += "-i" in cmd and "pipe:1" not in cmd
        return real_run(cmd, *args, **kwargs)

    class Popen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, cmd, *args, **kwargs):
            counts["ffmpeg decode"] += "pipe:1" in cmd
            super().__init__(cmd, *args, **kwargs)

    monkeypatch.setattr(sources.subprocess, "run", run)
    monkeypatch.setattr(sources.subprocess, "Popen", Popen)
    return counts


@pytest.fixture
def m4a(tmp_path) -> Path:
    """A 3 s file libsndfile cannot read: decoded by ffmpeg."""
    from m2p._internal.ffmpeg import ffmpeg_exe

    wav = tmp_path / "song.wav"
    t = np.arange(3 * 22050) / 22050
    sf.write(str(wav), (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32), 22050)
    out = tmp_path / "song.m4a"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(wav), "-c:a", "aac",
                    str(out)], check=True, stdin=subprocess.DEVNULL)
    return out


@pytest.mark.parametrize("progress", [False, True])
def test_palette_track_opens_a_file_once(tiny_model, m4a, tmp_path, progress, opens):
    ogg = tmp_path / "song.ogg"
    sf.write(str(ogg), sf.read(str(m4a.with_suffix(".wav")))[0], 22050, format="OGG")
    fast = {"window": 2.0, "hop": 1.0, "device": "cpu", "model": tiny_model, "progress": progress}
    m2p.palette_track(ogg, **fast)
    assert opens == {"sources": 1, "ffmpeg -i": 0, "ffmpeg decode": 0}
    m2p.palette_track(m4a, **fast)
    assert opens == {"sources": 2, "ffmpeg -i": 1, "ffmpeg decode": 1}
    m2p.palettes(m4a, n=2, **fast)
    m2p.palette(np.zeros(44100, np.float32), sample_rate=44100, **fast)
    assert opens == {"sources": 4, "ffmpeg -i": 2, "ffmpeg decode": 2}
