"""The colour decoder: an autoregressive transformer emitting LCh colours and a stop token.

Data flow (batch ``B``, patches ``S``, width ``d``)::

    memory = [embedding + noise_scale * N(0, 1); patch outputs]   (B, 1+S, d)
        (``decoder_conditioning="embedding"``: memory = [noisy embedding] alone, and the start
        token is shifted by a projection of it, so the noise cannot be ignored)
    [start; embed(c_1) ... embed(c_n)] + colour-index position --TransformerDecoder(memory)-->
        per step: LCh head (sigmoid * LCH_SCALE) and stop logit

Colours enter and leave the decoder in CIELCh units (L in [0, 100], C in [0, 150],
h in degrees [0, 360)); it works on them normalised by :data:`LCH_SCALE`. In eval mode
:meth:`ColourDecoder.generate` decodes step by step with a cache (:class:`StepCache`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from m2p.model.config import ModelConfig
from m2p.model.encoder import MusicEncoding
from m2p.model.layers import add_noise, sinusoidal_encoding

__all__ = ["LCH_SCALE", "ColourDecoder", "StepCache"]

#: The decoder's sigmoid outputs times this are L, C and h (degrees).
LCH_SCALE: tuple[float, float, float] = (100.0, 150.0, 360.0)


class ColourDecoder(nn.Module):
    """Colours from a music embedding (and patch memory), one at a time.

    Parameters
    ----------
    config
        ``d_model``, ``decoder_layers``, ``decoder_heads``, ``ff_dim``, ``dropout``,
        ``decoder_conditioning``, ``min_colors``, ``max_colors`` and ``stop_temperature``
        are read.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        c = self.config = config
        d = c.d_model
        if c.decoder_conditioning == "embedding":
            self.start_shift = nn.Linear(d, d)
        self.start_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.colour_embed = nn.Linear(4, d)  # (L/100, C/150, cos h, sin h)
        dec_layer = nn.TransformerDecoderLayer(
            d, c.decoder_heads, c.ff_dim, c.dropout,
            activation="gelu", batch_first=True, norm_first=True,
        )
        self.decoder = nn.TransformerDecoder(dec_layer, c.decoder_layers)
        self.colour_head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 3))
        self.stop_head = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 1))
        self.register_buffer("_lch_scale", torch.tensor(LCH_SCALE), persistent=False)

    def memory(self, encoding: MusicEncoding, noise_scale: float,
               generator: torch.Generator | None) -> tuple[Tensor, Tensor | None]:
        """What the decoder attends to: memory (B, 1+S, d) = [noisy embedding; patches] and its
        key padding mask (True = padding, PyTorch's convention).

        With ``decoder_conditioning="embedding"`` the memory is the noisy embedding alone
        (B, 1, d), and no mask.
        """
        embedding = add_noise(encoding.embedding, noise_scale, generator)
        if self.config.decoder_conditioning == "embedding":
            return embedding.unsqueeze(1), None
        memory = torch.cat([embedding.unsqueeze(1), encoding.memory], dim=1)
        if encoding.memory_mask is None:
            return memory, None
        first = torch.ones(memory.shape[0], 1, dtype=torch.bool, device=memory.device)
        return memory, ~torch.cat([first, encoding.memory_mask.to(torch.bool)], dim=1)

    def forward(self, colours: Tensor, memory: Tensor, memory_pad: Tensor | None) -> Tensor:
        """Run the decoder on [start; colours] (B, n, 3 LCh) -> hidden states (B, n+1, d)."""
        n = colours.shape[1]
        tgt = torch.cat([self.start(memory), self.embed_colours(colours)], dim=1)
        tgt = tgt + sinusoidal_encoding(torch.arange(n + 1, device=tgt.device), tgt.shape[-1]).to(
            tgt.dtype
        )
        causal = torch.triu(
            torch.ones(n + 1, n + 1, dtype=torch.bool, device=tgt.device), diagonal=1
        )
        return self.decoder(tgt, memory, tgt_mask=causal, memory_key_padding_mask=memory_pad)

    def generate(self, memory: Tensor, memory_pad: Tensor | None, *,
                 num_colors: int | None = None, stop_quantile: Tensor | None = None,
                 ) -> tuple[Tensor, Tensor, Tensor]:
        """Decode palettes greedily (see :meth:`m2p.model.network.Music2Palette.generate`).

        Returns
        -------
        lch, lengths, stop_logits
            (B, max_colors, 3) LCh, zero at and after ``lengths[b]``; (B,) int64 lengths; (B, S)
            stop logits of the S steps decoded.
        """
        c = self.config
        batch = memory.shape[0]
        device = memory.device
        colours = memory.new_zeros(batch, 0, 3)
        lengths = torch.full((batch,), c.max_colors, dtype=torch.long, device=device)
        done = torch.zeros(batch, dtype=torch.bool, device=device)
        step_logits = []
        ended = memory.new_zeros(batch)  # probability that the palette has ended by this step
        # In eval mode each step feeds only the newest token and reuses the earlier tokens'
        # layer inputs (a key-value cache); training keeps the full pass (dropout, autograd).
        cache = None if self.training else StepCache(self, memory, memory_pad)
        for step in range(c.max_colors):
            if cache is None:
                hidden = self(colours, memory, memory_pad)[:, -1]
            else:
                hidden = cache.step(colours[:, -1:] if step else None)
            stop_logit = self.stop_head(hidden).squeeze(-1)
            step_logits.append(stop_logit)
            if num_colors is not None:
                stop_now = torch.full_like(done, step >= num_colors)
            elif step >= c.min_colors and stop_quantile is not None:
                ended = ended + (1.0 - ended) * torch.sigmoid(stop_logit / c.stop_temperature)
                stop_now = ended >= stop_quantile.to(ended)
            elif step >= c.min_colors:
                stop_now = torch.sigmoid(stop_logit) > 0.5
            else:
                stop_now = torch.zeros_like(done)
            newly = stop_now & ~done
            lengths = torch.where(newly, torch.full_like(lengths, step), lengths)
            done = done | newly
            if bool(done.all()):
                break
            colours = torch.cat([colours, self.colours(hidden).unsqueeze(1)], dim=1)

        out = memory.new_zeros(batch, c.max_colors, 3)
        out[:, : colours.shape[1]] = colours
        keep = torch.arange(c.max_colors, device=device).unsqueeze(0) < lengths.unsqueeze(1)
        out = out * keep.unsqueeze(-1).to(out.dtype)
        return out, lengths, torch.stack(step_logits, dim=1)

    def embed_colours(self, colours: Tensor) -> Tensor:
        """Decoder input tokens (B, n, d) of LCh colours (B, n, 3), without positions."""
        scale = self._lch_scale.to(colours.dtype)
        hue = torch.deg2rad(colours[..., 2])
        inputs = torch.stack(
            [colours[..., 0] / scale[0], colours[..., 1] / scale[1], torch.cos(hue), torch.sin(hue)],
            dim=-1,
        )
        return self.colour_embed(inputs)

    def start(self, memory: Tensor) -> Tensor:
        """The start token (B, 1, d), shifted by the noisy embedding when the decoder is
        conditioned on it alone (the first colour then depends on the noise directly)."""
        start = self.start_token.expand(memory.shape[0], -1, -1).to(memory.dtype)
        if self.config.decoder_conditioning == "embedding":
            start = start + self.start_shift(memory[:, :1])
        return start

    def colours(self, hidden: Tensor) -> Tensor:
        """Map decoder states (..., d) to LCh colours (..., 3)."""
        return torch.sigmoid(self.colour_head(hidden)) * self._lch_scale.to(hidden.dtype)


