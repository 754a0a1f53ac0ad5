"""Train Music2Palette from the built corpus and write the model folder.

Usage::

    python -m training.train --config training/configs/cpu_small.json [--resume] [--out model]
                             [--max-minutes M] [--device auto|cpu|cuda] [--features-only]
                             [--corpus DIR] [--features DIR] [--curve PNG]

``cpu_v2_keyed.json`` trained the shipped model (about an hour on a shared 2-core CPU);
``gpu_full.json`` is the paper-sized network for a CUDA GPU.

The config file is read and checked by :mod:`training.config`: an unknown key or a bad value
is refused, naming the file and the key, before any work. Steps (``main``): parse the
arguments, load the config, set up torch (device, threads, seed), read the corpus splits
(``training/cache/corpus``), make sure every window's features are in the feature cache (audio
is decoded only for windows not cached yet), build the network with the feature
standardisation of the training split, then optimise the weighted loss of
:mod:`training.losses` (teacher-forced, plus the set-level terms on free-running generated
palettes when ``loss.free_running > 0``; the one-to-many loss when ``noise_draws > 1``) with
AdamW and a warm-up + cosine-annealing learning rate. Checkpoints (model, optimiser, scheduler,
step, RNG states, log) go to ``training/cache/runs/<name>/`` every ``checkpoint_every`` steps,
so ``--resume`` continues where a run stopped, with the same batches. A run that reaches its
``steps`` writes ``--out`` (``model.safetensors``, ``config.json`` with the training metadata,
``MODEL_CARD.md``, ``training_log.csv``) and ``docs/img/loss_curve.png``.
A run stopped by ``--max-minutes`` only checkpoints: unfinished weights are never shipped.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import numpy as np
import torch

from m2p.errors import M2PError
from m2p.model.network import Music2Palette
from m2p.model.weights import resolve_device, save_model
from training.config import TrainingConfig, load_config
from training.dataset import (
    CACHE_DIR,
    CORPUS_DIR,
    FEATURE_DIR,
    Corpus,
    FeatureCache,
    Window,
    WindowDataset,
    cap_per_track,
    cue_statistics,
    feature_statistics,
    load_corpus,
)
from training.families import family_shares, fit_families
from training.losses import LossWeights, free_running_loss, total_loss
from training.one_to_many import one_to_many_loss
from training.report import plot_loss_curve, write_model_card, write_training_log

__all__ = [
    "build_model",
    "make_optimizer",
    "batch_indices",
    "train_step",
    "validate",
    "train_loop",
    "main",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The command, as argparse and the error lines name it.
PROG = "python -m training.train"
RUNS_DIR = CACHE_DIR / "runs"


def build_model(cfg: TrainingConfig) -> Music2Palette:
    """The network described by ``cfg.model`` (a fresh copy of the config, fresh weights)."""
    return Music2Palette(replace(cfg.model))


def make_optimizer(model: torch.nn.Module, cfg: TrainingConfig
                   ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW (no decay on biases, norms, tokens) and linear warm-up + cosine annealing over
    ``cfg.steps`` steps."""
    o = cfg.optim
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim < 2 or name.endswith("_token") else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": float(o.weight_decay)},
         {"params": no_decay, "weight_decay": 0.0}],
        lr=float(o.lr), betas=tuple(o.betas),
    )
    total = max(int(cfg.steps), 1)
    warm = int(o.warmup_steps)
    floor = float(o.min_lr_ratio)

    def factor(step: int) -> float:
        if step < warm:
            return (step + 1) / max(warm, 1)
        progress = min((step - warm) / max(total - warm, 1), 1.0)
        return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return opt, torch.optim.lr_scheduler.LambdaLR(opt, factor)


