"""The training corpus as tensors: corpus records, the per-window feature cache, batches.

The corpus builder (``training/corpus``) writes ``training/cache/corpus/{tracks,windows,
palettes}.jsonl``. This module reads them, computes ``m2p.features.frames.extract_features`` once per
window (audio decoded once per track, windows batched) and stores each window's raw features as
a float16 ``.npy`` file in ``training/cache/features/<key>/`` where ``<key>`` fingerprints the
feature extractor settings; later runs load the files instead of decoding audio again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "CACHE_DIR",
    "CORPUS_DIR",
    "FEATURE_DIR",
    "Track",
    "Window",
    "Corpus",
    "load_corpus",
    "cap_per_track",
    "FeatureCache",
    "WindowDataset",
    "collate",
    "iterate_batches",
    "feature_statistics",
    "cue_statistics",
    "evenly",
    "model_training_config",
    "model_window_seconds",
]

#: Git-ignored working folder of the training pipeline.
CACHE_DIR = Path(__file__).resolve().parent / "cache"
#: Output of the corpus builder.
CORPUS_DIR = CACHE_DIR / "corpus"
#: Root of the feature cache.
FEATURE_DIR = CACHE_DIR / "features"


@dataclass(frozen=True)
class Track:
    """One audio file of the corpus (a row of ``tracks.jsonl``)."""

    track_id: str
    path: str
    split: str
    kind: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Window:
    """One labelled 10 s window (a row of ``windows.jsonl``)."""

    track_id: str
    start: float
    duration: float
    valence: float
    arousal: float
    emotion: tuple[float, ...]
    palette_ids: tuple[str, ...]
    target_lch: tuple[tuple[float, float, float], ...]
    #: All refined emotion-matched candidates (the top-1 first); one-to-many training uses them.
    targets_lch: tuple[tuple[tuple[float, float, float], ...], ...] = ()
    #: Tag probabilities of the pretrained teachers (``training.corpus.teachers``), or empty.
    teacher_tags: tuple[float, ...] = ()

    @property
    def key(self) -> str:
        """Cache key: track and start time (ms)."""
        return f"{_safe_name(self.track_id)}@{int(round(self.start * 1000)):09d}"


@dataclass
class Corpus:
    """Tracks, windows and palettes of a built corpus."""

    root: Path
    tracks: dict[str, Track]
    windows: list[Window]
    palettes: dict[str, dict[str, Any]]

    def split(self, name: str) -> list[Window]:
        """Windows of the tracks in split ``name`` (``train``, ``val`` or ``test``)."""
        return [w for w in self.windows if self.tracks[w.track_id].split == name]

    def audio_path(self, track_id: str) -> Path:
        """Absolute path of a track's audio (paths in the corpus are relative to the cache)."""
        p = Path(self.tracks[track_id].path)
        return p if p.is_absolute() else (self.root.parent / p)


def load_corpus(root: str | os.PathLike[str] = CORPUS_DIR) -> Corpus:
    """Read ``tracks.jsonl``, ``windows.jsonl`` and ``palettes.jsonl`` from ``root``.

    Windows whose track is unknown or whose target palette is empty are skipped.
    """
    root = Path(root)
    tracks: dict[str, Track] = {}
    for row in _read_jsonl(root / "tracks.jsonl"):
        tid = str(row["track_id"])
        meta = {k: v for k, v in row.items() if k not in ("track_id", "path", "split", "kind")}
        tracks[tid] = Track(tid, str(row["path"]), str(row.get("split", "train")),
                            str(row.get("kind", "")), meta)
    windows: list[Window] = []
    for row in _read_jsonl(root / "windows.jsonl"):
        tid = str(row["track_id"])
        target = row.get("target_lch") or []
        if tid not in tracks or len(target) == 0:
            continue
        windows.append(Window(
            track_id=tid,
            start=float(row["start"]),
            duration=float(row.get("duration", 10.0)),
            valence=float(row["valence"]),
            arousal=float(row["arousal"]),
            emotion=tuple(float(x) for x in row["emotion"]),
            palette_ids=tuple(str(x) for x in row.get("palette_ids", [])),
            target_lch=tuple(tuple(float(v) for v in c) for c in target),
            targets_lch=tuple(tuple(tuple(float(v) for v in c) for c in t)
                              for t in (row.get("targets_lch") or [target]) if len(t)),
            teacher_tags=tuple(float(x) for x in (row.get("teachers") or {}).get("tags", [])),
        ))
    palettes: dict[str, dict[str, Any]] = {}
    path = root / "palettes.jsonl"
    if path.exists():
        for row in _read_jsonl(path):
            palettes[str(row["id"])] = row
    return Corpus(root, tracks, windows, palettes)


