"""Progress of a long operator command, shown by the command line and silent elsewhere.

The operations take a factory, so they need neither click nor a terminal: the command
line passes ``click.progressbar``, tests and ``--quiet`` the silent default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class ProgressBar(Protocol):
    def update(self, n_steps: int, /) -> None: ...


# (label, total steps) -> a context manager giving a bar to advance.
ProgressFactory = Callable[[str, int], AbstractContextManager[ProgressBar]]


class _SilentBar:
    def update(self, n_steps: int, /) -> None:
        """Shows nothing."""


@contextmanager
def no_progress(_label: str, _length: int) -> Iterator[ProgressBar]:
    """The default: no output at all."""
    yield _SilentBar()
