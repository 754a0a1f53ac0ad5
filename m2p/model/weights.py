"""Finding, loading and saving Music2Palette weights (safetensors only, never pickle).

A model directory holds two files:

``config.json``
    ``{"format": "music2palette", "format_version": 1, "config": {...ModelConfig...},
    "metadata": {...}}`` where ``metadata`` is free-form (training information and so on).
``model.safetensors``
    Every tensor of ``Music2Palette.state_dict()`` (including the feature statistics).

Search order of :func:`find_model_dir`: an explicit path, ``$M2P_MODEL_DIR``, the weights
shipped inside the installed package (``m2p/_model``, placed there by the wheel build), then the
checkout's top-level ``model/`` folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

import m2p
from m2p._internal.outputs import atomic_outputs
from m2p.errors import DeviceError, ModelFormatError, ModelNotFoundError
from m2p.model.config import ModelConfig
from m2p.model.network import Music2Palette

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
MODEL_DIR_ENV = "M2P_MODEL_DIR"
FORMAT_NAME = "music2palette"
FORMAT_VERSION = 1
MAX_CONFIG_BYTES = 1 << 20
"""Largest ``config.json`` read (the shipped one is about 5 KB)."""

_CACHE: dict[tuple[str, str, int, int], Music2Palette] = {}


def find_model_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Locate a model directory (one holding ``config.json`` and ``model.safetensors``).

    Parameters
    ----------
    path
        Explicit directory. When given it is the only place looked at.

    Returns
    -------
    Path
        The resolved directory.

    Raises
    ------
    ModelNotFoundError
        Nothing valid was found; the message names every place searched and why each failed.
        A set but invalid ``$M2P_MODEL_DIR`` is an error too (it is not silently skipped).
    """
    if path is not None:
        candidates = [(Path(path).expanduser(), "given path")]
    else:
        env = os.environ.get(MODEL_DIR_ENV, "").strip()
        if env:
            candidates = [(Path(env).expanduser(), f"${MODEL_DIR_ENV}")]
        else:
            candidates = _default_search_dirs()
    searched = []
    for candidate, label in candidates:
        problem = _check_model_dir(candidate)
        if problem is None:
            return candidate.resolve()
        searched.append(f"{candidate} ({label}: {problem})")
    raise ModelNotFoundError(
        "no Music2Palette weights found; searched: "
        + "; ".join(searched)
        + f". Train a model with `python -m training.train` (it writes {CONFIG_FILE} and "
        f"{WEIGHTS_FILE}) and point {MODEL_DIR_ENV} or model= at that directory"
    )


def load_model(
    path: str | os.PathLike[str] | None = None, *, device: str | torch.device = "cpu"
) -> Music2Palette:
    """Load a model in eval mode, cached per process.

    Parameters
    ----------
    path
        Model directory; searched with :func:`find_model_dir` when None.
    device
        ``"cpu"``, ``"cuda"``, ``"auto"`` or a ``torch.device`` (see :func:`resolve_device`).

    Returns
    -------
    Music2Palette
        The model on ``device`` in eval mode, with ``model.metadata`` (dict) from config.json.
        Repeated calls with the same directory, device and unchanged weights file return the
        same object: do not modify it in place (copy it to fine-tune).

    Raises
    ------
    ModelNotFoundError
        No model directory found.
    ModelFormatError
        config.json or model.safetensors is unreadable or does not match the architecture.
    """
    directory = find_model_dir(path)
    dev = resolve_device(device)
    stat = (directory / WEIGHTS_FILE).stat()
    key = (str(directory), str(dev), stat.st_mtime_ns, stat.st_size)
    model = _CACHE.get(key)
    if model is None:
        model = _load_uncached(directory, dev)
        for old in [k for k in _CACHE if k[:2] == key[:2]]:
            del _CACHE[old]
        _CACHE[key] = model
    return model


def save_model(
    model: Music2Palette,
    directory: str | os.PathLike[str],
    *,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``config.json`` and ``model.safetensors`` for ``model`` into ``directory``.

    Parameters
    ----------
    model
        The network (any device; tensors are copied to CPU).
    directory
        Created if needed; existing files are replaced atomically.
    extra
        JSON-serialisable metadata stored under ``"metadata"`` (training info, corpus...).

    Returns
    -------
    Path
        The directory.
    """
    out = Path(directory).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "config": model.config.to_dict(),
        "metadata": dict(extra or {}),
    }
    text = json.dumps(document, indent=2, sort_keys=False) + "\n"  # TypeError if not JSON-able
    tensors = {
        name: tensor.detach().to("cpu").contiguous().clone()
        for name, tensor in model.state_dict().items()
    }
    # Both files replaced together or not at all: a half-written model never loads.
    with atomic_outputs(out / WEIGHTS_FILE, out / CONFIG_FILE) as (weights_tmp, config_tmp):
        save_file(tensors, str(weights_tmp), metadata={"format": "pt"})
        config_tmp.write_text(text, encoding="utf-8")
    return out


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or a ``torch.device`` into a device.

    ``"auto"`` picks CUDA when available, else CPU.

    Raises
    ------
    DeviceError
        The device string is invalid, or CUDA is asked for but not available.
    """
    if isinstance(device, str) and device.strip().lower() == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = device if isinstance(device, torch.device) else torch.device(str(device).strip())
    except (RuntimeError, TypeError, ValueError) as exc:
        raise DeviceError(
            f"invalid device {device!r}; use 'auto', 'cpu' or 'cuda'"
        ) from exc
    if dev.type == "mps" and not (torch.backends.mps.is_available()):
        raise DeviceError(f"device {str(dev)!r} requested but MPS is not available "
                          "(use device='cpu' or 'auto')")
    if dev.type not in ("cpu", "cuda", "mps"):
        # meta, xla, ipu...: torch knows them, but the model cannot run (or is not tested) there.
        raise DeviceError(f"device {str(dev)!r} is not supported; use 'auto', 'cpu' or 'cuda'")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {str(dev)!r} requested but CUDA is not available "
                "(use device='cpu' or 'auto')"
            )
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f"device {str(dev)!r} requested but only {torch.cuda.device_count()} "
                "CUDA device(s) exist"
            )
    return dev


