"""A real PostgreSQL 15 server for tests: initdb + pg_ctl on a free loopback
port in a temporary directory, stopped (and removed) at the end. PostgreSQL
refuses to run as root, so under root it runs as the user `nobody`."""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

BIN = Path(os.environ.get("FN0_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, workdir: Path | None = None):
        # Not under pytest's tmp_path: that is mode 0700 and `nobody` could
        # not reach its data directory.
        self.dir = Path(tempfile.mkdtemp(prefix="fn0-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.user = "fn0"
        self.db = "fn0"
        self._as: list[str] = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            self._as = ["runuser", "-u", "nobody", "--"]
        os.chmod(self.dir, 0o755)
        if not (BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 is not installed ({BIN}/initdb missing): run scripts/setup.sh")

    def _run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self._as, *cmd], cwd=self.dir, capture_output=True, text=True, check=check)

    def start(self) -> "Postgres":
        if not self.data.exists():
            self._run(str(BIN / "initdb"), "-D", str(self.data), "-U", self.user, "-A", "trust", "--no-sync",
                      "-E", "UTF8")
        self._pg_ctl_start()
        if not getattr(self, "_created", False):
            self._run(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.db)
            self._created = True
        return self

    def _pg_ctl_start(self) -> None:
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off"
        r = self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "pg.log"), "-w", "-t", "30",
                      "-o", opts, "start", check=False)
        if r.returncode != 0:
            log = (self.dir / "pg.log").read_text(errors="replace") if (self.dir / "pg.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {r.stdout}{r.stderr}\n{log}")

    def stop(self, mode: str = "fast") -> None:
        """Stops the server; its data stays, so start() brings it back on the same port."""
        self._run(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self._pg_ctl_start()

    def psql(self, sql: str) -> str:
        r = self._run("psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, "-d", self.db, "-At",
                      "-v", "ON_ERROR_STOP=1", "-c", sql)
        return r.stdout

    def dump(self) -> str:
        """pg_dump of the database: what a backup of it would hold."""
        r = self._run(str(BIN / "pg_dump"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.db)
        return r.stdout

    def url(self, db: str | None = None) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{db or self.db}"

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
