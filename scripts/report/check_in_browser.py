#!/usr/bin/python3
"""Render Podium reports in Debian's headless Chromium and check what a user would see.

For each report page given (default: reports/demo/index.html) and for a report made here on
a CSV dataset whose class is literally named <script>alert(1)</script>, this:
  - takes a full-page screenshot (PNG) to look at;
  - fails on any console message (errors, CSP violations);
  - fails on any request that is not file: or data: (from Chromium's own network log);
  - fails if the rendered DOM holds any <script> but the report's own sorting script, or if
    the hostile class name is not shown as text.

Usage: scripts/report/check_in_browser.py [--podium .build/release/podium] [--shots DIR] [PAGE.html ...]
Needs: apt-get install chromium (not part of the test suite).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HOSTILE = "<script>alert(1)</script>"


def chromium(args, timeout=120):
    # Chromium's own background traffic (updater, sync, spelling dictionaries) is switched
    # off, so every request left in the network log comes from the page.
    quiet = ["--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
             "--no-first-run", "--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheckService,AutofillServerCommunication",
             "--disable-domain-reliability", "--no-pings", "--user-data-dir=" + tempfile.mkdtemp(prefix="podium-chromium-")]
    return subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--enable-logging=stderr", "--v=0"] + quiet + args,
                          capture_output=True, text=True, timeout=timeout)


# Chromium's traffic annotation of requests a page makes (images, styles, scripts, fetch):
# "blink_resource_loader". The browser's own traffic carries other annotations.
PAGE_REQUEST_ANNOTATION = "101845102"


def page_requests(netlog):
    """URLs of the requests the page made, from Chromium's network log (read line by line:
    the log may be cut short when Chromium exits)."""
    urls, annotations = {}, {}
    with open(netlog) as f:
        for line in f:
            source = re.search(r'"source":\{"id":(\d+)', line)
            if not source:
                continue
            url = re.search(r'"url":"([^"]+)"', line)
            annotation = re.search(r'"traffic_annotation":(\d+)', line)
            if url:
                urls[source.group(1)] = url.group(1)
            if annotation:
                annotations.setdefault(source.group(1), set()).add(annotation.group(1))
    return {url for source, url in urls.items() if PAGE_REQUEST_ANNOTATION in annotations.get(source, set())}


def check(page, shot):
    url = "file://" + os.path.abspath(page)
    problems = []
    with tempfile.TemporaryDirectory() as work:
        netlog = os.path.join(work, "net.json")
        run = chromium(["--window-size=1200,6000", "--screenshot=" + shot,
                        "--log-net-log=" + netlog, "--net-log-capture-mode=Everything", url])
        console = [line for line in run.stderr.splitlines() if ":CONSOLE" in line]
        problems += ["console: " + line for line in console]
        problems += ["request: " + u for u in sorted(page_requests(netlog)) if not (u.startswith("file:") or u.startswith("data:"))]
        dom = chromium(["--dump-dom", url]).stdout
    scripts = dom.count("<script")
    if scripts != 1:
        problems.append("the DOM has %d <script> elements; the report has one" % scripts)
    trim(shot)
    return dom, problems


def trim(shot):
    """Cut the screenshot's empty bottom (the page is rendered tall) and store it with a
    256-colour palette (a third of the size; the report is mostly flat colour)."""
    try:
        from PIL import Image
    except ImportError:
        return
    image = Image.open(shot).convert("RGB")
    width, height = image.size
    background = image.getpixel((width // 2, height - 1))
    bottom = height
    pixels = image.load()
    while bottom > 1 and all(pixels[x, bottom - 1] == background for x in range(0, width, 7)):
        bottom -= 1
    cropped = image.crop((0, 0, width, min(height, bottom + 24)))
    cropped.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(shot, optimize=True)


def hostile_report(podium, work):
    """A CSV dataset of demo images with one class named like a script; one quick sweep."""
    demo = os.path.join(work, "demo")
    subprocess.run([podium, "datasets", "demo", demo], check=True, capture_output=True)
    rows = ["path,label"]
    for name in ["circle", "square"]:
        folder = os.path.join(demo, "natural_images", name)
        for file in sorted(os.listdir(folder))[:12]:
            label = HOSTILE if name == "circle" else "square, \"quoted\""
            rows.append('natural_images/%s/%s,"%s"' % (name, file, label.replace('"', '""')))
    with open(os.path.join(demo, "labels.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    spec = os.path.join(work, "hostile.yaml")
    with open(spec, "w") as f:
        f.write("name: hostile\ndataset: {adapter: csv, root: %s, file: labels.csv}\n"
                "grid: {backbone: [small_cnn], strategy: [scratch]}\n"
                "fixed: {epochs: 2, batch_size: 8, image_size: 32, augment: none}\n" % demo)
    db = os.path.join(work, "hostile.sqlite")
    subprocess.run([podium, "sweep", "run", spec, "--db", db, "--work", os.path.join(work, "runs")], check=True, capture_output=True)
    subprocess.run([podium, "report", "--db", db, "--out", os.path.join(work, "reports")], check=True, capture_output=True)
    return os.path.join(work, "reports", "hostile", "index.html")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("pages", nargs="*", default=["reports/demo/index.html"])
    parser.add_argument("--podium", default=".build/release/podium")
    parser.add_argument("--shots", default="reports")
    parser.add_argument("--keep-hostile", help="also keep the hostile report's screenshot here")
    args = parser.parse_args()
    if shutil.which("chromium") is None:
        sys.exit("chromium is not installed: apt-get install -y chromium")
    failed = False
    with tempfile.TemporaryDirectory() as work:
        # The check itself must be able to fail: a page that loads an image from the network.
        probe = os.path.join(work, "probe.html")
        with open(probe, "w") as f:
            f.write('<html><body><img src="http://example.com/probe.png"><script>console.error("probe")</script></body></html>')
        _, caught = check(probe, os.path.join(work, "probe.png"))
        if not any(p.startswith("request: http://example.com") for p in caught) or not any(p.startswith("console") for p in caught):
            sys.exit("the network or console check did not catch the probe page: %s" % caught)
        pages = [(page, os.path.join(args.shots, os.path.basename(os.path.dirname(os.path.abspath(page))) + "-report.png"))
                 for page in args.pages]
        pages.append((hostile_report(args.podium, work), os.path.join(work, "hostile.png") if args.keep_hostile is None else args.keep_hostile))
        for page, shot in pages:
            dom, problems = check(page, shot)
            if page.endswith("hostile/index.html"):
                if "&lt;script&gt;alert(1)&lt;/script&gt;" not in dom:
                    problems.append("the class named %s is not shown as text" % HOSTILE)
            print("%s: %s (screenshot %s)" % (page, "ok" if not problems else "FAILED", shot))
            for problem in problems:
                print("  " + problem)
            failed = failed or bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
