"""The ARES test-network zoo: small Brevitas networks named after what they exercise.

`python -m ares.zoo [NAMES...] [--out DIR] [--dialect qcdq|qonnx|both]` regenerates them
into tests/zoo/<name>/ (see README.md).
"""

from .nets import NETWORKS  # noqa: F401
