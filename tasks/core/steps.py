"""A host's work as named Nornir subtasks, so a Processor sees each step start and end.

``run_step(task, "commit", fn, ...)`` runs ``fn(...)`` as a subtask named ``commit`` and returns what ``fn``
returned; an exception ``fn`` raises comes out of ``run_step`` as itself (not wrapped in Nornir's
``NornirSubTaskError``), so the engine handles it as if ``fn`` had been called directly. The CLI's live view
(``tasks.core.processors.LiveView``) prints a step when it starts, and ``Result.progress`` when a step or a
host's task carries one; a Processor of your own sees the same subtasks (``is_step(task)``).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from nornir.core.exceptions import NornirSubTaskError
from nornir.core.task import Result, Task

from tasks.core.report import root_cause

T = TypeVar("T")
STEP_MARK = "edgekit_step"


def _step(
    task: Task,
    fn: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    progress: Callable[[Any], str | None] | None,
) -> Result:
    value = fn(*args, **kwargs)
    return Result(host=task.host, result=value, progress=progress(value) if progress else None)


setattr(_step, STEP_MARK, True)


def is_step(task: Task) -> bool:
    """Whether ``task`` is one of edgekit's named steps (``run_step``), not an inner task."""
    return bool(getattr(task.task, STEP_MARK, False))


def run_step(
    task: Task,
    name: str,
    fn: Callable[..., T],
    *args: Any,
    progress: Callable[[T], str | None] | None = None,
    **kwargs: Any,
) -> T:
    """``fn(*args, **kwargs)`` as the subtask ``name`` of ``task``: its value, or its exception unwrapped.

    ``progress``: the step's Result carries ``progress(value)`` (what a live view shows when the step ends)."""
    try:
        result = task.run(
            task=_step, name=name, fn=fn, args=args, kwargs=kwargs, progress=progress, severity_level=logging.DEBUG
        )
    except NornirSubTaskError as exc:
        raise root_cause(exc)  # noqa: B904 - the step's own exception, its __cause__ kept (not chained to Nornir's)
    return result[0].result  # type: ignore[no-any-return]


Runner = Callable[..., Any]
"""``run(name, fn, *args, **kwargs) -> fn's value``: how engine code that also runs outside Nornir (unit tests
with a fake device) runs its steps: ``direct`` calls ``fn``, ``runner(task)`` runs it as a named subtask."""


def direct(name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run the step ``fn`` in place (no Nornir task around it)."""
    return fn(*args, **kwargs)


def runner(task: Task) -> Runner:
    """Run steps as named subtasks of ``task`` (``run_step``)."""
    return functools.partial(run_step, task)
