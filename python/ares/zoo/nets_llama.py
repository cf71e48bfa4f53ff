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


# ----------------------------------------------------------------------------------------------
# llama_minimal: token embedding, 2 pre-norm blocks (RMSNorm, RoPE attention, SwiGLU), logits


class LlamaBlock(nn.Module):
    """h = x + Attn(RMSNorm(x)); y = h + SwiGLU(RMSNorm(h)); residual sums through
    ares.nn.Add. Causal attention (a decoder: position i sees positions 0..i)."""

    def __init__(self, dim, heads, hidden, seq):
        super().__init__()
        self.norm1 = ann.RMSNorm(dim)
        self.attn = ann.MultiHeadSelfAttention(dim, heads, rope=ann.RotaryEmbedding(dim // heads, seq),
                                               output_quant=False, causal=True)
        self.add1 = ann.Add()
        self.norm2 = ann.RMSNorm(dim)
        self.mlp = ann.SwiGLU(dim, hidden)
        self.add2 = ann.Add()

    def forward(self, x):
        h = self.add1(x, self.attn(self.norm1(x)))
        return self.add2(h, self.mlp(self.norm2(h)))


class LlamaMinimal(nn.Module):

    def __init__(self, vocab=64, dim=32, heads=4, hidden=64, seq=8, blocks=2):
        super().__init__()
        self.emb = ann.Embedding(vocab, dim)
        self.blocks = nn.ModuleList([LlamaBlock(dim, heads, hidden, seq) for _ in range(blocks)])
        self.norm = ann.RMSNorm(dim)
        self.head = ann.Linear(dim, vocab, bias=False)
        self.out = ann.QuantIdentity()  # quantized logits

    def forward(self, ids):
        x = self.emb(ids)
        for b in self.blocks:
            x = b(x)
        return self.out(self.head(self.norm(x)))


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
    "llama_minimal":
        Spec(
            LlamaMinimal, (1, 8), False,
            "token embedding (int64 ids, vocab 64), 2 pre-norm blocks of RMSNorm + RoPE "
            "causal self-attention + RMSNorm + SwiGLU with residual adds, final RMSNorm, quantized logits",
            vocab=64),
}
