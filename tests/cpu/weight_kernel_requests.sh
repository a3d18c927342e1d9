#!/bin/sh
# Fails unless every compiled instance of the weight kernels that stream rows from memory holds
# a prefetch instruction. Those kernels ask for the weights some rows ahead (cpu/prefetch.h);
# a compiler that deletes the requests (GCC 12 deletes a loop of nothing but
# __builtin_prefetch) leaves every result unchanged and batch-1 decode 15-20 % slower, so only
# the instructions show it. Run on optimized builds only: without inlining the requests sit in
# helpers of their own.
# Usage: weight_kernel_requests.sh OBJDUMP LIBBRICKS_CPU.a
set -eu
# Families of kernels, as a substring of their demangled names; each must have instances.
families="::lanes_tile< ::super_tile< ::direct_tile< ::ysuper_tile< ::ydirect_tile< ::gemm_tiles< ::gemv< avx512::tile< ::pack_panel< ::pack_q8_panel("
"$1" -d -C --no-show-raw-insn "$2" | awk -v families="$families" '
  /^[0-9a-f]+ <.*>:$/ { name = $0; sub(/^[0-9a-f]+ </, "", name); sub(/>:$/, "", name);
                        requests[name] += 0; next }
  /\tprefetch/ { requests[name]++ }
  END {
    n = split(families, fam, " "); bad = 0
    for (i = 1; i <= n; ++i) {
      found = 0; empty = 0
      for (f in requests) {
        if (index(f, fam[i]) == 0) continue
        found++
        if (requests[f] == 0) { empty++; print "FAIL: no prefetch instruction in " f > "/dev/stderr" }
      }
      if (found == 0) {
        print "FAIL: no function of family " fam[i] " (renamed? update the list in this script)" > "/dev/stderr"
        bad = 1
      } else if (empty > 0) {
        bad = 1
      } else {
        print "ok: " found " instances of " fam[i] " hold prefetch instructions"
      }
    }
    exit bad
  }'
