"""Zoo networks for the LLaMA-style blocks of ares.nn.llama (rotary position encoding, ...).

Merged into `ares.zoo.nets.NETWORKS` at the end of nets.py."""

import brevitas.nn as qnn
import torch.nn as nn
from brevitas.quant import Int8WeightPerTensorFloat

from .. import nn as ann
from .nets import Spec


# ----------------------------------------------------------------------------------------------
# rope_basic: RoPE alone, both layouts, on [batch, heads, seq, head_dim]


class RopeBasic(nn.Module):
    """A per-head projection (so there is something to train), then rotary encoding with
    rotate_half and with interleaved pairs, each ending in its own quantizer."""

    def __init__(self, dim=16, seq=8):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.proj = ann.Linear(dim, dim)
        self.q = ann.QuantIdentity()
        self.rope_half = ann.RotaryEmbedding(dim, seq)
        self.rope_inter = ann.RotaryEmbedding(dim, 2 * seq, base=100.0, interleaved=True)

    def forward(self, x):
        x = self.q(self.proj(self.inp(x)))
        return self.rope_inter(self.rope_half(x))


# ----------------------------------------------------------------------------------------------
# rope_attention: multi-head self-attention with RoPE on q and k


class RopeAttention(nn.Module):
    """QuantIdentity, then ares.nn.MultiHeadSelfAttention (4 heads of 8) whose q and k go
    through one RotaryEmbedding per head (rotate_half), quantized output."""

    def __init__(self, dim=32, heads=4, seq=8):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.attn = ann.MultiHeadSelfAttention(dim, heads, rope=ann.RotaryEmbedding(dim // heads, seq))

    def forward(self, x):
        return self.attn(self.inp(x))


# ----------------------------------------------------------------------------------------------
# embed_basic: token embedding (int64 ids), both qembed forms, RMSNorm, RoPE


class EmbedBasic(nn.Module):
    """Two lookups of the same ids: a bare Brevitas QuantEmbedding read unquantized by an
    RMSNorm (qembed keeps the table's scale), and ares.nn.Embedding (its output quantizer
    folded into the table); their sum (ares.nn.Add), interleaved RoPE on [B, T, D], and a
    linear head with a quantized output."""

    def __init__(self, vocab=40, dim=16, seq=6):
        super().__init__()
        self.emb = ann.Embedding(vocab, dim)
        self.pos = qnn.QuantEmbedding(vocab, dim, weight_quant=Int8WeightPerTensorFloat)
        self.add = ann.Add()
        self.norm = ann.RMSNorm(dim)
        self.rope = ann.RotaryEmbedding(dim, seq, interleaved=True)
        self.head = ann.Linear(dim, 8)
        self.out = ann.QuantIdentity()

    def forward(self, ids):
        return self.out(self.head(self.rope(self.add(self.emb(ids), self.norm(self.pos(ids))))))


NETWORKS = {
    "rope_basic":
        Spec(
            RopeBasic, (1, 2, 8, 16), False,
            "rotary position encoding on [B, H, T, D]: rotate_half (base 10000) then interleaved "
            "pairs (base 100, tables longer than the sequence), constant cos/sin"),
    "rope_attention":
        Spec(
            RopeAttention, (1, 8, 32), False,
            "multi-head self-attention (4 heads) with rotary encoding of q and k per head "
            "(ares.nn.MultiHeadSelfAttention + RotaryEmbedding): qmatmul, qsoftmax, qrope"),
    "embed_basic":
        Spec(
            EmbedBasic, (1, 6), False,
            "token embedding of int64 ids (vocab 40): a bare QuantEmbedding read by RMSNorm, "
            "ares.nn.Embedding (quantizer folded into the table), their Add, interleaved RoPE, linear head",
            vocab=40),
}
