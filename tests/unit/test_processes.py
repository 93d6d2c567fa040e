"""processes.stop: the polite signal first, SIGKILL only after the grace period, groups included."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from mlpack_cli import processes

HANDLES_SIGINT = """
import signal, sys, time
def bye(*_):
    print("stopped politely", flush=True)
    sys.exit(0)
signal.signal(signal.SIGINT, bye)
print("ready", flush=True)
time.sleep(60)
"""

IGNORES_SIGTERM = """
import signal, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(60)
"""


def start(code: str, **options: object) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, **options)
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_a_service_that_handles_the_signal_stops_by_itself() -> None:
    process = start(HANDLES_SIGINT)
    processes.stop(process, polite=signal.SIGINT, grace=20)
    assert process.returncode == 0


def test_one_that_ignores_it_is_killed_after_the_grace_period() -> None:
    process = start(IGNORES_SIGTERM)
    began = time.monotonic()
    processes.stop(process, grace=0.5)
    assert process.returncode == -signal.SIGKILL
    assert time.monotonic() - began >= 0.5


def test_a_group_stops_with_its_children() -> None:
    parent = ("import subprocess, sys, time\n"
              f"child = subprocess.Popen([sys.executable, '-c', {IGNORES_SIGTERM!r}],\n"
              "                         stdout=subprocess.PIPE, text=True)\n"
              "print(child.pid, flush=True)\n"
              "child.stdout.readline()\n"
              "print('ready', flush=True)\n"
              "time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", parent], stdout=subprocess.PIPE, text=True,
                               start_new_session=True)
    assert process.stdout is not None
    child = int(process.stdout.readline())
    assert process.stdout.readline() == "ready\n"
    processes.stop(process, grace=0.5, group=True)
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_an_ended_process_is_only_collected() -> None:
    process = subprocess.Popen([sys.executable, "-c", "print('done')"], stdout=subprocess.PIPE, text=True)
    process.wait()
    processes.stop(process)
    assert process.returncode == 0


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
