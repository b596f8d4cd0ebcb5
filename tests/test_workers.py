"""The extraction pool with real worker processes: a page that kills its worker or hangs
fails alone, every other page is still extracted, and the pool stays usable."""

from __future__ import annotations

import ctypes
import os
import time
from concurrent.futures import as_completed, wait
from pathlib import Path

import pytest

from newswatch.workers import ExtractorPool, WorkerCrashed, WorkerTimeout

PAGE = "<html><body><article><h1>{title}</h1>{body}</article></body></html>"


def parse(html: str) -> str:
    """A stand-in parser with the behaviours of a real one on bad pages."""
    if "CRASH-EXIT" in html:
        os._exit(3)
    if "CRASH-SEGV" in html:
        ctypes.string_at(0)  # reads address 0: SIGSEGV, as a buggy C extension would
    if "HANG" in html:
        time.sleep(60)
    if "NOMEM" in html:
        raise MemoryError("page too big")
    if "SLOW" in html:
        time.sleep(1.5)
    if "BROKEN" in html:
        raise ValueError("not an article")
    return html.split("<h1>")[1].split("</h1>")[0] + f"@{os.getpid()}"


def rendezvous(folder: str, me: str, other: str) -> tuple[int, float, float]:
    """Announce this page, then wait (20 s at most) for the other one: two pages in two
    processes at once both see each other; run one after the other, the first waits
    alone until its deadline. Returns (pid, start, end) on the system-wide monotonic clock."""
    start = time.monotonic()
    Path(folder, me).touch()
    deadline = start + 20
    while not Path(folder, other).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.getpid(), start, time.monotonic()


def page(title: str, marker: str = "") -> str:
    return PAGE.format(title=title, body=f"<p>{marker} text of {title}</p>")


def title(result: str) -> str:
    return result.split("@")[0]


@pytest.fixture
def pool():
    with ExtractorPool(2, timeout=3) as p:
        yield p


def test_crashing_and_hanging_pages_fail_alone(pool):
    pages = {f"good-{i}": page(f"good-{i}") for i in range(12)}
    pages["exit"] = page("exit", "CRASH-EXIT")
    pages["segv"] = page("segv", "CRASH-SEGV")
    pages["hang"] = page("hang", "HANG")
    futures = {name: pool.submit(parse, html) for name, html in pages.items()}
    # The hung page sleeps 60 s: all done well before that means its worker was stopped.
    _done, not_done = wait(futures.values(), timeout=45)
    assert not not_done, "the hung page held up the pass"

    for name, future in futures.items():
        if name.startswith("good"):
            assert title(future.result()) == name
    with pytest.raises(WorkerCrashed, match="status 3"):
        futures["exit"].result()
    with pytest.raises(WorkerCrashed, match="SIGSEGV"):
        futures["segv"].result()
    with pytest.raises(WorkerTimeout):
        futures["hang"].result()
    assert pool.crashed == 3

    # Still usable, with fresh workers in place of the dead ones.
    after = [pool.submit(parse, page(f"after-{i}")) for i in range(6)]
    assert sorted(title(f.result(timeout=30)) for f in after) == sorted(
        f"after-{i}" for i in range(6))


def test_parser_exceptions_come_back_and_memory_error_replaces_the_worker(pool):
    broken = pool.submit(parse, page("b", "BROKEN"))
    with pytest.raises(ValueError, match="not an article"):
        broken.result(timeout=30)
    first = {title(pool.submit(parse, page("x")).result(timeout=30)) for _ in range(2)}
    assert first == {"x"}

    nomem = pool.submit(parse, page("m", "NOMEM"))
    with pytest.raises(MemoryError):
        nomem.result(timeout=30)
    assert pool.crashed == 0  # an exception is a failed page, not a lost worker
    assert title(pool.submit(parse, page("y")).result(timeout=30)) == "y"


def test_results_arrive_in_completion_order(pool):
    slow = pool.submit(parse, page("slow", "SLOW"))
    fast = [pool.submit(parse, page(f"fast-{i}")) for i in range(5)]
    order = [title(f.result()) for f in as_completed([slow, *fast], timeout=30)]
    # The slow page was submitted first and comes back last: the fast ones went through
    # the other worker meanwhile.
    assert order[-1] == "slow"
    assert sorted(order[:-1]) == sorted(f"fast-{i}" for i in range(5))


def test_pages_run_in_parallel_processes(tmp_path):
    with ExtractorPool(2, timeout=30) as pool:
        futures = [pool.submit(rendezvous, str(tmp_path), "a", "b"),
                   pool.submit(rendezvous, str(tmp_path), "b", "a")]
        (pid_a, start_a, end_a), (pid_b, start_b, end_b) = [f.result(timeout=60)
                                                            for f in futures]
    assert pid_a != pid_b and os.getpid() not in (pid_a, pid_b)
    # Each page was running while the other started: the two intervals overlap.
    assert max(start_a, start_b) < min(end_a, end_b)


def test_workers_are_recycled_and_close_finishes_queued_pages():
    pool = ExtractorPool(1, timeout=10, max_tasks=3)
    futures = [pool.submit(parse, page(f"r{i}")) for i in range(7)]
    pool.close()  # waits for the queue, then stops the worker
    results = [f.result(timeout=0) for f in futures]
    assert [title(r) for r in results] == [f"r{i}" for i in range(7)]
    assert len({r.split("@")[1] for r in results}) == 3  # 3 + 3 + 1 pages per worker
    with pytest.raises(RuntimeError):
        pool.submit(parse, page("late"))
