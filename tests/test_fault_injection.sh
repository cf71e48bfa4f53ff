#!/usr/bin/env bash
# The validation can fail: a corrupted weight or a corrupted kernel in a generated project
# makes `ares run --project` exit 1 and name the first mismatching layer.
. "$(dirname "$0")/lib.sh"
model=tests/zoo/simplecnn/model.onnx

$ARES compile $model -o "$tmp/good" 2>/dev/null
t_expect "untouched project validates" 0 "" $ARES run $model --project "$tmp/good"

# the weights of one output channel of the second conv change by one each (a single weight
# is not enough: its input channel may be all zeros after the ReLU, and then no output moves)
cp -r "$tmp/good" "$tmp/w"
w=$(grep -o 'ares_w[0-9]*\[' "$tmp/w/network.c" | sed -n 2p | tr -d '[')
per=$(grep -o "const int8_t $w\[[0-9]*\]" "$tmp/w/weights.c" | grep -o '[0-9]*\]' | tr -d ']')
per=$((per / 16)) # conv2 has 16 output channels
# weights.c holds int8 arrays as "\xHH..." string literals, 64 bytes a line
awk -v w="$w" -v per="$per" '
  function hv(c) { return index("0123456789abcdef", c) - 1 }
  $0 ~ "^const int8_t " w "\\[" {hit=1; left=per; print; next}
  hit==1 && left > 0 && /^"/ {
    n = split(substr($0, 2), v, "\\\\x"); out = "\""
    for (i = 2; i <= n; i++) {
      b = hv(substr(v[i], 1, 1)) * 16 + hv(substr(v[i], 2, 1))
      if (left > 0) { b = (b == 127) ? 126 : (b + 1) % 256; left-- }
      out = out sprintf("\\x%02x", b) substr(v[i], 3)
    }
    print out; next
  }
  {print}' "$tmp/w/weights.c" > "$tmp/w/weights.new" && mv "$tmp/w/weights.new" "$tmp/w/weights.c"
cmp -s "$tmp/good/weights.c" "$tmp/w/weights.c" && t_fail "could not inject the weight fault (weights.c format changed?)"
t_expect "corrupted weight is caught" 1 "first mismatching layer: 3 '/conv2/Conv'" $ARES run $model --project "$tmp/w"

# a kernel that floors instead of rounding: both the generic round-half-even and the
# kernels' prepared epilogue (its carry terms dropped)
cp -r "$tmp/good" "$tmp/k"
sed -i 's|q += (r > half) \| ((r == half) \& (q \& 1));|q += 0; /* floor */|' "$tmp/k/runtime/ares_kernels.h"
sed -i -e 's|const uint32_t l2 = lo + r->c + bit;|const uint32_t l2 = lo; /* floor */|' \
  -e 's|q = (hi + (int32_t)r->c + (int32_t)((lo \| bit) != 0)) >> r->t;|q = hi >> r->t; /* floor */|' \
  "$tmp/k/runtime/kernels/ares_rq_internal.h"
if grep -q "q += 0;" "$tmp/k/runtime/ares_kernels.h" &&
   [ "$(grep -c '/\* floor \*/' "$tmp/k/runtime/kernels/ares_rq_internal.h")" = 2 ]; then
  t_expect "corrupted kernel is caught" 1 "first mismatching layer" $ARES run $model --project "$tmp/k"
else
  t_fail "could not inject the kernel fault (ares_kernels.h or kernels/ares_rq_internal.h changed?)"
fi

# a max pool that forgets its last window column
cp -r "$tmp/good" "$tmp/p"
sed -i 's/ares_pool_tiled(\(.*\), \&s, 0, \&t);/{ ares_pool_shape s2 = s; s2.kw = s.kw - 1; ares_pool_tiled(\1, \&s2, 0, \&t); }/' "$tmp/p/network.c"
t_expect "corrupted pool call is caught" 1 "first mismatching layer: 2 '/pool1/MaxPool'" $ARES run $model --project "$tmp/p"

t_summary
