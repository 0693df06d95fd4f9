"""`make run` in a terminal: the examples deployed and served, and Ctrl-C
stops the node gracefully with make exiting 0, no "make: *** ... Interrupt".

The test gives `make run` a real pseudo-terminal and types Ctrl-C into it,
as a person does: the terminal then sends SIGINT to its foreground process
group, which is what scripts/run-node.sh arranges to be the node's alone.
(Sending SIGINT to make's process group by hand would be another situation:
make itself interrupted, which no recipe can turn into an exit 0.) The build
is this test run's (`-o build -o examples`: make uses it as it is)."""
from __future__ import annotations

import os
import pty
import select
import signal
import time
from pathlib import Path

from http_client import HttpClient, free_port

REPO = Path(__file__).resolve().parents[2]


def read_until(fd: int, buf: bytearray, needle: bytes, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: every process on the terminal has gone
                return needle in buf
            if not data:
                return needle in buf
            buf += data
    return True


def test_ctrl_c_stops_the_node_and_make_exits_0(build_dir, tmp_path):
    port = free_port()
    data = tmp_path / "run-data"
    env = dict(os.environ, FN0_RUN_PORT=str(port), FN0_RUN_DATA=str(data), TERM="dumb")
    env.pop("FN0_ADMIN_TOKEN", None)
    env.pop("MAKEFLAGS", None)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a session of its own with the pty as its terminal, like a shell's job
        os.chdir(REPO)
        os.execvpe("make", ["make", "--no-print-directory", "-o", "build", "-o", "examples", "run",
                            f"BUILD_DIR={build_dir}"], env)
    out = bytearray()
    try:
        assert read_until(fd, out, b"Ctrl-C stops the node", 300), out.decode(errors="replace")
        text = out.decode(errors="replace")
        assert "deploy failed" not in text, text
        # Served while make runs: the C example and the JS one.
        client = HttpClient("127.0.0.1", port)
        assert client.get("/hello-c/").body == b"Hello from fn0 (C)!\n"
        assert b"Hello from fn0 (JavaScript)!" in client.get("/hello-js/").body
        # The banner is printed just before the script hands the terminal to
        # the node (`fg`); a Ctrl-C typed in between, a few ms on a person's
        # scale but not on a test's, would reach make's process group. So
        # wait, as a person does, until the node has the terminal.
        deadline = time.monotonic() + 30
        while os.tcgetpgrp(fd) == pid and time.monotonic() < deadline:
            time.sleep(0.01)
        assert os.tcgetpgrp(fd) != pid, "the node never got the terminal"
        os.write(fd, b"\x03")  # Ctrl-C, through the terminal's line discipline
        read_until(fd, out, b"\x00never\x00", 60)  # to the end of the output
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    text = out.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert "make: ***" not in text and "Interrupt" not in text, text
    assert "node stopped" in text, text
    # The node stopped the graceful way, and is gone.
    node_log = (data / "node.log").read_text()
    assert "SIGINT received" in node_log and "fn0: stopped" in node_log, node_log
    try:
        HttpClient("127.0.0.1", port, timeout=2).get("/_fn0/healthz")
    except OSError:
        return
    raise AssertionError("the node still answers after Ctrl-C")
