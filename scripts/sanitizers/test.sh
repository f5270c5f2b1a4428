#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer, and every `podium` command the CLI tests
# start (the real commands, out of process) under LeakSanitizer as well:
#
#   scripts/sanitizers/test.sh [swift test arguments, e.g. --filter SweepWorkersTests]
#
# Builds into .build-asan. Leaks that are not Podium's are suppressed in lsan.supp, each with
# its reason; anything else LeakSanitizer reports fails the command that leaked, and so its
# test. The XCTest process itself runs without leak detection: at its exit LeakSanitizer
# reported the test cases' own objects (stores, trainers, teardown blocks; 2.9 MB in 7,704
# allocations) as cycles, beside a leak inside XCTest's awaitUsingExpectation: what
# swift-corelibs-xctest keeps of its test cases, not what Podium leaks.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SWIFT_BACKTRACE=enable=no  # the crash handler can hang for minutes under the sanitizer
export ASAN_OPTIONS=detect_leaks=0
export PODIUM_COMMAND_ASAN_OPTIONS=detect_leaks=1  # PodiumRunner.commandEnvironment
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
swift test --sanitize=address --scratch-path .build-asan "$@"
