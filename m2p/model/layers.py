"""Building blocks the encoder and the decoder share: sinusoidal positions and the Gaussian
noise added to a music embedding."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from m2p.errors import InvalidArgumentError

__all__ = ["sinusoidal_encoding", "add_noise"]


def sinusoidal_encoding(positions: Tensor, dim: int) -> Tensor:
    """Transformer sine/cosine position encoding, computed for any positions.

    Parameters
    ----------
    positions
        (n,) integer or float positions.
    dim
        Even encoding width.

    Returns
    -------
    Tensor
        (n, dim) float32; columns alternate sin and cos with wavelengths 2 pi to 2 pi * 10^4.
    """
    pos = positions.to(torch.float32).unsqueeze(-1)
    freq = torch.exp(
        torch.arange(0, dim, 2, dtype=torch.float32, device=positions.device)
        * (-math.log(10000.0) / dim)
    )
    angles = pos * freq
    out = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1)
    return out.reshape(positions.shape[0], dim)


def add_noise(embedding: Tensor, noise_scale: float, generator: torch.Generator | None) -> Tensor:
    """Return ``embedding + noise_scale * N(0, 1)`` with the noise drawn from ``generator``.

    The noise is drawn on the generator's device and moved, so a CPU generator gives the same
    noise whatever device the model runs on. ``noise_scale == 0`` returns the input unchanged.
    """
    if noise_scale < 0:
        raise InvalidArgumentError(f"noise_scale must be >= 0, got {noise_scale}")
    if noise_scale == 0:
        return embedding
    noise_device = generator.device if generator is not None else embedding.device
    noise = torch.randn(
        embedding.shape, generator=generator, device=noise_device, dtype=torch.float32
    )
    return embedding + noise_scale * noise.to(device=embedding.device, dtype=embedding.dtype)
