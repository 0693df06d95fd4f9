"""What every server fixture does with its process."""
from __future__ import annotations

import subprocess


def stop(proc: subprocess.Popen | None, grace: float = 5) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `grace` seconds."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
