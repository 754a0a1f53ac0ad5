"""In-process result cache keyed by audio *content* (SHA-256), so adapters never infer twice.

``m2p.palette("song.mp3")``, ``m2p.style("song.mp3")``, ``m2p.palette_track("song.mp3")`` and
``m2p.altair.register_theme("song.mp3", at=30)`` run the model once: :func:`m2p.palette_track`
keeps its result here (and :func:`m2p.palette` is that track's whole-piece palette), keyed on

* the SHA-256 of the file's bytes (memoised per ``(path, size, mtime)`` so a second call does
  not even re-read the file), or of a NumPy array's bytes, shape, dtype and sample rate;
* the inference keyword arguments (seed, window, hop, noise...), except ``progress``, which
  changes what is shown, not the result, and except arguments given at their default value
  (``window=10.0`` spelled out, as the command line does, finds the result of a call that
  left it out);
* the model: a directory path (resolved) or, for a ``Music2Palette`` instance, its identity
  (the entry keeps a reference, so the identity cannot be reused while cached).

The cache lives in memory for the life of the process (an LRU of :data:`MAX_ENTRIES` results);
nothing is written to disk. Results are immutable value types, so sharing them is safe.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

MAX_ENTRIES = 64
"""Most results kept; the least recently used is dropped first."""

_CHUNK = 1 << 20


@dataclass(frozen=True)
class CacheInfo:
    """Counters of the result cache (like :func:`functools.lru_cache`'s ``cache_info``)."""

    hits: int
    misses: int
    size: int
    maxsize: int


def register_defaults(kind: str, function: Any) -> None:
    """Record the keyword defaults of ``function``, the computation named ``kind``, so that a
    call spelling out a default shares the cache entry of one that leaves it out. The
    computations register themselves (:mod:`m2p.api`): this module imports none of them."""
    import inspect

    _DEFAULTS[kind] = {name: p.default for name, p in inspect.signature(function).parameters.items()
                       if p.default is not inspect.Parameter.empty}


def peek(kind: str, source: Any, **kwargs: Any) -> Any:
    """The cached result for ``(kind, content of source, kwargs)``, or ``None``; never computes.

    A hit counts as a hit; a miss is not counted (nothing was computed).
    """
    digest = content_digest(source, sample_rate=kwargs.get("sample_rate"))
    if digest is None:
        return None
    key, _ = _key(kind, digest, kwargs)
    global _HITS
    with _LOCK:
        if key not in _RESULTS:
            return None
        _RESULTS.move_to_end(key)
        _HITS += 1
        return _RESULTS[key][0]


def cached(kind: str, source: Any, compute: Callable[[], Any], **kwargs: Any) -> Any:
    """Return the cached result for ``(kind, content of source, kwargs)`` or compute it.

    Parameters
    ----------
    kind
        Name of the computation (``"palette"``, ``"palette_track"``...).
    source
        Audio path or NumPy array; anything else is computed without caching.
    compute
        Zero-argument function producing the result on a miss.
    **kwargs
        The arguments that influence the result; they are part of the key.
    """
    digest = content_digest(source, sample_rate=kwargs.get("sample_rate"))
    if digest is None:
        return compute()
    key, keep_alive = _key(kind, digest, kwargs)
    global _HITS, _MISSES
    with _LOCK:
        if key in _RESULTS:
            _RESULTS.move_to_end(key)
            _HITS += 1
            return _RESULTS[key][0]
    result = compute()
    with _LOCK:
        _MISSES += 1
        _RESULTS[key] = (result, keep_alive)
        _RESULTS.move_to_end(key)
        while len(_RESULTS) > MAX_ENTRIES:
            _RESULTS.popitem(last=False)
    return result


def content_digest(source: Any, *, sample_rate: int | None = None) -> str | None:
    """SHA-256 hex digest of an audio file's bytes or an array's samples; ``None`` otherwise.

    A missing file returns ``None`` (the caller then computes, and inference raises the typed
    audio error naming the file).
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            stat = path.stat()
        except OSError:
            return None
        if not path.is_file():
            return None
        memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        with _LOCK:
            digest = _FILE_DIGESTS.get(memo_key)
        if digest is None:
            sha = hashlib.sha256()
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(_CHUNK), b""):
                    sha.update(chunk)
            digest = "file:" + sha.hexdigest()
            with _LOCK:
                _FILE_DIGESTS[memo_key] = digest
        return digest
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        return None
    if isinstance(source, np.ndarray):
        sha = hashlib.sha256()
        arr = np.ascontiguousarray(source)
        sha.update(f"{arr.dtype.str}{arr.shape}{sample_rate}".encode())
        sha.update(arr.tobytes())
        return "array:" + sha.hexdigest()
    return None


def cache_info() -> CacheInfo:
    """Hits, misses and size of the result cache."""
    with _LOCK:
        return CacheInfo(hits=_HITS, misses=_MISSES, size=len(_RESULTS), maxsize=MAX_ENTRIES)


def clear() -> None:
    """Drop every cached result and file digest, and zero the counters."""
    global _HITS, _MISSES
    with _LOCK:
        _RESULTS.clear()
        _FILE_DIGESTS.clear()
        _HITS = _MISSES = 0


# ---------------------------------------------------------------------------------------------

_LOCK = threading.RLock()
_RESULTS: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_FILE_DIGESTS: dict[tuple[str, int, int], str] = {}
_DEFAULTS: dict[str, dict[str, Any]] = {}  # kind -> keyword defaults (register_defaults)
_HITS = 0
_MISSES = 0
_NOT_KEYED = frozenset({"progress"})  # arguments that change what is shown, not the result


def _key(kind: str, digest: str, kwargs: dict[str, Any]) -> tuple[tuple, Any]:
    keep_alive = None
    parts = []
    defaults = _DEFAULTS.get(kind, {})
    for name in sorted(kwargs):
        if name in _NOT_KEYED:
            continue
        value = kwargs[name]
        if name in defaults and _same_value(value, defaults[name]):
            continue
        if name == "model" and value is not None and not isinstance(value, (str, os.PathLike)):
            keep_alive = value
            value = ("model-object", id(value))
        elif isinstance(value, os.PathLike) or (name == "model" and isinstance(value, str)):
            value = ("path", str(Path(value).resolve()))
        else:
            try:
                hash(value)
            except TypeError:
                value = ("repr", repr(value))
        parts.append((name, value))
    return (kind, digest, tuple(parts)), keep_alive


def _same_value(value: Any, default: Any) -> bool:
    """``value`` is the default: equal and of the same type, or both plain numbers
    (``window=10`` is the default ``10.0``)."""
    def number(x: Any) -> bool:
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if number(value) and number(default):
        return float(value) == float(default)
    return type(value) is type(default) and value == default


__all__ = [
    "MAX_ENTRIES",
    "CacheInfo",
    "cache_info",
    "cached",
    "clear",
    "content_digest",
    "peek",
    "register_defaults",
]
