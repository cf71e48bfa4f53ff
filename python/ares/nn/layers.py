"""The ares.nn layers. See the package docstring for the composition rule.

Defaults, and why ARES prefers them (semantics in docs/SEMANTICS.md):

- Activations: per-tensor float scales, round half to even, 8 bits (2..8 accepted). ARES keeps
  every activation as int8 with one scale per tensor; per-channel activation scales and
  activations wider than 8 bits are rejected by the compiler, so these classes refuse them.
- ReLU outputs are **unsigned** (Brevitas' Uint8ActPerTensorFloat): a ReLU output is never
  negative, so unsigned spends all 2^b levels on the values that occur. ARES stores uint8 as
  int8 shifted by 128, exactly and for free.
- Weights: symmetric, narrow range (-(2^(b-1)-1) .. 2^(b-1)-1), **per output channel** by
  default. ARES requantizes every output channel with its own multiplier whether the scale
  is per-tensor or per-channel, so per-channel scales cost nothing at run time and fit each
  filter's range (depthwise filters especially). `per_channel=False` gives one scale per
  tensor; both compile to the same kernels.
- Biases: **float** by default. ARES splits a float bias into whole accumulator units plus
  a sub-LSB remainder that it adds before the single requantization rounding (SEMANTICS
  §3.2), so nothing is lost by leaving it float, and the layer does not need its input's
  scale. `bias_quant=Int32Bias` (Brevitas' integer bias at scale input x weight) compiles
  too, and matches Brevitas' own arithmetic; it requires the previous layer to return a
  QuantTensor (`return_quant_tensor=True`), as Brevitas does.
- Pools that average (AvgPool*, AdaptiveAvgPool*) are a float average followed by their own
  quantizer: ARES turns the pair into one integer op that sums the window and requantizes
  with one multiply and one rounding. (Brevitas' TruncAvgPool2d also compiles, but its QCDQ
  export rounds ties differently in ONNX Runtime than in Brevitas, see python/ares/zoo.)
"""

from typing import Optional, Sequence, Union

import torch
import torch.nn as tnn
import brevitas.nn as qnn
from brevitas.quant import (Int8ActPerTensorFloat, Int8WeightPerChannelFloat,
                            Int8WeightPerTensorFloat, Int32Bias, Uint8ActPerTensorFloat)
from brevitas.quant_tensor import QuantTensor

__all__ = [
    "QuantIdentity", "ReLU", "Conv1d", "Conv2d", "Linear", "MaxPool1d", "MaxPool2d",
    "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "Flatten", "Add", "Cat",
    "ResidualBlock", "Int32Bias"
]

MIN_BITS, MAX_BITS = 2, 8


def _check_bits(what: str, b) -> int:
    if not isinstance(b, int) or isinstance(b, bool) or not MIN_BITS <= b <= MAX_BITS:
        raise ValueError(f"{what} must be an integer from {MIN_BITS} to {MAX_BITS} "
                         f"(ARES computes with int8 activations and weights), got {b!r}")
    return b


def _act_quant(signed: bool):
    return Int8ActPerTensorFloat if signed else Uint8ActPerTensorFloat


def _weight_quant(per_channel: bool):
    return Int8WeightPerChannelFloat if per_channel else Int8WeightPerTensorFloat


def _value(x):
    return x.value if isinstance(x, QuantTensor) else x


def _no_unsupported(kw: dict, names: Sequence[str], layer: str):
    for n in names:
        if n in kw:
            raise ValueError(f"ares.nn.{layer}: '{n}' is chosen by ares.nn (see the class "
                             f"docstring); use brevitas.nn directly to override it")


# ----------------------------------------------------------------------------------------------
# activation quantizers


