"""armbench's per-test time limit for the judge's pytest run (`-p armbench_pytest_timeout`, with
`ARMBENCH_TEST_TIMEOUT_S` seconds), for pytest gates that set `test_timeout_s`.

A test that hangs would otherwise hold the whole suite until the gate's own timeout, then fail
the gate without naming it. Broken code makes real suites hang: typer's `test_atomic_write`
reads its child's stdout line by line while the child, crashing, writes a rich traceback of
more than a pipe's 64 KiB to stderr, and both wait for ever. With a limit the test fails alone,
named, and the rest of the suite runs:

- in the main thread (pytest's own, and each xdist worker's) by SIGALRM: the blocking call is
  interrupted and the test fails in whatever phase it was (setup, call, teardown);
- in any other thread, by a watchdog that ends the process after printing which test ran out
  (xdist then reports that test as failed with its crashed worker).

Standard library and pytest only, because it runs with the project's interpreter.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Generator
from typing import Any

import pytest

_SECONDS = float(os.environ.get("ARMBENCH_TEST_TIMEOUT_S", "") or 0)


def _message(nodeid: str) -> str:
    return f"{nodeid} ran past {_SECONDS:g} s (the gate's test_timeout_s) and was stopped"


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_protocol(item: Any, nextitem: Any) -> Generator[None, Any, None]:
    if _SECONDS <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread():

        def expire(signum: int, frame: Any) -> None:
            pytest.fail(_message(item.nodeid), pytrace=False)

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, _SECONDS)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        return

    def end() -> None:
        sys.stderr.write(_message(item.nodeid) + "\n")
        sys.stderr.flush()
        os._exit(1)

    watchdog = threading.Timer(_SECONDS, end)
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()