def batch_indices(step: int, n: int, batch_size: int, seed: int) -> np.ndarray:
    """Indices of the batch at ``step``: epoch ``e`` uses permutation ``rng(seed, e)``.

    Stateless, so a resumed run sees exactly the batches the uninterrupted run would.
    """
    bs = min(batch_size, n)
    per_epoch = max(n // bs, 1)
    epoch, pos = divmod(step, per_epoch)
    perm = np.random.default_rng([seed, epoch]).permutation(n)
    return perm[pos * bs: (pos + 1) * bs]


def train_step(
    model: Music2Palette,
    optimizer: torch.optim.Optimizer,
    batch: Mapping[str, Any],
    weights: LossWeights,
    *,
    noise_scale: float,
    generator: torch.Generator | None,
    grad_clip: float | None = 1.0,
    noise_draws: int = 1,
) -> dict[str, float]:
    """One optimisation step on a batch; returns the loss parts (floats).

    With ``noise_draws`` > 1 the one-to-many loss of :mod:`training.one_to_many` replaces the
    single-target teacher-forced and free-running terms.
    """
    model.train()
    if noise_draws > 1:
        loss, parts = one_to_many_loss(model, batch, weights, draws=noise_draws,
                                       noise_scale=noise_scale, generator=generator)
        return _apply(model, optimizer, loss, parts, grad_clip)
    lch, stop_logits, enc = model(batch["features"], batch["frame_mask"], batch["target_lch"],
                                  noise_scale=noise_scale, generator=generator)
    loss, parts = total_loss(lch, stop_logits, enc, batch, weights)
    if weights.free_running > 0:
        n = int(batch["lengths"].max())
        gen, _, gen_stop = model.generate(enc, noise_scale=noise_scale, generator=generator,
                                          num_colors=n, return_stop_logits=True)
        free, free_parts = free_running_loss(gen, enc, batch, weights, stop_logits=gen_stop)
        loss = loss + weights.free_running * free
        parts.update(free_parts)
        parts["total"] = float(loss.detach())
    return _apply(model, optimizer, loss, parts, grad_clip)


def _apply(model, optimizer, loss, parts, grad_clip) -> dict[str, float]:
    """Backward pass, clipping and optimiser step; returns ``parts`` with the gradient norm."""
    if not torch.isfinite(loss):
        raise FloatingPointError(f"non-finite loss: {parts}")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        parts["grad_norm"] = float(torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip))
    optimizer.step()
    return parts


@torch.no_grad()
def validate(model: Music2Palette, data: WindowDataset, weights: LossWeights, *,
             batch_size: int = 64, device: torch.device | str = "cpu",
             noise_draws: int = 1, noise_scale: float = 0.0) -> dict[str, float]:
    """Loss parts on ``data`` in eval mode, window-weighted means: teacher-forced with noise
    off, or with ``noise_draws`` > 1 the one-to-many loss (fixed noise seed)."""
    model.eval()
    sums: dict[str, float] = {}
    count = 0
    generator = torch.Generator().manual_seed(12345)
    for i in range(0, len(data), batch_size):
        idx = np.arange(i, min(i + batch_size, len(data)))
        batch = data.batch(idx, device)
        if noise_draws > 1:
            _, parts = one_to_many_loss(model, batch, weights, draws=noise_draws,
                                        noise_scale=noise_scale, generator=generator)
            for k, v in parts.items():
                sums[k] = sums.get(k, 0.0) + v * len(idx)
            count += len(idx)
            continue
        lch, stop_logits, enc = model(batch["features"], batch["frame_mask"], batch["target_lch"])
        loss, parts = total_loss(lch, stop_logits, enc, batch, weights)
        if weights.free_running > 0:
            gen, _, gen_stop = model.generate(enc, num_colors=int(batch["lengths"].max()),
                                              return_stop_logits=True)
            free, free_parts = free_running_loss(gen, enc, batch, weights, stop_logits=gen_stop)
            parts.update(free_parts)
            parts["total"] = float(loss + weights.free_running * free)
        for k, v in parts.items():
            sums[k] = sums.get(k, 0.0) + v * len(idx)
        count += len(idx)
    return {k: v / max(count, 1) for k, v in sums.items()}


