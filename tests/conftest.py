"""Shared fixtures: a tiny, randomly initialised Music2Palette (never presented as trained)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from m2p.model.config import ModelConfig
from m2p.model.network import Music2Palette
from m2p.model.weights import save_model


@pytest.fixture
def tiny_config() -> ModelConfig:
    """``ModelConfig.tiny()``: d_model 32, 1 encoder layer, 2 decoder layers, 2 heads."""
    return ModelConfig.tiny()


@pytest.fixture
def tiny_model(tiny_config: ModelConfig) -> Music2Palette:
    """A seeded, randomly initialised tiny model in eval mode (CPU, float32)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1234)
        model = Music2Palette(tiny_config)
    return model.eval()


@pytest.fixture
def tiny_model_dir(tiny_model: Music2Palette, tmp_path: Path) -> Path:
    """A temporary model directory written by ``save_model`` from ``tiny_model``."""
    return save_model(tiny_model, tmp_path / "tiny_model", extra={"note": "random init, tests only"})


@pytest.fixture
def one_torch_thread():
    """Tiny models run fastest single-threaded (and CI machines are shared)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
