"""Revision code that tries to end the process: one sentence instead of a silent exit.

A revision file runs inside our commands: when it is loaded, when its upgrade() or
downgrade() runs, when lint or the data-loss guard reads it. ``sys.exit(0)`` there would end
``fastapi-alembic upgrade`` with exit code 0 and no output, as if it had worked. Inside
:func:`contained`, ``SystemExit``, ``KeyboardInterrupt`` raised by code (not by Ctrl-C) and
``os._exit()`` (which no ``try`` can catch, so it is replaced for the time being) become a
:class:`~fastapi_alembic.errors.RevisionExited` naming the file.
"""

from __future__ import annotations

import importlib
import os
import signal
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from fastapi_alembic.errors import RevisionExited

# os._exit is posix._exit (nt._exit on Windows): a revision may call either.
_platform_os: Any = importlib.import_module("nt" if os.name == "nt" else "posix")

_real_exit = os._exit
_state = threading.local()
_lock = threading.Lock()
_users = 0


class ProcessExitCalled(BaseException):
    """What ``os._exit(code)`` raises inside :func:`contained` (a BaseException, as
    SystemExit is, so that ``except Exception`` in the revision does not swallow it)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _contained_exit(status: int) -> NoReturn:
    """``os._exit`` while revision code runs: raise on the thread that runs it, in the process
    that runs it; anywhere else (another thread, a forked child) exit for real."""
    if getattr(_state, "depth", 0) and getattr(_state, "pid", None) == os.getpid():
        raise ProcessExitCalled(status)
    _real_exit(status)


class _Interrupts:
    """Tells a real Ctrl-C from ``raise KeyboardInterrupt`` in revision code: while inside, the
    SIGINT handler notes that the signal came before doing what it did before."""

    def __init__(self) -> None:
        self.previous: Any = None
        self.installed = False

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # signals reach the main thread only: here any interrupt is code's own
        try:
            self.previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self.installed = True
        except (ValueError, OSError):  # pragma: no cover - no signals in this interpreter
            self.installed = False

    def _handle(self, number: int, frame: FrameType | None) -> None:
        _state.signalled = True
        previous = self.previous
        if callable(previous):
            previous(number, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    def remove(self) -> None:
        if self.installed:
            signal.signal(signal.SIGINT, self.previous)


@contextmanager
def contained(describe: Callable[[str, BaseException], str]) -> Iterator[None]:
    """Run revision code; an attempt to end the process raises RevisionExited instead.

    ``describe(how, error)`` makes the sentence, ``how`` being what the code did ("calls
    sys.exit(0)", "calls os._exit(3)", "raises KeyboardInterrupt"). The innermost region
    says it (it knows the file best). A real Ctrl-C is left alone: it stays a
    KeyboardInterrupt.
    """
    outermost = not getattr(_state, "depth", 0)
    interrupts = _Interrupts()
    if outermost:
        _state.pid = os.getpid()
        _state.signalled = False
        interrupts.install()
        _patch()
    _state.depth = getattr(_state, "depth", 0) + 1
    try:
        yield
    except KeyboardInterrupt as error:
        if getattr(_state, "signalled", False):
            raise  # Ctrl-C: the user's, not the revision's
        raise RevisionExited(describe("raises KeyboardInterrupt", error)) from None
    except SystemExit as error:
        raise RevisionExited(describe(_exit_call(error), error)) from None
    except ProcessExitCalled as error:
        raise RevisionExited(describe(f"calls os._exit({error.code})", error)) from None
    finally:
        _state.depth -= 1
        if outermost:
            _unpatch()
            interrupts.remove()


def _exit_call(error: SystemExit) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    line = (frames[-1].line or "") if frames else ""
    if "exit(" in line and "SystemExit" not in line:
        return f"calls sys.exit({error.code!r})" if error.code is not None else "calls sys.exit()"
    return f"raises SystemExit({error.code!r})" if error.code is not None else "raises SystemExit"


def _patch() -> None:
    global _users
    with _lock:
        if _users == 0:
            os._exit = _contained_exit
            _platform_os._exit = _contained_exit
        _users += 1


def _unpatch() -> None:
    global _users
    with _lock:
        _users -= 1
        if _users == 0:
            os._exit = _real_exit
            _platform_os._exit = _real_exit


def file_in_traceback(error: BaseException, paths: Iterable[str | Path]) -> str | None:
    """The innermost frame of ``error``'s traceback that is one of ``paths``, as a path."""
    wanted = {str(Path(p).resolve()) for p in paths}
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if str(Path(frame.filename).resolve()) in wanted:
            return frame.filename
    return None
