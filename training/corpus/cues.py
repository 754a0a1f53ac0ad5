"""Per-window music cues (mode, tempo, onset rate, loudness, brightness, register) and vibenet.

One STFT per track (n_fft 2048, hop 512 at 22,050 Hz) feeds every cue, so analysis stays cheap.
Windows are 10 s with a 5 s hop; the last window may be shorter (>= 3 s).

Cues (all per window):
- ``mode_major``: max Pearson correlation of the mean chroma with the 12 Krumhansl-Kessler major
  profiles minus the max over the 12 minor profiles (positive = major; about [-0.5, 0.5]).
- ``tempo_bpm``: librosa's autocorrelation tempo of the onset envelope.
- ``onset_rate``: detected onsets per second.
- ``loudness_db``: mean-square level in dBFS (no normalisation anywhere upstream).
- ``brightness_hz``: RMS-weighted spectral centroid.
- ``register_midi``: magnitude-weighted mean MIDI pitch of the 55-2000 Hz band.
"""

from __future__ import annotations

import warnings

import numpy as np

from m2p.features import cues as music_cues
from m2p.features.cues import KRUMHANSL_KESSLER_MAJOR, KRUMHANSL_KESSLER_MINOR

SR = 22050
N_FFT = 2048
HOP = 512
WINDOW = 10.0
WINDOW_HOP = 5.0
MIN_WINDOW = 3.0
SILENCE_DB = -55.0

KK_MAJOR = np.array(KRUMHANSL_KESSLER_MAJOR)
KK_MINOR = np.array(KRUMHANSL_KESSLER_MINOR)


def load_audio(path, max_seconds: float | None = None) -> np.ndarray:
    """Mono float32 at 22,050 Hz (soundfile: ogg/vorbis, ogg/opus, flac, wav)."""
    import soundfile as sf
    import soxr

    with sf.SoundFile(str(path)) as f:
        frames = -1 if max_seconds is None else int(max_seconds * f.samplerate)
        y = f.read(frames, dtype="float32", always_2d=True)
        sr = f.samplerate
    y = y.mean(axis=1)
    if sr != SR:
        y = soxr.resample(y, sr, SR).astype(np.float32)
    y[~np.isfinite(y)] = 0.0
    return y


def window_starts(duration: float) -> list[tuple[float, float]]:
    out = []
    start = 0.0
    while start + MIN_WINDOW <= duration + 1e-6:
        dur = min(WINDOW, duration - start)
        out.append((round(start, 3), round(dur, 3)))
        if start + WINDOW >= duration:
            break
        start += WINDOW_HOP
    return out


def mode_score(chroma_mean: np.ndarray) -> float:
    """``m2p.features.cues.mode_score`` of one (12,) chroma vector, as a float (0 when flat)."""
    import torch

    return float(music_cues.mode_score(torch.as_tensor(np.asarray(chroma_mean, dtype=np.float64))))


def analyse(y: np.ndarray, vibenet_model=None) -> list[dict]:
    """Cue features (and vibenet valence/energy when a model is given) for every window of ``y``."""
    import librosa

    duration = len(y) / SR
    wins = window_starts(duration)
    if not wins:
        return []
    S = np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP, center=True)).astype(np.float32)
    P = S**2
    freqs = librosa.fft_frequencies(sr=SR, n_fft=N_FFT)
    rms = librosa.feature.rms(y=y, frame_length=N_FFT, hop_length=HOP, center=True)[0]
    centroid = (freqs[:, None] * S).sum(axis=0) / (S.sum(axis=0) + 1e-9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chroma = librosa.feature.chroma_stft(S=P, sr=SR, n_fft=N_FFT, hop_length=HOP, tuning=0.0)
        mel = librosa.feature.melspectrogram(S=P, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=64)
        env = librosa.onset.onset_strength(S=librosa.power_to_db(mel, ref=np.max), sr=SR, hop_length=HOP)
    band = (freqs >= 55) & (freqs <= 2000)
    band_midi = 69 + 12 * np.log2(freqs[band] / 440.0)
    Sb = S[band]
    fps = SR / HOP
    out = []
    for start, dur in wins:
        a = int(round(start * fps))
        b = max(a + 2, int(round((start + dur) * fps)))
        w_rms = rms[a:b]
        loud = float(10 * np.log10(np.mean(w_rms**2) + 1e-12))
        if loud < SILENCE_DB:
            continue
        wt = w_rms / (w_rms.sum() + 1e-12)
        bright = float((centroid[a:b] * wt).sum())
        cm = (chroma[:, a:b] * wt[None, :]).sum(axis=1)
        sb = Sb[:, a:b].sum(axis=1)
        register = float((band_midi * sb).sum() / (sb.sum() + 1e-9))
        e = env[a:b]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tempo = float(np.atleast_1d(librosa.feature.tempo(onset_envelope=e, sr=SR, hop_length=HOP))[0])
            onsets = librosa.onset.onset_detect(onset_envelope=e, sr=SR, hop_length=HOP, units="frames")
        rec = {
            "start": start,
            "duration": dur,
            "cues": {
                "mode_major": round(mode_score(cm), 4),
                "tempo_bpm": round(tempo, 2),
                "onset_rate": round(len(onsets) / dur, 3),
                "loudness_db": round(loud, 2),
                "brightness_hz": round(bright, 1),
                "register_midi": round(register, 2),
            },
        }
        if vibenet_model is not None:
            rec["vibenet"] = vibenet_va(vibenet_model, y[int(start * SR) : int((start + dur) * SR)])
        out.append(rec)
    return out


def load_vibenet():
    """vibenet's ONNX model, or None when the optional extra is not installed."""
    try:
        import vibenet  # GPL-3, training-only
    except Exception:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return vibenet.load_model()


def vibenet_va(model, y: np.ndarray) -> list[float]:
    """vibenet valence and energy in [0, 1] for a 22,050 Hz clip, returned as [v, a]."""
    import soxr

    y16 = soxr.resample(y, SR, 16000).astype(np.float32)
    r = model.predict([y16], 16000)[0]
    return [round(float(r.valence), 4), round(float(r.energy), 4)]
