"""Work spread over forked processes, one item each, when the machine has CPUs to spare.

The report draws its charts this way and trend builds and draws one series (host) per
process. Forked workers start with what this process has imported and computed, the items
included: a worker is told only the index of its item, so a large item (a series' plan of
thousands of runs) costs no pickling on the way out; what a worker returns is pickled
back. Where processes cannot be made (no fork, a sandbox that forbids them), the items
are done here, one after the other, with the same results.
"""

import os

# The function and items of the map_forked call under way, read by the forked workers.
_job = None


def workers_for(items, jobs=None):
    """How many processes to use: one per item, at most `jobs` (default: the CPUs)."""
    return max(1, min(len(items), jobs or os.cpu_count() or 1))


def _run_one(index):
    function, items = _job
    return function(items[index])


def map_forked(function, items, jobs=None):
    """[function(item) for item in items], in forked processes where that helps. An
    exception raised by function reaches the caller as it would in this process. Fork
    only after closing what must not be shared with a child (database connections)."""
    global _job
    items = list(items)
    workers = workers_for(items, jobs)
    if workers > 1:
        import concurrent.futures
        import multiprocessing

        _job = (function, items)
        try:
            context = multiprocessing.get_context("fork")
            # The workers are forked at the first submit, after _job is set.
            with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
                return list(pool.map(_run_one, range(len(items))))
        except (OSError, concurrent.futures.process.BrokenProcessPool):
            pass  # no processes here: do it in this one
        finally:
            _job = None
    return [function(item) for item in items]
