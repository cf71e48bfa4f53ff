"""Zoo networks for the integer row ops: LayerNorm, RMSNorm, Softmax (lower-norm).

Brevitas has no quantized LayerNorm / RMSNorm / Softmax: the float torch op sits between a
QuantIdentity and the next quantizer, and exports as LayerNormalization (opset >= 17) or as
its decomposition (ReduceMean, Sub, Pow, Sqrt, Div, Mul, Add) below that; Softmax exports as
Softmax, after the Mul / Div by a scalar when there is one.
"""

import torch
import torch.nn as nn
import brevitas.nn as qnn

from .nets import Spec


def _randomize_affine(weight, bias=None):
    """Non-trivial gamma / beta, so a lowering that drops either shows."""
    with torch.no_grad():
        weight.uniform_(0.5, 1.5)
        if bias is not None:
            bias.uniform_(-0.3, 0.3)


# ----------------------------------------------------------------------------------------------
# layernorm_basic / layernorm_opset17: LayerNorm over the last axis and over the last two


class LayerNormBasic(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.fc1 = qnn.QuantLinear(32, 32, bias=True)
        self.q1 = qnn.QuantIdentity()
        self.ln1 = nn.LayerNorm(32)
        self.q2 = qnn.QuantIdentity()
        self.fc2 = qnn.QuantLinear(32, 16, bias=True)
        self.q3 = qnn.QuantIdentity()
        self.ln2 = nn.LayerNorm((8, 16))  # gamma / beta of shape [8, 16]
        self.out = qnn.QuantIdentity()
        _randomize_affine(self.ln1.weight, self.ln1.bias)
        _randomize_affine(self.ln2.weight, self.ln2.bias)

    def forward(self, x):
        x = self.q2(self.ln1(self.q1(self.fc1(self.inp(x)))))
        return self.out(self.ln2(self.q3(self.fc2(x))))


# ----------------------------------------------------------------------------------------------
# rmsnorm_basic: x * rsqrt(mean(x^2) + eps) * w written out (what exports at opset 13);
# rmsnorm_torch: torch.nn.RMSNorm, which only the dynamo exporter can write (opset 18)


class HandRMSNorm(nn.Module):

    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class RMSNormNet(nn.Module):

    def __init__(self, torch_rms=False):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.fc1 = qnn.QuantLinear(32, 32, bias=True)
        self.q1 = qnn.QuantIdentity()
        self.rms = nn.RMSNorm(32) if torch_rms else HandRMSNorm(32)
        self.q2 = qnn.QuantIdentity()
        self.fc2 = qnn.QuantLinear(32, 16, bias=True)
        self.out = qnn.QuantIdentity()
        _randomize_affine(self.rms.weight)

    def forward(self, x):
        x = self.q2(self.rms(self.q1(self.fc1(self.inp(x)))))
        return self.out(self.fc2(x))


# ----------------------------------------------------------------------------------------------
# softmax_basic: softmax of scaled scores over the last axis (uint8 output, as attention
# probabilities are quantized), then over a middle axis of a rank-4 tensor


class SoftmaxBasic(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.fc1 = qnn.QuantLinear(16, 16, bias=True)
        self.q1 = qnn.QuantIdentity()
        self.qs1 = qnn.QuantIdentity(bit_width=8, signed=False)
        self.fc2 = qnn.QuantLinear(16, 16, bias=True)
        self.q2 = qnn.QuantIdentity()
        self.out = qnn.QuantIdentity(bit_width=8, signed=False)

    def forward(self, x):
        a = self.qs1(torch.softmax(self.q1(self.fc1(self.inp(x))) * 0.25, dim=-1))
        return self.out(torch.softmax(self.q2(self.fc2(a)) / 2.0, dim=1))


# ----------------------------------------------------------------------------------------------
# groupnorm_basic: GroupNorm (exported as Reshape -> InstanceNormalization -> Reshape -> Mul ->
# Add) and InstanceNorm2d with affine parameters (InstanceNormalization with scale and B)


class GroupNormBasic(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv2d(3, 8, 3, padding=1)
        self.q1 = qnn.QuantIdentity()
        self.gn = nn.GroupNorm(2, 8)
        self.q2 = qnn.QuantIdentity()
        self.conv2 = qnn.QuantConv2d(8, 8, 3, padding=1)
        self.q3 = qnn.QuantIdentity()
        self.inorm = nn.InstanceNorm2d(8, affine=True)
        self.out = qnn.QuantIdentity()
        _randomize_affine(self.gn.weight, self.gn.bias)
        _randomize_affine(self.inorm.weight, self.inorm.bias)

    def forward(self, x):
        x = self.q2(self.gn(self.q1(self.conv1(self.inp(x)))))
        return self.out(self.inorm(self.q3(self.conv2(x))))


# ----------------------------------------------------------------------------------------------
# softmax_scores: attention scores q.k^T are not requantized before the softmax, so it reads
# qmatmul's int32 accumulator (the int32 qsoftmax path), then attn.v


class SoftmaxScores(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.fq = qnn.QuantLinear(16, 16, bias=True)
        self.fk = qnn.QuantLinear(16, 16, bias=True)
        self.fv = qnn.QuantLinear(16, 16, bias=True)
        self.qq = qnn.QuantIdentity()
        self.qk = qnn.QuantIdentity()
        self.qv = qnn.QuantIdentity()
        self.qa = qnn.QuantIdentity(bit_width=8, signed=False)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        x = self.inp(x)
        q, k, v = self.qq(self.fq(x)), self.qk(self.fk(x)), self.qv(self.fv(x))
        a = self.qa(torch.softmax(torch.matmul(q, k.transpose(-1, -2)) * 0.25, dim=-1))
        return self.out(torch.matmul(a, v))


NETWORKS = {
    "layernorm_basic":
        Spec(
            LayerNormBasic, (1, 8, 32), False,
            "QuantLinear -> LayerNorm(32) -> QuantLinear -> LayerNorm((8, 16)), random gamma/beta; "
            "opset 13: decomposed into ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add"),
    "layernorm_opset17":
        Spec(
            LayerNormBasic, (1, 8, 32), False,
            "layernorm_basic exported at opset 17: LayerNormalization nodes", opset=17),
    "rmsnorm_basic":
        Spec(
            lambda: RMSNormNet(False), (1, 8, 32), False,
            "QuantLinear -> x * rsqrt(mean(x^2) + eps) * w -> QuantLinear (Pow/ReduceMean/Add/Sqrt/"
            "Div 1/Mul/Mul)"),
    "rmsnorm_torch":
        Spec(
            lambda: RMSNormNet(True), (1, 8, 32), False,
            "torch.nn.RMSNorm (dynamo exporter, opset 18: Pow/ReduceMean/Add/Sqrt/Reciprocal/Mul/Mul)",
            backend="dynamo"),
    "softmax_scores":
        Spec(
            SoftmaxScores, (1, 8, 16), False,
            "softmax(q.k^T * 0.25) on the unquantized int32 scores of qmatmul into uint8, then "
            "attn.v"),
    "groupnorm_basic":
        Spec(
            GroupNormBasic, (1, 3, 8, 8), False,
            "QuantConv2d -> GroupNorm(2, 8) (Reshape/InstanceNormalization/Reshape/Mul/Add) -> "
            "QuantConv2d -> InstanceNorm2d(8, affine), random gamma/beta"),
    "softmax_basic":
        Spec(
            SoftmaxBasic, (1, 4, 8, 16), False,
            "softmax(x * 0.25) over the last axis into uint8, then softmax(x / 2) over axis 1 of a "
            "rank-4 tensor"),
}
