"""Training pipeline on generated data: losses, one-batch overfit, resume, feature cache."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch

from m2p.model.config import ModelConfig
from m2p.model.network import Music2Palette
from training import losses as L
from training.config import TrainingConfig
from training.dataset import FeatureCache, Window, WindowDataset, load_corpus
from training.train import batch_indices, make_optimizer, train_loop, train_step

FRAMES = 24


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _windows(n: int, rng: np.random.Generator) -> list[Window]:
    out = []
    for i in range(n):
        k = int(rng.integers(3, 7))
        target = tuple(
            (float(rng.uniform(20, 90)), float(rng.uniform(5, 80)), float(rng.uniform(0, 360)))
            for _ in range(k)
        )
        out.append(Window(f"t{i}", 0.0, 10.0, float(rng.uniform(-1, 1)), float(rng.uniform(-1, 1)),
                          tuple(rng.dirichlet(np.ones(8)).tolist()), (), target))
    return out


def _data(n: int = 8, seed: int = 0) -> WindowDataset:
    rng = np.random.default_rng(seed)
    feats = rng.normal(size=(n, FRAMES, 539)).astype(np.float16)
    valid = np.full(n, FRAMES)
    valid[0] = FRAMES - 5  # one padded window exercises the frame mask
    return WindowDataset(_windows(n, rng), feats, valid)


def _cfg(**over) -> TrainingConfig:
    cfg = {
        "name": "test", "seed": 0, "model": {}, "batch_size": 4, "steps": 6,
        "train_noise_scale": 0.1, "log_every": 1, "eval_every": 3, "checkpoint_every": 2,
        "loss": {"colour": 0.1, "hue": 0.5, "emotion_music": 1.0, "emotion_truth": 2.0,
                 "va": 1.0, "emotion_head": 0.5, "stop": 0.5},
        "optim": {"lr": 1e-3, "weight_decay": 0.01, "betas": [0.9, 0.98], "warmup_steps": 2,
                  "min_lr_ratio": 0.1, "grad_clip": 1.0},
    }
    cfg.update(over)
    return TrainingConfig.from_dict(cfg)


def _model(seed: int = 0) -> Music2Palette:
    torch.manual_seed(seed)
    return Music2Palette(ModelConfig.tiny())


# ------------------------------------------------------------------------------ losses


def test_hungarian_matching_is_permutation_invariant():
    data = _data()
    b = data.batch(np.arange(4))
    torch.manual_seed(1)
    pred = torch.rand(4, b["target_lch"].shape[1] + 1, 3) * torch.tensor([100.0, 80.0, 360.0])
    base = L.matched_colour_loss(pred, b["target_lch"], b["lengths"])
    shuffled = b["target_lch"].clone()
    for i, k in enumerate(b["lengths"].tolist()):
        shuffled[i, :k] = shuffled[i, torch.randperm(k)]
    assert L.matched_colour_loss(pred, shuffled, b["lengths"]) == pytest.approx(float(base), rel=1e-6)
    # A prediction that is a permutation of the target has zero loss.
    perm_pred = torch.cat([shuffled, torch.zeros(4, 1, 3)], dim=1)
    assert float(L.matched_colour_loss(perm_pred, b["target_lch"], b["lengths"])) < 1e-3


def test_hue_and_stop_losses():
    mask = torch.ones(1, 4, dtype=torch.bool)
    same = torch.tensor([[[50.0, 60.0, 30.0]] * 4])
    spread = torch.tensor([[[50.0, 60.0, h] for h in (0.0, 90.0, 180.0, 270.0)]])
    assert float(L.hue_concentration(same, mask)) == pytest.approx(1.0, abs=1e-5)
    assert float(L.hue_concentration(spread, mask)) == pytest.approx(0.0, abs=1e-5)
    lengths = torch.tensor([4])
    assert float(L.hue_diversity_loss(same, spread, lengths)) == pytest.approx(1.0, abs=1e-5)
    assert float(L.hue_diversity_loss(spread, same, lengths)) == pytest.approx(0.0, abs=1e-5)
    # Stop BCE: confident correct logits -> ~0; steps after the length are ignored.
    logits = torch.tensor([[-20.0, -20.0, 20.0, 123.0]])
    assert float(L.stop_loss(logits, torch.tensor([2]))) < 1e-6


def test_total_loss_finite_and_differentiable():
    data = _data()
    b = data.batch(np.arange(4))
    model = _model()
    lch, stop, enc = model(b["features"], b["frame_mask"], b["target_lch"])
    total, parts = L.total_loss(lch, stop, enc, b, L.LossWeights())
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert set(parts) >= {"colour", "hue", "emotion_music", "emotion_truth", "va", "stop"}
    with pytest.raises(ValueError, match="loss.colours: unknown key"):
        TrainingConfig.from_dict({"name": "typo", "loss": {"colours": 1.0}})


# ------------------------------------------------------------------------------ training


def _overfit_one_batch(model: Music2Palette, data: WindowDataset, steps: int) -> list[float]:
    """Total loss of ``steps`` optimisation steps on the first 4 windows."""
    cfg = _cfg(steps=steps)
    opt, sched = make_optimizer(model, cfg)
    w = cfg.loss
    b = data.batch(np.arange(4))
    losses = []
    for _ in range(steps):
        parts = train_step(model, opt, b, w, noise_scale=0.0, generator=None, grad_clip=1.0)
        sched.step()
        losses.append(parts["total"])
    assert all(np.isfinite(losses))
    return losses


def test_one_batch_overfit_loss_decreases():
    losses = _overfit_one_batch(_model(), _data(), 40)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])


def test_summary_branch_model_trains_with_cue_statistics():
    from m2p.features.cues import window_cues
    from training.dataset import cue_statistics

    data = _data()
    feats = np.abs(data.features)  # cues need non-negative RMS / mel magnitudes to be meaningful
    mean, std = cue_statistics(feats, data.valid_frames, chunk=3)
    frames = torch.arange(FRAMES)[None, :] < torch.from_numpy(data.valid_frames)[:, None]
    expected = window_cues(torch.from_numpy(feats.astype(np.float32)), frames).numpy()
    np.testing.assert_allclose(mean, expected.mean(0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(std, np.maximum(expected.std(0), 1e-3), rtol=1e-4, atol=1e-4)

    torch.manual_seed(0)
    model = Music2Palette(ModelConfig.from_dict({**ModelConfig.tiny().to_dict(), "summary_features": True}))
    model.encoder.cue_mean.copy_(torch.from_numpy(mean))
    model.encoder.cue_std.copy_(torch.from_numpy(std))
    data.features = feats
    losses = _overfit_one_batch(model, data, 30)
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    assert model.encoder.summary_proj[1].weight.grad is not None


def test_free_running_step_is_finite_and_reports_generated_terms():
    data = _data()
    model = _model()
    cfg = _cfg()
    w = dataclasses.replace(cfg.loss, free_running=1.0)
    opt, _ = make_optimizer(model, cfg)
    b = data.batch(np.arange(4))
    parts = train_step(model, opt, b, w, noise_scale=0.1, generator=torch.Generator().manual_seed(0))
    assert np.isfinite(parts["total"]) and np.isfinite(parts["gen_colour"])
    assert {"gen_hue", "gen_emotion_music", "gen_emotion_truth", "gen_stop"} <= set(parts)


def test_batches_are_stateless_and_cover_epoch():
    a = [batch_indices(s, 10, 4, 0) for s in range(2)]
    assert np.array_equal(batch_indices(1, 10, 4, 0), a[1])
    assert len(set(np.concatenate(a).tolist())) == 8


def test_resume_restores_step_optimizer_and_trajectory(tmp_path):
    data, val = _data(8), _data(4, seed=1)
    cfg = _cfg(steps=4, eval_every=2)
    full = _model()
    res_full = train_loop(full, data, val, cfg, tmp_path / "full", log=lambda m: None)
    assert res_full["completed"] and res_full["step"] == 4

    part = _model()
    res1 = train_loop(part, data, val, cfg, tmp_path / "part", max_session_steps=2, log=lambda m: None)
    assert res1["step"] == 2 and not res1["completed"]
    state = torch.load(tmp_path / "part" / "checkpoint.pt", weights_only=False)
    assert state["step"] == 2 and state["optimizer"]["state"]

    fresh = _model(seed=123)  # different init: everything must come from the checkpoint
    res2 = train_loop(fresh, data, val, cfg, tmp_path / "part", resume=True, log=lambda m: None)
    assert res2["completed"] and res2["step"] == 4
    for (name, p1), p2 in zip(full.state_dict().items(), fresh.state_dict().values()):
        torch.testing.assert_close(p1, p2, rtol=1e-4, atol=1e-5, msg=name)
    assert [r["step"] for r in res2["history"] if r["kind"] == "train"] == list(range(1, 5))


# ------------------------------------------------------------------------------ cache, report


def test_feature_cache_reuses_files(tmp_path, monkeypatch):
    import soundfile as sf

    from m2p.audio import decode as audio

    root = tmp_path / "cache"
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    sr = audio.SAMPLE_RATE
    t = np.arange(int(3.5 * sr)) / sr
    sf.write(root / "a.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sr)
    (corpus / "tracks.jsonl").write_text(json.dumps(
        {"track_id": "a", "path": "a.wav", "kind": "test", "split": "train"}) + "\n")
    rows = [{"track_id": "a", "start": s, "duration": d, "valence": 0.1, "arousal": 0.2,
             "emotion": [0.125] * 8, "palette_ids": [], "target_lch": [[50, 20, 30]] * 3}
            for s, d in ((0.0, 2.0), (1.0, 2.0), (2.5, 1.0))]
    (corpus / "windows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    c = load_corpus(corpus)
    cache = FeatureCache(tmp_path / "features", window_seconds=2.0)
    assert cache.ensure(c, c.windows, log=lambda m: None) == 3
    assert cache.valid_frames(c.windows[2]) < cache.frames

    def no_decode(*a, **k):
        raise AssertionError("audio decoded again")

    monkeypatch.setattr(audio, "load", no_decode)
    assert cache.ensure(c, c.windows, log=lambda m: None) == 0
    ds = WindowDataset.from_cache(cache, c.windows)
    assert ds.features.dtype == np.float16 and ds.features.shape == (3, cache.frames, 539)
    assert np.all(ds.features[2, cache.valid_frames(c.windows[2]):] == 0)
    b = ds.batch(np.arange(3))
    assert b["frame_mask"] is not None and b["target_lch"].shape == (3, 3, 3)


def test_report_outputs(tmp_path):
    from training.report import markdown_table, plot_loss_curve, write_training_log

    hist = [{"step": s, "kind": k, "lr": 1e-3, "elapsed": s, "total": 1.0 / s, "colour": 10.0 / s,
             "hue": 0.1, "stop": 0.5} for s in range(1, 5) for k in ("train",)]
    hist.append({"step": 4, "kind": "val", "lr": 1e-3, "elapsed": 4, "total": 0.3, "colour": 3.0,
                 "hue": 0.1, "stop": 0.4})
    csv = write_training_log(hist, tmp_path / "log.csv")
    assert csv.read_text().splitlines()[0].startswith("step,kind")
    png = plot_loss_curve(hist, tmp_path / "curve.png")
    assert png.stat().st_size > 1000
    assert "| a | b |" in markdown_table(["a", "b"], [[1.0, None]])


# ------------------------------------------------------------------------------ the command


def _sine_corpus(root, rng: np.random.Generator):
    """A corpus of three short sine tracks (two train, one val), 2 s windows every second."""
    import soundfile as sf

    from m2p.audio.decode import SAMPLE_RATE

    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    t = np.arange(int(4.0 * SAMPLE_RATE)) / SAMPLE_RATE
    tracks, windows = [], []
    for name, hz, split in (("a", 220.0, "train"), ("b", 330.0, "train"), ("c", 440.0, "val")):
        sf.write(root / f"{name}.wav", (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32), SAMPLE_RATE)
        tracks.append({"track_id": name, "path": f"{name}.wav", "kind": "test", "split": split})
        for start in (0.0, 1.0, 2.0):
            k = int(rng.integers(3, 6))
            windows.append({"track_id": name, "start": start, "duration": 2.0,
                            "valence": float(rng.uniform(-1, 1)), "arousal": float(rng.uniform(-1, 1)),
                            "emotion": rng.dirichlet(np.ones(8)).tolist(), "palette_ids": [],
                            "target_lch": [[float(rng.uniform(20, 90)), float(rng.uniform(5, 80)),
                                            float(rng.uniform(0, 360))] for _ in range(k)]})
    (corpus / "tracks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in tracks))
    (corpus / "windows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in windows))
    return corpus


def test_train_command_trains_a_few_steps_and_writes_a_loadable_model(tmp_path, monkeypatch):
    import m2p
    from m2p.model.weights import load_model
    from training import train

    corpus = _sine_corpus(tmp_path, np.random.default_rng(0))
    config = {
        "name": "smoke", "seed": 0, "device": "cpu", "num_threads": 1,
        "model": {**ModelConfig.tiny().to_dict(), "summary_features": True},
        "loss": {"colour": 0.1, "hue": 0.5, "free_running": 1.0},
        "optim": {"lr": 1e-3, "warmup_steps": 1},
        "batch_size": 4, "steps": 3, "log_every": 1, "eval_every": 3, "checkpoint_every": 3,
        "window_seconds": 2.0, "feature_batch": 4,
    }
    path = tmp_path / "smoke.json"
    path.write_text(json.dumps(config))
    monkeypatch.setattr(train, "RUNS_DIR", tmp_path / "runs")
    out = tmp_path / "model"
    with torch.random.fork_rng(devices=[]):
        code = train.main(["--config", str(path), "--out", str(out), "--corpus", str(corpus),
                           "--features", str(tmp_path / "features"),
                           "--curve", str(tmp_path / "curve.png")])
    assert code == 0
    meta = json.loads((out / "config.json").read_text())["metadata"]
    # The metadata is the typed config's dict: the file's settings plus the resolved defaults.
    assert meta["training"]["config"] == TrainingConfig.from_dict(config).to_dict()
    assert meta["training"]["config"]["val_windows"] == 256 and meta["training"]["steps"] == 3
    assert meta["corpus"]["train_windows"] == 6 and meta["corpus"]["val_windows"] == 3
    rows = (out / "training_log.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 + 1  # header, three training steps, one validation pass
    assert (tmp_path / "curve.png").stat().st_size > 1000 and (out / "MODEL_CARD.md").exists()

    model = load_model(out)
    assert model.config.summary_features and model.config.d_model == 32
    # Standardisation was set from the training split, not left at its initial 0 / 1.
    assert float(model.encoder.feature_std.std()) > 0 and not torch.all(model.encoder.feature_mean == 0)
    palette = m2p.palette(tmp_path / "a.wav", model=model, device="cpu")
    assert 3 <= len(palette) <= 8 and np.isfinite(palette.lch).all()


def test_train_command_refuses_a_bad_config_in_one_line(tmp_path, capsys):
    from training import train

    path = tmp_path / "typo.json"
    path.write_text(json.dumps({"name": "typo", "optim": {"learning_rate": 1e-3}}))
    assert train.main(["--config", str(path), "--out", str(tmp_path / "model")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("python -m training.train: error: ") and "\n" not in err
    assert str(path) in err and "optim.learning_rate: unknown key" in err
    assert not (tmp_path / "model").exists()
