#!/bin/sh
# Fails unless the built cpu_paged plugin holds prefetch instructions: its kernels ask for the
# next key block's rows while they compute the current one, and a compiler that deletes those
# requests (GCC 12 deletes a loop of nothing but __builtin_prefetch) leaves results unchanged,
# so only the instructions show it.
# Usage: cpu_paged_requests.sh OBJDUMP PLUGIN.so
set -eu
count=$("$1" -d "$2" | grep -c prefetch || true)
if [ "$count" -eq 0 ]; then
  echo "FAIL: $2 holds no prefetch instruction: the kernels' next-block requests were compiled away" >&2
  exit 1
fi
echo "ok: $count prefetch instructions in $2"
