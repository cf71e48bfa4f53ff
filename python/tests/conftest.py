import os
import sys
from pathlib import Path

# the zoo's portable CPU dispatch (see ares/zoo/__init__.py), before any test imports torch
os.environ.setdefault("ATEN_CPU_CAPABILITY", "default")
os.environ.setdefault("MKL_CBWR", "COMPATIBLE")

import pytest

# make `ares` importable however pytest is started (repo root or python/)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False,
                     help="also run tests marked slow (e.g. regenerating resnet18)")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: slow test, run with --runslow or ARES_SLOW=1")


def pytest_collection_modifyitems(config, items):
    import os
    if config.getoption("--runslow") or os.environ.get("ARES_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: use --runslow or ARES_SLOW=1")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
