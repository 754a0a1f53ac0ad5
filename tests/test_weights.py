"""Tests of model directory search, loading, saving and device resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from m2p.model import weights as weights
from m2p.errors import M2PError, ModelFormatError, ModelNotFoundError
from m2p.model.network import Music2Palette
from m2p.model.weights import (
    clear_cache,
    find_model_dir,
    load_model,
    resolve_device,
    save_model,
)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """No $M2P_MODEL_DIR, default search dirs pointing to empty places, empty cache."""
    monkeypatch.delenv("M2P_MODEL_DIR", raising=False)
    monkeypatch.setattr(
        weights,
        "_default_search_dirs",
        lambda: [(tmp_path / "pkg" / "_model", "installed package"),
                 (tmp_path / "checkout" / "model", "source checkout")],
    )
    clear_cache()
    yield
    clear_cache()


def _outputs(model: Music2Palette) -> tuple[torch.Tensor, ...]:
    features = torch.randn(2, 18, 539, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        enc = model.encode(features)
        lch, lengths = model.generate(enc, noise_scale=0.5, generator=torch.Generator().manual_seed(9))
    return enc.embedding, enc.valence_arousal, lch, lengths


def test_round_trip_identical_outputs(tiny_model: Music2Palette, tiny_model_dir: Path) -> None:
    assert (tiny_model_dir / "config.json").is_file()
    assert (tiny_model_dir / "model.safetensors").is_file()
    loaded = load_model(tiny_model_dir)
    assert not loaded.training
    assert loaded.config == tiny_model.config
    assert loaded.metadata == {"note": "random init, tests only"}
    for a, b in zip(_outputs(tiny_model), _outputs(loaded)):
        assert torch.equal(a, b)


def test_feature_statistics_saved(tiny_model: Music2Palette, tmp_path: Path) -> None:
    with torch.no_grad():
        tiny_model.encoder.feature_mean.uniform_()
        tiny_model.encoder.feature_std.uniform_(0.5, 2.0)
    loaded = load_model(save_model(tiny_model, tmp_path / "m"))
    assert torch.equal(loaded.encoder.feature_mean, tiny_model.encoder.feature_mean)
    assert torch.equal(loaded.encoder.feature_std, tiny_model.encoder.feature_std)


def test_cache_returns_same_object(tiny_model_dir: Path, tiny_model: Music2Palette) -> None:
    first = load_model(tiny_model_dir)
    assert load_model(str(tiny_model_dir)) is first
    assert load_model(tiny_model_dir, device="cpu") is first
    clear_cache()
    assert load_model(tiny_model_dir) is not first


def test_search_order(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert find_model_dir(tiny_model_dir) == tiny_model_dir.resolve()
    monkeypatch.setenv("M2P_MODEL_DIR", str(tiny_model_dir))
    assert find_model_dir() == tiny_model_dir.resolve()
    monkeypatch.delenv("M2P_MODEL_DIR")
    checkout = tmp_path / "checkout" / "model"
    checkout.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (checkout / name).write_bytes((tiny_model_dir / name).read_bytes())
    assert find_model_dir() == checkout.resolve()
    package = tmp_path / "pkg" / "_model"
    package.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        (package / name).write_bytes((tiny_model_dir / name).read_bytes())
    assert find_model_dir() == package.resolve()


def test_missing_everywhere_names_searched_places(tmp_path: Path) -> None:
    card_only = tmp_path / "checkout" / "model"
    card_only.mkdir(parents=True)
    (card_only / "MODEL_CARD.md").write_text("no weights yet")
    with pytest.raises(ModelNotFoundError) as info:
        load_model()
    message = str(info.value)
    assert str(tmp_path / "pkg" / "_model") in message
    assert str(card_only) in message
    assert "M2P_MODEL_DIR" in message and "training.train" in message


def test_missing_explicit_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotFoundError, match="nowhere"):
        find_model_dir(tmp_path / "nowhere")
    monkeypatch.setenv("M2P_MODEL_DIR", str(tmp_path / "typo"))
    with pytest.raises(ModelNotFoundError, match="typo"):
        load_model()


def test_corrupted_safetensors(tiny_model_dir: Path) -> None:
    (tiny_model_dir / "model.safetensors").write_bytes(b"\x00\x01 definitely not safetensors")
    with pytest.raises(ModelFormatError, match="model.safetensors"):
        load_model(tiny_model_dir)


def test_truncated_safetensors(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "model.safetensors"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFormatError, match="model.safetensors"):
        load_model(tiny_model_dir)


def test_wrong_shape(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "model.safetensors"
    tensors = load_file(str(path))
    tensors["patch_embed.bias"] = torch.zeros(5)
    save_file(tensors, str(path))
    with pytest.raises(ModelFormatError, match="patch_embed.bias"):
        load_model(tiny_model_dir)


def test_missing_and_extra_tensors(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "model.safetensors"
    tensors = load_file(str(path))
    del tensors["stop_head.1.bias"]
    tensors["surprise"] = torch.zeros(1)
    save_file(tensors, str(path))
    with pytest.raises(ModelFormatError, match="stop_head.1.bias") as info:
        load_model(tiny_model_dir)
    assert "surprise" in str(info.value)


def test_config_mismatch(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "config.json"
    document = json.loads(path.read_text())
    document["config"]["d_model"] = 64
    path.write_text(json.dumps(document))
    with pytest.raises(ModelFormatError, match="model.safetensors"):
        load_model(tiny_model_dir)


def test_bad_config_json(tiny_model_dir: Path) -> None:
    (tiny_model_dir / "config.json").write_text("{not json")
    with pytest.raises(ModelFormatError, match="config.json"):
        load_model(tiny_model_dir)
    (tiny_model_dir / "config.json").write_text(json.dumps({"config": {"d_model": 32}}))
    with pytest.raises(ModelFormatError, match="required"):
        load_model(tiny_model_dir)


def test_non_finite_weights(tiny_model_dir: Path) -> None:
    path = tiny_model_dir / "model.safetensors"
    tensors = load_file(str(path))
    tensors["cls_token"][0, 0, 0] = float("nan")
    save_file(tensors, str(path))
    with pytest.raises(ModelFormatError, match="NaN"):
        load_model(tiny_model_dir)


def test_save_rejects_non_json_extra(tiny_model: Music2Palette, tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        save_model(tiny_model, tmp_path / "m", extra={"bad": object()})


def test_resolve_device(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(M2PError, match="CUDA"):
        resolve_device("cuda")
    with pytest.raises(M2PError, match="CUDA"):
        resolve_device(torch.device("cuda", 0))
    with pytest.raises(M2PError):
        resolve_device("toaster")
