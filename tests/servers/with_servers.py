#!/usr/bin/env python3
"""Runs a command with test servers around it:

    with_servers.py [--s3] [--postgres] -- CMD ARGS...

--s3 starts versitygw with a bucket and exports FN0_TEST_S3_URL,
FN0_TEST_S3_ENDPOINT, FN0_TEST_S3_BUCKET, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_REGION; --postgres starts PostgreSQL and exports
FN0_TEST_POSTGRES_URL. The servers live in a temporary directory, are stopped
when CMD ends, and the exit status is CMD's."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

BUCKET = "fn0-test"


def main(argv: list[str]) -> int:
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print(__doc__, file=sys.stderr)
        return 2
    split = argv.index("--")
    flags, cmd = argv[:split], argv[split + 1:]
    unknown = [f for f in flags if f not in ("--s3", "--postgres")]
    if unknown:
        print(f"with_servers.py: unknown option {unknown[0]} (use --s3, --postgres)", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="fn0-servers-"))
    env = dict(os.environ)
    stops = []
    try:
        if "--s3" in flags:
            from s3 import VersityGW
            gw = VersityGW(workdir / "s3").start()
            stops.append(gw.stop)
            gw.create_bucket(BUCKET)
            env.update(gw.env(), FN0_TEST_S3_URL=gw.url(BUCKET), FN0_TEST_S3_ENDPOINT=gw.endpoint,
                       FN0_TEST_S3_BUCKET=BUCKET)
        if "--postgres" in flags:
            if (Path(__file__).resolve().parent / "postgres.py").exists():
                from postgres import Postgres
                pg = Postgres(workdir / "pg").start()
                stops.append(getattr(pg, "destroy", pg.stop))
                env["FN0_TEST_POSTGRES_URL"] = pg.url()
            else:
                print("with_servers.py: tests/servers/postgres.py is absent, no PostgreSQL", file=sys.stderr)
        proc = subprocess.Popen(cmd, env=env)
        # Ctrl-C / a CTest timeout reach the command first; servers stop after.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda s, _f: proc.send_signal(s))
        status = proc.wait()
        return status if status >= 0 else 128 - status
    finally:
        for stop in reversed(stops):
            try:
                stop()
            except Exception as e:  # keep stopping the others
                print(f"with_servers.py: stopping a server failed: {e}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
