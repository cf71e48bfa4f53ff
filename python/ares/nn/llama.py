"""LLaMA-style blocks for ARES: token embedding, RMSNorm, rotary position encoding (both
layouts), SwiGLU.

Each block is plain PyTorch between Brevitas quantizers, written the way users write it,
so its export is the float island ARES recognises (docs/SEMANTICS.md), and each ends in its
own output quantizer:

- `Embedding`: Brevitas QuantEmbedding (8-bit per-tensor table) + output quantizer: one
  integer `qembed` (a row copy; the requantization is folded into the table).
- `RMSNorm`: `x * rsqrt(mean(x^2) + eps) * weight` on a quantized input: `qrmsnorm`.
- `RotaryEmbedding`: `x * cos + rotate(x) * sin` with constant cos/sin buffers (positions
  known at export time): one `qrope` with per-position fixed-point cos/sin multipliers.
- `SwiGLU`: `W2(SiLU(W1 x) * (W3 x))` with a quantizer after each step, so SiLU is a
  256-entry table (`qlut`) and the gate product an integer `qmul`.
"""

import torch
import torch.nn as tnn
import brevitas.nn as qnn
from brevitas.quant import Int8WeightPerTensorFloat

from .layers import Linear, QuantIdentity, _check_bits, _value

__all__ = ["Embedding", "RMSNorm", "RotaryEmbedding", "SwiGLU"]


class Embedding(qnn.QuantEmbedding):
    """Token embedding [vocab, dim] with an 8-bit (`weight_bit_width`) symmetric per-tensor
    table, then a signed `bit_width`-bit output quantizer. Input: int64 token ids (the
    graph input stays integer). ARES folds the output quantizer into the table at compile
    time, so the lookup is a plain row copy.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, weight_bit_width: int = 8,
                 bit_width: int = 8, return_quant_tensor: bool = False):
        super().__init__(num_embeddings, embedding_dim, weight_quant=Int8WeightPerTensorFloat,
                         weight_bit_width=_check_bits("weight_bit_width", weight_bit_width))
        self.out_quant = QuantIdentity(bit_width=_check_bits("bit_width", bit_width),
                                       return_quant_tensor=return_quant_tensor)

    def forward(self, ids):
        return self.out_quant(_value(super().forward(ids)))


class RMSNorm(tnn.Module):
    """RMSNorm over the last dim, `x * rsqrt(mean(x^2) + eps) * weight`, written out (the
    form the TorchScript exporter writes at opset 13; `torch.nn.RMSNorm` exports only
    through the dynamo back end). The input must be quantized; the output goes through this
    module's own signed `bit_width`-bit quantizer. ARES computes it with integer sums and an
    integer inverse square root (`qrmsnorm`)."""

    def __init__(self, dim: int, eps: float = 1e-6, bit_width: int = 8,
                 return_quant_tensor: bool = False):
        super().__init__()
        self.eps = eps
        self.weight = tnn.Parameter(torch.ones(dim))
        self.out_quant = QuantIdentity(bit_width=_check_bits("bit_width", bit_width),
                                       return_quant_tensor=return_quant_tensor)

    def forward(self, x):
        x = _value(x)
        return self.out_quant(x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight)


class SwiGLU(tnn.Module):
    """LLaMA's MLP: `W2(SiLU(W1 x) * (W3 x))`, hidden size `hidden`, no biases (as LLaMA).
    A quantizer after W1 (SiLU's input), after SiLU, after W3 and after the product, and
    one on the output: every step between two quantizers is one integer op in ARES (qlinear,
    qlut for SiLU, qmul for the gate). The input must be quantized."""

    def __init__(self, dim: int, hidden: int, bias: bool = False, bit_width: int = 8,
                 weight_bit_width: int = 8, return_quant_tensor: bool = False):
        super().__init__()
        b = _check_bits("bit_width", bit_width)
        self.w1 = Linear(dim, hidden, bias=bias, weight_bit_width=weight_bit_width)
        self.w3 = Linear(dim, hidden, bias=bias, weight_bit_width=weight_bit_width)
        self.w2 = Linear(hidden, dim, bias=bias, weight_bit_width=weight_bit_width)
        self.q1 = QuantIdentity(bit_width=b)
        self.q_act = QuantIdentity(bit_width=b)
        self.q3 = QuantIdentity(bit_width=b)
        self.q_gate = QuantIdentity(bit_width=b)
        self.out_quant = QuantIdentity(bit_width=b, return_quant_tensor=return_quant_tensor)

    def forward(self, x):
        g = self.q_act(tnn.functional.silu(self.q1(self.w1(x))))
        return self.out_quant(self.w2(self.q_gate(g * self.q3(self.w3(x)))))


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
