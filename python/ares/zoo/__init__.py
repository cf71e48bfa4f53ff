"""The ARES test-network zoo: small Brevitas networks named after what they exercise.

`python -m ares.zoo [NAMES...] [--out DIR] [--dialect qcdq|qonnx|both]` regenerates them
into tests/zoo/<name>/ (see README.md).
"""

import os

# Training the zoo must give the same bits on every x86 machine, or the committed exports
# could not be regenerated elsewhere: PyTorch's own kernels without AVX dispatch, MKL in
# its conditional-numerical-reproducibility mode (oneDNN is switched off in
# generate.set_determinism). Both are read when torch first computes, so they are set
# before anything here imports it; set_determinism checks that they took effect.
os.environ.setdefault("ATEN_CPU_CAPABILITY", "default")
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")

from .nets import NETWORKS  # noqa: E402,F401
