#!/usr/bin/env bash
# Fuzzes every parser Podium runs on files from strangers with libFuzzer and AddressSanitizer
# (LeakSanitizer included): JPEG, PNG, PyTorch .pth (zip and legacy), the unpickler,
# safetensors, the CSV adapter, the sweep spec reader and the submission/answers scorer.
#
# Usage: scripts/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, every target)
#
# Builds Sources/podium-fuzz with -sanitize=fuzzer,address into .build-fuzz, then runs each
# target from its seeds (scripts/fuzz/seeds/TARGET) into a corpus kept in
# .build-fuzz/corpus/TARGET. A crash, leak, timeout or out-of-memory input is written to
# .build-fuzz/findings/TARGET/ and the script exits non-zero after the last target; replay
# one with `swift build && .build/debug/podium-fuzz TARGET FILE`, and add it to the test
# suite as a regression fixture. Two targets run at a time (one per core).
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(jpeg png checkpoint pickle safetensors csv spec submission)

# SwiftPM's --sanitize flags reach swiftc as separate -sanitize=fuzzer and -sanitize=address,
# and the last one wins there: without the combined flag the Swift code gets AddressSanitizer
# but no coverage counters, and libFuzzer runs blind.
swift build -c release --scratch-path .build-fuzz --product podium-fuzz \
  --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING || exit 1
binary=.build-fuzz/release/podium-fuzz
export SWIFT_BACKTRACE=enable=no  # the crash handler can hang for minutes under the fuzzer
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1

fuzz() {
  local target=$1
  mkdir -p ".build-fuzz/corpus/$target" ".build-fuzz/findings/$target"
  PODIUM_FUZZ_TARGET=$target "$binary" ".build-fuzz/corpus/$target" "scripts/fuzz/seeds/$target" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=65536 \
    -artifact_prefix=".build-fuzz/findings/$target/" -print_final_stats=1 \
    > ".build-fuzz/findings/$target.log" 2>&1
  local status=$?
  local runs
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' ".build-fuzz/findings/$target.log" | tail -1 | grep -o '[0-9]*$')
  echo "$target: ${runs:-?} executions in ${seconds} s, exit $status, findings: $(ls ".build-fuzz/findings/$target" | wc -l)"
  return $status
}

failed=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  fuzz "${targets[$i]}" & first=$!
  second=""
  if [ $((i + 1)) -lt ${#targets[@]} ]; then fuzz "${targets[$((i + 1))]}" & second=$!; fi
  wait $first || failed=1
  [ -n "$second" ] && { wait "$second" || failed=1; }
done
exit $failed