class StepCache:
    """Incremental decoding for :meth:`ColourDecoder.generate` in eval mode.

    ``nn.TransformerDecoder`` recomputes every earlier token at every step. Here each step
    runs the decoder layers on the newest token only; its self-attention reads the earlier
    tokens' normalised layer inputs, kept per layer (the keys and values are projections of
    them). Same result as the full pass up to float rounding (tested), about
    ``max_colors / 2`` times less decoder work.
    """

    def __init__(self, decoder: ColourDecoder, memory: Tensor, memory_pad: Tensor | None) -> None:
        self.owner, self.memory, self.memory_pad = decoder, memory, memory_pad
        self.layer_inputs: list[Tensor | None] = [None] * len(decoder.decoder.layers)
        self.position = 0

    def step(self, newest: Tensor | None) -> Tensor:
        """Hidden state (B, d) after the start token (``newest`` None) or after the newest
        colour (B, 1, 3) LCh."""
        owner = self.owner
        token = owner.start(self.memory) if newest is None else owner.embed_colours(newest)
        x = token + sinusoidal_encoding(
            torch.tensor([self.position], device=token.device), token.shape[-1]).to(token.dtype)
        self.position += 1
        for i, layer in enumerate(owner.decoder.layers):  # norm_first layers, eval mode
            h = layer.norm1(x)
            past = self.layer_inputs[i]
            past = h if past is None else torch.cat([past, h], dim=1)
            self.layer_inputs[i] = past
            x = x + layer.self_attn(h, past, past, need_weights=False)[0]
            x = x + layer.multihead_attn(layer.norm2(x), self.memory, self.memory,
                                         key_padding_mask=self.memory_pad, need_weights=False)[0]
            x = x + layer.linear2(layer.activation(layer.linear1(layer.norm3(x))))
        if owner.decoder.norm is not None:
            x = owner.decoder.norm(x)
        return x[:, -1]
