"""Attention blocks for ARES: multi-head self-attention, learned-query cross-attention,
alternating (time / channel) attention and a pre-norm transformer block.

Each block is ordinary PyTorch between Brevitas quantizers, placed so that every op ARES
computes in integers finds what it needs (docs/SEMANTICS.md):

- every projection (ares.nn.Linear) reads a quantized tensor and is followed by its own
  QuantIdentity (signed 8-bit by default);
- the head split / merge is a reshape and a transpose of those quantized tensors (ARES:
  `qreshape`, `qtranspose`, exact);
- `q @ k^T` reads two quantized tensors; its result is divided by sqrt(head_dim) and goes
  into a quantizer (ARES: one `qmatmul`, the 1/sqrt(d) folded into its requantization);
- the Softmax reads that quantized score and is followed by an unsigned quantizer (its
  output lies in [0, 1]); `attn @ v` reads two quantized tensors and is quantized;
- LayerNorm and GELU read quantized tensors and are followed by a QuantIdentity; every
  residual add is an ares.nn.Add (one shared input quantizer, an output quantizer).

So a model built from these blocks, started with a QuantIdentity on its float input, is a
model ARES can compile. All shapes are static at export time (batch included).
"""

import math
from typing import Optional

import torch
import torch.nn as tnn
from brevitas.quant import Uint8ActPerTensorFloat
import brevitas.nn as qnn

from .layers import Add, Linear, QuantIdentity, _check_bits, _value

__all__ = ["MultiHeadSelfAttention", "CrossAttention", "AlternatingAttention", "TransformerBlock"]


def _check_heads(layer: str, embed_dim: int, num_heads: int) -> int:
    if not isinstance(num_heads, int) or num_heads < 1 or embed_dim % num_heads:
        raise ValueError(f"ares.nn.{layer}: embed_dim ({embed_dim}) must be a multiple of "
                         f"num_heads ({num_heads})")
    return embed_dim // num_heads


class _Attention(tnn.Module):
    """The shared core: scores, softmax, weighted sum, head merge, output projection."""

    def __init__(self, layer, embed_dim, num_heads, bit_width, weight_bit_width, output_quant):
        super().__init__()
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = _check_heads(layer, embed_dim, num_heads)
        b = _check_bits("bit_width", bit_width)
        wk = {"weight_bit_width": weight_bit_width}
        self.k_proj = Linear(embed_dim, embed_dim, **wk)
        self.k_quant = QuantIdentity(b)
        self.v_proj = Linear(embed_dim, embed_dim, **wk)
        self.v_quant = QuantIdentity(b)
        self.score_quant = QuantIdentity(b)
        # softmax output is in [0, 1]: unsigned, all levels on the values that occur
        self.attn_quant = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=b)
        self.o_quant = QuantIdentity(b)
        self.out_proj = Linear(embed_dim, embed_dim, **wk)
        self.out_quant = QuantIdentity(b) if output_quant else None

    def _heads(self, t):
        """[B, S, E] -> [B, H, S, D]"""
        return t.reshape(t.shape[0], t.shape[1], self.num_heads, self.head_dim).transpose(1, 2)

    def _attend(self, qh, kh, x_kv, causal=False):
        """qh [B|1, H, Lq, D] quantized, kh [B, H, S, D] quantized; x_kv the quantized
        sequence the values come from. Returns [B, Lq, E]. causal: query i attends to keys
        0..i only (the later scores are -inf before the softmax)."""
        vh = self._heads(self.v_quant(self.v_proj(x_kv)))
        scores = self.score_quant(torch.matmul(qh, kh.transpose(-2, -1)) / math.sqrt(self.head_dim))
        s = _value(scores)
        if causal:
            # built from the static shape, so the export holds it as a constant [Lq, S]
            # bool tensor: Where(mask, -inf, scores), which ARES lowers to a masked qsoftmax
            lq, sk = int(s.shape[-2]), int(s.shape[-1])  # static: a constant in the export
            later = torch.ones(lq, sk, dtype=torch.bool, device=s.device).triu(1)
            s = s.masked_fill(later, float("-inf"))
        attn = self.attn_quant(torch.softmax(s, dim=-1))
        o = self.o_quant(torch.matmul(_value(attn), vh))
        o = o.transpose(1, 2)
        o = o.reshape(o.shape[0], o.shape[1], self.embed_dim)
        y = self.out_proj(o)
        return self.out_quant(y) if self.out_quant is not None else y


class MultiHeadSelfAttention(_Attention):
    """Multi-head self-attention over x [batch, seq, embed_dim] (quantized input):

        q, k, v = x Wq, x Wk, x Wv (each quantized), split into num_heads heads
        y = softmax(q k^T / sqrt(head_dim)) v, heads merged, then x Wo

    `rope`: an optional module applied to q and k per head ([batch, heads, seq, head_dim];
    e.g. ares.nn.RotaryEmbedding, which brings its own output quantizer).
    `causal=True`: position i attends to positions 0..i only (a decoder), by setting the
    later scores to -inf (`masked_fill` of a constant upper-triangular mask, exported as
    Where; ARES: a qsoftmax with a causal mask, computed from indices).
    `output_quant=False` leaves the output projection without a quantizer, for a residual
    ares.nn.Add right after it (TransformerBlock does this); otherwise the output is
    quantized.
    """

    def __init__(self, embed_dim: int, num_heads: int, rope: Optional[tnn.Module] = None,
                 bit_width: int = 8, weight_bit_width: int = 8, output_quant: bool = True,
                 causal: bool = False):
        super().__init__("MultiHeadSelfAttention", embed_dim, num_heads, bit_width,
                         weight_bit_width, output_quant)
        self.q_proj = Linear(embed_dim, embed_dim, weight_bit_width=weight_bit_width)
        self.q_quant = QuantIdentity(bit_width)
        self.rope = rope
        self.causal = bool(causal)

    def forward(self, x):
        qh = self._heads(self.q_quant(self.q_proj(x)))
        kh = self._heads(self.k_quant(self.k_proj(x)))
        if self.rope is not None:
            qh, kh = _value(self.rope(qh)), _value(self.rope(kh))
        return self._attend(qh, kh, x, self.causal)