def cap_per_track(windows: Sequence[Window], limit: int | None) -> list[Window]:
    """Keep at most ``limit`` evenly spaced windows per track (order preserved).

    Long tracks (game soundtracks of several minutes) would otherwise outweigh the short
    controlled renders and dominate the feature-extraction budget. ``None`` or 0 keeps all.
    """
    if not limit:
        return list(windows)
    by_track: dict[str, list[Window]] = {}
    for w in windows:
        by_track.setdefault(w.track_id, []).append(w)
    keep: set[tuple[str, float]] = set()
    for tid, ws in by_track.items():
        ws = sorted(ws, key=lambda w: w.start)
        if len(ws) > limit:
            idx = np.unique(np.round(np.linspace(0, len(ws) - 1, int(limit))).astype(int))
            ws = [ws[i] for i in idx]
        keep.update((w.track_id, w.start) for w in ws)
    return [w for w in windows if (w.track_id, w.start) in keep]


class FeatureCache:
    """Per-window raw features, computed once and stored as float16 ``.npy`` files.

    Parameters
    ----------
    root
        Cache root (default ``training/cache/features``); files go to ``root/<fingerprint>/``.
    window_seconds
        Length of every window; shorter windows (track ends) are zero-padded and masked.
    """

    def __init__(self, root: str | os.PathLike[str] = FEATURE_DIR, *, window_seconds: float = 10.0):
        from m2p.features import frames as feat
        from m2p.audio.decode import SAMPLE_RATE

        self.sample_rate = SAMPLE_RATE
        self.window_seconds = float(window_seconds)
        self.window_samples = int(round(self.window_seconds * SAMPLE_RATE))
        self.frames = feat.frames_for_samples(self.window_samples)
        self.feature_dim = feat.FEATURE_DIM
        finger = json.dumps({
            "dim": feat.FEATURE_DIM, "n_fft": getattr(feat, "N_FFT", None),
            "hop": getattr(feat, "HOP_LENGTH", None), "sr": SAMPLE_RATE,
            "window": self.window_samples, "version": getattr(feat, "FEATURES_VERSION", 1),
        }, sort_keys=True)
        self.fingerprint = hashlib.sha1(finger.encode()).hexdigest()[:10]
        self.dir = Path(root) / self.fingerprint
        self.dir.mkdir(parents=True, exist_ok=True)

    def path(self, window: Window) -> Path:
        """File of one window's features."""
        return self.dir / f"{window.key}.npy"

    def valid_frames(self, window: Window) -> int:
        """Frames holding audio (the rest of the window is padding)."""
        from m2p.features.frames import frames_for_samples

        samples = min(self.window_samples, int(round(window.duration * self.sample_rate)))
        return min(self.frames, frames_for_samples(max(samples, 1)))

    def missing(self, windows: Iterable[Window]) -> list[Window]:
        """Windows without a cached file."""
        return [w for w in windows if not self.path(w).exists()]

    def ensure(
        self,
        corpus: Corpus,
        windows: Sequence[Window],
        *,
        batch_size: int = 16,
        log: Callable[[str], None] = print,
    ) -> int:
        """Compute and store the features of every window not cached yet.

        Audio is decoded once per track; windows of a track are featurised in batches of
        ``batch_size``. Returns the number of windows computed.
        """
        from m2p.audio.decode import load
        from m2p.features.frames import extract_features

        todo = self.missing(windows)
        if not todo:
            return 0
        by_track: dict[str, list[Window]] = {}
        for w in todo:
            by_track.setdefault(w.track_id, []).append(w)
        done = 0
        t0 = time.monotonic()
        log(f"feature cache: computing {len(todo)} windows from {len(by_track)} tracks "
            f"into {self.dir}")
        for i, (tid, wins) in enumerate(sorted(by_track.items())):
            audio = load(corpus.audio_path(tid))
            for j in range(0, len(wins), batch_size):
                chunk = wins[j: j + batch_size]
                wav = np.zeros((len(chunk), self.window_samples), dtype=np.float32)
                for k, w in enumerate(chunk):
                    s = int(round(w.start * self.sample_rate))
                    piece = audio[s: s + min(self.window_samples,
                                             int(round(w.duration * self.sample_rate)))]
                    wav[k, : len(piece)] = piece
                with torch.inference_mode():
                    feats = extract_features(torch.from_numpy(wav)).numpy()
                for k, w in enumerate(chunk):
                    arr = feats[k]
                    arr[self.valid_frames(w):] = 0.0
                    _atomic_save(self.path(w), np.nan_to_num(arr).astype(np.float16))
                done += len(chunk)
            if (i + 1) % 10 == 0 or i + 1 == len(by_track):
                rate = done / max(time.monotonic() - t0, 1e-9)
                log(f"feature cache: {done}/{len(todo)} windows ({rate:.1f}/s)")
        return done

    def load_array(self, windows: Sequence[Window]) -> np.ndarray:
        """Stack the cached features of ``windows``: (N, frames, feature_dim) float16."""
        out = np.empty((len(windows), self.frames, self.feature_dim), dtype=np.float16)
        for i, w in enumerate(windows):
            out[i] = np.load(self.path(w))
        return out


