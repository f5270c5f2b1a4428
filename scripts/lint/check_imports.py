#!/usr/bin/env python3
"""Fails when a target imports a module that Package.swift does not declare as its
dependency (SwiftPM builds such code as long as the module happens to be built first, so
nothing else catches it), and prints the dependency graph of the library targets.

Usage: scripts/lint/check_imports.py   (from the repository root; no arguments)
"""
import os
import re
import sys

SYSTEM = {"Foundation", "Dispatch", "XCTest", "Glibc", "Darwin", "FoundationEssentials"}


def targets(package):
    """(name, path, dependencies) of every target in Package.swift."""
    found = []
    for match in re.finditer(r'\.(?:target|testTarget|executableTarget|systemLibrary)\((.*?)\)(?=,\s*(?:\.|//|\]))', package, re.S):
        body = match.group(1)
        name = re.search(r'name:\s*"([^"]+)"', body).group(1)
        path = re.search(r'path:\s*"([^"]+)"', body)
        kind = "Tests" if "testTarget" in match.group(0)[:12] else "Sources"
        folder = path.group(1) if path else os.path.join(kind, name)
        dependencies = set()
        section = re.search(r'dependencies:\s*\[(.*?)(?:\]|$)', body, re.S)
        if section:
            dependencies |= set(re.findall(r'\.product\(name:\s*"([^"]+)"', section.group(1)))
            text = re.sub(r'\.product\([^)]*\)|package:\s*"[^"]*"', "", section.group(1))
            dependencies |= set(re.findall(r'"([^"]+)"', text))
        found.append((name, folder, dependencies))
    return found


def imports(folder):
    modules = set()
    for root, _, files in os.walk(folder):
        for file in files:
            if file.endswith(".swift"):
                with open(os.path.join(root, file)) as source:
                    modules |= set(re.findall(r'^(?:@testable )?import (\w+)', source.read(), re.M))
    return modules - SYSTEM


def main():
    with open("Package.swift") as file:
        package = file.read()
    failures = 0
    for name, folder, dependencies in targets(package):
        if not os.path.isdir(folder):
            continue
        undeclared = sorted(imports(folder) - dependencies - {name})
        if undeclared:
            failures += 1
            print(f"{name} imports {', '.join(undeclared)} without declaring it in Package.swift")
        elif folder.startswith("Sources/") and dependencies:
            print(f"{name} <- {', '.join(sorted(dependencies))}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
