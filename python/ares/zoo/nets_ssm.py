"""State-space zoo networks: the selective scan, Mamba blocks, bidirectional Mamba, FEMBA.

They use the ares.nn state-space blocks (python/ares/nn/mamba.py); the scan is one
`ares::SelectiveScan` node, which ONNX Runtime cannot run: their `ort_output.npy` comes from
onnx's reference evaluator with the scan's float semantics plugged in (generate.py)."""

import torch.nn as nn

from .. import nn as ann
from ..nn.mamba import BiMamba, CausalConv1d, Mamba, PatchEmbed, SelectiveScan
from .nets import Spec


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

    def forward(self, x):
        x = self.inp(x)
        for blk, add in zip(self.blocks, self.adds):
            x = add(x, blk(x))
        return self.head(x)


class BiMambaNet(nn.Module):
    """A bidirectional Mamba (forward block + reverse block, summed) on [1, 64, 16]."""

    def __init__(self):
        super().__init__()
        self.inp = ann.QuantIdentity()
        self.bimamba = BiMamba(16, d_state=8)

    def forward(self, x):
        return self.bimamba(self.inp(x))


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
}