def train_loop(
    model: Music2Palette,
    train_data: WindowDataset,
    val_data: WindowDataset | None,
    cfg: TrainingConfig,
    run_dir: str | os.PathLike[str],
    *,
    resume: bool = False,
    max_minutes: float | None = None,
    max_session_steps: int | None = None,
    device: torch.device | str = "cpu",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Optimise ``model`` for ``cfg.steps`` steps (or until ``max_minutes`` of wall time,
    counted across resumes), checkpointing to ``run_dir/checkpoint.pt``.
    ``max_session_steps`` stops this call after that many steps (tests of resuming).

    Returns
    -------
    dict
        ``step``, ``completed`` (bool), ``wall_seconds`` (all sessions), ``history`` (list of
        log rows: ``step``, ``kind`` = ``train``/``val``, loss parts, ``lr``, ``elapsed``).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / "checkpoint.pt"
    weights = cfg.loss
    model.to(device)
    optimizer, scheduler = make_optimizer(model, cfg)
    step, wall_before, history = 0, 0.0, []
    if resume:
        step, wall_before, history = _restore(ckpt_path, model, optimizer, scheduler,
                                              device=device, log=log)
    total_steps, seed, noise, draws = cfg.steps, cfg.seed, cfg.train_noise_scale, cfg.noise_draws
    t0 = time.monotonic()

    def elapsed() -> float:
        return wall_before + time.monotonic() - t0

    def save() -> None:
        _save_checkpoint(ckpt_path, model, optimizer, scheduler, step=step, wall_seconds=elapsed(),
                         history=history, cfg=cfg)

    acc: dict[str, float] = {}
    acc_n = 0
    start_step = step
    completed = step >= total_steps
    while step < total_steps:
        if max_minutes is not None and elapsed() > 60.0 * max_minutes:
            log(f"time limit of {max_minutes} min reached at step {step}; checkpointing")
            break
        if max_session_steps is not None and step - start_step >= max_session_steps:
            break
        batch = train_data.batch(batch_indices(step, len(train_data), cfg.batch_size, seed), device)
        gen = torch.Generator().manual_seed(seed * 1_000_003 + step)
        parts = train_step(model, optimizer, batch, weights, noise_scale=noise, generator=gen,
                           grad_clip=cfg.optim.grad_clip, noise_draws=draws)
        scheduler.step()
        step += 1
        for k, v in parts.items():
            acc[k] = acc.get(k, 0.0) + v
        acc_n += 1
        if step % cfg.log_every == 0 or step == total_steps:
            row = {"step": step, "kind": "train", "lr": scheduler.get_last_lr()[0],
                   "elapsed": round(elapsed(), 2), **{k: v / acc_n for k, v in acc.items()}}
            history.append(row)
            acc, acc_n = {}, 0
            log(_fmt(row))
        if val_data is not None and len(val_data) and (step % cfg.eval_every == 0 or step == total_steps):
            row = {"step": step, "kind": "val", "lr": scheduler.get_last_lr()[0],
                   "elapsed": round(elapsed(), 2),
                   **validate(model, val_data, weights, device=device, noise_draws=draws,
                              noise_scale=noise)}
            history.append(row)
            log(_fmt(row))
        if step % cfg.checkpoint_every == 0 or step == total_steps:
            save()
        completed = step >= total_steps
    save()
    return {"step": step, "completed": completed, "wall_seconds": elapsed(), "history": history}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (see the module docstring).

    Returns 0 when the model folder was written (or, with ``--features-only``, the cache
    filled), 3 when a time limit stopped the run first, 2 for a bad config or device (one line
    on stderr).
    """
    args = _parse_args(argv)
    try:
        cfg = load_config(args.config)
        device = _set_up_torch(cfg, args.device)
    except M2PError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    run_dir = RUNS_DIR / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    with _run_log(run_dir / "train.log") as log:
        log(f"config {args.config} -> run {run_dir}, device {device}, threads {torch.get_num_threads()}")
        splits = _load_splits(cfg, args.corpus, log)
        cache, feat_seconds = _fill_feature_cache(cfg, splits, args.features,
                                                  with_test=args.features_only, log=log)
        if args.features_only:
            return 0
        model, train_data, val_data, families = _prepare_model(cfg, splits, cache, log)
        max_minutes = args.max_minutes if args.max_minutes is not None else cfg.max_minutes
        result = train_loop(model, train_data, val_data, cfg, run_dir, resume=args.resume,
                            max_minutes=max_minutes, device=device, log=log)
        if not result["completed"]:
            log(f"stopped at step {result['step']}/{cfg.steps} after "
                f"{result['wall_seconds'] / 60:.1f} min; no model written (resume with --resume)")
            return 3
        meta = _metadata(args.config, cfg, splits, result, model=model, device=device,
                         families=families, feature_seconds=feat_seconds)
        _write_model_folder(model, meta, result["history"], Path(args.out), curve=args.curve, log=log)
    return 0


# ---------------------------------------------------------------------------------- steps of main


@dataclass(frozen=True)
class _Splits:
    """The corpus and the windows of each split this run uses."""

    corpus: Corpus
    train: list[Window]
    val: list[Window]
    test: list[Window]


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True)
    ap.add_argument("--resume", action="store_true", help="continue from the run's checkpoint")
    ap.add_argument("--out", default=str(REPO_ROOT / "model"), help="model folder to write")
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="stop (checkpoint only, no model written) after this much wall time")
    ap.add_argument("--device", default=None, help="auto, cpu or cuda (overrides the config)")
    ap.add_argument("--corpus", default=str(CORPUS_DIR))
    ap.add_argument("--features", default=str(FEATURE_DIR), help="feature cache root")
    ap.add_argument("--curve", default=str(REPO_ROOT / "docs" / "img" / "loss_curve.png"),
                    help="where to write the loss-curve plot")
    ap.add_argument("--features-only", action="store_true",
                    help="fill the feature cache (all splits) and exit")
    return ap.parse_args(argv)


def _set_up_torch(cfg: TrainingConfig, device: str | None) -> torch.device:
    """The device (``--device``, else the config's), CPU threads, and the seed of torch's RNG
    (the weight initialisation draws from it)."""
    resolved = resolve_device(device or cfg.device)
    if cfg.num_threads and resolved.type == "cpu":
        torch.set_num_threads(int(cfg.num_threads))
    torch.manual_seed(int(cfg.seed))
    return resolved


@contextlib.contextmanager
def _run_log(path: Path) -> Iterator[Callable[[str], None]]:
    """A log function that prints time-stamped lines and appends them to ``path``."""
    with open(path, "a", encoding="utf-8") as fh:
        def log(msg: str) -> None:
            line = f"[{time.strftime('%H:%M:%S')}] {msg}"
            print(line, flush=True)
            fh.write(line + "\n")
            fh.flush()

        yield log


def _load_splits(cfg: TrainingConfig, corpus_dir: str, log: Callable[[str], None]) -> _Splits:
    """Read the corpus; cap windows per track, then draw the training and validation subsets
    (seeds ``seed`` and ``seed + 1``)."""
    corpus = load_corpus(corpus_dir)
    per_track = cfg.max_windows_per_track
    splits = _Splits(
        corpus,
        train=_cap(cap_per_track(corpus.split("train"), per_track), cfg.max_train_windows, cfg.seed),
        val=_cap(cap_per_track(corpus.split("val"), per_track), cfg.val_windows, cfg.seed + 1),
        test=cap_per_track(corpus.split("test"), per_track),
    )
    log(f"corpus {corpus.root}: {len(corpus.tracks)} tracks, {len(corpus.windows)} windows; "
        f"train {len(splits.train)}, val {len(splits.val)}, test {len(splits.test)}")
    return splits


def _fill_feature_cache(cfg: TrainingConfig, splits: _Splits, features_dir: str, *,
                        with_test: bool, log: Callable[[str], None]) -> tuple[FeatureCache, float]:
    """Compute the features of the training and validation windows (and the test windows
    with ``with_test``) not cached yet; the cache and the seconds this took."""
    cache = FeatureCache(features_dir, window_seconds=float(cfg.window_seconds))
    t_feat = time.monotonic()
    todo = list(splits.train) + list(splits.val) + (list(splits.test) if with_test else [])
    computed = cache.ensure(splits.corpus, todo, batch_size=cfg.feature_batch, log=log)
    seconds = time.monotonic() - t_feat
    log(f"features: {computed} computed, {len(todo) - computed} reused ({seconds:.0f} s)")
    return cache, seconds


def _prepare_model(cfg: TrainingConfig, splits: _Splits, cache: FeatureCache,
                   log: Callable[[str], None]
                   ) -> tuple[Music2Palette, WindowDataset, WindowDataset, dict[str, Any] | None]:
    """The datasets and the initialised network: feature and cue standardisation from the
    training split and, for a ``component_head`` model, the palette families."""
    # The network is built twice, as it always was (once only to read its config): the first
    # initialisation advances torch's RNG, and the second one's weights are the shipped runs'.
    build_model(cfg)
    max_colors = cfg.model.max_colors
    train_data = WindowDataset.from_cache(cache, splits.train, max_colors=max_colors)
    val_data = WindowDataset.from_cache(cache, splits.val, max_colors=max_colors)
    model = build_model(cfg)
    mean, std = feature_statistics(train_data.features, train_data.valid_frames)
    model.encoder.feature_mean.copy_(torch.from_numpy(mean))
    model.encoder.feature_std.copy_(torch.from_numpy(std))
    if cfg.model.summary_features:
        cue_mean, cue_std = cue_statistics(train_data.features, train_data.valid_frames)
        model.encoder.cue_mean.copy_(torch.from_numpy(cue_mean))
        model.encoder.cue_std.copy_(torch.from_numpy(cue_std))
    families = _fit_families(model, train_data, val_data, cfg.seed, log)
    log(f"model: {_parameters(model) / 1e6:.2f} M parameters; {model.config.to_dict()}")
    return model, train_data, val_data, families


def _metadata(config_file: str, cfg: TrainingConfig, splits: _Splits, result: Mapping[str, Any], *,
              model: Music2Palette, device: torch.device, families: dict[str, Any] | None,
              feature_seconds: float) -> dict[str, Any]:
    """The training metadata stored in the model folder's ``config.json`` (and its card)."""
    corpus = splits.corpus
    return {
        "training": {
            "config_file": str(Path(config_file).as_posix()),
            "config": cfg.to_dict(),
            "steps": result["step"],
            "wall_seconds": round(result["wall_seconds"], 1),
            "feature_cache_seconds_last_session": round(feature_seconds, 1),
            "machine": _machine(device),
            "device": str(device),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "parameters": _parameters(model),
            "final_train": _last(result["history"], "train"),
            "final_val": _last(result["history"], "val"),
            "palette_families": families,
        },
        "corpus": {
            "tracks": len(corpus.tracks),
            "windows": len(corpus.windows),
            "train_windows": len(splits.train),
            "val_windows": len(splits.val),
            "test_windows": len(splits.test),
            "max_windows_per_track": cfg.max_windows_per_track,
            "palettes": len(corpus.palettes),
        },
    }


def _write_model_folder(model: Music2Palette, meta: Mapping[str, Any], history: list[dict[str, Any]],
                        out: Path, *, curve: str, log: Callable[[str], None]) -> None:
    """Weights and ``config.json``, the training log, the loss curve and the model card."""
    model.to("cpu").eval()
    save_model(model, out, extra=meta)
    write_training_log(history, out / "training_log.csv")
    plot_loss_curve(history, curve)
    write_model_card(out, meta)
    log(f"wrote {out} ({(out / 'model.safetensors').stat().st_size / 1e6:.1f} MB) and the loss curve")


# ---------------------------------------------------------------------------------- helpers


def _restore(ckpt_path: Path, model: Music2Palette, optimizer: torch.optim.Optimizer,
             scheduler: torch.optim.lr_scheduler.LambdaLR, *, device: torch.device | str,
             log: Callable[[str], None]) -> tuple[int, float, list[dict[str, Any]]]:
    """Load a checkpoint into the model, optimiser, scheduler and torch's RNG; its step, wall
    seconds and history (0, 0.0, [] when there is none)."""
    if not ckpt_path.exists():
        log(f"no checkpoint at {ckpt_path}; starting from scratch")
        return 0, 0.0, []
    state = torch.load(ckpt_path, map_location=device, weights_only=False)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    scheduler.load_state_dict(state["scheduler"])
    torch.set_rng_state(state["torch_rng"])
    log(f"resumed from {ckpt_path} at step {state['step']} ({state['wall_seconds'] / 60:.1f} min so far)")
    return state["step"], state["wall_seconds"], state["history"]


def _save_checkpoint(path: Path, model: Music2Palette, optimizer: torch.optim.Optimizer,
                     scheduler: torch.optim.lr_scheduler.LambdaLR, *, step: int,
                     wall_seconds: float, history: list[dict[str, Any]], cfg: TrainingConfig) -> None:
    """Everything ``--resume`` needs, written atomically (a temporary file, then a rename)."""
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "torch_rng": torch.get_rng_state(),
                "step": step, "wall_seconds": wall_seconds, "history": history,
                "config": cfg.to_dict()}, tmp)
    os.replace(tmp, path)


