#!/usr/bin/env bash
# The cluster on the host backend: every zoo network with 8 cores, with 1 core and with a
# small L1 (tiles everywhere), under ThreadSanitizer and AddressSanitizer/UBSan for a
# representative set, and proof that the strict DMA catches a missing wait.
. "$(dirname "$0")/lib.sh"

run_case() { # NAME OPTIONS... ; CFLAGS from the environment reach the generated Makefile
  local name=$1
  shift
  if "$ARES" run "$@" >"$tmp/run.log" 2>&1; then t_ok "$name"; else t_fail "$name"; tail -4 "$tmp/run.log" | sed 's/^/     /'; fi
}

for f in tests/zoo/*/model.onnx tests/zoo/*/model.qonnx.onnx; do
  [ -f "$f" ] || continue
  n=${f#tests/zoo/}
  run_case "$n 1 core" "$f" --cores 1
  # 16 KiB of L1: every conv, linear, pool and elementwise layer tiles. resnet18's
  # 256-channel 3x3 convs need 17 KiB for their smallest tile (input channels are not split)
  case $f in *resnet18*) l1=24576 ;; *) l1=16384 ;; esac
  run_case "$n 3 cores, L1 $l1" "$f" --cores 3 --l1 $l1
done

san="tests/zoo/resnet_basic/model.onnx tests/zoo/depthwise/model.qonnx.onnx tests/zoo/densenet_concat/model.onnx tests/zoo/conv1d/model.onnx tests/zoo/mlp/model.onnx"
for f in $san; do
  CFLAGS="-O1 -g -fsanitize=thread" run_case "${f#tests/zoo/} under TSan" "$f" --l1 8192
  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all" run_case "${f#tests/zoo/} under ASan/UBSan" "$f" --l1 8192
done

# a missing DMA wait: with one tile the kernel reads the poisoned buffer; with several the
# HAL sees the descriptor reused while still pending
model=tests/zoo/simplecnn/model.onnx
for l1 in 122880 4096; do
  "$ARES" compile $model -o "$tmp/nowait$l1" --l1 $l1 2>/dev/null
  sed -i '0,/ares_hal_dma_wait(&din\[b\]);/s//\/* wait removed *\//' "$tmp/nowait$l1/runtime/ares_tiled.c"
  if grep -q 'wait removed' "$tmp/nowait$l1/runtime/ares_tiled.c"; then
    if [ $l1 = 122880 ]; then
      t_expect "missing DMA wait, one tile: poisoned input caught" 1 "first mismatching layer: 1 '/conv1/Conv'" \
        "$ARES" run $model --project "$tmp/nowait$l1"
    else
      t_expect "missing DMA wait, many tiles: HAL catches the reuse" 2 "DMA descriptor reused before its wait" \
        "$ARES" run $model --project "$tmp/nowait$l1"
    fi
  else
    t_fail "could not remove the DMA wait (ares_tiled.c changed?)"
  fi
done
t_summary
