"""Small real audio files for the library tests (batch, gallery, match): synthesized music of
different characters, written through libsndfile in three formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from m2p.audio.decode import SAMPLE_RATE

#: Options that keep test runs short: 2 s windows every second.
FAST = {"window": 2.0, "hop": 1.0, "device": "cpu"}
FAST_ARGS = ["--window", "2", "--hop", "1", "--device", "cpu"]


def _notes(freqs: list[float], note_seconds: float, seconds: float, *, amp: float,
           decay: float) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    index = (t // note_seconds).astype(int) % len(freqs)
    phase_t = t % note_seconds
    f = np.asarray(freqs)[index]
    tone = np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)
    return (amp * tone * np.exp(-decay * phase_t)).astype(np.float32)


def write_songs(folder: Path, *, seconds: float = 5.0) -> list[Path]:
    """Four songs of different moods (bright major arpeggio, dark low minor drone, noisy
    percussion, a soft mid chord) as wav, flac, ogg; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    n = int(seconds * SAMPLE_RATE)
    bright = _notes([523.3, 659.3, 784.0, 1046.5], 0.125, seconds, amp=0.5, decay=6.0)
    dark = _notes([55.0, 65.4, 82.4], 1.5, seconds, amp=0.25, decay=0.3)
    hits = np.zeros(n, np.float32)
    for start in range(0, n, SAMPLE_RATE // 4):
        length = min(2000, n - start)
        hits[start:start + length] = rng.normal(0, 0.6, length) * np.exp(-np.arange(length) / 300)
    t = np.arange(n) / SAMPLE_RATE
    chord = (0.12 * sum(np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0))).astype(np.float32)
    songs = [("bright.wav", bright), ("dark.flac", dark), ("drums.ogg", hits), ("chord.wav", chord)]
    paths = []
    for name, samples in songs:
        path = folder / name
        sf.write(str(path), samples, SAMPLE_RATE)
        paths.append(path)
    return paths


def make_library(folder: Path, *, broken: bool = True) -> Path:
    """``folder/library.parquet`` made by ``m2p.batch`` over :func:`write_songs` (one worker),
    plus one file that is not audio when ``broken``."""
    import m2p

    music = folder / "music"
    write_songs(music)
    if broken:
        (music / "broken.mp3").write_bytes(b"ID3 this is not audio at all")
    out = folder / "library.parquet"
    m2p.batch(music, output=out, workers=1, **FAST)
    return out
