"""ARES Python side: Brevitas building blocks, export helpers and the test-network zoo.

Nothing in the compile path needs Python; this package only exists where PyTorch lives.

    import ares
    from ares import nn as qnn                       # the building blocks (ares.nn)
    ares.export(model, x, "out/model.onnx")          # ONNX + input.npy + expected outputs
    result = ares.deploy(model, x, target="host", out_dir="out")   # check, compile, validate
    print(result.table())

Errors of the C tool (`build/ares`, or $ARES_BIN) arrive as `ares.AresError` carrying the
tool's message. See docs/GETTING_STARTED.md.
"""

__version__ = "0.1.0"

from .tool import (AresError, Diagnostic, Layer, UnsupportedTargetError,  # noqa: F401
                   ValidationError, ares_binary, has_check)
from ._export import ExportError, ExportResult, export  # noqa: F401
from ._deploy import (DeployResult, check_model, compile_model, deploy,  # noqa: F401
                      validate)