def clear_cache() -> None:
    """Forget every model loaded by :func:`load_model`."""
    _CACHE.clear()


# ---------------------------------------------------------------------- internals


def _default_search_dirs() -> list[tuple[Path, str]]:
    """Places searched when no path and no ``$M2P_MODEL_DIR`` are given, with labels."""
    package_dir = Path(m2p.__file__).resolve().parent
    return [
        (package_dir / "_model", "installed package"),
        (package_dir.parent / "model", "source checkout"),
    ]


def _check_model_dir(directory: Path) -> str | None:
    """Return why ``directory`` is not a model directory, or None if it is one."""
    if not directory.exists():
        return "does not exist"
    if not directory.is_dir():
        return "not a directory"
    missing = [name for name in (CONFIG_FILE, WEIGHTS_FILE) if not (directory / name).is_file()]
    if missing:
        return "no " + " or ".join(missing)
    return None


def _load_uncached(directory: Path, device: torch.device) -> Music2Palette:
    from m2p._internal.inputs import read_regular

    config_path = directory / CONFIG_FILE
    weights_path = directory / WEIGHTS_FILE
    raw = read_regular(config_path, limit=MAX_CONFIG_BYTES, error=ModelFormatError)
    if len(raw) > MAX_CONFIG_BYTES:
        raise ModelFormatError(f"model config is larger than {MAX_CONFIG_BYTES >> 20} MB; not a "
                               "music2palette config", source=config_path)
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelFormatError(f"cannot read model config: {' '.join(str(exc).split())[:200]}",
                               source=config_path) from None
    if not isinstance(document, dict):
        raise ModelFormatError("model config is not a JSON object", source=config_path)
    if "format_version" in document and document["format_version"] != FORMAT_VERSION:
        raise ModelFormatError(
            f"unsupported format_version {document['format_version']!r} "
            f"(this version of m2p reads {FORMAT_VERSION})",
            source=config_path,
        )
    config = ModelConfig.from_dict(document.get("config", document), source=str(config_path))
    metadata = document.get("metadata", {})

    # The config is checked against the weights' shapes before anything is allocated: a
    # hostile config.json (d_model 32768, 64 layers) would otherwise ask for gigabytes first.
    expected = _expected_shapes(config, config_path)
    stored = _stored_shapes(weights_path)
    _compare(expected, stored, weights_path)
    try:
        tensors = load_file(str(weights_path), device="cpu")
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ModelFormatError(f"cannot read weights: {exc}", source=weights_path) from exc

    model = Music2Palette(config)
    expected = model.state_dict()
    for name, ref in expected.items():
        got = tensors[name]
        if got.is_floating_point() and not bool(torch.isfinite(got).all()):
            raise ModelFormatError(f"tensor {name!r} holds NaN or inf", source=weights_path)
        tensors[name] = got.to(ref.dtype)
    model.load_state_dict(tensors, strict=True)
    model.metadata = metadata if isinstance(metadata, dict) else {}
    return model.to(device).eval()


def _expected_shapes(config: ModelConfig, config_path: Path) -> dict[str, tuple[int, ...]]:
    """Every tensor the network of ``config`` holds and its shape, from a network built on
    PyTorch's ``meta`` device (shapes only: no memory is allocated for the values)."""
    try:
        with torch.device("meta"):
            skeleton = Music2Palette(config)
        return {name: tuple(t.shape) for name, t in skeleton.state_dict().items()}
    except Exception as exc:  # noqa: BLE001 - sizes torch refuses (overflowing products...)
        raise ModelFormatError(f"config.json describes no network that can be built "
                               f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})",
                               source=config_path) from None


def _stored_shapes(weights_path: Path) -> dict[str, tuple[int, ...]]:
    """The tensors of a safetensors file and their shapes, from its header (nothing loaded)."""
    from safetensors import safe_open

    try:
        with safe_open(str(weights_path), framework="pt", device="cpu") as handle:
            return {name: tuple(handle.get_slice(name).get_shape()) for name in handle.keys()}
    except Exception as exc:  # noqa: BLE001 - safetensors raises its own types
        raise ModelFormatError(f"cannot read weights: {' '.join(str(exc).split())[:200]}",
                               source=weights_path) from None


def _compare(expected: dict[str, tuple[int, ...]], stored: dict[str, tuple[int, ...]],
             weights_path: Path) -> None:
    missing = sorted(set(expected) - set(stored))
    unexpected = sorted(set(stored) - set(expected))
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing tensors {_few(missing)}")
        if unexpected:
            parts.append(f"unexpected tensors {_few(unexpected)}")
        raise ModelFormatError(
            "weights do not match config.json: " + ", ".join(parts), source=weights_path
        )
    for name, shape in expected.items():
        if stored[name] != shape:
            raise ModelFormatError(
                f"tensor {name!r} has shape {stored[name]}, config.json implies {shape}",
                source=weights_path,
            )


def _few(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


__all__ = [
    "CONFIG_FILE",
    "WEIGHTS_FILE",
    "MODEL_DIR_ENV",
    "find_model_dir",
    "load_model",
    "save_model",
    "resolve_device",
    "clear_cache",
]
