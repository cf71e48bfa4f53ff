"""LLaMA-style blocks for ARES: rotary position encoding (both layouts).

Each block is plain PyTorch between Brevitas quantizers, written the way users write it,
so its export is the float island ARES recognises (docs/SEMANTICS.md):

- `RotaryEmbedding`: `x * cos + rotate(x) * sin` with constant cos/sin buffers (positions
  known at export time), on an already quantized input, ending in its own output
  quantizer. ARES turns it into one integer `qrope` op with per-position fixed-point
  cos/sin multipliers.
"""

import torch
import torch.nn as tnn

from .layers import QuantIdentity, _check_bits, _value

__all__ = ["RotaryEmbedding"]


class RotaryEmbedding(tnn.Module):
    """Rotary position encoding of the last dim (`dim`, even) of an input whose
    second-to-last dim is the position (e.g. [batch, heads, seq, head_dim]).

    `interleaved=False` rotates halves (GPT-NeoX / LLaMA-HF `rotate_half`: the pair of
    element i is i + dim/2); `interleaved=True` rotates adjacent pairs (x[2i], x[2i+1]), the
    original LLaMA / RoFormer layout. Frequencies `base^(-2i/dim)`; the tables cover
    `max_positions` positions and a shorter input uses the first ones.

    The input must be quantized (a QuantIdentity or a projection's output quantizer before
    it); the output goes through this module's own `bit_width`-bit signed quantizer, so the
    whole rotation becomes one integer op in ARES.
    """

    def __init__(self, dim: int, max_positions: int, base: float = 10000.0,
                 interleaved: bool = False, bit_width: int = 8, return_quant_tensor: bool = False):
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"ares.nn.RotaryEmbedding: dim must be even, got {dim}")
        if max_positions < 1:
            raise ValueError("ares.nn.RotaryEmbedding: max_positions must be at least 1")
        self.interleaved = interleaved
        inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
        ang = torch.outer(torch.arange(max_positions, dtype=torch.float64), inv)  # [T, dim/2]
        ang = ang.repeat_interleave(2, dim=-1) if interleaved else torch.cat([ang, ang], dim=-1)
        self.register_buffer("cos", ang.cos().float(), persistent=False)
        self.register_buffer("sin", ang.sin().float(), persistent=False)
        self.out_quant = QuantIdentity(bit_width=_check_bits("bit_width", bit_width),
                                       return_quant_tensor=return_quant_tensor)

    def rotate(self, x):
        if self.interleaved:
            x1, x2 = x[..., 0::2], x[..., 1::2]
            return torch.stack((-x2, x1), dim=-1).flatten(-2)
        h = x.shape[-1] // 2
        return torch.cat((-x[..., h:], x[..., :h]), dim=-1)

    def forward(self, x):
        x = _value(x)
        t = x.shape[-2]
        return self.out_quant(x * self.cos[:t] + self.rotate(x) * self.sin[:t])
