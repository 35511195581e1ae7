#!/usr/bin/env bash
# Runs the whole suite from the compiled tree and ends with the line "N passed, N failed"
# (N counts assertions). Extra arguments are passed to tap (e.g. a single test file).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-artifacts
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find dist/test -name '*.test.js' | sort)
fi
log=test-artifacts/tap-output.txt
# Info lines of every server a test starts drown the TAP output; warnings and errors stay.
export LOG_LEVEL=${LOG_LEVEL:-warn}
# A file gets FILE_TIMEOUT_S; the whole run gets DEADLINE_S, after which timeout(1) kills tap's whole
# process group (test files and anything they forked that still holds the output pipe), so a hang can
# cost at most that and the summary line below is always printed.
FILE_TIMEOUT_S=${CONFREC_TEST_FILE_TIMEOUT_S:-300}
DEADLINE_S=${CONFREC_TEST_DEADLINE_S:-3000}
timeout -k 30 "$DEADLINE_S" npx --no-install tap --disable-coverage --allow-empty-coverage --timeout="$FILE_TIMEOUT_S" --jobs=2 -R tap "${files[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
# tap ends with a comment like "# { total: 84, pass: 82, fail: 2, skip: 0 }" (assertion counts).
counts=$(grep -E '^# \{ total:' "$log" | tail -1)
passed=$(sed -nE 's/.*pass: ([0-9]+).*/\1/p' <<<"$counts")
failed=$(sed -nE 's/.*fail: ([0-9]+).*/\1/p' <<<"$counts")
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
  echo "# the suite did not finish within ${DEADLINE_S} s and was stopped" | tee -a "$log"
  if [ -z "$counts" ]; then
    # No tap summary: count the assertions printed so far (subtest lines carry "# time=").
    passed=$(($(grep -E '^\s*ok [0-9]+' "$log" | grep -vc '# time=')))
    failed=$(($(grep -E '^\s*not ok [0-9]+' "$log" | grep -vc '# time=')))
  fi
  # The run itself failed.
  failed=$((${failed:-0} + 1))
fi
passed=${passed:-0}
failed=${failed:-0}
# A run that crashed before tap could count anything still reports a failure.
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed" | tee test-artifacts/summary.txt
exit "$status"
