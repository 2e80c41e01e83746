"""The thread policy of the training step's products (mlp.threads, mlp._fast.threads)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from mlp import threads
from mlp._fast import threads as fast_threads


@pytest.fixture(autouse=True)
def default_threads():
    threads.set_num_threads(None)
    yield
    threads.set_num_threads(None)


def test_the_default_is_the_usable_cores(monkeypatch) -> None:
    monkeypatch.delenv("MLP_NUM_THREADS", raising=False)
    assert threads.num_threads() == fast_threads._cores() >= 1


def test_the_environment_chooses_and_set_num_threads_overrides_it(monkeypatch) -> None:
    monkeypatch.setenv("MLP_NUM_THREADS", "3")
    assert threads.num_threads() == 3
    threads.set_num_threads(1)
    assert threads.num_threads() == 1
    threads.set_num_threads(None)
    assert threads.num_threads() == 3


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5"])
def test_a_bad_environment_value_is_named(value, monkeypatch) -> None:
    monkeypatch.setenv("MLP_NUM_THREADS", value)
    with pytest.raises(ValueError, match=r"MLP_NUM_THREADS=.*whole number of threads >= 1"):
        threads.num_threads()


@pytest.mark.parametrize(
    ("count", "error", "message"),
    [(0, ValueError, ">= 1, got 0"), (2.0, TypeError, "an int"), (True, TypeError, "an int")],
)
def test_set_num_threads_refuses_what_is_not_a_count(count, error, message) -> None:
    with pytest.raises(error, match=message):
        threads.set_num_threads(count)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_split_products_are_the_whole_product_within_rounding(count, monkeypatch) -> None:
    monkeypatch.setattr(fast_threads, "SPLIT_FLOPS", 0.0)
    threads.set_num_threads(count)
    rng = np.random.default_rng(0)
    a, b = rng.random((37, 50), dtype=np.float32), rng.random((50, 23), dtype=np.float32)
    out = np.full((37, 23), np.nan, dtype=np.float32)
    with fast_threads.one_blas_thread():
        fast_threads.matmul(a, b, out=out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5)


def test_the_cut_depends_on_the_shape_only() -> None:
    blocks = fast_threads._column_blocks(1024)
    assert len(blocks) == fast_threads.CHUNKS
    assert sum(s.stop - s.start for s in blocks) == 1024
    assert [s.start for s in blocks] == [0, 256, 512, 768]


def test_an_error_in_a_helper_reaches_the_caller() -> None:
    pool = fast_threads._Pool(2)
    done: list[int] = []

    def task(i: int) -> None:
        if i == 3:
            raise RuntimeError("task 3 failed")
        done.append(i)

    with pytest.raises(RuntimeError, match="task 3 failed"):
        pool.run(task, list(range(6)))
    assert sorted(done) == [0, 1, 2, 4, 5]  # the others still ran
    pool.run(done.append, [10, 11])  # and the pool still works
    assert {10, 11} <= set(done)
    pool.close()


def test_each_calling_thread_gets_its_own_pool() -> None:
    threads.set_num_threads(2)
    mine = fast_threads._pool(2)
    theirs = []
    worker = threading.Thread(target=lambda: theirs.append(fast_threads._pool(2)))
    worker.start()
    worker.join()
    assert theirs[0] is not mine and fast_threads._pool(2) is mine


def test_one_blas_thread_restores_the_count_even_after_an_error() -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    def counts() -> set[int]:
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    with threadpool_limits(2, user_api="blas"):
        with pytest.raises(KeyError, match="inside"), fast_threads.one_blas_thread():
            assert counts() == {1}
            raise KeyError("inside")
        assert counts() == {2}
