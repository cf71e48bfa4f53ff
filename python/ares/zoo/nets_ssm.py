"""State-space zoo networks: the selective scan, Mamba blocks, bidirectional Mamba, FEMBA.

They use the ares.nn state-space blocks (python/ares/nn/mamba.py); the scan is one
`ares::SelectiveScan` node, which ONNX Runtime cannot run: their `ort_output.npy` comes from
onnx's reference evaluator with the scan's float semantics plugged in (generate.py)."""

import torch
import torch.nn as nn

from .. import nn as ann
from ..nn.mamba import BiMamba, CausalConv1d, Mamba, PatchEmbed, SelectiveScan
from .nets import Spec, _v


class MambaSSM(nn.Module):
    """Two selective scans (forward, and reverse gated by SiLU(z)) on one token sequence: x
    quantized, delta a ReLU'd projection, B, C and z projections, each quantized once (each
    scan's own quantizers then rescale them); the two results summed through a shared
    quantizer."""

    def __init__(self, d=16, n=8):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.dt = ann.Linear(d, d)
        self.b = ann.Linear(d, n)
        self.c = ann.Linear(d, n)
        self.q_dt, self.q_b, self.q_c = ann.ReLU(), ann.QuantIdentity(), ann.QuantIdentity()
        self.z, self.q_z = ann.Linear(d, d), ann.QuantIdentity()
        self.fwd = SelectiveScan(d, n, direction=0)
        self.rev = SelectiveScan(d, n, direction=1, gated=True)
        self.add = ann.Add()

    def forward(self, x):
        x = self.inp(x)
        dt, b, c = self.q_dt(self.dt(x)), self.q_b(self.b(x)), self.q_c(self.c(x))
        return self.add(self.fwd(x, dt, b, c), self.rev(x, dt, b, c, self.q_z(self.z(x))))


class MambaConv1d(nn.Module):
    """Mamba's causal depthwise Conv1d (kernel 4) over [1, 48, 24] tokens, forward (left
    padding) and reverse (right padding), each quantized, summed."""

    def __init__(self, d=24):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.fwd = CausalConv1d(d, 4, direction=0)
        self.rev = CausalConv1d(d, 4, direction=1)
        self.add = ann.Add()

    def forward(self, x):
        x = self.inp(x)
        return self.add(self.fwd(x), self.rev(x))


class FembaPatchEmbed(nn.Module):
    """FEMBA's patch embedding on a 22-electrode x 256-sample window: Conv2d kernel = stride =
    (2, 16) to 35 features, [1, 11 * 16 tokens, 35]."""

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.embed = PatchEmbed(35)

    def forward(self, x):
        return self.embed(self.inp(x))


class MambaBlock(nn.Module):
    """One Mamba block (ares.nn.Mamba, d_model 16, d_inner 32, 8 states) on [1, 64, 16]."""

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.mamba = Mamba(16, d_state=8)

    def forward(self, x):
        return self.mamba(self.inp(x))


class MambaStacked(nn.Module):
    """Two residual Mamba blocks, x = x + Mamba(x), then a linear head per token."""

    def __init__(self, d=16, depth=2):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.blocks = nn.ModuleList([Mamba(d, d_state=8) for _ in range(depth)])
        self.adds = nn.ModuleList([ann.Add() for _ in range(depth)])
        self.head = ann.Linear(d, 4)
        self.out = ann.QuantIdentity()  # quantized output (its LSB is what fidelity counts in)

    def forward(self, x):
        x = self.inp(x)
        for blk, add in zip(self.blocks, self.adds):
            x = add(x, blk(x))
        return self.out(self.head(x))


class BiMambaNet(nn.Module):
    """A bidirectional Mamba (forward block + reverse block, summed) on [1, 64, 16]."""

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.bimamba = BiMamba(16, d_state=8)

    def forward(self, x):
        return self.bimamba(self.inp(x))


