"""Set-up shared by every test module.

`make test` runs two pytest-xdist workers on a two-core machine. Each worker's BLAS
would start a thread per core too, four busy threads on two cores, and OpenBLAS's
spinning threads then run several times slower. So each worker, and every process a
test starts, gets one BLAS thread.
"""

import os

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, "1")


@pytest.fixture(scope="session")
def mnist_dir():
    """MNIST in the default data directory, fetched once when missing (skipped when it is
    missing and MLP_OFFLINE=1). Returns None: the default data directory."""
    from mlp import datasets

    try:
        for split in ("train", "valid", "test"):
            datasets.load("mnist", split, fetch=False)
    except datasets.DataError:
        if os.environ.get("MLP_OFFLINE") == "1":
            pytest.skip("MNIST is not in the data directory and MLP_OFFLINE=1")
        datasets.fetch("mnist", progress=False)
    return None


@pytest.fixture(scope="module")
def one_blas_thread():
    """One BLAS thread for a module's tests: a matrix product split over threads adds in
    another order, so runs compared bit for bit must share the thread count."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture
def interrupt_at_epoch(monkeypatch):
    """interrupt_at_epoch(n) makes the n-th training epoch of this process raise
    KeyboardInterrupt, as Ctrl-C would; it returns the list of epochs started so far."""
    from mlp.optimisers import Optimiser

    def arm(epoch: int) -> list[int]:
        calls: list[int] = []
        real = Optimiser.do_training_epoch

        def epoch_or_interrupt(self):
            calls.append(1)
            if len(calls) == epoch:
                raise KeyboardInterrupt
            return real(self)

        monkeypatch.setattr(Optimiser, "do_training_epoch", epoch_or_interrupt)
        return calls

    return arm