class WindowDataset:
    """In-memory tensors for a list of windows (features float16, targets padded).

    Parameters
    ----------
    windows
        The windows (their order is the dataset order).
    features
        (N, T, D) float16 raw features.
    valid_frames
        (N,) frames holding audio.
    max_colors
        Targets are truncated to this many colours and zero-padded to it.
    """

    def __init__(self, windows: Sequence[Window], features: np.ndarray, valid_frames: np.ndarray,
                 *, max_colors: int = 8):
        self.windows = list(windows)
        self.features = features
        self.valid_frames = np.asarray(valid_frames, dtype=np.int64)
        n = len(self.windows)
        # Teacher tag probabilities (N, T); NaN rows for windows without them (loss skips them).
        width = max([len(w.teacher_tags) for w in self.windows] + [0])
        self.teacher_tags = np.full((n, width), np.nan, dtype=np.float32)
        for i, w in enumerate(self.windows):
            if len(w.teacher_tags) == width:
                self.teacher_tags[i] = w.teacher_tags
        self.target_lch = np.zeros((n, max_colors, 3), dtype=np.float32)
        self.lengths = np.zeros(n, dtype=np.int64)
        for i, w in enumerate(self.windows):
            t = np.asarray(w.target_lch, dtype=np.float32)[:max_colors]
            self.target_lch[i, : len(t)] = t
            self.lengths[i] = len(t)
        # One-to-many targets (N, K, max_colors, 3); windows with fewer candidates repeat theirs.
        k = max([len(w.targets_lch) for w in self.windows] + [1])
        self.targets_lch = np.zeros((n, k, max_colors, 3), dtype=np.float32)
        self.targets_lengths = np.zeros((n, k), dtype=np.int64)
        for i, w in enumerate(self.windows):
            candidates = w.targets_lch or (w.target_lch,)
            for j in range(k):
                t = np.asarray(candidates[j % len(candidates)], dtype=np.float32)[:max_colors]
                self.targets_lch[i, j, : len(t)] = t
                self.targets_lengths[i, j] = len(t)
        # Palette family of each candidate (``training.families``; all 0 until assigned).
        self.targets_family = np.zeros((n, k), dtype=np.int64)
        self.valence_arousal = np.array([[w.valence, w.arousal] for w in self.windows],
                                        dtype=np.float32).reshape(n, 2)
        self.emotion = np.array([w.emotion for w in self.windows], dtype=np.float32).reshape(n, -1)

    @classmethod
    def from_cache(cls, cache: FeatureCache, windows: Sequence[Window], *, max_colors: int = 8
                   ) -> "WindowDataset":
        """Load the cached features of ``windows`` (they must be cached already)."""
        feats = cache.load_array(windows)
        valid = np.array([cache.valid_frames(w) for w in windows], dtype=np.int64)
        return cls(windows, feats, valid, max_colors=max_colors)

    def candidates(self) -> list[np.ndarray]:
        """Every window's candidate palettes, (n_i, 3) LCh each, window-major."""
        return [self.targets_lch[i, j, : self.targets_lengths[i, j]]
                for i in range(len(self)) for j in range(self.targets_lch.shape[1])]

    def assign_families(self, centroids: np.ndarray) -> None:
        """Set ``targets_family`` (N, K) from the family centroids (``training.families``)."""
        from training.families import assign_families

        labels = assign_families(self.candidates(), centroids)
        self.targets_family = labels.reshape(self.targets_lengths.shape)

    def __len__(self) -> int:
        return len(self.windows)

    def batch(self, index: np.ndarray, device: torch.device | str = "cpu") -> dict[str, Tensor]:
        """Collate items ``index`` into a batch dict (see :func:`collate`)."""
        return collate(self, index, device)