class FembaTiny(nn.Module):
    """FEMBA-tiny's layout: patch embedding (Conv2d (2, 16) -> 35 features), a learned
    positional embedding, `depth` blocks x = LayerNorm(x + BiMamba(x)), and the classifier
    head Linear -> GELU -> Mamba -> mean over tokens (a quantized global average pool) ->
    Linear (quantized logits)."""

    def __init__(self, channels=22, samples=1280, embed=35, depth=2, d_state=16, classes=2):
        super().__init__()
        tokens = (channels // 2) * (samples // 16)
        self.inp = ann.QuantIdentity()
        self.embed = PatchEmbed(embed)
        self.pos = nn.Parameter(torch.randn(1, tokens, embed) * 0.02)
        self.pos_add = ann.Add()
        self.mixers = nn.ModuleList([BiMamba(embed, d_state=d_state) for _ in range(depth)])
        self.res = nn.ModuleList([ann.Add() for _ in range(depth)])
        self.norms = nn.ModuleList([nn.LayerNorm(embed) for _ in range(depth)])
        self.norm_q = nn.ModuleList([ann.QuantIdentity() for _ in range(depth)])
        self.fc1 = ann.Linear(embed, embed)
        self.fc1_q = ann.QuantIdentity()
        self.gelu_q = ann.QuantIdentity()
        self.head_mamba = Mamba(embed, d_state=d_state)
        self.mean = ann.AdaptiveAvgPool1d(1)
        self.fc2 = ann.Linear(embed, classes)
        self.out = ann.QuantIdentity()  # quantized logits

    def forward(self, x):
        x = self.pos_add(self.embed(self.inp(x)), self.pos)
        for mix, res, norm, q in zip(self.mixers, self.res, self.norms, self.norm_q):
            x = q(norm(res(x, mix(x))))
        x = self.gelu_q(nn.functional.gelu(self.fc1_q(self.fc1(x))))
        x = self.mean(_v(self.head_mamba(x)).transpose(1, 2))  # the mean over tokens, quantized
        return self.out(self.fc2(_v(x).flatten(1)))


NETWORKS = {
    "mamba_ssm":
        Spec(MambaSSM, (1, 32, 16), False,
             "selective scan (ares::SelectiveScan) forward, and reverse gated by SiLU(z), on [1, 32, 16] "
             "tokens, 8 states, ReLU'd delta projection, B/C/z projections, quantized sum"),
    "mamba_conv1d":
        Spec(MambaConv1d, (1, 48, 24), False,
             "causal depthwise Conv1d (kernel 4) on tokens: Transpose, Pad left (forward) or right "
             "(reverse), grouped Conv, quantizer, Transpose; the two summed"),
    "femba_patch_embed":
        Spec(FembaPatchEmbed, (1, 22, 256), False,
             "FEMBA patch embedding: Unsqueeze, Conv2d kernel=stride=(2,16) 1->35, flatten to "
             "176 tokens x 35 (Reshape + Transpose)"),
    "mamba_block":
        Spec(MambaBlock, (1, 64, 16), False,
             "one Mamba block: in-projection + Split, causal depthwise Conv1d, SiLU, x-projection + "
             "Split, dt-projection + softplus, selective scan, SiLU(z) gate (integer product), "
             "out-projection"),
    "mamba_stacked":
        Spec(MambaStacked, (1, 64, 16), False,
             "two residual Mamba blocks (x + Mamba(x)) and a float linear head per token"),
    "bimamba":
        Spec(BiMambaNet, (1, 64, 16), False,
             "bidirectional Mamba: a forward and a reverse block (backward conv and scan) summed"),
    "femba_tiny":
        Spec(FembaTiny, (1, 22, 1280), True,
             "FEMBA-tiny layout: patch embedding (2,16) -> 880 tokens x 35, positional embedding, "
             "2 x LayerNorm(x + BiMamba(x)), head Linear-GELU-Mamba-mean-Linear (2 classes)",
             steps=4, batch=2),
}
