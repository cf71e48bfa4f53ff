#!/usr/bin/env bash
# The zoo end to end on host: every network, both export dialects, must pass `ares run`
# (generated code == reference interpreter, every layer, bit for bit). resnet18's QONNX
# file is not committed (45 MB of float weights): it is regenerated into a temporary
# directory when the Python environment is there.
. "$(dirname "$0")/lib.sh"

for dir in tests/zoo/*/; do
  name=$(basename "$dir")
  for m in model.onnx model.qonnx.onnx; do
    f="$dir$m"
    if [ ! -f "$f" ] && [ "$m" = model.qonnx.onnx ] && [ -x .venv/bin/python ]; then
      if (cd python && ../.venv/bin/python -m ares.zoo "$name" --dialect qonnx --out "$tmp" --quiet) >"$tmp/gen.log" 2>&1; then
        f="$tmp/$name/$m"
      else
        t_fail "$name/$m: regeneration failed"; tail -5 "$tmp/gen.log"; continue
      fi
    fi
    [ -f "$f" ] || { t_fail "$name/$m: missing"; continue; }
    if $ARES run "$f" >"$tmp/run.log" 2>&1; then
      t_ok "$name/$m: $(grep -c '  ok$' "$tmp/run.log") layers bit-exact"
    else
      t_fail "$name/$m"; tail -8 "$tmp/run.log" | sed 's/^/     /'
    fi
  done
done
t_summary
