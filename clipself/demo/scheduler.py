"""Independent runs of the demo in parallel processes (one per core, single-threaded: the demo's tiny models use
two cores better as two single-thread runs than as one two-thread run)."""
import os
from typing import Callable, Dict, Optional, Tuple

import torch


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)


def plan_workers(n_tasks: int) -> Tuple[int, int]:
    """``(processes, threads each)`` for ``n_tasks`` independent runs on this machine's cores. The demo's tiny
    models use cores better as parallel single-thread runs: side by side on 2 cores, two 1-thread distillation
    loops did 1.4x the iterations of one 2-thread loop (the whole demo's gain is smaller: its stages differ)."""
    cores = available_cores()
    procs = max(1, min(n_tasks, cores))
    return procs, max(1, cores // procs)


def _fork_start_method() -> None:
    """A spawned worker's start method is 'spawn'; mmengine's runner sets 'fork' in every process it runs in and warns
    when another one was set. Set it first, quietly, where the platform has fork (the behaviour is mmengine's)."""
    import multiprocessing as mp
    if 'fork' in mp.get_all_start_methods():
        mp.set_start_method('fork', force=True)


def _threaded(threads: int, fn: Callable, *args):
    torch.set_num_threads(threads)
    return fn(*args)


def run_in_parallel(tasks: Dict[str, tuple], log: Callable[[str], None],
                    needs: Optional[Dict[str, str]] = None,
                    on_done: Optional[Callable[[str, object], None]] = None, *,
                    processes: Optional[int] = None, threads: Optional[int] = None) -> Dict[str, object]:
    """Run ``{name: (fn, *args)}`` (module-level ``fn``) in parallel processes, each started as a process frees
    up, in the listed order (list the longest first) except that a task named in ``needs`` waits until the task
    it needs has finished. Results by name; ``on_done(name, result)`` is called in this process as each task
    finishes (the place to report it). Inline, in the listed order, when the machine has one core (or
    ``processes`` is 1). ``processes`` / ``threads``: instead of :func:`plan_workers`'s choice. A failed run raises
    its error here."""
    needs = needs or {}
    on_done = on_done or (lambda name, result: None)
    for name, first in needs.items():
        if name not in tasks or first not in tasks or list(tasks).index(first) > list(tasks).index(name):
            raise ValueError(f'{name!r} needs {first!r}: both must be tasks, {first!r} listed first')
    planned = plan_workers(len(tasks))
    procs, threads = processes or planned[0], threads or planned[1]
    if procs == 1:
        results = {}
        for name, (fn, *args) in tasks.items():
            results[name] = _threaded(threads, fn, *args)
            on_done(name, results[name])
        return results
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    log(f'[demo] {len(tasks)} runs in {procs} processes of {threads} thread(s): {", ".join(tasks)}'
        + ''.join(f'; {n} waits for {f}' for n, f in needs.items()))
    pending, running, results = list(tasks), {}, {}
    with ProcessPoolExecutor(procs, mp_context=mp.get_context('spawn'), initializer=_fork_start_method) as pool:
        while pending or running:
            for name in [n for n in pending if n not in needs or needs[n] in results]:
                if len(running) < procs:
                    fn, *args = tasks[name]
                    running[pool.submit(_threaded, threads, fn, *args)] = name
                    pending.remove(name)
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                name = running.pop(future)
                results[name] = future.result()
                on_done(name, results[name])
    return {name: results[name] for name in tasks}
