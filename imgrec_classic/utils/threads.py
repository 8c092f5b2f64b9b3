"""Thread-count context managers for the libraries that keep a global pool."""

from __future__ import annotations

__all__ = ["torch_threads"]


class torch_threads:
    """Set torch's intra-op thread count for a block, then restore it.

    Parameters
    ----------
    torch : module
        The imported ``torch`` (passed in, so that this module imports no torch).
    n_threads : int or None
        Threads inside the block; None leaves torch's setting as it is.

    Examples
    --------
    >>> import torch
    >>> with torch_threads(torch, 1):
    ...     torch.get_num_threads()
    1
    """

    def __init__(self, torch, n_threads: int | None):
        self.torch, self.n_threads = torch, n_threads

    def __enter__(self):
        self.previous = self.torch.get_num_threads()
        if self.n_threads is not None:
            self.torch.set_num_threads(self.n_threads)
        return self

    def __exit__(self, *exc):
        self.torch.set_num_threads(self.previous)
