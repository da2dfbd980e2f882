#!/bin/sh
# Run every test program given, sum their "N passed, N failed[, N skipped]"
# lines, and end with the total line. RUNNER (e.g. qemu-aarch64) prefixes
# each program. Skipped tests (levels this build or CPU lacks) count apart.
passed=0; failed=0; skipped=0
for t in "$@"; do
    # a hung test fails instead of stalling the whole run
    start=$(date +%s)
    out=$(timeout "${ET_TEST_TIMEOUT:-1200}" ${RUNNER:-} "$t" 2>&1); rc=$?
    [ "$rc" -eq 124 ] && out="$out
$t: timed out after ${ET_TEST_TIMEOUT:-1200} s"
    printf '%s\n' "$out"
    # slow programs say so, to keep CI's time budget visible
    secs=$(( $(date +%s) - start ))
    [ "$secs" -ge 20 ] && echo "    ($t took $secs s)"
    line=$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    k=$(printf '%s' "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
    if [ -z "$line" ]; then
        echo "$t: crashed or printed no summary (exit $rc)"; p=0; f=1
    elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "$t: exit $rc with no failed test"; f=1
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${k:-0}))
done
if [ "$skipped" -gt 0 ]; then echo "$passed passed, $failed failed, $skipped skipped"
else echo "$passed passed, $failed failed"; fi
[ "$failed" -eq 0 ]