def collate(data: WindowDataset, index: np.ndarray, device: torch.device | str = "cpu"
            ) -> dict[str, Tensor]:
    """Batch dict: ``features`` (B, T, D) float32, ``frame_mask`` (B, T) bool or None,
    ``target_lch`` (B, n, 3) trimmed to the longest palette, ``lengths`` (B,),
    ``targets_lch`` (B, K, n', 3), ``targets_lengths`` (B, K) and ``targets_family`` (B, K)
    (all K candidates),
    ``valence_arousal`` (B, 2), ``emotion`` (B, 8), ``teacher_tags`` (B, T) (NaN rows: none)."""
    index = np.asarray(index)
    feats = torch.from_numpy(data.features[index].astype(np.float32))
    frames = feats.shape[1]
    valid = torch.from_numpy(data.valid_frames[index])
    mask = torch.arange(frames).unsqueeze(0) < valid.unsqueeze(1)
    lengths = torch.from_numpy(data.lengths[index])
    n = int(lengths.max())
    targets_lengths = torch.from_numpy(data.targets_lengths[index])
    n_all = int(targets_lengths.max())
    out: dict[str, Any] = {
        "features": feats,
        "frame_mask": None if bool(mask.all()) else mask,
        "target_lch": torch.from_numpy(data.target_lch[index, :n]),
        "lengths": lengths,
        "targets_lch": torch.from_numpy(data.targets_lch[index, :, :n_all]),
        "targets_lengths": targets_lengths,
        "targets_family": torch.from_numpy(data.targets_family[index]),
        "valence_arousal": torch.from_numpy(data.valence_arousal[index]),
        "emotion": torch.from_numpy(data.emotion[index]),
        "teacher_tags": torch.from_numpy(data.teacher_tags[index]),
    }
    return {k: (v.to(device) if isinstance(v, Tensor) else v) for k, v in out.items()}


def iterate_batches(n: int, batch_size: int, generator: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless shuffled mini-batch indices (each epoch a fresh permutation, last partial batch
    dropped when ``n >= batch_size``)."""
    while True:
        perm = generator.permutation(n)
        stop = n - n % batch_size if n >= batch_size else n
        for i in range(0, max(stop, 1), batch_size):
            yield perm[i: i + batch_size]


def feature_statistics(features: np.ndarray, valid_frames: np.ndarray, *, chunk: int = 64
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per-dimension mean and standard deviation over all real frames (float64 accumulation).

    Returns
    -------
    mean, std
        (D,) float32; std floored at 1e-3.
    """
    d = features.shape[-1]
    total = np.zeros(d)
    total_sq = np.zeros(d)
    count = 0
    for i in range(0, len(features), chunk):
        x = features[i: i + chunk].astype(np.float64)
        for k in range(x.shape[0]):
            v = x[k, : valid_frames[i + k]]
            total += v.sum(0)
            total_sq += (v * v).sum(0)
            count += v.shape[0]
    mean = total / max(count, 1)
    var = np.maximum(total_sq / max(count, 1) - mean * mean, 0.0)
    return mean.astype(np.float32), np.maximum(np.sqrt(var), 1e-3).astype(np.float32)


def cue_statistics(features: np.ndarray, valid_frames: np.ndarray, *, chunk: int = 64
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation over windows of ``m2p.features.cues.window_cues``.

    Returns
    -------
    mean, std
        (5,) float32; std floored at 1e-3.
    """
    from m2p.features.cues import window_cues

    cues = []
    frames = features.shape[1]
    for i in range(0, len(features), chunk):
        x = torch.from_numpy(features[i: i + chunk].astype(np.float32))
        mask = torch.arange(frames)[None, :] < torch.from_numpy(valid_frames[i: i + chunk])[:, None]
        cues.append(window_cues(x, mask).numpy().astype(np.float64))
    values = np.concatenate(cues)
    return (values.mean(0).astype(np.float32),
            np.maximum(values.std(0), 1e-3).astype(np.float32))


# ---------------------------------------------------------------------------------- helpers


def evenly(windows: Sequence[Window], n: int) -> list[Window]:
    """At most ``n`` of ``windows``, evenly spaced in their order (a fixed, seed-free subset)."""
    if not windows:
        return []
    pick = np.linspace(0, len(windows) - 1, min(n, len(windows))).round().astype(int)
    return [windows[i] for i in sorted(set(pick.tolist()))]


def model_training_config(model: Any) -> dict[str, Any]:
    """The training config a loaded model's metadata records (``training.config`` format), as
    stored; {} for a model without training metadata."""
    config = ((getattr(model, "metadata", None) or {}).get("training") or {}).get("config") or {}
    return dict(config)


def model_window_seconds(model: Any) -> float:
    """The window length (s) a trained model's features were computed over (10 s if unknown)."""
    return float(model_training_config(model).get("window_seconds", 10.0))


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                yield json.loads(line)


def _safe_name(text: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", text)
    if safe != text:
        safe += "-" + hashlib.sha1(text.encode()).hexdigest()[:6]
    return safe


def _atomic_save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}.npy")
    np.save(tmp, array)
    os.replace(tmp, path)
