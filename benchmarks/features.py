"""Time m2p's feature extraction against librosa computing the same feature set.

Usage::

    python benchmarks/features.py [AUDIO_PATH] [--seconds 240] [--repeats 5] [--threads N]

Without a path a 4-minute music-like signal is synthesised (chords, melody, bass, clicks,
a little noise). Prints a table of seconds per run (best of ``--repeats``) and the ratio,
then, if ``m2p.palette_track`` and a model are available, the end-to-end palette-track time.
librosa is needed for the comparison only (it is a test dependency, not a runtime one).
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch

from m2p.features import frames as F

SR = F.SAMPLE_RATE


def synth_music(seconds: float, *, seed: int = 0) -> np.ndarray:
    """Music-like mono float32 signal at 22,050 Hz: I-V-vi-IV chords, melody, bass, clicks, noise."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    y = np.zeros(n, np.float64)
    beat = SR // 2  # 120 bpm
    chords = [(60, 64, 67), (55, 59, 62), (57, 60, 64), (53, 57, 60)]
    scale = [60, 62, 64, 65, 67, 69, 71, 72]

    def tone(midi: float, length: int, amp: float) -> np.ndarray:
        t = np.arange(length) / SR
        f = 440.0 * 2 ** ((midi - 69) / 12)
        env = np.exp(-3.0 * t)
        return amp * env * sum(np.sin(2 * np.pi * f * h * t) / h for h in (1, 2, 3))

    for i, start in enumerate(range(0, n, beat)):
        length = min(beat, n - start)
        chord = chords[(i // 4) % 4]
        seg = sum(tone(m, length, 0.08) for m in chord)
        seg = seg + tone(scale[rng.integers(len(scale))] + 12, length, 0.2)
        seg = seg + tone(chord[0] - 24, length, 0.15)
        click = min(400, length)
        seg[:click] += 0.4 * rng.standard_normal(click) * np.exp(-np.arange(click) / 60)
        y[start : start + length] += seg
    y += 0.003 * rng.standard_normal(n)
    return (y / np.abs(y).max() * 0.8).astype(np.float32)


def ours(y: np.ndarray) -> torch.Tensor:
    return F.extract_features(torch.from_numpy(y)[None])


def librosa_separate(y: np.ndarray) -> np.ndarray:
    """The same features as a typical librosa script computes them: each call from ``y``."""
    import librosa

    kw = dict(sr=SR, n_fft=F.N_FFT, hop_length=F.HOP_LENGTH)
    mel = librosa.power_to_db(librosa.feature.melspectrogram(y=y, **kw))
    chroma = librosa.feature.chroma_stft(y=y, tuning=0.0, **kw)
    contrast = librosa.feature.spectral_contrast(y=y, **kw)
    tonnetz = librosa.feature.tonnetz(chroma=chroma)
    tempogram = librosa.feature.tempogram(y=y, sr=SR, hop_length=F.HOP_LENGTH, win_length=384)
    rms = librosa.feature.rms(y=y, frame_length=F.N_FFT, hop_length=F.HOP_LENGTH)
    f0 = librosa.yin(y, fmin=F.PITCH_FMIN, fmax=F.PITCH_FMAX, sr=SR, frame_length=F.N_FFT,
                     hop_length=F.HOP_LENGTH)
    return np.concatenate([mel, chroma, contrast, tonnetz, tempogram, rms, f0[None]])


def librosa_shared(y: np.ndarray) -> np.ndarray:
    """librosa with one shared STFT and mel spectrogram (the fastest fair librosa pipeline)."""
    import librosa

    power = np.abs(librosa.stft(y, n_fft=F.N_FFT, hop_length=F.HOP_LENGTH)) ** 2
    mel = librosa.power_to_db(librosa.feature.melspectrogram(S=power, sr=SR))
    chroma = librosa.feature.chroma_stft(S=power, sr=SR, tuning=0.0)
    contrast = librosa.feature.spectral_contrast(S=np.sqrt(power), sr=SR)
    tonnetz = librosa.feature.tonnetz(chroma=chroma)
    env = librosa.onset.onset_strength(S=mel, sr=SR)
    tempogram = librosa.feature.tempogram(onset_envelope=env, sr=SR, win_length=384)
    rms = librosa.feature.rms(y=y, frame_length=F.N_FFT, hop_length=F.HOP_LENGTH)
    f0 = librosa.yin(y, fmin=F.PITCH_FMIN, fmax=F.PITCH_FMAX, sr=SR, frame_length=F.N_FFT,
                     hop_length=F.HOP_LENGTH)
    return np.concatenate([mel, chroma, contrast, tonnetz, tempogram, rms, f0[None]])


def best_times(pipelines: dict, arg, repeats: int) -> dict[str, tuple[float, float]]:
    """Best-of-``repeats`` (wall seconds, CPU seconds of this process) per pipeline.

    Runs are interleaved so that load from other processes on a shared machine hits every
    pipeline alike; CPU seconds are less sensitive to such load than wall seconds.
    """
    best = {name: (float("inf"), float("inf")) for name in pipelines}
    for _ in range(repeats):
        for name, fn in pipelines.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn(arg)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} logical CPUs, torch {torch.__version__} "
            f"({torch.get_num_threads()} threads), Python {platform.python_version()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", help="audio file (default: a synthesised signal)")
    parser.add_argument("--seconds", type=float, default=240.0, help="length of the synthesised signal")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.path:
        from m2p.audio.decode import load

        y = load(args.path)
        what = args.path
    else:
        y = synth_music(args.seconds)
        what = f"synthesised music, {args.seconds:g} s"
    print(f"input: {what} ({len(y) / SR:.1f} s, {F.frames_for_samples(len(y))} frames)")
    print(f"machine: {machine()}")

    ours(y[: SR * 5])  # build the cached filter banks and warm torch up
    try:
        import librosa

        librosa_shared(y[: SR * 5])  # warm up numba/caches
    except ImportError:
        librosa = None

    pipelines = {"m2p.features.frames (torch)": ours}
    if librosa is not None:
        pipelines[f"librosa {librosa.__version__}, separate calls"] = librosa_separate
        pipelines[f"librosa {librosa.__version__}, shared STFT"] = librosa_shared
    else:
        print("librosa not installed: comparison skipped")
    times = best_times(pipelines, y, args.repeats)

    ref_wall, ref_cpu = times["m2p.features.frames (torch)"]
    print()
    print(f"| {'pipeline':<36} | {'wall s':>7} | {'wall / m2p':>10} | {'CPU s':>6} | {'CPU / m2p':>9} |")
    print(f"|{'-' * 38}|{'-' * 8}:|{'-' * 11}:|{'-' * 7}:|{'-' * 10}:|")
    for name, (wall, cpu) in times.items():
        print(f"| {name:<36} | {wall:7.3f} | {wall / ref_wall:10.2f} | {cpu:6.3f} | {cpu / ref_cpu:9.2f} |")

    end_to_end(y)


