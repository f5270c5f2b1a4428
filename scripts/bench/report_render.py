#!/usr/bin/python3
"""How long a large sweep's report takes to render, and how big it is.

Generates a sweep of --runs runs (six learning rates over seeds, 64 validation and 100 test
images of 8 classes) with `podium bench --mode report`, which also times writing the report
and prints its size; then loads the report's index.html in Debian's headless Chromium and
prints the render time: the wall time to load the page and take a full-page screenshot,
less the same for an empty page, the best of --repeats tries.

Usage: scripts/bench/report_render.py [--podium .build/release/podium] [--runs 500] [--repeats 3] [--folder DIR]
Needs: a release build (swift build -c release) and apt-get install chromium.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "report"))
from check_in_browser import chromium  # noqa: E402


def screenshot_seconds(url, shot):
    start = time.monotonic()
    result = chromium(["--window-size=1200,900", "--screenshot=" + shot, url], timeout=300)
    elapsed = time.monotonic() - start
    if result.returncode != 0 or not os.path.exists(shot):
        sys.exit(f"chromium failed on {url}: {result.stderr[-2000:]}")
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--podium", default=".build/release/podium")
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", default=os.path.join(tempfile.gettempdir(), "podium-bench-report"))
    args = parser.parse_args()
    bench = subprocess.run([args.podium, "bench", "--mode", "report", "--runs", str(args.runs), "--folder", args.folder],
                           capture_output=True, text=True, check=True)
    print(bench.stdout.strip())
    index = bench.stdout.strip().rsplit(": ", 1)[-1]
    work = tempfile.mkdtemp(prefix="podium-render-")
    blank = os.path.join(work, "blank.html")
    with open(blank, "w") as f:
        f.write("<!doctype html><title>blank</title>")
    times = []
    for attempt in range(args.repeats):
        empty = screenshot_seconds("file://" + blank, os.path.join(work, f"blank-{attempt}.png"))
        page = screenshot_seconds("file://" + os.path.abspath(index), os.path.join(work, f"report-{attempt}.png"))
        times.append((page - empty, page, empty))
    best = min(times)
    print(f"render of {index} in headless Chromium: {best[0]:.2f} s (page {best[1]:.2f} s less an empty page {best[2]:.2f} s; "
          f"best of {args.repeats})")


if __name__ == "__main__":
    main()
