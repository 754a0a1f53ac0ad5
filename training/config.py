"""The training configuration: typed, frozen sections read from ``training/configs/*.json``.

A config file is one JSON object::

    {"name": "cpu_v2_keyed", "seed": 0, "device": "cpu", "num_threads": 2,
     "model": {...},   # m2p.model.config.ModelConfig fields; the rest take ModelConfig's defaults
     "loss": {...},    # training.losses.LossWeights fields; the rest take LossWeights' defaults
     "optim": {...},   # OptimConfig fields
     "batch_size": 32, "steps": 4000, ...}   # the other TrainingConfig fields

:func:`load_config` rejects an unknown key (in any section) and a value of the wrong type or
out of range with an :class:`m2p.errors.InvalidArgumentError` that names the file and the key,
so a typo fails before any work instead of silently training with a default.
:meth:`TrainingConfig.to_dict` gives back the dict ``training.train`` has always written into
the model's metadata (``config.json`` -> ``metadata.training.config``): every top-level and
``optim`` setting resolved, ``model`` and ``loss`` as the file wrote them (their defaults live in
``ModelConfig`` and ``LossWeights``; the model's full ``ModelConfig`` is in ``config.json``
itself). That dict loads again with :meth:`TrainingConfig.from_dict`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from m2p.errors import InvalidArgumentError
from m2p.model.config import ModelConfig
from training.losses import LossWeights

__all__ = ["OptimConfig", "TrainingConfig", "load_config"]


@dataclass(frozen=True)
class OptimConfig:
    """AdamW and learning-rate schedule settings (the config's ``optim`` section).

    Parameters
    ----------
    lr
        Peak learning rate, reached after the warm-up.
    weight_decay
        AdamW decoupled weight decay of the matrices (biases, norms and tokens get none).
    betas
        AdamW moment decay rates, each in [0, 1).
    warmup_steps
        Steps of linear warm-up before cosine annealing.
    min_lr_ratio
        Floor of the cosine schedule as a fraction of ``lr``, in [0, 1].
    grad_clip
        Global gradient-norm clip; None or 0 turns clipping off.
    """

    lr: float = 3e-4
    weight_decay: float = 0.01
    betas: tuple[float, float] = (0.9, 0.98)
    warmup_steps: int = 100
    min_lr_ratio: float = 0.02
    grad_clip: float | None = 1.0

    def __post_init__(self) -> None:
        _require(self.lr > 0, "optim.lr", "must be > 0", self.lr)
        _require(self.weight_decay >= 0, "optim.weight_decay", "must be >= 0", self.weight_decay)
        _require(all(0 <= b < 1 for b in self.betas), "optim.betas", "must be two numbers in [0, 1)",
                 list(self.betas))
        _require(self.warmup_steps >= 0, "optim.warmup_steps", "must be >= 0", self.warmup_steps)
        _require(0 <= self.min_lr_ratio <= 1, "optim.min_lr_ratio", "must be in [0, 1]",
                 self.min_lr_ratio)
        _require(self.grad_clip is None or self.grad_clip >= 0, "optim.grad_clip",
                 "must be >= 0 or null", self.grad_clip)


@dataclass(frozen=True)
class TrainingConfig:
    """One training run: the network, the loss weights, the optimiser and the run settings.

    Parameters
    ----------
    name
        Run name: checkpoints go to ``training/cache/runs/<name>/`` (default: the file's stem).
    seed
        Seed of the weight initialisation, the batch order, the noise and the window caps.
    model
        The network (``m2p.model.config.ModelConfig``).
    loss
        Weights of the loss terms (``training.losses.LossWeights``).
    optim
        Optimiser and schedule (:class:`OptimConfig`).
    batch_size
        Windows per optimisation step.
    steps
        Optimisation steps of the whole run.
    train_noise_scale
        Standard deviation of the embedding noise in training.
    log_every, eval_every, checkpoint_every
        Steps between training-loss log rows, validation passes and checkpoints.
    val_windows, max_train_windows
        Random subsets (seeded) of the validation and training windows; None keeps all.
    max_windows_per_track
        At most this many evenly spaced windows per track in every split; None keeps all.
    max_minutes
        Wall-time budget over all sessions (minutes); a run that reaches it only checkpoints.
    device
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (``--device`` overrides it).
    num_threads
        Torch CPU threads; None leaves torch's default.
    window_seconds
        Length of the training windows (s); the feature cache is keyed by it.
    feature_batch
        Windows per feature-extraction batch when filling the feature cache.
    noise_draws
        Noise draws per window; > 1 trains with the one-to-many loss
        (:mod:`training.one_to_many`).
    model_keys, loss_keys
        The ``model`` and ``loss`` keys the file set, in its order (None: all fields); only
        :meth:`to_dict` uses them, so the metadata records those sections as written.
    """

    name: str
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossWeights = field(default_factory=LossWeights)
    optim: OptimConfig = field(default_factory=OptimConfig)
    batch_size: int = 32
    steps: int = 1000
    train_noise_scale: float = 0.1
    log_every: int = 10
    eval_every: int = 200
    checkpoint_every: int = 200
    val_windows: int | None = 256
    max_train_windows: int | None = None
    max_windows_per_track: int | None = None
    max_minutes: float | None = None
    device: str = "auto"
    num_threads: int | None = None
    window_seconds: float = 10.0
    feature_batch: int = 16
    noise_draws: int = 1
    model_keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    loss_keys: tuple[str, ...] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        _require(self.seed >= 0, "seed", "must be >= 0", self.seed)
        for key in ("batch_size", "steps", "log_every", "eval_every", "checkpoint_every",
                    "feature_batch", "noise_draws"):
            _require(getattr(self, key) >= 1, key, "must be >= 1", getattr(self, key))
        for key in ("val_windows", "max_train_windows", "max_windows_per_track", "num_threads"):
            value = getattr(self, key)
            _require(value is None or value >= 1, key, "must be >= 1 or null", value)
        _require(self.train_noise_scale >= 0, "train_noise_scale", "must be >= 0",
                 self.train_noise_scale)
        _require(self.max_minutes is None or self.max_minutes > 0, "max_minutes",
                 "must be > 0 or null", self.max_minutes)
        _require(self.window_seconds > 0, "window_seconds", "must be > 0", self.window_seconds)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | os.PathLike[str] | None = None,
                  default_name: str | None = None) -> "TrainingConfig":
        """Build a config from its JSON object, checking every key and value.

        Parameters
        ----------
        data
            The parsed JSON (a config file, or the metadata ``to_dict`` wrote).
        source
            File named in error messages.
        default_name
            ``name`` when ``data`` has none (``load_config`` passes the file's stem).

        Raises
        ------
        InvalidArgumentError
            An unknown key, a value of the wrong type or out of range, or no ``name``.
        """
        top = _checked(cls, data, where="", source=source, sections=("model", "loss", "optim"),
                       hidden=("model_keys", "loss_keys"))
        model = _checked(ModelConfig, top.pop("model", {}), where="model.", source=source)
        loss = _checked(LossWeights, top.pop("loss", {}), where="loss.", source=source)
        optim = _checked(OptimConfig, top.pop("optim", {}), where="optim.", source=source)
        if "betas" in optim:
            optim["betas"] = tuple(optim["betas"])
        top.setdefault("name", default_name)
        if top["name"] is None:
            raise InvalidArgumentError("name: missing (a string naming the run)", source=source)
        try:
            return cls(model=_model_config(model), loss=LossWeights(**loss),
                       optim=OptimConfig(**optim), model_keys=tuple(model),
                       loss_keys=tuple(loss), **top)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(exc.reason, source=source) from exc

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this config, as ``training.train`` writes it into the metadata."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name in ("model_keys", "loss_keys"):
                continue
            value = getattr(self, f.name)
            if f.name == "model":
                value = _section(value, self.model_keys)
            elif f.name == "loss":
                value = _section(value, self.loss_keys)
            elif f.name == "optim":
                value = {**dataclasses.asdict(value), "betas": list(value.betas)}
            out[f.name] = value
        return out


def load_config(path: str | os.PathLike[str]) -> TrainingConfig:
    """Read a training config file (JSON); missing settings take their defaults.

    Raises
    ------
    InvalidArgumentError
        The file is missing, is not a JSON object, or has an unknown key or a bad value (the
        message names the file and the key).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidArgumentError(f"cannot read the training config: {exc.strerror}",
                                   source=path) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(f"not valid JSON: {exc.msg} (line {exc.lineno}, column "
                                   f"{exc.colno})", source=path) from exc
    return TrainingConfig.from_dict(data, source=path, default_name=Path(path).stem)


# ---------------------------------------------------------------------------------- helpers


def _checked(cls: type, data: Any, *, where: str, source: Any, sections: tuple[str, ...] = (),
             hidden: tuple[str, ...] = ()) -> dict[str, Any]:
    """``data`` as a dict after checking its keys against ``cls``'s fields (less ``hidden``)
    and each value but the nested ``sections`` against the field's type (the values are kept
    as they are, so the JSON round-trips)."""
    if not isinstance(data, Mapping):
        raise InvalidArgumentError(f"{where.rstrip('.') or 'the config'}: expected a JSON object, "
                                   f"got {_kind(data)}", source=source)
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.name not in hidden]
    for key, value in data.items():
        if key not in known:
            raise InvalidArgumentError(f"{where}{key}: unknown key; known: {', '.join(known)}",
                                       source=source)
        if key not in sections and not _is_instance(value, hints[key]):
            raise InvalidArgumentError(f"{where}{key}: expected {_describe(hints[key])}, got "
                                       f"{value!r} ({_kind(value)})", source=source)
    return dict(data)


def _is_instance(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field type (int fits float; bool fits only bool)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_is_instance(value, h) for h in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        return (isinstance(value, (list, tuple)) and len(value) == len(args)
                and all(_is_instance(v, a) for v, a in zip(value, args)))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return (isinstance(value, (int, float)) and not isinstance(value, bool)
                and math.isfinite(value))
    return isinstance(value, hint)


def _describe(hint: Any) -> str:
    """A field type in words, for error messages."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(h) for h in typing.get_args(hint))
    if origin is tuple:
        args = typing.get_args(hint)
        return f"a list of {len(args)} {_describe(args[0]).split(' ', 1)[1]}s"
    return {type(None): "null", bool: "true or false", int: "an integer",
            float: "a finite number", str: "a string"}.get(hint, getattr(hint, "__name__", str(hint)))


def _kind(value: Any) -> str:
    """The JSON kind of a parsed value."""
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "list",
            dict: "object", type(None): "null"}.get(type(value), type(value).__name__)


def _model_config(section: Mapping[str, Any]) -> ModelConfig:
    """``ModelConfig`` defaults updated by the file's ``model`` section."""
    try:
        return ModelConfig(**section)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"model: {exc.reason}") from exc


def _section(values: Any, keys: tuple[str, ...] | None) -> dict[str, Any]:
    """A dataclass section as a dict: the given ``keys`` (in order), or every field."""
    full = dataclasses.asdict(values)
    return full if keys is None else {k: full[k] for k in keys}


def _require(ok: bool, key: str, rule: str, value: Any) -> None:
    if not ok:
        raise InvalidArgumentError(f"{key}: {rule}, got {value!r}")
