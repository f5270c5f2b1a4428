#!/usr/bin/python3
"""How long a large sweep's report takes to render, and how big it is.

Generates a sweep of --runs runs (six learning rates over seeds, 64 validation and 100 test
images of 8 classes) with `podium bench --mode report`, which also times writing the report
and prints its size; then opens the report's index.html in Debian's headless Chromium,
driven over the DevTools protocol (--remote-debugging-pipe), and prints the render time:
from the start of navigation to the second animation frame after the load event (the page
parsed, styled, laid out and painted), as the page's own clock (performance.now()) reads
it; the best of --repeats loads, each in a fresh tab.

Usage: scripts/bench/report_render.py [--podium .build/release/podium] [--runs 500] [--repeats 3] [--folder DIR]
Needs: a release build (swift build -c release) and apt-get install chromium.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

FRAME = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


class Chromium:
    """Headless Chromium on the DevTools pipe: JSON messages separated by NUL bytes."""

    def __init__(self):
        commands_read, self.commands = os.pipe()
        self.replies, replies_write = os.pipe()

        # Chromium reads commands on fd 3 and writes replies on fd 4. The pipe ends go through
        # spare numbers first (either may already be 3 or 4), and dup2 makes them inheritable.
        def wire():
            os.dup2(commands_read, 100)
            os.dup2(replies_write, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe", "--window-size=1200,900",
             "--user-data-dir=" + tempfile.mkdtemp(prefix="podium-chromium-"), "about:blank"],
            preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(commands_read)
        os.close(replies_write)
        self.next_id, self.buffer = 0, b""

    def message(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.replies, 1 << 16)
            if not chunk:
                sys.exit("chromium closed the DevTools pipe")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(line)

    def send(self, method, params=None, session=None, until_event=None):
        self.next_id += 1
        command = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            command["sessionId"] = session
        os.write(self.commands, json.dumps(command).encode() + b"\0")
        result, seen = None, until_event is None
        while result is None or not seen:
            reply = self.message()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    sys.exit(f"{method}: {reply['error']}")
                result = reply["result"]
            if until_event and reply.get("method") == until_event:
                seen = True
        return result

    def render_milliseconds(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=session)
        self.send("Page.navigate", {"url": url}, session=session, until_event="Page.loadEventFired")
        value = self.send("Runtime.evaluate", {"expression": FRAME, "awaitPromise": True}, session=session)["result"]["value"]
        self.send("Target.closeTarget", {"targetId": target})
        return value

    def close(self):
        self.process.kill()


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
    index = os.path.abspath(bench.stdout.strip().rsplit(": ", 1)[-1])
    browser = Chromium()
    try:
        times = [browser.render_milliseconds("file://" + index) for _ in range(args.repeats)]
    finally:
        browser.close()
    print(f"render of {index} in headless Chromium: {min(times) / 1000:.2f} s to the first frames after load "
          f"(best of {args.repeats}: {', '.join(f'{t / 1000:.2f}' for t in times)} s)")


if __name__ == "__main__":
    main()