class CrossAttention(_Attention):
    """`num_queries` learned queries attend over a sequence x [batch, seq, embed_dim]
    (LUNA-style: a fixed number of queries summarises a variable set of channels):

        y = softmax(Q k^T / sqrt(head_dim)) v,  k, v from x,  Q a learned [num_queries,
        embed_dim] parameter (quantized by its own QuantIdentity: a constant in the graph)

    Output [batch, num_queries, embed_dim], quantized unless `output_quant=False`.
    """

    def __init__(self, embed_dim: int, num_heads: int, num_queries: int, bit_width: int = 8,
                 weight_bit_width: int = 8, output_quant: bool = True):
        super().__init__("CrossAttention", embed_dim, num_heads, bit_width, weight_bit_width,
                         output_quant)
        if not isinstance(num_queries, int) or num_queries < 1:
            raise ValueError("ares.nn.CrossAttention: num_queries must be a positive integer")
        self.queries = tnn.Parameter(torch.randn(num_queries, embed_dim) / math.sqrt(embed_dim))
        self.q_quant = QuantIdentity(bit_width)

    def forward(self, x):
        q = self.q_quant(self.queries)
        qh = q.reshape(1, q.shape[0], self.num_heads, self.head_dim).transpose(1, 2)
        kh = self._heads(self.k_quant(self.k_proj(x)))
        return self._attend(qh, kh, x)


class _PreNormResidual(tnn.Module):
    """x + f(LayerNorm(x)), the sum through an ares.nn.Add."""

    def __init__(self, embed_dim, f, bit_width):
        super().__init__()
        self.norm = tnn.LayerNorm(embed_dim)
        self.norm_quant = QuantIdentity(bit_width)
        self.f = f
        self.add = Add(bit_width)

    def forward(self, x):
        return self.add(x, self.f(self.norm_quant(self.norm(_value(x)))))


class TransformerBlock(tnn.Module):
    """Pre-norm transformer encoder block on x [batch, seq, embed_dim] (quantized input):

        x = x + MHSA(LayerNorm(x));  x = x + MLP(LayerNorm(x))
        MLP(t) = W2 GELU(W1 t), hidden width mlp_dim

    Every LayerNorm and GELU output and every residual sum is quantized (`bit_width`), so
    the output is a quantized tensor. `rope` and `causal` are passed to the attention.
    """

    def __init__(self, embed_dim: int, num_heads: int, mlp_dim: int,
                 rope: Optional[tnn.Module] = None, bit_width: int = 8, weight_bit_width: int = 8,
                 causal: bool = False):
        super().__init__()
        wk = {"weight_bit_width": weight_bit_width}
        self.attn = _PreNormResidual(
            embed_dim, MultiHeadSelfAttention(embed_dim, num_heads, rope=rope, bit_width=bit_width,
                                              output_quant=False, causal=causal, **wk), bit_width)
        self.mlp = _PreNormResidual(
            embed_dim, tnn.Sequential(Linear(embed_dim, mlp_dim, **wk), QuantIdentity(bit_width),
                                      tnn.GELU(), QuantIdentity(bit_width),
                                      Linear(mlp_dim, embed_dim, **wk)), bit_width)

    def forward(self, x):
        return self.mlp(self.attn(x))


class AlternatingAttention(tnn.Module):
    """CEReBrO-style alternating attention on x [batch, channels, time, embed_dim]:
    self-attention within each channel over time, then across channels at each time step,
    each as a pre-norm residual sub-block:

        x = x + MHSA_time(LayerNorm(x))      (sequences of length `time`)
        x = x + MHSA_chan(LayerNorm(x))      (sequences of length `channels`)

    The regrouping is a reshape / transpose of quantized tensors (exact in ARES). Output
    quantized, same shape.
    """

    def __init__(self, embed_dim: int, num_heads: int, bit_width: int = 8,
                 weight_bit_width: int = 8):
        super().__init__()
        wk = {"bit_width": bit_width, "weight_bit_width": weight_bit_width, "output_quant": False}
        self.time = _PreNormResidual(embed_dim, MultiHeadSelfAttention(embed_dim, num_heads, **wk),
                                     bit_width)
        self.chan = _PreNormResidual(embed_dim, MultiHeadSelfAttention(embed_dim, num_heads, **wk),
                                     bit_width)

    def forward(self, x):
        b, c, t, e = x.shape
        y = self.time(x.reshape(b * c, t, e))                       # within each channel
        y = y.reshape(b, c, t, e).transpose(1, 2).reshape(b * t, c, e)
        y = self.chan(y)                                             # across channels
        return y.reshape(b, t, c, e).transpose(1, 2)