def end_to_end(y: np.ndarray) -> None:
    """Time ``m2p.palette_track`` on ``y``: shipped weights if any, else a randomly initialised
    model of the default configuration (same compute, meaningless colours: timing only)."""
    try:
        from m2p import palette_track
    except ImportError:
        print("\nm2p.palette_track not importable: end-to-end timing skipped")
        return
    model = None
    label = "shipped weights"
    try:
        from m2p.model.weights import load_model

        load_model()
    except Exception:  # no weights yet: time the pipeline with an untrained default model
        try:
            from m2p.model.config import ModelConfig
            from m2p.model.network import Music2Palette

            model = Music2Palette(ModelConfig()).eval()
            label = "untrained default-config model, timing only"
        except Exception as exc:
            print(f"\nend-to-end palette_track skipped: {type(exc).__name__}: {exc}")
            return
    try:
        palette_track(y[: SR * 20], sample_rate=SR, model=model, device="cpu")  # warm-up
        t0 = time.perf_counter()
        track = palette_track(y, sample_rate=SR, model=model, device="cpu")
        wall = time.perf_counter() - t0
        print(f"\nend-to-end palette_track ({label}): {wall:.3f} s for {len(y) / SR:.0f} s of audio, "
              f"{len(track.times)} windows")
    except Exception as exc:  # the API may not be finished yet
        print(f"\nend-to-end palette_track skipped: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