class QuantIdentity(qnn.QuantIdentity):
    """Quantizes its input: per-tensor float scale, `bit_width` bits, signed by default.

    Put one first in every model (the graph input is float; ARES turns this quantizer into
    the `quantize` of the network input), after a compute layer whose output is not followed
    by a ReLU, and last if the model's output should be quantized (ARES then ends in a
    `dequantize`). `signed=False` for non-negative data.
    """

    def __init__(self, bit_width: int = 8, signed: bool = True, return_quant_tensor: bool = False,
                 **kwargs):
        _no_unsupported(kwargs, ("act_quant",), "QuantIdentity")
        super().__init__(act_quant=_act_quant(signed), bit_width=_check_bits("bit_width", bit_width),
                         return_quant_tensor=return_quant_tensor, **kwargs)


class ReLU(qnn.QuantReLU):
    """ReLU with an unsigned `bit_width`-bit output quantizer (per-tensor float scale).

    Unsigned because a ReLU output is never negative: all 2^b levels cover [0, max]. ARES
    fuses it into the conv/linear/add before it (one integer op with a clamp).
    """

    def __init__(self, bit_width: int = 8, return_quant_tensor: bool = False, **kwargs):
        _no_unsupported(kwargs, ("act_quant",), "ReLU")
        super().__init__(act_quant=Uint8ActPerTensorFloat,
                         bit_width=_check_bits("bit_width", bit_width),
                         return_quant_tensor=return_quant_tensor, **kwargs)


# ----------------------------------------------------------------------------------------------
# compute layers


def _conv_kwargs(layer, kwargs, weight_bit_width, per_channel, bias_quant):
    _no_unsupported(kwargs, ("weight_quant", "padding_mode"), layer)
    kwargs = dict(kwargs)
    kwargs["weight_quant"] = _weight_quant(per_channel)
    kwargs["weight_bit_width"] = _check_bits("weight_bit_width", weight_bit_width)
    kwargs["bias_quant"] = bias_quant
    return kwargs


class _QuantConv:
    """The constructor both convolutions share (mixed in before the Brevitas class)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, weight_bit_width: int = 8,
                 per_channel: bool = True, bias_quant=None, **kwargs):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                         dilation=dilation, groups=groups, bias=bias,
                         **_conv_kwargs(self._layer, kwargs, weight_bit_width, per_channel,
                                        bias_quant))


class Conv1d(_QuantConv, qnn.QuantConv1d):
    """1-D convolution (input [N, C, L]) with `weight_bit_width`-bit symmetric weights, per
    output channel by default, and a float bias. No input or output quantizer of its own:
    the input must already be quantized (QuantIdentity, ReLU, MaxPool of those, ...) and the
    output must go into a quantizer or be the model's float output.

    Any stride, zero padding, dilation and groups (depthwise: groups = in_channels).
    """

    _layer = "Conv1d"


class Conv2d(_QuantConv, qnn.QuantConv2d):
    """2-D convolution (input [N, C, H, W]) with `weight_bit_width`-bit symmetric weights, per
    output channel by default, and a float bias. No input or output quantizer of its own:
    the input must already be quantized and the output must go into a quantizer (ReLU,
    QuantIdentity, Add/Cat) or be the model's float output.

    Any stride, zero padding (symmetric here; use torch.nn.ZeroPad2d for asymmetric padding),
    dilation and groups (depthwise: groups = in_channels).
    """

    _layer = "Conv2d"


class Linear(qnn.QuantLinear):
    """Fully connected layer (`x @ W.T + b` on the last dimension) with `weight_bit_width`-bit
    symmetric weights, per output feature by default, and a float bias.

    As the last layer without a quantizer after it, it is the model's float output: ARES
    computes the exact integer accumulator and converts it with one float multiply and one
    float add (SEMANTICS §3.5). Anywhere else, follow it with ReLU or QuantIdentity.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 weight_bit_width: int = 8, per_channel: bool = True, bias_quant=None, **kwargs):
        super().__init__(in_features, out_features, bias=bias,
                         **_conv_kwargs("Linear", kwargs, weight_bit_width, per_channel,
                                        bias_quant))


# ----------------------------------------------------------------------------------------------
# layout and pooling


