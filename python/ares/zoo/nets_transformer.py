"""The zoo's attention networks: Brevitas' own QuantMultiheadAttention, and models built from
the ares.nn attention blocks (python/ares/nn/attention.py). Small dims (embed 16-32,
sequences 8-16, 2 heads) keep the exports small."""

import torch
import torch.nn as nn
import brevitas.nn as qnn

from .. import nn as ann
from .nets import Spec, _v

# ----------------------------------------------------------------------------------------------
# mha_brevitas: brevitas.nn.QuantMultiheadAttention as it is, between two QuantIdentity


class MHABrevitas(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity(return_quant_tensor=True)
        self.mha = qnn.QuantMultiheadAttention(16, 2, batch_first=True)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        x = self.inp(x)
        return self.out(self.mha(x, x, x, need_weights=False)[0])


# ----------------------------------------------------------------------------------------------
# transformer_simple: one pre-norm block (LayerNorm, 2-head attention, GELU MLP)


class TransformerSimple(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.block = ann.TransformerBlock(16, 2, 32)

    def forward(self, x):
        return self.block(self.inp(x))


# ----------------------------------------------------------------------------------------------
# multiblock_transformer: input projection, two blocks, final LayerNorm, linear head


class MultiblockTransformer(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.embed = ann.Linear(8, 32)
        self.embed_quant = ann.QuantIdentity()
        self.blocks = nn.Sequential(ann.TransformerBlock(32, 2, 64), ann.TransformerBlock(32, 2, 64))
        self.norm = nn.LayerNorm(32)
        self.norm_quant = ann.QuantIdentity()
        self.head = ann.Linear(32, 4)
        self.out = ann.QuantIdentity()

    def forward(self, x):
        x = self.embed_quant(self.embed(self.inp(x)))
        x = self.blocks(x)
        return self.out(self.head(self.norm_quant(self.norm(x))))


# ----------------------------------------------------------------------------------------------
# cross_attention: 4 learned queries attend over 12 channel tokens (LUNA-style)


class CrossAttentionNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.embed = ann.Linear(16, 16)
        self.embed_quant = ann.QuantIdentity()
        self.xattn = ann.CrossAttention(16, 2, 4)
        self.head = ann.Linear(16, 8)
        self.out = ann.QuantIdentity()

    def forward(self, x):
        x = self.embed_quant(self.embed(self.inp(x)))
        return self.out(self.head(self.xattn(x)))


# ----------------------------------------------------------------------------------------------
# alternating_attention: within-channel over time, then across channels (CEReBrO-style)


class AlternatingAttentionNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.alt = ann.AlternatingAttention(16, 2)
        self.head = ann.Linear(16, 4)
        self.out = ann.QuantIdentity()

    def forward(self, x):
        return self.out(self.head(self.alt(self.inp(x))))


NETWORKS = {
    "mha_brevitas":
        Spec(
            MHABrevitas, (1, 8, 16), False,
            "brevitas.nn.QuantMultiheadAttention (embed 16, 2 heads, batch_first): packed "
            "in-projection sliced into q/k/v, q scaled by 1/sqrt(d) before its quantizer, "
            "q.k^T into a float Softmax (int32 scores), uint8 attention x v, out-projection"),
    "transformer_simple":
        Spec(
            TransformerSimple, (1, 8, 16), False,
            "one pre-norm ares.nn.TransformerBlock: LayerNorm, 2-head self-attention "
            "(q.k^T / sqrt(d), Softmax, attn.v), residual Adds, GELU MLP"),
    "multiblock_transformer":
        Spec(
            MultiblockTransformer, (1, 16, 8), False,
            "input projection 8 -> 32, two TransformerBlocks (2 heads, MLP 64), final "
            "LayerNorm, linear head, quantized output"),
    "cross_attention":
        Spec(
            CrossAttentionNet, (1, 12, 16), False,
            "ares.nn.CrossAttention: 4 learned (constant, quantized) queries attend over 12 "
            "tokens; q broadcast over the batch in q.k^T; linear head"),
    "alternating_attention":
        Spec(
            AlternatingAttentionNet, (1, 4, 8, 16), False,
            "ares.nn.AlternatingAttention on [1, 4 channels, 8 steps, 16]: attention over "
            "time within each channel, then across channels (reshape/transpose regrouping)"),
}
