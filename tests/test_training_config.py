"""The typed training configuration: every shipped config loads, bad files fail naming the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from m2p.errors import InvalidArgumentError
from m2p.model.config import ModelConfig
from training.config import OptimConfig, TrainingConfig, load_config
from training.losses import LossWeights

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = sorted((ROOT / "training" / "configs").glob("*.json"))


def test_there_are_configs_to_check():
    assert {p.name for p in CONFIGS} >= {"cpu_small.json", "cpu_v2_keyed.json", "gpu_full.json"}


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_every_config_loads_and_keeps_its_settings(path):
    raw = json.loads(path.read_text())
    cfg = load_config(path)
    assert cfg.name == raw["name"] and cfg.steps == raw["steps"]
    assert isinstance(cfg.model, ModelConfig) and isinstance(cfg.loss, LossWeights)
    assert isinstance(cfg.optim, OptimConfig) and cfg.optim.lr == raw["optim"]["lr"]
    for key, value in raw["model"].items():
        assert getattr(cfg.model, key) == value, key
    for key, value in raw["loss"].items():
        assert getattr(cfg.loss, key) == value, key
    # The dict written into the model's metadata keeps every setting of the file as written,
    # and loads back to the same config.
    written = cfg.to_dict()
    assert {k: written[k] for k in raw if k != "optim"} == {k: v for k, v in raw.items() if k != "optim"}
    assert {k: written["optim"][k] for k in raw["optim"]} == raw["optim"]
    assert TrainingConfig.from_dict(json.loads(json.dumps(written))) == cfg


def test_defaults_fill_what_a_file_leaves_out(tmp_path):
    path = tmp_path / "short.json"
    path.write_text(json.dumps({"model": {"d_model": 64}, "optim": {"lr": 0.001}}))
    cfg = load_config(path)
    assert cfg.name == "short" and cfg.noise_draws == 1 and cfg.val_windows == 256
    assert cfg.model.d_model == 64 and cfg.model.decoder_layers == ModelConfig().decoder_layers
    assert cfg.optim.lr == 0.001 and cfg.optim.betas == (0.9, 0.98) and cfg.loss == LossWeights()
    written = cfg.to_dict()
    assert written["model"] == {"d_model": 64} and written["loss"] == {}
    assert written["optim"]["warmup_steps"] == 100 and written["max_minutes"] is None


def test_config_is_frozen():
    cfg = TrainingConfig(name="x")
    with pytest.raises(AttributeError):
        cfg.steps = 5  # type: ignore[misc]


def test_shipped_model_metadata_is_a_valid_config():
    document = json.loads((ROOT / "model" / "config.json").read_text())
    stored = document["metadata"]["training"]["config"]
    cfg = TrainingConfig.from_dict(stored, source="model/config.json")
    assert cfg.to_dict() == stored
    assert cfg.model == ModelConfig(**{**ModelConfig().to_dict(), **stored["model"]})


@pytest.mark.parametrize("change, key", [
    ({"stepz": 10}, "stepz: unknown key"),
    ({"model": {"d_modle": 64}}, "model.d_modle: unknown key"),
    ({"loss": {"colours": 1.0}}, "loss.colours: unknown key"),
    ({"optim": {"learning_rate": 0.1}}, "optim.learning_rate: unknown key"),
    ({"model_keys": ["d_model"]}, "model_keys: unknown key"),
    ({"steps": "100"}, "steps: expected an integer"),
    ({"steps": 100.0}, "steps: expected an integer"),
    ({"max_minutes": True}, "max_minutes: expected a finite number or null"),
    ({"model": {"summary_features": 1}}, "model.summary_features: expected true or false"),
    ({"loss": {"hue": None}}, "loss.hue: expected a finite number"),
    ({"optim": {"betas": [0.9]}}, "optim.betas: expected a list of 2 finite numbers"),
    ({"model": [1, 2]}, "model: expected a JSON object"),
    ({"name": None}, "name: expected a string"),
    ({"batch_size": 0}, "batch_size: must be >= 1"),
    ({"val_windows": 0}, "val_windows: must be >= 1 or null"),
    ({"window_seconds": -1.0}, "window_seconds: must be > 0"),
    ({"optim": {"lr": 0}}, "optim.lr: must be > 0"),
    ({"optim": {"betas": [0.9, 1.0]}}, "optim.betas: must be two numbers in [0, 1)"),
    ({"model": {"dropout": 1.5}}, "model: dropout must be in [0, 1)"),
])
def test_bad_config_names_the_file_and_the_key(tmp_path, change, key):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "bad", **change}))
    with pytest.raises(InvalidArgumentError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and key in message


@pytest.mark.parametrize("text, problem", [
    ("{\"name\": \"x\",}", "not valid JSON"),
    ("[1, 2]", "the config: expected a JSON object, got list"),
])
def test_unreadable_config_names_the_file(tmp_path, text, problem):
    path = tmp_path / "broken.json"
    path.write_text(text)
    with pytest.raises(InvalidArgumentError, match=problem) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidArgumentError, match="cannot read the training config"):
        load_config(tmp_path / "nope.json")


def test_a_config_without_a_file_needs_a_name():
    with pytest.raises(InvalidArgumentError, match="name: missing"):
        TrainingConfig.from_dict({"steps": 10})
    assert TrainingConfig.from_dict({"steps": 10}, default_name="run").name == "run"
