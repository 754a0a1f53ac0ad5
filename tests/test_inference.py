"""Inference end to end with the tiny random model: windows, alignment, seeds, bad inputs."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

import m2p
from m2p.audio.decode import SAMPLE_RATE
from m2p.errors import (
    AudioDecodeError,
    AudioError,
    AudioFileNotFoundError,
    AudioTooShortError,
    InvalidAudioError,
    ModelNotFoundError,
)
from m2p.colour.assignment import align_palettes
from m2p.inference.windows import Windower, window_spans
from m2p.palette_types import Palette, PaletteTrack

# Short windows keep every test to a few seconds of audio on a CPU.
FAST = {"window": 2.0, "hop": 1.0, "device": "cpu"}


def music(seconds: float, sr: int = SAMPLE_RATE, *, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Chords with a changing top note and clicks: float32 (n,) or (n, channels)."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    y = np.zeros(n)
    for i, start in enumerate(range(0, n, sr // 4)):
        seg = slice(start, min(n, start + sr // 4))
        tt = t[seg] - t[start]
        for midi in (60, 64, 67, (72, 74, 76, 79)[i % 4]):
            y[seg] += 0.1 * np.exp(-4 * tt) * np.sin(2 * np.pi * 440 * 2 ** ((midi - 69) / 12) * tt)
    y += 0.01 * rng.standard_normal(n)
    y = (0.8 * y / np.abs(y).max()).astype(np.float32)
    return y if channels == 1 else y[:, None] * np.linspace(1.0, 0.4, channels, dtype=np.float32)


def write(path: Path, samples: np.ndarray, sr: int = SAMPLE_RATE, **kwargs) -> Path:
    sf.write(str(path), samples, sr, **kwargs)
    return path


@pytest.fixture
def song(tmp_path) -> Path:
    return write(tmp_path / "song.wav", music(4.5))


def assert_finite_track(track: PaletteTrack) -> None:
    assert isinstance(track, PaletteTrack)
    for p in (*track.palettes, track.overall):
        assert np.all(np.isfinite(p.lch)) and np.all(np.isfinite(p.emotion))
        assert np.all(np.isfinite(p.valence_arousal))
        assert 3 <= len(p) <= 8
        assert all(h.startswith("#") and len(h) == 7 for h in p.hex)


# ----------------------------------------------------------------------------- window layout


def test_window_spans_layout():
    assert window_spans(10, window_samples=4, hop_samples=2) == [(0, 4), (2, 6), (4, 8), (6, 10)]
    # a tail that the hop grid misses gets one end-aligned window
    assert window_spans(11, window_samples=4, hop_samples=3) == [(0, 4), (3, 7), (6, 10), (7, 11)]
    # shorter than one window: a single window of what there is
    assert window_spans(3, window_samples=4, hop_samples=2) == [(0, 3)]
    assert window_spans(4, window_samples=4, hop_samples=2) == [(0, 4)]
    assert window_spans(0, window_samples=4, hop_samples=2) == []
    # a hop longer than the window leaves gaps but still ends with the tail
    assert window_spans(10, window_samples=2, hop_samples=5) == [(0, 2), (5, 7), (8, 10)]


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 400),
    window=st.integers(1, 60),
    hop=st.integers(1, 70),
    block=st.integers(1, 90),
)
def test_streaming_windows_match_the_layout(n, window, hop, block):
    samples = np.arange(n, dtype=np.float32)
    windower = Windower(window, hop)
    got = []
    for start in range(0, n, block):
        got.extend(windower.feed(samples[start:start + block]))
        # bounded memory: never more than a window plus a hop plus the newest block
        assert len(windower.buffer) <= window + hop + block
    got.extend(windower.finish())
    spans = window_spans(n, window_samples=window, hop_samples=hop)
    assert [(s, s + len(w)) for s, w in got] == spans
    for start, w in got:
        np.testing.assert_array_equal(w, samples[start:start + len(w)])


def test_track_times_are_window_centres(tiny_model, tmp_path):
    path = write(tmp_path / "odd.wav", music(4.3))
    track = m2p.palette_track(path, model=tiny_model, **FAST)
    n = sf.info(str(path)).frames
    hop = 43 * 512  # 1 s rounded to whole 512-sample analysis frames
    spans = window_spans(n, window_samples=2 * SAMPLE_RATE, hop_samples=hop)
    np.testing.assert_allclose(track.times, [(a + b) / 2 / SAMPLE_RATE for a, b in spans])
    assert track.times[-1] == pytest.approx(4.3 - 1.0, abs=1e-3)  # the end-aligned tail window
    assert track.duration == pytest.approx(4.3, abs=1e-3)
    assert (track.window, track.hop, track.source, track.seed) == (2.0, hop / SAMPLE_RATE, str(path), 0)
    assert_finite_track(track)


def test_clip_shorter_than_one_window_gives_one_window(tiny_model, tmp_path):
    path = write(tmp_path / "short.wav", music(1.5))
    track = m2p.palette_track(path, model=tiny_model, window=10.0, hop=2.5, device="cpu")
    assert len(track) == 1
    assert track.times[0] == pytest.approx(0.75, abs=1e-3)
    assert_finite_track(track)


def test_clip_under_one_second_is_too_short(tiny_model, tmp_path):
    path = write(tmp_path / "blip.wav", music(0.5))
    with pytest.raises(AudioTooShortError, match="blip.wav"):
        m2p.palette_track(path, model=tiny_model, **FAST)


# ----------------------------------------------------------------------------- alignment


def test_hungarian_alignment_keeps_slots():
    first = np.array([[30.0, 50, 20], [60, 40, 140], [85, 20, 260]])
    # the next window: the same colours, slightly moved, in another order, plus one new colour
    second = np.array([[86.0, 22, 255], [95, 5, 90], [31, 48, 25], [58, 42, 145]])
    third = np.array([[62.0, 38, 150], [28, 52, 15]])
    aligned = align_palettes([first, second, third])
    np.testing.assert_array_equal(aligned[0], first)
    np.testing.assert_array_equal(aligned[1], second[[2, 3, 0, 1]])
    np.testing.assert_array_equal(aligned[2], third[[1, 0]])


def test_alignment_restores_slots_after_a_shorter_palette():
    a, b, c, d = [30.0, 50, 20], [60, 40, 140], [85, 20, 260], [45, 60, 320]
    nudge = np.array([1.0, -1.0, 2.0])
    aligned = align_palettes([np.array([a, b, c, d]), np.array([b, a]),
                              np.array([d, a, b, c]) + nudge])
    np.testing.assert_array_equal(aligned[1], np.array([a, b]))
    np.testing.assert_allclose(aligned[2], np.array([a, b, c, d]) + nudge)


def test_track_slots_are_aligned(tiny_model, tmp_path):
    from scipy.optimize import linear_sum_assignment

    from m2p.colour.difference import ciede2000_matrix

    path = write(tmp_path / "long.wav", music(6.0, seed=3))
    track = m2p.palette_track(path, model=tiny_model, **FAST)
    reference = track.palettes[0].lch
    for p in track.palettes[1:]:
        k = min(len(p), len(reference))
        cost = ciede2000_matrix(reference[:k], p.lch)
        rows, cols = linear_sum_assignment(cost)
        # keeping slot i at position i is an optimal assignment
        assert cost[np.arange(k), np.arange(k)].sum() == pytest.approx(cost[rows, cols].sum())
        reference = p.lch if len(p) >= len(reference) else np.concatenate([p.lch, reference[len(p):]])


# ----------------------------------------------------------------------------- seeds, noise


def test_same_seed_gives_the_same_track(tiny_model, song):
    first = m2p.palette_track(song, model=tiny_model, seed=7, noise=1.0, **FAST)
    second = m2p.palette_track(song, model=tiny_model, seed=7, noise=1.0, **FAST)
    assert first == second


def test_zero_noise_ignores_the_seed(tiny_model, song):
    a = m2p.palette(song, model=tiny_model, seed=1, noise=0.0, **FAST)
    b = m2p.palette(song, model=tiny_model, seed=2, noise=0.0, **FAST)
    assert a == b


def test_palette_is_the_track_overall(tiny_model, song):
    track = m2p.palette_track(song, model=tiny_model, seed=5, noise=1.0, **FAST)
    assert m2p.palette(song, model=tiny_model, seed=5, noise=1.0, **FAST) == track.overall
    # the whole-piece emotion is the mean of the windows'
    np.testing.assert_allclose(track.overall.emotion, track.emotions.mean(axis=0), atol=1e-6)


def test_palettes_are_diverse_with_noise(tiny_model, song):
    results = m2p.palettes(song, n=5, model=tiny_model, noise=3.0, **FAST)
    assert len(results) == 5 and all(isinstance(p, Palette) for p in results)
    assert len({p.hex for p in results}) >= 3
    assert all(3 <= len(p) <= 8 for p in results)
    # asking for more keeps the first ones
    more = m2p.palettes(song, n=6, model=tiny_model, noise=3.0, **FAST)
    assert more[:5] == results


def test_model_directory_and_array_sources(tiny_model_dir, song):
    from_dir = m2p.palette(song, model=tiny_model_dir, noise=0.0, **FAST)
    samples, sr = sf.read(str(song), dtype="float32")
    from_array = m2p.palette(samples, sample_rate=sr, model=str(tiny_model_dir), noise=0.0, **FAST)
    assert from_dir == from_array
    track = m2p.palette_track(samples, sample_rate=sr, model=tiny_model_dir, **FAST)
    assert track.source is None


def test_progress_bar_runs(tiny_model, song, capsys):
    track = m2p.palette_track(song, model=tiny_model, progress=True, **FAST)
    assert_finite_track(track)


def test_missing_model_raises_model_not_found(monkeypatch, tmp_path, song):
    empty = tmp_path / "no_model_here"
    empty.mkdir()
    monkeypatch.setenv("M2P_MODEL_DIR", str(empty))
    with pytest.raises(ModelNotFoundError, match="no_model_here"):
        m2p.palette(song, **FAST)


# ----------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"window": 0}, ValueError),
        ({"window": 0.5}, ValueError),
        ({"window": float("nan")}, ValueError),
        ({"hop": 0}, ValueError),
        ({"hop": -1.0}, ValueError),
        ({"hop": "1"}, TypeError),
        ({"seed": -1}, ValueError),
        ({"seed": 1.5}, TypeError),
        ({"seed": True}, TypeError),
        ({"noise": -0.1}, ValueError),
        ({"batch_size": 0}, ValueError),
        ({"model": 42}, TypeError),
        ({"progress": "yes"}, TypeError),
    ],
)
def test_bad_arguments_raise_typed_errors(tiny_model, song, kwargs, error):
    options = {"model": tiny_model, "window": 2.0, "hop": 1.0, **kwargs}
    with pytest.raises(error):
        m2p.palette_track(song, **options)


@pytest.mark.parametrize("n", [0, -2])
def test_palettes_needs_n_at_least_one(tiny_model, song, n):
    with pytest.raises(ValueError):
        m2p.palettes(song, n=n, model=tiny_model, **FAST)


# ----------------------------------------------------------------------------- bad inputs


def test_missing_file(tiny_model, tmp_path):
    with pytest.raises(AudioFileNotFoundError, match="nothing.wav"):
        m2p.palette_track(tmp_path / "nothing.wav", model=tiny_model, **FAST)


def test_empty_file(tiny_model, tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav"):
        m2p.palette_track(path, model=tiny_model, **FAST)


def test_non_audio_bytes(tiny_model, tmp_path):
    path = tmp_path / "notes.mp3"
    path.write_bytes(b"these are not the droids you are looking for\n" * 200)
    with pytest.raises(AudioDecodeError, match="notes.mp3"):
        m2p.palette_track(path, model=tiny_model, **FAST)


def test_truncated_mp3_works_or_fails_cleanly(tiny_model, tmp_path):
    full = write(tmp_path / "full.mp3", music(4.0), format="MP3")
    data = full.read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) * 2 // 3])
    try:
        track = m2p.palette_track(cut, model=tiny_model, **FAST)
    except AudioError as exc:
        assert "cut.mp3" in str(exc)
    else:
        assert_finite_track(track)
        assert track.duration < 4.0


def test_silence_works_and_is_finite(tiny_model, tmp_path):
    path = write(tmp_path / "silence.wav", np.zeros(int(3 * SAMPLE_RATE), dtype=np.float32))
    assert_finite_track(m2p.palette_track(path, model=tiny_model, **FAST))


@pytest.mark.parametrize("rate", [8000, 96000])
def test_unusual_sample_rates(tiny_model, tmp_path, rate):
    path = write(tmp_path / f"r{rate}.wav", music(3.0, rate), rate)
    track = m2p.palette_track(path, model=tiny_model, **FAST)
    assert track.duration == pytest.approx(3.0, abs=1e-3)
    assert_finite_track(track)


def test_multichannel(tiny_model, tmp_path):
    path = write(tmp_path / "surround.wav", music(3.0, channels=6))
    assert_finite_track(m2p.palette_track(path, model=tiny_model, **FAST))


def test_some_nan_and_inf_samples(tiny_model):
    samples = music(3.0)
    samples[100:200] = np.nan
    samples[5000] = np.inf
    samples[6000] = -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the audio module warns about replacing them
        track = m2p.palette_track(samples, sample_rate=SAMPLE_RATE, model=tiny_model, **FAST)
    assert_finite_track(track)


def test_all_nan_samples(tiny_model):
    samples = np.full(3 * SAMPLE_RATE, np.nan, dtype=np.float32)
    with pytest.raises(InvalidAudioError):
        m2p.palette_track(samples, sample_rate=SAMPLE_RATE, model=tiny_model, **FAST)


def test_model_mode_is_restored(tiny_model, song):
    tiny_model.train()
    try:
        first = m2p.palette(song, model=tiny_model, **FAST)
        assert tiny_model.training
        assert m2p.palette(song, model=tiny_model, **FAST) == first
    finally:
        tiny_model.eval()


# ------------------------------------------------------- family-choosing (component head) models


@pytest.fixture
def family_model(tiny_config):
    import dataclasses

    import torch

    from m2p.model.network import Music2Palette

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(4321)
        model = Music2Palette(dataclasses.replace(tiny_config, noise_components=6,
                                                  component_head=True,
                                                  decoder_conditioning="embedding"))
        # A head that strongly prefers some families, so that the choice is visible.
        model.heads.component_head[-1].weight.data.mul_(40.0)
    return model.eval()


def test_family_model_alternatives_are_different_families(family_model, song):
    many = m2p.palettes(song, model=family_model, n=6, noise=0.2, **FAST)
    again = m2p.palettes(song, model=family_model, n=6, noise=0.2, **FAST)
    assert [p.hex for p in many] == [p.hex for p in again]  # deterministic per seed
    # palettes 0-4 decode the five most characteristic families (palette 5 is palette 0's
    # family again, with its own Gaussian jitter)
    assert len({p.hex for p in many[:5]}) == 5
    # noise 0 is deterministic: every seed gets the best family
    a = m2p.palette(song, model=family_model, seed=0, noise=0.0, **FAST)
    b = m2p.palette(song, model=family_model, seed=3, noise=0.0, **FAST)
    assert a.hex == b.hex


def test_family_scores_are_smoothed_along_the_track():
    import torch

    from m2p.inference.track_state import FAMILY_SMOOTHING_SECONDS, ScoreSmoother

    smoother = ScoreSmoother(hop_seconds=2.5)
    steady = torch.tensor([[1.0, 0.0]] * 3)
    torch.testing.assert_close(smoother.update(steady), steady)
    changed = smoother.update(torch.tensor([[0.0, 1.0]] * 4))
    # the new family takes over only after a few windows (one time constant: 1 - 1/e)
    assert changed[0, 0] > changed[0, 1]
    assert changed[-1, 1] > changed[-1, 0]
    # a weighted mean of the windows so far, weights keep ** age: after three windows of the
    # old family, the first new one has weight 1 of 1 + keep + keep**2 + keep**3
    keep = np.exp(-2.5 / FAMILY_SMOOTHING_SECONDS)
    assert float(changed[0, 1]) == pytest.approx(1 / (1 + keep + keep**2 + keep**3), rel=1e-5)
    # models without the head have no scores to smooth
    assert smoother.update(None) is None


def test_a_track_keeps_its_family_through_near_ties():
    import torch

    from m2p.inference.track_state import FAMILY_SWITCH_MARGIN, FamilyChoice

    choice = FamilyChoice(hop_seconds=1e6)  # windows far apart: no smoothing, the margin alone
    first = choice.update(torch.tensor([[1.0, 0.9]]))
    assert int(first[0].argmax()) == 0
    # family 1 edges ahead by less than the margin: the track stays with family 0
    tie = choice.update(torch.tensor([[1.0, 1.0 + FAMILY_SWITCH_MARGIN / 2]]))
    assert int(tie[0].argmax()) == 0
    # a clear change of music switches, and the new family is then the one favoured
    clear = choice.update(torch.tensor([[1.0, 1.0 + 2 * FAMILY_SWITCH_MARGIN],
                                        [1.0 + FAMILY_SWITCH_MARGIN / 2, 1.0]]))
    assert clear.argmax(dim=1).tolist() == [1, 1]
    assert choice.update(None) is None


# ----------------------------------------------------- shared frames (m2p.features.stream) vs alone

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "savino_caribbean_excerpt.ogg"
SHIPPED = REPO / "model" / "model.safetensors"


def engine_windows(source, model, *, shared, hop_samples, seed=0):
    """(window palettes, whole-piece palette) from a PaletteEngine fed in 10 s blocks."""
    from m2p.audio.decode import stream
    from m2p.inference.engine import PaletteEngine, resolve_model
    from m2p.inference.windows import window_layout

    net, device = resolve_model(model, "cpu")
    window_samples = window_layout(10.0, 2.5)[0]
    engine = PaletteEngine(net, device=device, seeds=[seed], noise_scale=float(net.config.noise_scale),
                           window_samples=window_samples, hop_samples=hop_samples,
                           shared_frames=shared)
    windows = []
    for block in stream(source, block_seconds=10.0):
        windows += engine.feed(block)
    windows += engine.finish()
    return windows, engine.overall()[0]


@pytest.mark.skipif(not (EXAMPLE.exists() and SHIPPED.exists()), reason="example or shipped weights missing")
@pytest.mark.parametrize("hop_samples", [55125, 107 * 512])
def test_shared_frames_give_the_per_window_palettes_on_real_music(hop_samples):
    """The engine's shared frame stream against the per-window path it replaced, with the
    shipped model on the example recording: windows on the 512-sample frame grid (hop 107
    frames) get the same features, so the same palettes, and so does the end-aligned tail
    window (analysed alone); a hop off the grid (exactly 2.5 s, which `window_layout` now
    rounds to 108 frames) makes the engine take the per-window path (docs/decisions.md), and
    the palettes are equal."""
    import torch

    from training.metrics import palette_distance

    with torch.random.fork_rng(devices=[]):
        shared, shared_overall = engine_windows(EXAMPLE, SHIPPED.parent, shared=True, hop_samples=hop_samples)
        alone, alone_overall = engine_windows(EXAMPLE, SHIPPED.parent, shared=False, hop_samples=hop_samples)
    assert [(w.start, w.end) for w in shared] == [(w.start, w.end) for w in alone]
    assert len(shared) >= 6
    tolerance = 0.5 if hop_samples % 512 else 0.01
    for a, b in zip(shared, alone):
        assert len(a.palette) == len(b.palette)
        assert palette_distance(a.palette.lch, b.palette.lch) < tolerance
    assert palette_distance(shared_overall.lch, alone_overall.lch) < tolerance
    # windows whose start is on the grid are exact even at the default hop: the first one
    assert palette_distance(shared[0].palette.lch, alone[0].palette.lch) < 0.01


def test_short_windows_and_short_clips_are_analysed_alone(tiny_model):
    """Below MIN_WINDOW_SAMPLES there are no interior frames to share, and a clip shorter than
    one window is one window of its own length: both take the per-window path."""
    import torch

    from m2p.features.stream import MIN_WINDOW_SAMPLES
    from m2p.inference.engine import PaletteEngine

    def run(window_samples, n, shared):
        engine = PaletteEngine(tiny_model, device=torch.device("cpu"), seeds=[0], noise_scale=0.0,
                               window_samples=window_samples, hop_samples=1024, shared_frames=shared)
        y = music(n / SAMPLE_RATE)
        return engine.feed(y) + engine.finish(), engine

    short, engine = run(MIN_WINDOW_SAMPLES - 1, 30000, True)
    assert engine.frames is None and len(short) == (30000 - MIN_WINDOW_SAMPLES + 1) // 1024 + 2
    clip, engine = run(4 * SAMPLE_RATE, 30000, True)
    reference, _ = run(4 * SAMPLE_RATE, 30000, False)
    assert engine.frames is not None and [(w.start, w.end) for w in clip] == [(0.0, 30000 / SAMPLE_RATE)]
    np.testing.assert_allclose(clip[0].palette.lch, reference[0].palette.lch, atol=1e-4)
