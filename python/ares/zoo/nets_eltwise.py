"""Zoo networks of elementwise functions (tables), products and means.

Merged into `nets.NETWORKS` by the last line of nets.py. Activations are plain torch modules
between QuantIdentity quantizers: Brevitas exports them as float ONNX ops between a
DequantizeLinear and a QuantizeLinear, which ARES tabulates (lower-lut).
"""

import torch.nn as nn
import brevitas.nn as qnn

from .nets import Spec


# ----------------------------------------------------------------------------------------------
# gelu_basic: Linear -> GELU (erf form) and Linear -> GELU (tanh approximation), quantized


class GeluBasic(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.fc1 = qnn.QuantLinear(16, 32, bias=True)
        self.q1 = qnn.QuantIdentity()
        self.gelu = nn.GELU()  # Div, Erf, Add, Mul, Mul
        self.q2 = qnn.QuantIdentity()
        self.fc2 = qnn.QuantLinear(32, 32, bias=True)
        self.q3 = qnn.QuantIdentity()
        self.gelu_tanh = nn.GELU(approximate="tanh")  # Mul x3, Add, Mul, Tanh, Add, Mul x2
        self.q4 = qnn.QuantIdentity()
        self.fc3 = qnn.QuantLinear(32, 8, bias=True)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        x = self.q2(self.gelu(self.q1(self.fc1(self.inp(x)))))
        x = self.q4(self.gelu_tanh(self.q3(self.fc2(x))))
        return self.out(self.fc3(x))


# ----------------------------------------------------------------------------------------------
# activations_basic: SiLU, Sigmoid, Tanh, Hardswish, Softplus as tables, and a gated product
# of two quantized activations (SwiGLU's shape: SiLU(x W1) * (x W3)), which is qmul


class ActivationsBasic(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.fc1 = qnn.QuantLinear(16, 24, bias=True)
        self.q1 = qnn.QuantIdentity()
        self.acts = nn.ModuleList([nn.SiLU(), nn.Sigmoid(), nn.Tanh(), nn.Hardswish(), nn.Softplus()])
        self.qa = nn.ModuleList([qnn.QuantIdentity() for _ in self.acts])
        self.gate = qnn.QuantLinear(16, 24, bias=True)
        self.qg = qnn.QuantIdentity()
        self.qprod = qnn.QuantIdentity()
        self.fc2 = qnn.QuantLinear(24, 8, bias=True)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        x = self.inp(x)
        h = self.q1(self.fc1(x))
        for act, q in zip(self.acts, self.qa):
            h = q(act(h))
        g = self.qg(self.gate(x))
        return self.out(self.fc2(self.qprod(h * g)))


# ----------------------------------------------------------------------------------------------
# mean_basic: ReduceMean over tokens (a classifier head's pooling), then over the last axis


class MeanBasic(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.fc1 = qnn.QuantLinear(16, 24, bias=True)
        self.q1 = qnn.QuantIdentity()
        self.q2 = qnn.QuantIdentity()
        self.fc2 = qnn.QuantLinear(24, 12, bias=True)
        self.q3 = qnn.QuantIdentity()
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        h = self.q1(self.fc1(self.inp(x)))
        tok = self.q2(h.mean(dim=1))  # [1, 24]
        y = self.q3(self.fc2(tok)).reshape(-1, 3, 4)
        return self.out(y.mean(dim=-1, keepdim=True))  # [1, 3, 1]


# ----------------------------------------------------------------------------------------------
# prelu_cnn: a CNN with a learned PReLU (one slope) and a LeakyReLU between quantizers (tables)


class PreluCnn(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv2d(3, 8, 3, padding=1)
        self.q1 = qnn.QuantIdentity()
        self.prelu = nn.PReLU(init=0.2)
        self.q2 = qnn.QuantIdentity()
        self.conv2 = qnn.QuantConv2d(8, 8, 3, stride=2, padding=1)
        self.q3 = qnn.QuantIdentity()
        self.leaky = nn.LeakyReLU(0.1)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        x = self.q2(self.prelu(self.q1(self.conv1(self.inp(x)))))
        return self.out(self.leaky(self.q3(self.conv2(x))))


NETWORKS = {
    "gelu_basic":
        Spec(
            GeluBasic, (1, 8, 16), False,
            "tokens x features: QuantLinear -> GELU (erf form) and QuantLinear -> GELU (tanh "
            "approximation) between QuantIdentity quantizers (tables)"),
    "activations_basic":
        Spec(
            ActivationsBasic, (1, 8, 16), False,
            "tokens x features: SiLU, Sigmoid, Tanh, Hardswish, Softplus between QuantIdentity "
            "quantizers (tables), then the product of that with a second quantized projection "
            "(a gate, qmul)"),
    "prelu_cnn":
        Spec(
            PreluCnn, (1, 3, 12, 12), False,
            "QuantConv2d -> PReLU (one learned slope) and QuantConv2d -> LeakyReLU, each between "
            "QuantIdentity quantizers (tables)"),
    "mean_basic":
        Spec(
            MeanBasic, (1, 10, 16), False,
            "tokens x features: QuantLinear, the mean over tokens (ReduceMean axis 1) into a "
            "QuantLinear head, then a mean over the last axis (keepdims), each quantized: "
            "qavgpool over a k x 1 window"),
}
