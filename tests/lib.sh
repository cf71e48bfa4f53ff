# Sourced first by every tests/*.sh (`. "$(dirname "$0")/lib.sh"`): strict variables, the
# repository root as working directory, the compiler under test ($ARES), a scratch directory
# ($tmp, removed on exit), and a tiny harness: pass/fail counters and a closing
# "N passed, N failed" line (scripts/test.sh adds these up per suite).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ARES=build/ares
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

T_PASS=0
T_FAIL=0
t_ok() { T_PASS=$((T_PASS + 1)); echo "ok   $*"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $*"; }
# t_expect NAME WANT_STATUS WANT_STDERR_SUBSTRING CMD...: runs CMD, checks status and stderr.
t_expect() {
  local name=$1 want=$2 msg=$3
  shift 3
  local err
  err=$("$@" 2>&1 >/dev/null)
  local st=$?
  if [ "$st" -ne "$want" ]; then
    t_fail "$name: exit status $st, expected $want"
    printf '%s\n' "$err" | tail -5 | sed 's/^/     /'
  elif [ -n "$msg" ] && ! printf '%s' "$err" | grep -qF -- "$msg"; then
    t_fail "$name: message lacks '$msg'"
    printf '%s\n' "$err" | tail -5 | sed 's/^/     /'
  else
    t_ok "$name"
  fi
}
t_summary() {
  echo "$T_PASS passed, $T_FAIL failed"
  [ "$T_FAIL" -eq 0 ]
}
