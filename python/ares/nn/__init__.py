"""ares.nn — Brevitas building blocks with the quantizer defaults ARES compiles best.

Every class here is a thin subclass of a Brevitas (or plain PyTorch) module: it trains,
evaluates and exports exactly like the Brevitas layer it wraps. What it adds is the choice of
quantizers, made for ARES' integer pipeline (docs/SEMANTICS.md), and argument checks that
reject settings ARES cannot compile *when the model is built* instead of after training.

The one rule to follow when composing them:

    every compute layer (Conv1d, Conv2d, Linear, AvgPool*, AdaptiveAvgPool*, Add, Cat) needs a
    quantized input, and its output must go into a quantizer (ReLU, QuantIdentity, the
    input quantizer of Add/Cat) or be the model's final float output.

In practice: start the model with `QuantIdentity()` (the graph input is float), follow each
Conv/Linear with `ReLU()` or `QuantIdentity()`, and let the last Linear be the float output
(or end with `QuantIdentity()` for a quantized output). MaxPool and Flatten keep their
input's quantization and need nothing. The pooling layers and Add/Cat bring their own
quantizers. `ares check MODEL.onnx` names the node and says what to add when this is broken.

Bit widths: activations and weights 2..8 bits (ARES' integers are int8); biases float or
Int32Bias.
"""

from .layers import (  # noqa: F401
    QuantIdentity,
    ReLU,
    Conv1d,
    Conv2d,
    Linear,
    MaxPool1d,
    MaxPool2d,
    AvgPool1d,
    AvgPool2d,
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    Flatten,
    Add,
    Cat,
    ResidualBlock,
    Int32Bias,
)
from .llama import Embedding, RMSNorm, RotaryEmbedding, SwiGLU  # noqa: F401
from .mamba import BiMamba, CausalConv1d, Mamba, PatchEmbed, SelectiveScan  # noqa: F401
from .attention import (  # noqa: F401
    MultiHeadSelfAttention,
    CrossAttention,
    AlternatingAttention,
    TransformerBlock,
)

__all__ = [
    "QuantIdentity", "ReLU", "Conv1d", "Conv2d", "Linear", "MaxPool1d", "MaxPool2d",
    "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "Flatten", "Add", "Cat",
    "ResidualBlock", "Int32Bias", "Embedding", "RMSNorm", "RotaryEmbedding", "SwiGLU", "SelectiveScan",
    "CausalConv1d", "Mamba", "BiMamba", "PatchEmbed",
    "MultiHeadSelfAttention", "CrossAttention", "AlternatingAttention", "TransformerBlock"
]
