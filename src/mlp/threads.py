"""How many threads training uses for its matrix products.

Inside `Optimiser`'s training step BLAS runs on one thread, and the step spreads its
large matrix products (a hidden layer of about 1,000 units) over `num_threads()` threads
of its own, each taking blocks of output columns; smaller products run on one thread.
That keeps training about as fast on a busy machine as the share of the cores it gets,
where a multi-threaded BLAS stalls whenever one of its threads is descheduled; the
reasoning and the figures are in `mlp._fast.threads`. The numbers do not depend on the
number of threads or on the load: the same seed gives the same numbers everywhere.

    MLP_NUM_THREADS=1 mlp train ...     # environment: 1 thread
    from mlp import threads
    threads.num_threads()               # the count in use (default: the usable cores)
    threads.set_num_threads(4)          # from Python; None goes back to the default
"""

from mlp._fast.threads import num_threads, set_num_threads

__all__ = ["num_threads", "set_num_threads"]
