"""Stopping a child process mlpack (or its tests) started: politely first, then for sure.

A service such as `<project> serve` or a package index gets a signal it handles (SIGINT or
SIGTERM) and a grace period; only then is it killed, so it can flush its log and free its port.
"""

from __future__ import annotations

import os
import signal
import subprocess


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes], *, polite: int = signal.SIGTERM,
         grace: float = 20.0, group: bool = False) -> None:
    """Send `polite`, wait up to `grace` seconds, then SIGKILL; reads any piped output to its end.

    With `group`, the signals go to the process group (a process started with
    `start_new_session=True`), and whatever of the group outlives its leader is killed, so no
    child is left running.
    """
    if process.poll() is None:
        _signal(process, polite, group)
        try:
            process.communicate(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal(process, signal.SIGKILL, group)
    if group:  # what the leader left behind goes too
        _signal(process, signal.SIGKILL, group)
    process.communicate()


def _signal(process: subprocess.Popen[str] | subprocess.Popen[bytes], number: int, group: bool) -> None:
    try:
        if group:
            os.killpg(process.pid, number)
        else:
            process.send_signal(number)
    except ProcessLookupError:  # it ended between the poll and the signal
        pass
