#!/usr/bin/env python3
"""Checks that each workspace package's declared `rust-version` is true of
the committed lockfile: no package in its normal or build dependency tree
(all features, every platform: the conservative reading) declares a newer
one. Only one toolchain can be installed on our machines, so this is how
CI checks the MSRV: by what the dependencies declare.

Usage: python3 scripts/check-msrv.py
"""
import json
import subprocess
import sys


def version(text):
    return tuple(int(part) for part in text.split("."))[:2] if text else (0, 0)


def main():
    metadata = json.loads(
        subprocess.check_output(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features"]
        )
    )
    packages = {package["id"]: package for package in metadata["packages"]}
    nodes = {node["id"]: node for node in metadata["resolve"]["nodes"]}
    failed = False
    for member in metadata["workspace_members"]:
        declared = packages[member].get("rust_version")
        seen, stack, newest = {member}, [member], ((0, 0), None)
        while stack:
            for dependency in nodes[stack.pop()]["deps"]:
                kinds = {kind["kind"] for kind in dependency["dep_kinds"]}
                if not kinds & {None, "build"} or dependency["pkg"] in seen:
                    continue
                seen.add(dependency["pkg"])
                stack.append(dependency["pkg"])
                package = packages[dependency["pkg"]]
                needed = version(package.get("rust_version"))
                if needed > newest[0] and dependency["pkg"] not in metadata["workspace_members"]:
                    newest = (needed, f"{package['name']} {package['version']}")
        name = packages[member]["name"]
        needed = ".".join(map(str, newest[0]))
        if declared is None or version(declared) < newest[0]:
            print(f"{name}: declares rust-version {declared}, but {newest[1]} needs {needed}")
            failed = True
        else:
            print(f"{name}: rust-version {declared} (its dependencies need {needed}: {newest[1]})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
