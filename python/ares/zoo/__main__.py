"""python -m ares.zoo [NAMES...] [--out DIR] [--dialect qcdq|qonnx|both] [--dump FILE]
                    [--backend torchscript|dynamo]

Builds, briefly trains and exports the zoo networks into <out>/<name>/."""

import argparse
import json
import sys
import time
from pathlib import Path

from .nets import NETWORKS


def main(argv=None) -> int:
    from . import generate as gen
    p = argparse.ArgumentParser(prog="python -m ares.zoo", description=__doc__)
    p.add_argument("names", nargs="*", help=f"networks (default: all): {', '.join(NETWORKS)}")
    p.add_argument("--out", type=Path, default=gen.default_out_dir(),
                   help="output directory (default: <repo>/tests/zoo)")
    p.add_argument("--dialect", choices=("qcdq", "qonnx", "both"), default=None,
                   help="which ONNX files to write (default: both, except QCDQ only for the "
                   "large networks, whose QONNX file is not committed)")
    p.add_argument("--dump", type=Path, default=None,
                   help="append a text dump of every exported graph to this file")
    p.add_argument("--backend", choices=tuple(gen.BACKENDS), default=gen.BACKEND,
                   help="torch.onnx exporter back end (default: torchscript, what the committed "
                   "zoo uses; dynamo writes opset-18 graphs, for testing the importer)")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    names = a.names or list(NETWORKS)
    bad = [n for n in names if n not in NETWORKS]
    if bad:
        print(f"unknown network(s): {', '.join(bad)}; known: {', '.join(NETWORKS)}",
              file=sys.stderr)
        return 2

    dump = None
    if a.dump is not None:
        from .dump import dump_graph

        def dump(name, dialect, model):
            with open(a.dump, "a") as f:
                f.write(dump_graph(model, f"{name} [{dialect}]"))
                f.write("\n")

    for name in names:
        if a.dialect is None:
            dialects = ("qcdq",) if NETWORKS[name].large else ("qcdq", "qonnx")
        else:
            dialects = ("qcdq", "qonnx") if a.dialect == "both" else (a.dialect,)
        t0 = time.time()
        r = gen.generate(name, a.out, dialects, dump=dump, backend=a.backend)
        for dialect, err in r["export_errors"].items():
            print(f"{name}: {dialect} export failed ({a.backend}): {err}", file=sys.stderr)
        if not a.quiet:
            print(f"{name}: {'+'.join(dialects)} in {time.time() - t0:.1f}s; ORT vs Brevitas: "
                  f"{json.dumps(r['ort_vs_brevitas'])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
