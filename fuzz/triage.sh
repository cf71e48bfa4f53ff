#!/usr/bin/env bash
# Re-runs every crash artifact through the fuzz binary and prints one line per distinct
# failure site: the sanitizer's first message and the top frame inside src/.
bin=${1:-build/fuzz/fuzz_import}
shift
for f in "$@"; do
  out=$(UBSAN_OPTIONS=print_stacktrace=1 "$bin" "$f" 2>&1)
  msg=$(printf '%s\n' "$out" | grep -m1 -E 'runtime error|ERROR: (Address|Leak)Sanitizer|ERROR: libFuzzer' | sed 's/^==[0-9]*==//')
  frame=$(printf '%s\n' "$out" | grep -E "#[0-9]+ .* /work/main/src/" | grep -v "ir/ir.c" | head -1 | sed 's/.* in //')
  echo "$(basename "$f") | ${msg:-no failure} | $frame"
done
