"""Combining feature branches without holding two copies of the output."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.pipeline import FeatureUnion
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

__all__ = ["ChunkedFeatureUnion"]


class ChunkedFeatureUnion(FeatureUnion):
    """A ``FeatureUnion`` that transforms ``chunk_size`` images at a time.

    scikit-learn's union transforms all images with every branch, then stacks
    the results: at its peak it holds the output twice. Here the output is
    allocated once and filled chunk by chunk, so memory beyond it stays bounded
    by one chunk of every branch, whatever the number of images (a Fisher-vector
    branch alone makes 0.8 MB per image). Branches run one after the other, each
    with its own ``n_jobs``; ``fit_transform`` is ``fit`` then ``transform``.

    With ``weight_grid``, ``fit`` chooses the branches' weights itself, by
    cross-validation on the training images (:func:`~imgrec_classic.kernels.select_kernel_weights`
    on each branch's Gram matrix): the weights suit the user's data rather than the
    data they were tuned on. A branch the search leaves out is not computed at
    ``transform``; its columns are zero.

    Parameters
    ----------
    transformer_list : list of (str, transformer)
    chunk_size : int, default=1024
        Images per chunk. Each chunk ends with a parallel section whose workers
        finish unevenly, so small chunks cost time (with 256-image chunks the
        fusion preset's Caltech-101 run took 467 s, against 436 s with
        scikit-learn's union); 1,024 Fisher vectors of 0.8 MB are the memory
        this default spends.
    n_jobs : int, default=None
        Not used by ``transform`` (branches carry their own parallelism); passed to
        scikit-learn's ``fit``.
    transformer_weights : dict, default=None
        Multiplier of each branch's output, keyed by branch name (1 when absent).
        With ``weight_grid``, the weights of the branches outside the grid, and of
        every branch when a class has fewer than ``weight_cv`` training images.
    weight_grid : dict of str to sequence of float, default=None
        Candidate multipliers of the branches to search, tried one branch at a
        time in the dict's order, each starting left out (for unit-norm branches a
        multiplier ``w`` is a kernel weight ``w ** 2``). ``None``: no search.
    weight_cv : int, default=3
        Stratified folds of the search.
    weight_C : float, default=10.0
        Penalty of the search's one-vs-rest SVM (the presets' linear tail).
    verbose : bool, default=False
        A progress bar over chunks, and over the search's trials.
    verbose_feature_names_out : bool, default=True

    Attributes
    ----------
    weights_ : dict of str to float
        The multiplier of each branch ``transform`` applies (0: left out).
    weight_trail_ : list of dict
        With ``weight_grid``: every trial of the search (kernel weights and ``"cv"``
        score); empty when the search could not run.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> union = ChunkedFeatureUnion([("a", FunctionTransformer()),
    ...                              ("b", FunctionTransformer(np.square))],
    ...                             chunk_size=2, transformer_weights={"b": 10})
    >>> union.fit_transform(np.arange(3.0)[:, None]).tolist()
    [[0.0, 0.0], [1.0, 10.0], [2.0, 40.0]]
    """

    def __init__(self, transformer_list, *, chunk_size=1024, n_jobs=None,
                 transformer_weights=None, weight_grid=None, weight_cv=3, weight_C=10.0,
                 verbose=False, verbose_feature_names_out=True):
        super().__init__(transformer_list, n_jobs=n_jobs,
                         transformer_weights=transformer_weights, verbose=verbose,
                         verbose_feature_names_out=verbose_feature_names_out)
        self.chunk_size = chunk_size
        self.weight_grid = weight_grid
        self.weight_cv = weight_cv
        self.weight_C = weight_C

    def fit(self, X, y=None, **params):
        """Fit every branch (and, with ``weight_grid``, choose their weights)."""
        if self.weight_grid is None:
            super().fit(X, y, **params)
            self.weights_, self.weight_trail_ = self._given_weights(), []
            return self
        self.fit_transform(X, y, **params)
        return self

    def fit_transform(self, X, y=None, **params):
        """Fit every branch, then transform ``X`` chunk by chunk.

        With ``weight_grid``, the training output, computed once, also gives the
        branches' Gram matrices for the weight search, then is scaled in place.
        """
        X = _sized(X)
        self._check_chunk_size()
        if self.weight_grid is None:
            return self.fit(X, y, **params).transform(X)
        search = self._check_search(y)
        super().fit(X, y, **params)
        self.weights_ = {name: 1.0 for name, branch in self.transformer_list
                         if branch != "drop"}
        out = self.transform(X)
        self.weights_, self.weight_trail_ = self._given_weights(), []
        if search:
            self._search_weights(out, y)
        self._scale(out)
        return out

    def transform(self, X):
        """Each branch's output on ``X``, weighted and side by side.

        Parameters
        ----------
        X : sequence of images (paths, bytes or arrays) or array

        Returns
        -------
        ndarray of shape (n_images, sum of the branches' widths)
        """
        check_is_fitted(self)
        X = _sized(X)
        self._check_chunk_size()
        n = len(X)
        if n == 0:
            raise ValueError("X holds no images")
        out = None
        for start in tqdm(range(0, n, self.chunk_size), disable=not self.verbose,
                          desc=type(self).__name__, unit="chunk"):
            chunk = X[start:start + self.chunk_size]
            rows = slice(start, start + len(chunk))
            if out is None:  # the first chunk tells the width and type of the output
                parts = list(self._branch_outputs(chunk))
                self.widths_ = {name: p.shape[1] for name, _, p in parts}
                out = np.empty((n, sum(self.widths_.values())),
                               np.result_type(*(p for *_, p in parts), *(w for _, w, _ in parts)))
                self._write(out, rows, parts)
                del parts  # else the first chunk's outputs live as long as the loop
            else:  # each branch's chunk goes straight into place: no stacked copy
                self._write(out, rows, self._branch_outputs(chunk))
        return out

    def _branch_outputs(self, X):
        """(name, weight, output) of each branch on ``X``, one branch at a time.

        A branch of weight 0 whose width is known is not run: zeros stand for it.
        """
        widths = getattr(self, "widths_", {})
        weights = getattr(self, "weights_", None) or self._given_weights()
        for name, branch in self.transformer_list:
            if branch == "drop":
                continue
            weight = weights.get(name, 1.0)
            if weight == 0 and name in widths:
                yield name, weight, np.zeros((len(X), widths[name]), np.float32)
            else:
                yield name, weight, np.asarray(branch.transform(X))

    @staticmethod
    def _write(out, rows, parts):
        column = 0
        for _, weight, part in parts:
            block = out[rows, column:column + part.shape[1]]
            np.multiply(part, weight, out=block, casting="unsafe")
            column += part.shape[1]

    def _given_weights(self) -> dict:
        given = self.transformer_weights or {}
        return {name: float(given.get(name, 1.0)) for name, branch in self.transformer_list
                if branch != "drop"}

    def _blocks(self) -> dict:
        """Branch name -> its columns in the output."""
        blocks, column = {}, 0
        for name, width in self.widths_.items():
            blocks[name] = slice(column, column + width)
            column += width
        return blocks

    def _check_chunk_size(self):
        if not isinstance(self.chunk_size, Integral) or self.chunk_size < 1:
            raise ValueError(f"chunk_size must be a positive int, got {self.chunk_size!r}")

    def _check_search(self, y) -> bool:
        """Check the search's parameters before any branch runs; False if it cannot run."""
        names = {name for name, branch in self.transformer_list if branch != "drop"}
        grid = self.weight_grid
        if not isinstance(grid, dict) or not grid:
            raise ValueError(f"weight_grid must be a non-empty dict, got {grid!r}")
        unknown = sorted(set(grid) - names)
        if unknown:
            raise ValueError(f"weight_grid names unknown branches {unknown}; "
                             f"the branches are {sorted(names)}")
        for name, values in grid.items():
            if len(values) == 0 or any(not (isinstance(v, Real) and v > 0) for v in values):
                raise ValueError(f"weight_grid[{name!r}] must list positive numbers, "
                                 f"got {values!r}")
        if not isinstance(self.weight_cv, Integral) or self.weight_cv < 2:
            raise ValueError(f"weight_cv must be an int >= 2, got {self.weight_cv!r}")
        if y is None:
            raise ValueError("weight_grid chooses weights from labels: fit needs y")
        smallest = np.unique(np.asarray(y), return_counts=True)[1].min()
        if smallest < self.weight_cv:
            warnings.warn(f"a class has {smallest} training images, fewer than the "
                          f"{self.weight_cv} folds of the weight search: the union keeps "
                          "transformer_weights", UserWarning, stacklevel=3)
            return False
        return True

    def _search_weights(self, out, y):
        from .kernels import select_kernel_weights

        blocks = self._blocks()
        kernels = {name: _gram(out[:, columns]) for name, columns in blocks.items()}
        start = {name: w ** 2 for name, w in self.weights_.items() if name not in self.weight_grid}
        grid = {name: [v ** 2 for v in values] for name, values in self.weight_grid.items()}
        chosen, self.weight_trail_ = select_kernel_weights(
            kernels, y, grid, start, cv=self.weight_cv, C=self.weight_C, n_jobs=self.n_jobs,
            verbose=self.verbose)
        self.weights_ = {name: chosen.get(name, 0.0) ** 0.5 for name in blocks}

    def _scale(self, out):
        for name, columns in self._blocks().items():
            out[:, columns] *= self.weights_[name]


def _gram(block) -> np.ndarray:
    block = np.asarray(block, np.float32)
    return (block @ block.T).astype(np.float64)


def _sized(X):
    """``X`` itself when it has a length, else its items in a list (generators are read once)."""
    return X if hasattr(X, "__len__") else list(X)
