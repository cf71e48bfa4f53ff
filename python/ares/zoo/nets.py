"""The zoo's networks, as Brevitas models.

Each network is named after what it exercises. `NETWORKS` maps the name to a `Spec` that says
how to build it, its batch-1 input shape and how it is trained before export. Models are built
under a fixed seed by `ares.zoo.train`; nothing here draws random numbers on its own.

Conventions (the C compiler relies on none of them, but they keep the graphs readable):
- every network starts with a QuantIdentity on the float input;
- layers return plain tensors unless the next layer needs a QuantTensor (an Int32Bias layer
  needs its input's scale, a Trunc pool needs its input's scale and bit width);
- `_v(t)` unwraps a QuantTensor where a float op (add, cat of different scales) follows.
"""

from dataclasses import dataclass
from typing import Callable, Optional, Tuple

import torch
import torch.nn as nn
import brevitas.nn as qnn
from brevitas.quant import Int8WeightPerChannelFloat, Int32Bias
from brevitas.quant_tensor import QuantTensor


def _v(t):
    """Float value of a tensor or QuantTensor."""
    return t.value if isinstance(t, QuantTensor) else t


def _randomize_bn(bn: nn.BatchNorm2d):
    """Non-trivial affine parameters, so a fold that forgets gamma or beta shows."""
    with torch.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.3, 0.3)


class _Chain(nn.Module):
    """A network whose forward runs its layers one after the other, in the order __init__
    assigns them (flat attribute names, unlike nn.Sequential: they name the ONNX nodes)."""

    def forward(self, x):
        for layer in self.children():
            x = layer(x)
        return x


# ----------------------------------------------------------------------------------------------
# tinycnn: the smallest conv network there is


class TinyCNN(_Chain):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv2d(1, 4, 3, padding=1)
        self.relu1 = qnn.QuantReLU()
        self.conv2 = qnn.QuantConv2d(4, 2, 3)
        self.out = qnn.QuantIdentity()


# ----------------------------------------------------------------------------------------------
# simplecnn: conv/relu/maxpool twice, a dilated conv, a linear classifier with an int32 bias


class SimpleCNN(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv2d(3, 8, 3, padding=1)
        self.relu1 = qnn.QuantReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = qnn.QuantConv2d(8, 16, 3, padding=2, dilation=2)
        self.relu2 = qnn.QuantReLU()
        self.conv3 = qnn.QuantConv2d(16, 16, 3, padding=1)
        self.relu3 = qnn.QuantReLU(return_quant_tensor=True)
        self.pool2 = nn.MaxPool2d(2)
        self.fc = qnn.QuantLinear(16 * 4 * 4, 10, bias=True, bias_quant=Int32Bias)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(self.inp(x))))
        x = self.relu2(self.conv2(x))
        x = self.pool2(self.relu3(self.conv3(x)))
        x = torch.flatten(x, 1)
        return self.out(self.fc(x))


# ----------------------------------------------------------------------------------------------
# mlp: flatten + linears, 4-bit hidden activations, int32 biases, float output


