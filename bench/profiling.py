"""Where a review spends its time: the queries it runs and the engine's
steps, measured without changing the engine."""

import threading
import time
from collections import defaultdict
from contextlib import ExitStack, contextmanager
from unittest.mock import patch

# The steps of a review, in the order they run; the last two run inside
# "_apply".
ENGINE_STEPS = (
    ("prm.status.program", "_get_participants"),
    ("prm.status.engine", "_read_states"),
    ("prm.status.engine", "_measure"),
    ("prm.status.engine", "_decide"),
    ("prm.status.engine", "_apply"),
    ("prm.status.engine", "_follow_up"),
    ("prm.status.engine", "_write_history"),
)


@contextmanager
def captured_queries():
    """Collect (query, params, seconds) of every query this thread runs,
    through the cursor's query hooks (the ones Odoo's profiler uses)."""
    thread = threading.current_thread()
    had_hooks = hasattr(thread, "query_hooks")
    previous = getattr(thread, "query_hooks", ())
    queries = []

    def hook(cr, query, params, start, delay):
        queries.append((query, params, delay))

    thread.query_hooks = (*previous, hook)
    try:
        yield queries
    finally:
        if had_hooks:
            thread.query_hooks = previous
        else:
            del thread.query_hooks


@contextmanager
def timed_steps(env):
    """{step: seconds} spent in each of ``ENGINE_STEPS`` while the block
    runs; the methods are wrapped on the registry's classes and restored."""
    timings = defaultdict(float)
    with ExitStack() as stack:
        for model, method in ENGINE_STEPS:
            model_class = type(env[model])
            stack.enter_context(
                patch.object(
                    model_class, method, _timed(getattr(model_class, method), timings)
                )
            )
        yield timings


def _timed(function, timings):
    def wrapper(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return function(self, *args, **kwargs)
        finally:
            timings[function.__name__] += time.perf_counter() - started

    return wrapper


def query_text(query):
    return query.decode() if isinstance(query, bytes) else query


def is_metric_query(query):
    """Whether ``query`` is one of the metrics' grouped reads (they join
    the partner table under this alias)."""
    return "prm_commercial" in query_text(query)
