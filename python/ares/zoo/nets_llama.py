"""Zoo networks for the LLaMA-style blocks of ares.nn.llama (rotary position encoding, ...).

Merged into `ares.zoo.nets.NETWORKS` at the end of nets.py."""

import torch.nn as nn

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


NETWORKS = {
    "rope_basic":
        Spec(
            RopeBasic, (1, 2, 8, 16), False,
            "rotary position encoding on [B, H, T, D]: rotate_half (base 10000) then interleaved "
            "pairs (base 100, tables longer than the sequence), constant cos/sin"),
}
