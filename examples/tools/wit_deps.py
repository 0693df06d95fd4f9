#!/usr/bin/env python3
"""Writes the WASI 0.2 WIT packages (wasi:http and what it uses) into OUT/deps.

The WIT comes from the wasmtime-wasi-http crate that engine/Cargo.lock pins, so
guests are built against exactly the interfaces fn0's host provides. A guest
toolchain that insists on an older 0.2 patch version (componentize-js wants
0.2.10) gets the same files relabelled, minus the items marked as added after
that version; `--enable-unstable F` turns items gated behind the unstable
feature F into plain ones, for toolchains built with that feature on (the
engine inside componentize-js 0.23 has `network-error-code`). Nothing here is
committed: it is derived at build time.
"""
import argparse
import json
import pathlib
import re
import subprocess
import sys

SINCE = re.compile(r"@since\(version = (\d+)\.(\d+)\.(\d+)\)")
PKG_VERSION = re.compile(r"@0\.2\.\d+\b")


def crate_wit_dir(manifest: pathlib.Path) -> pathlib.Path:
    meta = json.loads(subprocess.check_output(
        ["cargo", "metadata", "--format-version", "1", "--locked",
         "--manifest-path", str(manifest)]))
    for pkg in meta["packages"]:
        if pkg["name"] == "wasmtime-wasi-http":
            return pathlib.Path(pkg["manifest_path"]).parent / "wit" / "deps"
    sys.exit("wasmtime-wasi-http not found in engine/Cargo.lock")


def enable_unstable(text: str, features: list) -> str:
    for f in features:
        text = re.sub(r"^\s*@unstable\(feature = %s\)\n" % re.escape(f), "", text, flags=re.M)
    return text


def relabel(text: str, target: tuple) -> str:
    """Renames every 0.2.x package reference to `target` and drops items
    introduced after it (an @since line followed by a one-line item)."""
    out, skip_next = [], False
    for line in text.splitlines(keepends=True):
        if skip_next:
            skip_next = False
            if not line.rstrip().endswith(";"):
                sys.exit(f"cannot drop multi-line item: {line!r}")
            continue
        m = SINCE.search(line)
        if m and tuple(map(int, m.groups())) > target:
            skip_next = True
            continue
        out.append(line)
    return PKG_VERSION.sub("@%d.%d.%d" % target, "".join(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--manifest", required=True, type=pathlib.Path)
    ap.add_argument("--version", help="0.2 patch version to present, e.g. 0.2.10")
    ap.add_argument("--enable-unstable", action="append", default=[], metavar="FEATURE")
    ap.add_argument("--out", required=True, type=pathlib.Path)
    args = ap.parse_args()
    src = crate_wit_dir(args.manifest)
    deps = args.out / "deps"
    deps.mkdir(parents=True, exist_ok=True)
    target = tuple(map(int, args.version.split("."))) if args.version else None
    for f in sorted(src.glob("*.wit")):
        text = f.read_text()
        if target:
            text = relabel(text, target)
        text = enable_unstable(text, args.enable_unstable)
        (deps / f.name).write_text(text)


if __name__ == "__main__":
    main()