class MLP(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity(return_quant_tensor=True)
        self.fc1 = qnn.QuantLinear(64, 32, bias=True, bias_quant=Int32Bias)
        self.relu1 = qnn.QuantReLU(bit_width=4, return_quant_tensor=True)
        self.fc2 = qnn.QuantLinear(32, 32, bias=True, bias_quant=Int32Bias)
        self.relu2 = qnn.QuantReLU(return_quant_tensor=True)
        # no output quantizer: the graph ends in a float Gemm, as many users' classifiers do
        self.fc3 = qnn.QuantLinear(32, 10, bias=True, bias_quant=Int32Bias)

    def forward(self, x):
        x = torch.flatten(self.inp(x), 1)  # Flatten of a QuantTensor keeps its scale
        x = self.relu1(self.fc1(x))
        x = self.relu2(self.fc2(x))
        return self.fc3(x)


# ----------------------------------------------------------------------------------------------
# resnet_basic: basic blocks whose residual add sees two different scales


class BasicBlockDiffScale(nn.Module):
    """conv-relu-conv, the branch quantized by its own QuantIdentity (int8), the shortcut
    either the block input (uint8, another scale) or a 1x1 projection with its own
    QuantIdentity; a float Add of the two, then QuantReLU."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = qnn.QuantConv2d(cin, cout, 3, stride=stride, padding=1)
        self.relu1 = qnn.QuantReLU()
        self.conv2 = qnn.QuantConv2d(cout, cout, 3, padding=1)
        self.q_branch = qnn.QuantIdentity()
        if stride != 1 or cin != cout:
            self.down = qnn.QuantConv2d(cin, cout, 1, stride=stride)
            self.q_down = qnn.QuantIdentity()
        else:
            self.down = None
        self.relu_out = qnn.QuantReLU()

    def forward(self, x):
        y = self.q_branch(self.conv2(self.relu1(self.conv1(x))))
        s = x if self.down is None else self.q_down(self.down(x))
        return self.relu_out(_v(y) + _v(s))


class ResNetBasic(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.stem = qnn.QuantConv2d(3, 16, 3, padding=1)
        self.stem_relu = qnn.QuantReLU()
        self.block1 = BasicBlockDiffScale(16, 16, 1)
        self.block2 = BasicBlockDiffScale(16, 32, 2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))  # float GlobalAveragePool, requantized below
        self.q_pool = qnn.QuantIdentity()
        self.fc = qnn.QuantLinear(32, 10, bias=True)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        x = self.stem_relu(self.stem(self.inp(x)))
        x = self.block2(self.block1(x))
        x = self.q_pool(torch.flatten(self.pool(x), 1))
        return self.out(self.fc(x))


# ----------------------------------------------------------------------------------------------
# resnet18: CIFAR-size ResNet-18 with BatchNorm, QuantEltwiseAdd, Trunc global average pool


class BasicBlockBN(nn.Module):

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = qnn.QuantConv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = qnn.QuantReLU()
        self.conv2 = qnn.QuantConv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(
                qnn.QuantConv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))
        else:
            self.down = None
        # one input quantizer shared by both operands: the Add sees one scale
        self.add = qnn.QuantEltwiseAdd()
        self.relu_out = qnn.QuantReLU()

    def forward(self, x):
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        s = x if self.down is None else self.down(x)
        return self.relu_out(self.add(y, s))


class ResNet18(nn.Module):

    def __init__(self, num_classes=10):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.stem = qnn.QuantConv2d(3, 64, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(64)
        self.stem_relu = qnn.QuantReLU()
        layers = []
        cin = 64
        for i, cout in enumerate((64, 128, 256, 512)):
            stride = 1 if i == 0 else 2
            layers += [BasicBlockBN(cin, cout, stride), BasicBlockBN(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.last_relu_qt = qnn.QuantReLU(return_quant_tensor=True)
        self.pool = qnn.TruncAdaptiveAvgPool2d((1, 1))
        self.fc = qnn.QuantLinear(512, num_classes, bias=True)
        self.out = qnn.QuantIdentity()
        for m in self.modules():
            if isinstance(m, nn.BatchNorm2d):
                _randomize_bn(m)

    def forward(self, x):
        x = self.stem_relu(self.stem_bn(self.stem(self.inp(x))))
        x = self.layers(x)
        # the blocks' QuantReLU returns a float tensor; the Trunc pool needs a QuantTensor, so
        # the last activation is requantized (same-scale in practice: a second unsigned Q/DQ)
        x = self.pool(self.last_relu_qt(x))
        x = torch.flatten(x, 1)
        return self.out(self.fc(x))


# ----------------------------------------------------------------------------------------------
# densenet_concat: Concat of tensors with different scales, and one QuantCat (one scale)


class DenseNetConcat(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv2d(3, 8, 3, padding=1)
        self.relu1 = qnn.QuantReLU()
        self.conv2 = qnn.QuantConv2d(8, 8, 3, padding=1)
        self.relu2 = qnn.QuantReLU()
        self.conv3 = qnn.QuantConv2d(16, 8, 3, padding=1)
        self.relu3 = qnn.QuantReLU()
        self.conv4 = qnn.QuantConv2d(24, 8, 1)  # transition: 1x1 conv + 2x2 average pool
        self.q4 = qnn.QuantIdentity(return_quant_tensor=True)
        self.pool = qnn.TruncAvgPool2d(2)  # AveragePool + requant (QONNX: Trunc)
        self.conv5 = qnn.QuantConv2d(8, 8, 3, padding=1)
        self.q5 = qnn.QuantIdentity()
        # a shared quantizer requantizes both operands to one scale before the concat: what
        # qnn.QuantCat does, but QuantCat is broken in Brevitas 0.13.4 (it calls the missing
        # QuantTensor.cat), so torch.cat on two QuantTensors of one scale does it here
        self.q_cat = qnn.QuantIdentity(return_quant_tensor=True)
        self.out_conv = qnn.QuantConv2d(16, 8, 1)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        x0 = self.relu1(self.conv1(self.inp(x)))
        x1 = self.relu2(self.conv2(x0))
        x2 = self.relu3(self.conv3(torch.cat([_v(x0), _v(x1)], dim=1)))  # two scales
        x3 = self.q4(self.conv4(torch.cat([_v(x0), _v(x1), _v(x2)], dim=1)))  # three scales
        x3 = self.pool(x3)
        x4 = self.q5(self.conv5(x3))
        y = torch.cat([self.q_cat(x3), self.q_cat(x4)], dim=1)
        return self.out(self.out_conv(_v(y)))


# ----------------------------------------------------------------------------------------------
# bottleneck: 1x1-3x3-1x1 residual bottlenecks, identity and projection shortcut


class Bottleneck(nn.Module):

    def __init__(self, cin, mid, cout, stride):
        super().__init__()
        self.conv1 = qnn.QuantConv2d(cin, mid, 1)
        self.relu1 = qnn.QuantReLU()
        self.conv2 = qnn.QuantConv2d(mid, mid, 3, stride=stride, padding=1)
        self.relu2 = qnn.QuantReLU()
        self.conv3 = qnn.QuantConv2d(mid, cout, 1)
        if stride != 1 or cin != cout:
            self.down = qnn.QuantConv2d(cin, cout, 1, stride=stride)
        else:
            self.down = None
        self.add = qnn.QuantEltwiseAdd()
        self.relu_out = qnn.QuantReLU()

    def forward(self, x):
        y = self.conv3(self.relu2(self.conv2(self.relu1(self.conv1(x)))))
        s = x if self.down is None else self.down(x)
        return self.relu_out(self.add(y, s))


class BottleneckNet(nn.Module):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.block1 = Bottleneck(16, 4, 16, 1)
        self.block2 = Bottleneck(16, 8, 32, 2)
        self.out = qnn.QuantIdentity()

    def forward(self, x):
        return self.out(self.block2(self.block1(self.inp(x))))


# ----------------------------------------------------------------------------------------------
# stride2: stride-2 convs on odd and even sizes, with and without padding


class Stride2(_Chain):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv2d(3, 8, 3, stride=2, padding=1)  # 17 -> 9
        self.relu1 = qnn.QuantReLU()
        self.conv2 = qnn.QuantConv2d(8, 16, 3, stride=2)  # 9 -> 4
        self.relu2 = qnn.QuantReLU()
        self.conv3 = qnn.QuantConv2d(16, 16, 2, stride=2)  # 4 -> 2
        self.relu3 = qnn.QuantReLU()
        self.conv4 = qnn.QuantConv2d(16, 8, (3, 1), stride=(2, 1), padding=(1, 0))  # 2x2 -> 1x2
        self.out = qnn.QuantIdentity()


# ----------------------------------------------------------------------------------------------
# padding: symmetric conv padding, ZeroPad2d asymmetric and symmetric, dilation 2, 3x5 kernel


class Padding(_Chain):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv2d(4, 8, 3, padding=1)
        self.relu1 = qnn.QuantReLU()
        self.pad_asym = nn.ZeroPad2d((1, 2, 0, 3))  # (left, right, top, bottom)
        self.conv2 = qnn.QuantConv2d(8, 8, 3)
        self.relu2 = qnn.QuantReLU()
        self.pad_sym = nn.ZeroPad2d(2)
        self.conv3 = qnn.QuantConv2d(8, 8, 3, dilation=2)
        self.relu3 = qnn.QuantReLU()
        self.conv4 = qnn.QuantConv2d(8, 4, (3, 5), padding=(1, 2))
        self.out = qnn.QuantIdentity()


# ----------------------------------------------------------------------------------------------
# depthwise: MobileNet-style depthwise (groups=C) + pointwise, per-channel weight scales


def _pc_conv(cin, cout, k, **kw):
    return qnn.QuantConv2d(cin, cout, k, weight_quant=Int8WeightPerChannelFloat, **kw)


class Depthwise(_Chain):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.pw0 = _pc_conv(8, 16, 1)
        self.relu0 = qnn.QuantReLU()
        self.dw1 = _pc_conv(16, 16, 3, padding=1, groups=16)
        self.relu1 = qnn.QuantReLU()
        self.pw1 = _pc_conv(16, 16, 1)
        self.relu2 = qnn.QuantReLU()
        self.dw2 = _pc_conv(16, 16, 3, stride=2, padding=1, groups=16)
        self.relu3 = qnn.QuantReLU()
        self.pw2 = _pc_conv(16, 8, 1)
        self.out = qnn.QuantIdentity()


# ----------------------------------------------------------------------------------------------
# bn_fold: QuantConv2d + BatchNorm2d (left in the graph) + QuantReLU


class BNFold(_Chain):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu1 = qnn.QuantReLU()
        self.conv2 = qnn.QuantConv2d(
            8, 8, 3, padding=1, bias=True, weight_quant=Int8WeightPerChannelFloat)
        self.bn2 = nn.BatchNorm2d(8)
        self.relu2 = qnn.QuantReLU()
        self.conv3 = qnn.QuantConv2d(8, 4, 1, bias=True)
        self.bn3 = nn.BatchNorm2d(4)
        self.out = qnn.QuantIdentity()
        for m in (self.bn1, self.bn2, self.bn3):
            _randomize_bn(m)


# ----------------------------------------------------------------------------------------------
# conv1d: QuantConv1d stack (padding, dilation, stride, groups), a 4-bit activation


class Conv1dNet(_Chain):

    def __init__(self):
        super().__init__()
        self.inp = qnn.QuantIdentity()
        self.conv1 = qnn.QuantConv1d(4, 8, 5, padding=2)
        self.relu1 = qnn.QuantReLU()
        self.conv2 = qnn.QuantConv1d(
            8, 8, 3, padding=2, dilation=2, weight_quant=Int8WeightPerChannelFloat)
        self.relu2 = qnn.QuantReLU(bit_width=4)
        self.conv3 = qnn.QuantConv1d(8, 8, 3, stride=2, groups=8)
        self.relu3 = qnn.QuantReLU()
        self.conv4 = qnn.QuantConv1d(8, 6, 1)
        self.out = qnn.QuantIdentity()


# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    build: Callable[[], nn.Module]
    input_shape: Tuple[int, ...]
    classifier: bool
    what: str
    steps: int = 40  # Adam steps on synthetic data
    batch: int = 16
    lr: float = 2e-3
    large: bool = False  # QONNX file not committed; not regenerated by the default test run
    backend: Optional[str] = None  # exporter back end for this network (default: generate.BACKEND)
    opset: Optional[int] = None  # ONNX opset for this network (default: the back end's)
    vocab: int = 0  # > 0: the input is int64 token ids in [0, vocab) (language models)


NETWORKS = {
    "tinycnn":
        Spec(
            TinyCNN, (1, 1, 8, 8), False,
            "smallest conv net: QuantIdentity, 2 convs (padded and valid), QuantReLU, quantized output"),
    "simplecnn":
        Spec(
            SimpleCNN, (1, 3, 16, 16), True,
            "3 convs (one dilation 2) + QuantReLU + 2 MaxPool, Flatten, QuantLinear with Int32Bias"),
    "mlp":
        Spec(
            MLP, (1, 1, 8, 8), True,
            "Flatten + 3 QuantLinear (Int32Bias), 4-bit QuantReLU, float output (no output quant)"),
    "resnet_basic":
        Spec(
            ResNetBasic, (1, 3, 16, 16), True,
            "2 basic blocks, residual Add of two different scales (int8 branch + uint8/int8 "
            "shortcut), 1x1 stride-2 projection, float global avgpool + requant, linear"),
    "resnet18":
        Spec(
            ResNet18, (1, 3, 32, 32), True,
            "CIFAR ResNet-18 (64-128-256-512, 4x2 basic blocks) with BatchNorm, "
            "QuantEltwiseAdd, TruncAdaptiveAvgPool2d, linear 10",
            steps=30, batch=8, lr=1e-3, large=True),
    "densenet_concat":
        Spec(
            DenseNetConcat, (1, 3, 12, 12), False,
            "Concat of 2 and 3 tensors with different scales, TruncAvgPool2d(2) transition, "
            "concat of two tensors requantized by one shared QuantIdentity (one scale)"),
    "bottleneck":
        Spec(
            BottleneckNet, (1, 16, 8, 8), False,
            "1x1-3x3-1x1 bottleneck residuals via QuantEltwiseAdd, identity and stride-2 "
            "projection shortcut"),
    "stride2":
        Spec(
            Stride2, (1, 3, 17, 17), False,
            "stride-2 convs on odd/even sizes, padded and unpadded, 2x2 and 3x1 kernels"),
    "padding":
        Spec(
            Padding, (1, 4, 12, 12), False,
            "conv padding, ZeroPad2d asymmetric (1,2,0,3) and symmetric 2, dilation 2, "
            "3x5 kernel with (1,2) padding"),
    "depthwise":
        Spec(
            Depthwise, (1, 8, 16, 16), False,
            "depthwise (groups=C, stride 1 and 2) + pointwise convs, per-channel weight scales"),
    "bn_fold":
        Spec(
            BNFold, (1, 3, 12, 12), False,
            "QuantConv2d + BatchNorm2d (in the graph, trained running stats) + QuantReLU, "
            "convs with and without bias, one per-channel"),
    "conv1d":
        Spec(
            Conv1dNet, (1, 4, 64), False,
            "QuantConv1d stack: padding, dilation 2 (per-channel), stride 2 depthwise, 1x1; "
            "4-bit QuantReLU"),
}

from . import nets_llama  # noqa: E402  (the LLaMA-style networks; imports Spec from here)
NETWORKS.update(nets_llama.NETWORKS)
# the state-space networks live in their own module (imported last: it imports Spec from here)
from . import nets_ssm  # noqa: E402

NETWORKS.update(nets_ssm.NETWORKS)
from . import nets_norm  # noqa: E402  (at the end: nets_norm imports Spec from here)

NETWORKS.update(nets_norm.NETWORKS)
from . import nets_eltwise  # noqa: E402  (networks of elementwise ops; imports Spec from here)
NETWORKS.update(nets_eltwise.NETWORKS)

from . import nets_transformer  # noqa: E402  (attention networks; imports Spec from here)

NETWORKS.update(nets_transformer.NETWORKS)

from . import nets_mask  # noqa: E402  (attention masks; imports Spec from here)

NETWORKS.update(nets_mask.NETWORKS)
