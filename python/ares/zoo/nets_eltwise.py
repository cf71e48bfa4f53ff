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


NETWORKS = {
    "gelu_basic":
        Spec(
            GeluBasic, (1, 8, 16), False,
            "tokens x features: QuantLinear -> GELU (erf form) and QuantLinear -> GELU (tanh "
            "approximation) between QuantIdentity quantizers (tables)"),
}
