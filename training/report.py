"""Human-readable outputs of training and evaluation: training log CSV, loss-curve plot,
model card, Markdown tables."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

__all__ = [
    "write_training_log",
    "plot_loss_curve",
    "markdown_cell",
    "markdown_table",
    "write_model_card",
    "EVAL_START",
    "EVAL_END",
]

EVAL_START = "<!-- evaluation:start -->"
EVAL_END = "<!-- evaluation:end -->"


def write_training_log(history: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Write the log rows (train and val) as CSV, one row per logged step."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for row in history:
        keys.extend(k for k in row if k not in keys)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for row in history:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    return path


def plot_loss_curve(history: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> Path:
    """Plot total and per-term training (lines) and validation (markers) losses against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    train = [r for r in history if r.get("kind") == "train"]
    val = [r for r in history if r.get("kind") == "val"]
    terms = ["colour", "hue", "emotion_music", "emotion_truth", "va", "emotion_head", "stop",
             "gen_colour", "gen_hue", "gen_emotion_truth"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    ax = axes[0]
    ax.plot([r["step"] for r in train], [r["total"] for r in train], label="train total", lw=1)
    if val:
        ax.plot([r["step"] for r in val], [r["total"] for r in val], "o-", label="val total", ms=3)
    ax.set_xlabel("step")
    ax.set_ylabel("weighted loss")
    ax.set_title("Total loss")
    ax.legend()
    ax = axes[1]
    for i, t in enumerate(terms):
        colour = f"C{i % 10}"
        scale = 10.0 if t.endswith("colour") else 1.0
        style = "--" if t.startswith("gen_") else "-"
        if train and t in train[0]:
            ys = [r[t] / scale for r in train]
            ax.plot([r["step"] for r in train], ys, style, color=colour, lw=0.8,
                    label=t + (" (ΔE00/10)" if scale != 1.0 else ""))
        if val and t in val[0]:
            ys = [r[t] / scale for r in val]
            ax.plot([r["step"] for r in val], ys, "o", color=colour, ms=3)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_title("Terms (unweighted; lines train, dots validation; dashed: generated palettes)",
                 fontsize=9)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 3) -> str:
    """A GitHub Markdown table, each cell written by :func:`markdown_cell`."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(markdown_cell(v, digits) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_cell(value: Any, digits: int = 3) -> str:
    """A value as tables and summaries show it: floats rounded to ``digits``, None and
    non-finite floats as an en dash, ``True``/``False`` as ``yes``/``**no**``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def write_model_card(model_dir: str | os.PathLike[str], meta: Mapping[str, Any],
                     evaluation_md: str | None = None) -> Path:
    """Write ``MODEL_CARD.md`` from the training metadata; ``evaluation_md`` (Markdown) fills
    the evaluation section (kept between :data:`EVAL_START` and :data:`EVAL_END` so that
    ``training.evaluate`` can replace it later)."""
    model_dir = Path(model_dir)
    card = model_dir / "MODEL_CARD.md"
    tr = meta["training"]
    corpus = meta.get("corpus", {})
    cfg = tr["config"]
    mc = cfg.get("model", {})
    size_mb = (model_dir / "model.safetensors").stat().st_size / 1e6 \
        if (model_dir / "model.safetensors").exists() else float("nan")
    ft, fv = tr.get("final_train") or {}, tr.get("final_val") or {}
    terms = ["total", "colour", "hue", "emotion_music", "emotion_truth", "va", "emotion_head", "stop",
             "gen_colour", "gen_hue", "gen_emotion_music", "gen_emotion_truth", "gen_stop"]
    terms = [t for t in terms if t in ft or t in fv]
    loss_rows = [[t, ft.get(t), fv.get(t)] for t in terms]
    if evaluation_md is None and card.exists():
        old = card.read_text(encoding="utf-8")
        if EVAL_START in old and EVAL_END in old:
            evaluation_md = old.split(EVAL_START, 1)[1].split(EVAL_END, 1)[0].strip()
    if not evaluation_md:
        evaluation_md = ("Not evaluated yet: run `python -m training.evaluate --model model "
                         "--split test`.")
    text = f"""# Music2Palette model card (shipped weights)

These weights were produced by the training run described below (`python -m training.train`);
nothing here is a placeholder. They are a **small CPU configuration**, trained for a short time,
not the paper's model.

## How they were made

From a clean checkout (the corpus and feature cache live in the git-ignored `training/cache/`):

```
python -m training.corpus.build --cache training/cache      # build the corpus
python -m training.corpus.teachers --cache training/cache   # musicnn teacher tags (recordings)
python -m training.corpus.build --cache training/cache      # again: labels use the tags
python -m training.train --config {tr['config_file']}        # features (cached) + training -> model/
python -m training.evaluate --model model --split test       # docs/results.md + this card's numbers
```

| | |
|---|---|
| command | `python -m training.train --config {tr['config_file']}` |
| machine | {tr['machine']} |
| device | {tr['device']} (torch {tr['torch']}, Python {tr['python']}) |
| optimisation steps | {tr['steps']} (batch {cfg['batch_size']}) |
| training wall time | {tr['wall_seconds'] / 60:.1f} min ({tr['wall_seconds']:.0f} s; excluding the feature cache) |
| finished | {tr['finished_utc']} |
| parameters | {tr['parameters'] / 1e6:.2f} M ({size_mb:.1f} MB safetensors, float32) |
| network | d_model {mc.get('d_model')}, encoder {mc.get('encoder_layers')}x{mc.get('encoder_heads')} heads, decoder {mc.get('decoder_layers')}x{mc.get('decoder_heads')} heads, ff {mc.get('ff_dim')}, patch {mc.get('patch_frames')} frames |
| optimiser | AdamW lr {cfg['optim']['lr']}, weight decay {cfg['optim']['weight_decay']}, warm-up {cfg['optim']['warmup_steps']} steps then cosine annealing |
| loss weights | {json.dumps(cfg.get('loss', {}))} |
| training noise | sigma {cfg['train_noise_scale']} on the music embedding{f", {mc.get('noise_components')} mixture centres" if mc.get('noise_components') else ""}; {cfg.get('noise_draws', 1)} draws per window |
| seed | {cfg['seed']} |

## Data

The corpus built by `training/corpus` (automatic labels; see its documentation):
{corpus.get('tracks', '?')} tracks, {corpus.get('windows', '?')} labelled {cfg.get('window_seconds', 10):g} s windows
({corpus.get('train_windows', '?')} used for training, {corpus.get('val_windows', '?')} for
validation, {corpus.get('test_windows', '?')} held out for testing; recordings split by whole
package, renders by tune), and {corpus.get('palettes', '?')} corpus palettes. Targets are the
refined emotion-matched palettes of each window (all five candidates with ``noise_draws`` > 1,
else the top-1), so the model learns the automatic matching, not human judgements.

## Final losses (unweighted terms)

`colour` is CIEDE2000 after Hungarian matching; `emotion_*` are 1 - cosine; `gen_*` are the same
terms on palettes generated autoregressively (free-running) rather than teacher-forced.

{markdown_table(['term', 'train (last log interval)', 'validation'], loss_rows, 4)}

Full log: `model/training_log.csv`; curve: `docs/img/loss_curve.png`.

## Evaluation

{EVAL_START}
{evaluation_md}
{EVAL_END}

## Limitations

* Trained on a small, automatically labelled corpus for a short time on a CPU; emotion labels
  come from a model, not listeners, and palettes from emotion matching.
* The colour-emotion model used in the loss and in the metrics is the same one
  (`m2p.colour.emotion.palette_emotion`), so Emotion Similarity rewards agreement with that model;
  `docs/results.md` adds checks that do not use it (held-out real music).
"""
    card.write_text(text, encoding="utf-8")
    return card
