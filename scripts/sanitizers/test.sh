#!/usr/bin/env bash
# Runs the whole test suite under AddressSanitizer with LeakSanitizer (the `podium` children
# the CLI tests start are built with it too and inherit the settings):
#
#   scripts/sanitizers/test.sh [swift test arguments, e.g. --filter SweepWorkersTests]
#
# Builds into .build-asan. Leaks that are not Podium's are suppressed in lsan.supp, each with
# its reason; anything else LeakSanitizer reports fails the process that leaked.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SWIFT_BACKTRACE=enable=no  # the crash handler can hang for minutes under the sanitizer
export ASAN_OPTIONS=detect_leaks=1
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
swift test --sanitize=address --scratch-path .build-asan "$@"
