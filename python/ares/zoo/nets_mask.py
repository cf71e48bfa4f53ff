"""Zoo networks with attention masks: causal self-attention (ares.nn), a constant padding
mask, and Brevitas' QuantMultiheadAttention given a causal attn_mask. ARES lowers each mask
into the qsoftmax (docs/SEMANTICS.md "qsoftmax", §5.12).

Merged into `ares.zoo.nets.NETWORKS` at the end of nets.py."""

import torch
import torch.nn as nn
import brevitas.nn as qnn
from brevitas.quant import Uint8ActPerTensorFloat

from .. import nn as ann
from ..nn.layers import _value
from .nets import Spec

# ----------------------------------------------------------------------------------------------
# attention_causal: a decoder's self-attention (the [S, S] mask broadcast over the heads)


class AttentionCausal(nn.Module):
    """QuantIdentity, then causal ares.nn.MultiHeadSelfAttention (4 heads of 8), quantized
    output: Where(constant upper-triangular mask, -inf, scores) before the Softmax."""

    def __init__(self, dim=32, heads=4):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.attn = ann.MultiHeadSelfAttention(dim, heads, causal=True)

    def forward(self, x):
        return self.attn(self.inp(x))


# ----------------------------------------------------------------------------------------------
# attention_padmask: a constant key padding mask, as an additive 0 / -inf mask


class AttentionPadmask(nn.Module):
    """Single-head attention written out (q, k, v projections, scores quantized, softmax,
    weighted sum) whose scores get an additive key padding mask: -inf for the first `pad`
    keys (a left-padded sequence), 0 for the rest. The mask is a [1, 1, 1, seq] buffer
    broadcast over heads and queries (Add of a constant before the Softmax); not a prefix
    per row, so ARES stores it."""

    def __init__(self, dim=16, seq=8, pad=3):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.q, self.k, self.v = ann.Linear(dim, dim), ann.Linear(dim, dim), ann.Linear(dim, dim)
        self.qq, self.kq, self.vq = ann.QuantIdentity(), ann.QuantIdentity(), ann.QuantIdentity()
        self.sq = ann.QuantIdentity()
        self.aq = qnn.QuantIdentity(act_quant=Uint8ActPerTensorFloat, bit_width=8)
        self.oq = ann.QuantIdentity()
        self.out = ann.Linear(dim, dim)
        self.outq = ann.QuantIdentity()
        mask = torch.zeros(1, 1, 1, seq)
        mask[..., :pad] = float("-inf")
        self.register_buffer("pad", mask)
        self.scale = dim**-0.5

    def forward(self, x):
        x = self.inp(x)
        q = self.qq(self.q(x)).unsqueeze(1)  # [B, 1, S, D]
        k = self.kq(self.k(x)).unsqueeze(1)
        v = self.vq(self.v(x)).unsqueeze(1)
        s = self.sq(torch.matmul(q, k.transpose(-2, -1)) * self.scale)
        a = self.aq(torch.softmax(_value(s) + self.pad, dim=-1))
        o = self.oq(torch.matmul(_value(a), v)).squeeze(1)
        return self.outq(self.out(o))


# ----------------------------------------------------------------------------------------------
# mha_brevitas_causal: brevitas.nn.QuantMultiheadAttention with a boolean causal attn_mask


class MHABrevitasCausal(nn.Module):
    """Brevitas' QuantMultiheadAttention (embed 16, 2 heads) with a constant boolean causal
    attn_mask: Brevitas turns it into a 0 / -inf float mask added by baddbmm to the int32
    scores (MatMul, Add of the constant, Softmax)."""

    def __init__(self, seq=8):
        super().__init__()
        self.inp = qnn.QuantIdentity(return_quant_tensor=True)
        self.mha = qnn.QuantMultiheadAttention(16, 2, batch_first=True)
        self.out = qnn.QuantIdentity()
        self.register_buffer("later", torch.ones(seq, seq, dtype=torch.bool).triu(1))

    def forward(self, x):
        x = self.inp(x)
        return self.out(self.mha(x, x, x, need_weights=False, attn_mask=self.later)[0])


NETWORKS = {
    "attention_causal":
        Spec(
            AttentionCausal, (1, 8, 32), False,
            "causal multi-head self-attention (ares.nn.MultiHeadSelfAttention causal=True, 4 heads): "
            "Where(constant triangular mask, -inf, scores) -> qsoftmax with a causal mask"),
    "attention_padmask":
        Spec(
            AttentionPadmask, (1, 8, 16), False,
            "single-head attention with a constant left-padding key mask (Add of a [1, 1, 1, S] "
            "0 / -inf buffer before the Softmax) -> qsoftmax with a stored mask"),
    "mha_brevitas_causal":
        Spec(
            MHABrevitasCausal, (1, 8, 16), False,
            "brevitas.nn.QuantMultiheadAttention with a boolean causal attn_mask (0 / -inf added "
            "to the int32 scores by baddbmm) -> qsoftmax with a causal mask on int32 input"),
}
