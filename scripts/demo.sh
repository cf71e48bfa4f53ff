#!/usr/bin/env bash
# The demo: installs what is missing, builds ares, compiles a bundled zoo network
# (a quantized ResNet block network exported from Brevitas), builds the generated C
# project, runs it on the network's input and validates every layer against the
# reference interpreter, printing the per-layer table.
set -eu
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
ARES_NO_PYTHON=1 bash scripts/setup.sh
model=${1:-tests/zoo/resnet_basic/model.onnx}
echo "== ares run $model --target host"
build/ares run "$model" --target host --keep "$(mktemp -d)/project"
