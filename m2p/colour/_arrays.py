"""One colour formula for NumPy arrays and torch tensors: where the two libraries differ.

The colour formulas of :mod:`m2p.colour` (conversions, CIEDE2000, gamut mapping, colour
emotion) are written once and compute in the library of their input: NumPy for values (the
value types, the exporters and the adapters, in a process that never imports torch) and torch
where a gradient is needed (the training losses, the model's decoder). Both libraries spell
most of what the formulas use alike (``where``, ``sqrt``, ``stack``, ``clip``, ``arctan2``,
``deg2rad``, ``remainder`` ...); the few things they spell differently are here.

>>> import numpy as np
>>> namespace(np.zeros(3)) is np
True
>>> as_float([1, 2]).dtype
dtype('float64')
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import numpy as np


def namespace(*arrays: Any) -> ModuleType:
    """The array library of the inputs: ``torch`` if any of them is a torch tensor, else NumPy.

    Torch is looked up only when it is already imported (a tensor cannot exist otherwise), so
    NumPy inputs never import it.
    """
    torch = sys.modules.get("torch")
    if torch is not None and any(isinstance(a, torch.Tensor) for a in arrays):
        return torch
    return np


def as_float(x: Any, xp: ModuleType | None = None) -> Any:
    """``x`` as a floating array of library ``xp`` (default: :func:`namespace` of ``x``).

    NumPy: a float64 array. Torch: a tensor; float32 and float64 tensors are kept as they
    are (no copy, same device), anything else becomes float64.
    """
    xp = namespace(x) if xp is None else xp
    if xp is np:
        return np.asarray(x, dtype=np.float64)
    x = xp.as_tensor(x)
    return x if xp.is_floating_point(x) else x.to(xp.float64)


def constant(values: Any, like: Any, dtype: Any = None) -> Any:
    """``values`` as an array of ``like``'s library, dtype (or ``dtype``) and device."""
    dtype = like.dtype if dtype is None else dtype
    if namespace(like) is np:
        return np.asarray(values, dtype=dtype)
    return sys.modules["torch"].as_tensor(values, dtype=dtype, device=like.device)


def to_dtype(x: Any, dtype: Any) -> Any:
    """``x`` converted to ``dtype`` (of its own library); no copy when it already has it."""
    return x.astype(dtype, copy=False) if namespace(x) is np else x.to(dtype)


def as_mask(mask: Any, like: Any) -> Any:
    """A boolean array of ``like``'s library (and device) from ``mask``."""
    if namespace(like) is np:
        return np.asarray(mask, dtype=bool)
    return sys.modules["torch"].as_tensor(mask, device=like.device).bool()


def trues(shape: tuple[int, ...], like: Any) -> Any:
    """A boolean array of ``shape``, all True, of ``like``'s library and device."""
    if namespace(like) is np:
        return np.ones(shape, dtype=bool)
    torch = sys.modules["torch"]
    return torch.ones(shape, dtype=torch.bool, device=like.device)


def broadcast(a: Any, b: Any) -> tuple[Any, Any]:
    """``a`` and ``b`` broadcast against each other (both of one library)."""
    xp = namespace(a, b)
    return tuple(np.broadcast_arrays(a, b)) if xp is np else xp.broadcast_tensors(a, b)


def softmax(x: Any) -> Any:
    """Softmax over the last axis."""
    if namespace(x) is np:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return sys.modules["torch"].softmax(x, dim=-1)


@contextlib.contextmanager
def no_grad(x: Any) -> Iterator[None]:
    """``torch.no_grad()`` for tensors (a search whose result carries no gradient); nothing
    for NumPy."""
    if namespace(x) is np:
        yield
    else:
        with sys.modules["torch"].no_grad():
            yield