class Flatten(tnn.Flatten):
    """torch.nn.Flatten that keeps the batch dimension (start_dim >= 1). Quantization passes
    through unchanged (ARES: a reshape of the int8 tensor)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        if start_dim == 0:
            raise ValueError("ares.nn.Flatten: start_dim must be >= 1 (keep the batch dimension)")
        super().__init__(start_dim, end_dim)

    def forward(self, x):
        if isinstance(x, QuantTensor):
            return torch.flatten(x, self.start_dim, self.end_dim)
        return super().forward(x)


def _maxpool_check(layer, return_indices):
    if return_indices:
        raise ValueError(f"ares.nn.{layer}: return_indices is not supported")


class MaxPool1d(tnn.MaxPool1d):
    """torch.nn.MaxPool1d on a quantized input. The maximum of quantized values is one of
    them, so the output keeps the input's quantization and needs no quantizer (ARES:
    `qmaxpool`, exact). Padding never wins."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 return_indices=False):
        _maxpool_check("MaxPool1d", return_indices)
        super().__init__(kernel_size, stride, padding, dilation, False, ceil_mode)


class MaxPool2d(tnn.MaxPool2d):
    """torch.nn.MaxPool2d on a quantized input; the output keeps the input's quantization
    (ARES: `qmaxpool`, exact). Padding never wins."""

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                 return_indices=False):
        _maxpool_check("MaxPool2d", return_indices)
        super().__init__(kernel_size, stride, padding, dilation, False, ceil_mode)


class _QuantizedAverage:
    """Mixin: a float average pool followed by its own output quantizer."""

    def _init_quant(self, bit_width, signed):
        self.quant = QuantIdentity(bit_width=bit_width, signed=signed)

    def forward(self, x):
        return self.quant(super().forward(_value(x)))


class AvgPool1d(_QuantizedAverage, tnn.AvgPool1d):
    """Average pool followed by its own `bit_width`-bit quantizer (signed by default; pass
    `signed=False` after a ReLU to keep all levels for non-negative values).

    ARES sums each window's integers exactly and requantizes once (`qavgpool`).
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, bit_width: int = 8, signed: bool = True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self._init_quant(_check_bits("bit_width", bit_width), signed)


class AvgPool2d(_QuantizedAverage, tnn.AvgPool2d):
    """Average pool followed by its own `bit_width`-bit quantizer (signed by default; pass
    `signed=False` after a ReLU to keep all levels for non-negative values).

    ARES sums each window's integers exactly and requantizes once (`qavgpool`).
    `divisor_override` is not supported (ONNX has no such attribute).
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, bit_width: int = 8, signed: bool = True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)
        self._init_quant(_check_bits("bit_width", bit_width), signed)


class AdaptiveAvgPool1d(_QuantizedAverage, tnn.AdaptiveAvgPool1d):
    """Adaptive average pool plus its own quantizer. `output_size=1` (global average pool,
    the usual classifier head) always exports; other sizes must divide the input length."""

    def __init__(self, output_size=1, bit_width: int = 8, signed: bool = True):
        super().__init__(output_size)
        self._init_quant(_check_bits("bit_width", bit_width), signed)


class AdaptiveAvgPool2d(_QuantizedAverage, tnn.AdaptiveAvgPool2d):
    """Adaptive average pool plus its own quantizer. `output_size=1` (global average pool,
    the usual classifier head) always exports; other sizes must divide the input size."""

    def __init__(self, output_size=1, bit_width: int = 8, signed: bool = True):
        super().__init__(output_size)
        self._init_quant(_check_bits("bit_width", bit_width), signed)


# ----------------------------------------------------------------------------------------------
# joins


