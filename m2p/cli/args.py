"""What the commands share on their way in: argparse types (text to a checked value), the
inference options (declared once, here) and the example under ``--help``.

Every command that runs the model calls :func:`add_inference_arguments` and passes
:func:`inference_kwargs` on; adapters' commands use the same (see :mod:`m2p.hooks.specs`). A
type raises :class:`argparse.ArgumentTypeError`, which argparse prints as a usage error (exit
status 2). Python values are checked by :mod:`m2p._internal.checks`.

>>> from m2p.cli.args import int_range
>>> int_range(1, 64)("8")
8
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import IO, Any

__all__ = ["add_example", "add_inference_arguments", "finite_number", "hop_seconds",
           "inference_kwargs", "int_range", "integer", "is_tty", "non_negative_number",
           "number_range",
           "palette_count", "positive_int", "positive_number", "seed", "unit_interval",
           "window_seconds"]


def add_inference_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the model options ``--seed --noise --device --model --window --hop --batch-size
    --quiet`` (read back by :func:`inference_kwargs`)."""
    from m2p.inference import DEFAULT_BATCH_SIZE, DEFAULT_HOP, DEFAULT_WINDOW, MIN_HOP_SECONDS

    group = parser.add_argument_group("model options")
    group.add_argument("--seed", type=seed, default=0,
                       help="seed of the embedding noise (default 0)")
    group.add_argument("--noise", type=non_negative_number, default=None, metavar="SCALE",
                       help="noise standard deviation; 0 = deterministic (default: the model's)")
    group.add_argument("--device", default="auto",
                       help="auto (CUDA if available), cpu, cuda or cuda:N (default auto)")
    group.add_argument("--model", metavar="DIR", default=None,
                       help="model directory (default: $M2P_MODEL_DIR, then the shipped weights)")
    group.add_argument("--window", type=window_seconds, default=DEFAULT_WINDOW, metavar="SECONDS",
                       help=f"analysis window length (default {DEFAULT_WINDOW:g})")
    group.add_argument("--hop", type=hop_seconds, default=DEFAULT_HOP, metavar="SECONDS",
                       help=f"seconds between window starts, rounded to whole 23.2 ms "
                            f"frames (default {DEFAULT_HOP:g}, at least {MIN_HOP_SECONDS:g})")
    group.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
                       help=f"windows per model batch (default {DEFAULT_BATCH_SIZE})")
    group.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def inference_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments for :func:`m2p.palette` & co. from :func:`add_inference_arguments`."""
    return {
        "seed": args.seed,
        "noise": args.noise,
        "device": args.device,
        "model": args.model,
        "window": args.window,
        "hop": args.hop,
        "batch_size": args.batch_size,
        # A bar only on a terminal: in logs and pipes its carriage returns are noise.
        "progress": not args.quiet and is_tty(sys.stderr),
    }


def add_example(parser: argparse.ArgumentParser, example: str) -> None:
    """Show ``example`` (one command per line) under the command's ``--help``."""
    if example:
        parser.epilog = "example:\n" + "\n".join(f"  {line}" for line in example.splitlines())
        parser.formatter_class = argparse.RawDescriptionHelpFormatter


def is_tty(stream: IO[str]) -> bool:
    """True when ``stream`` is a terminal (and ``TERM`` is not ``dumb``)."""
    try:
        return bool(stream.isatty()) and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        return False


# ---------------------------------------------------------------------------------- types


def finite_number(text: str) -> float:
    """A finite float."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be finite: {text!r}")
    return value


def positive_number(text: str) -> float:
    """A finite float > 0."""
    value = finite_number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0: {text!r}")
    return value


def non_negative_number(text: str) -> float:
    """A finite float >= 0."""
    value = finite_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0: {text!r}")
    return value


def unit_interval(text: str) -> float:
    """A float from 0 to 1."""
    value = finite_number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return value


def window_seconds(text: str) -> float:
    """An analysis window: at least the engine's shortest audio, in seconds."""
    from m2p.inference.windows import MIN_AUDIO_SECONDS

    value = finite_number(text)
    if value < MIN_AUDIO_SECONDS:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_AUDIO_SECONDS:g} s: {text!r}")
    return value


def hop_seconds(text: str) -> float:
    """Seconds between window starts: at least the engine's shortest hop."""
    from m2p.inference.windows import MIN_HOP_SECONDS

    value = finite_number(text)
    if value < MIN_HOP_SECONDS:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_HOP_SECONDS:g} s: {text!r}")
    return value


def integer(text: str) -> int:
    """A whole number."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def positive_int(text: str) -> int:
    """A whole number >= 1."""
    value = integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


def number_range(low: float, high: float) -> Callable[[str], float]:
    """The type of a finite number from ``low`` to ``high``."""

    def parse(text: str) -> float:
        value = finite_number(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}: {text!r}")
        return value

    return parse


def int_range(low: int, high: int) -> Callable[[str], int]:
    """The type of a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}: {text!r}")
        return value

    return parse


def seed(text: str) -> int:
    """A seed: a whole number in ``[0, 2**63)``."""
    from m2p._internal.checks import MAX_SEED

    value = integer(text)
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be an integer in [0, 2**63): {text!r}")
    return value


def palette_count(text: str) -> int:
    """How many palettes ``m2p palette -n`` prints: 1 to :data:`m2p.api.MAX_PALETTES`."""
    from m2p.api import MAX_PALETTES

    value = positive_int(text)
    if value > MAX_PALETTES:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_PALETTES}: {text!r}")
    return value
