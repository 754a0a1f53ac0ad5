"""The argument checks every entry point shares: the public functions (:mod:`m2p.api`), the live
stream, the library job and the exporters validate Python values here, with one wording.

Each check returns the value converted (``float``, ``int``, ``bool``) and raises ``TypeError``
for the wrong kind of value or :class:`~m2p.errors.InvalidArgumentError` for a value out of
range, naming the argument. The command line's text-to-value types are
:mod:`m2p.cli.args`.

>>> from m2p._internal.checks import integer, seconds
>>> integer(3, "n", minimum=1)
3
>>> seconds(0, "window")
Traceback (most recent call last):
...
m2p.errors.InvalidArgumentError: window must be a positive number of seconds, got 0
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from m2p.errors import InvalidArgumentError

__all__ = ["MAX_LABEL", "MAX_SEED", "check_options", "flag", "image", "integer", "label",
           "number", "seconds"]

MAX_SEED = 2**63 - 1
"""Largest seed (seeds are 64-bit signed integers for torch's generator)."""

MAX_LABEL = 256
"""Longest name given to something a file or a library registers (a palette's name in a swatch
file, a theme's or template's name): every format holds that much (an ASE name field holds
65,535 UTF-16 units at most, and a 10,000-character name helps nobody)."""


def check_options(*, seed: Any, noise: Any, window: Any, hop: Any) -> None:
    """Validate the options every entry point shares (seed, noise, window and hop in seconds).

    Raises
    ------
    TypeError
        A value of the wrong kind (a string for a number...).
    m2p.errors.InvalidArgumentError
        A seed outside ``[0, 2**63)``, a window or hop shorter than the engine's minimum, a
        negative noise.
    """
    from m2p.inference.windows import MIN_AUDIO_SECONDS, MIN_HOP_SECONDS

    integer(seed, "seed", minimum=0, maximum=MAX_SEED)
    if seconds(window, "window") < MIN_AUDIO_SECONDS:
        raise InvalidArgumentError(f"window must be at least {MIN_AUDIO_SECONDS:g} s, got {window!r}")
    if seconds(hop, "hop") < MIN_HOP_SECONDS:
        raise InvalidArgumentError(f"hop must be at least {MIN_HOP_SECONDS:g} s, got {hop!r}")
    if noise is not None and number(noise, "noise") < 0:
        raise InvalidArgumentError(f"noise must be >= 0, got {noise!r}")


def number(value: Any, name: str) -> float:
    """A finite real number (``bool`` is refused: ``True`` is not a number of anything)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    result = float(value)
    if not math.isfinite(result):
        raise InvalidArgumentError(f"{name} must be finite, got {value!r}")
    return result


def seconds(value: Any, name: str) -> float:
    """A positive, finite number of seconds."""
    result = number(value, name)
    if result <= 0:
        raise InvalidArgumentError(f"{name} must be a positive number of seconds, got {value!r}")
    return result


def integer(value: Any, name: str, *, minimum: int, maximum: int | None = None) -> int:
    """An integer (Python or NumPy, not ``bool``) in ``[minimum, maximum]``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    result = int(value)
    if result < minimum or (maximum is not None and result > maximum):
        bound = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
        raise InvalidArgumentError(f"{name} must be {bound}, got {value!r}")
    return result


def label(value: Any, name: str, *, max_length: int = MAX_LABEL) -> str:
    """A name: text with something besides spaces, at most ``max_length`` characters.

    >>> label("sunset", "name")
    'sunset'
    """
    if not isinstance(value, str):
        raise TypeError(f"{name} must be text, got {type(value).__name__}")
    if not value.strip():
        raise InvalidArgumentError(f"{name} must not be empty")
    if len(value) > max_length:
        raise InvalidArgumentError(f"{name} is {len(value):,} characters long; at most "
                                   f"{max_length} are allowed")
    return value


def flag(value: Any, name: str) -> bool:
    """``True`` or ``False`` (Python or NumPy); ``1`` and ``"yes"`` are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__}")
    return bool(value)


def image(value: Any, name: str = "image", *, empty: bool = True) -> np.ndarray:
    """An image (or a stack of frames) as an array: ``(..., 3)`` or ``(..., 4)`` numbers, every
    value finite (NaN or infinite pixels would index a LUT or a histogram out of range).

    ``empty=False`` also refuses an image without a pixel (what has no colour has no palette).

    >>> image(np.zeros((2, 2, 3), np.uint8)).shape
    (2, 2, 3)
    """
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"{name} must be an array of numbers, got {arr.dtype}")
    if arr.ndim < 1 or arr.shape[-1] not in (3, 4):
        raise InvalidArgumentError(f"{name} must have 3 or 4 channels in the last axis, got "
                                   f"shape {arr.shape}")
    if not empty and arr.size == 0:
        raise InvalidArgumentError(f"{name} has no pixel (shape {arr.shape})")
    # Integer pixels are always finite: only floats pay for the scan.
    if np.issubdtype(arr.dtype, np.inexact) and not np.isfinite(arr).all():
        raise InvalidArgumentError(f"{name} holds NaN or infinite values")
    return arr