class Add(qnn.QuantEltwiseAdd):
    """Residual addition `a + b`: one shared `bit_width`-bit input quantizer brings both
    operands to the same scale (as Brevitas' QuantEltwiseAdd does), then the sum is
    quantized by an output quantizer.

    `output_quant=False` drops the output quantizer: the sum must then go straight into a
    quantizer (typically `ReLU`), which ARES fuses into the addition (one integer op, one
    rounding); ResidualBlock does this. ARES lowers the whole thing to two requantizations
    into the shared scale and one `qadd`.
    """

    def __init__(self, bit_width: int = 8, output_quant: bool = True,
                 output_bit_width: int = 8, output_signed: bool = True,
                 return_quant_tensor: bool = False):
        _check_bits("bit_width", bit_width)
        kw = {"input_bit_width": bit_width}
        if output_quant:
            kw["output_bit_width"] = _check_bits("output_bit_width", output_bit_width)
        super().__init__(input_quant=Int8ActPerTensorFloat,
                         output_quant=_act_quant(output_signed) if output_quant else None,
                         return_quant_tensor=return_quant_tensor and output_quant, **kw)


class Cat(tnn.Module):
    """Concatenation along `dim` (channels by default) through one shared `bit_width`-bit
    quantizer, so every operand arrives at the same scale and the result keeps it (ARES: a
    plain copy, `qconcat` without rescaling).

    This is what `brevitas.nn.QuantCat` is meant to do, which is broken in Brevitas 0.13.4
    (it calls the missing QuantTensor.cat). The result carries the shared quantization: it
    can feed a Conv/Linear, MaxPool, Flatten or another join directly.
    """

    def __init__(self, bit_width: int = 8, signed: bool = True, dim: int = 1):
        super().__init__()
        if dim == 0:
            raise ValueError("ares.nn.Cat: dim 0 is the batch dimension")
        self.dim = dim
        self.quant = QuantIdentity(bit_width=bit_width, signed=signed)

    def forward(self, tensors):
        return torch.cat([self.quant(_value(t)) for t in tensors], dim=self.dim)


# ----------------------------------------------------------------------------------------------
# blocks


class ResidualBlock(tnn.Module):
    """ResNet basic block, 1-D or 2-D: conv-ReLU-conv plus a shortcut, added and ReLU'd.

        y = ReLU(Add(conv2(ReLU(conv1(x))), shortcut(x)))

    conv1 has `stride` and `dilation`; both convs use "same" zero padding
    (`dilation * (kernel_size // 2)`, so `kernel_size` must be odd). The shortcut is the
    input itself when shape is kept, else a 1x1 conv with `stride` (a projection). The Add has
    no output quantizer: the ReLU after it quantizes the sum (one integer op in ARES).

    The input must be quantized (e.g. the output of ReLU); the output is a ReLU output.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 stride: int = 1, dilation: int = 1, dim: int = 2, bit_width: int = 8,
                 weight_bit_width: int = 8, per_channel: bool = True, bias: bool = True):
        super().__init__()
        if dim not in (1, 2):
            raise ValueError(f"ares.nn.ResidualBlock: dim must be 1 or 2, got {dim!r}")
        if kernel_size % 2 != 1:
            raise ValueError("ares.nn.ResidualBlock: kernel_size must be odd ('same' padding)")
        conv = Conv1d if dim == 1 else Conv2d
        wk = {"weight_bit_width": weight_bit_width, "per_channel": per_channel, "bias": bias}
        pad = dilation * (kernel_size // 2)
        self.conv1 = conv(in_channels, out_channels, kernel_size, stride=stride, padding=pad,
                          dilation=dilation, **wk)
        self.relu1 = ReLU(bit_width)
        self.conv2 = conv(out_channels, out_channels, kernel_size, padding=pad,
                          dilation=dilation, **wk)
        if stride != 1 or in_channels != out_channels:
            self.shortcut = conv(in_channels, out_channels, 1, stride=stride, **wk)
        else:
            self.shortcut = None
        self.add = Add(bit_width, output_quant=False)
        self.relu_out = ReLU(bit_width)

    def forward(self, x):
        y = self.conv2(self.relu1(self.conv1(x)))
        s = x if self.shortcut is None else self.shortcut(x)
        return self.relu_out(self.add(y, s))