def _parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _fit_families(model: Music2Palette, train_data: WindowDataset, val_data: WindowDataset,
                  seed: int, log: Callable[[str], None]) -> dict[str, Any] | None:
    """For a ``component_head`` model: cluster the training candidates into palette families
    (``training.families``), label both splits' candidates, set the model's log-prior; the
    centroids and shares for the model's metadata. None for other models."""
    if not model.config.component_head:
        return None
    k = model.config.noise_components
    centroids = fit_families(train_data.candidates(), k, seed=seed)
    train_data.assign_families(centroids)
    val_data.assign_families(centroids)
    shares = family_shares(train_data.targets_family, k)
    model.heads.component_log_prior.copy_(torch.from_numpy(np.log(shares)))
    log("palette families (share of training candidates): "
        + ", ".join(f"{j}:{x:.3f}" for j, x in enumerate(shares)))
    return {"centroids": np.round(centroids, 4).tolist(), "shares": np.round(shares, 4).tolist()}


def _cap(windows: list[Window], limit: int | None, seed: int) -> list[Window]:
    """At most ``limit`` of ``windows``, a seeded random subset in their order."""
    if not limit or len(windows) <= int(limit):
        return windows
    keep = np.sort(np.random.default_rng(seed).choice(len(windows), int(limit), replace=False))
    return [windows[i] for i in keep]


def _last(history: list[dict[str, Any]], kind: str) -> dict[str, Any] | None:
    rows = [r for r in history if r.get("kind") == kind]
    return rows[-1] if rows else None


def _fmt(row: Mapping[str, Any]) -> str:
    keys = [k for k in row if k not in ("step", "kind", "lr", "elapsed")]
    body = " ".join(f"{k}={row[k]:.4g}" for k in keys)
    return f"{row['kind']:5s} step {row['step']:6d} lr {row['lr']:.2e} t {row['elapsed']:.0f}s {body}"


def _machine(device: torch.device) -> str:
    if device.type == "cuda":
        return f"CUDA GPU: {torch.cuda.get_device_name(device)}"
    return f"{os.cpu_count()}-core CPU ({platform.machine()}), no GPU, {torch.get_num_threads()} torch threads"


if __name__ == "__main__":
    sys.exit(main())
