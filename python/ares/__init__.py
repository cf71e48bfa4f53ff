"""ARES Python side: Brevitas building blocks, export helpers and the test-network zoo.

Nothing in the compile path needs Python; this package only exists where PyTorch lives.
"""

__version__ = "0.1.0"
