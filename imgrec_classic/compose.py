"""The engine: branches of (extractor, encoder) over one loop of images.

:class:`ImageEncoder` runs branches of (extractor, encoder or map) over it: each
worker decodes an image once (its colour and grey views shared by the branches),
calls each branch's public per-batch function (``extract_images``) and per-image
encoder (``encode``), and sends back the weighted rows, which land in one
preallocated output. Memory stays flat in the number of images.
"""

from __future__ import annotations

import os
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .descriptors import Descriptors
from .features.base import decode_and_extract
from .features.cache import DescriptorCache, content_key
from .utils.images import as_image_list
from .utils.parallel import map_batches

__all__ = ["ImageEncoder"]


class ImageEncoder(TransformerMixin, BaseEstimator):
    """Branches of (extractor, encoder or map) over one loop of images.

    As ``ColumnTransformer`` takes ``(name, transformer, columns)``, this takes
    ``(name, extractor, encoder)``: a local extractor (``DenseSIFT``, ``SIFT``,
    ``PretrainedCNN(output="local")``...) with an encoder (``FisherVector``,
    ``VLAD``, ``BagOfVisualWords``), or a global one (``HOG``, ``ColorHistogram``,
    ``PretrainedCNN()``) with a row map (``Hellinger``, ``Normalizer``) or None.
    Each image is decoded once for all branches; each branch writes its weighted
    slice of the image's row.

    ``fit`` makes one pass over the images the encoders sample (each draws its own,
    as its ``max_images`` and ``random_state`` say) to learn their vocabularies
    and mixtures, then, in ``fit_transform``, one pass to encode every training
    image. With ``weight_grid``, the branch weights are chosen by
    cross-validation on the training images' rows
    (:func:`~imgrec_classic.kernels.select_kernel_weights` on each branch's Gram
    matrix); a branch it leaves out is not computed at ``transform``.

    Parameters are reachable as ``<branch>__<param>`` for the extractor and
    ``<branch>_encoding__<param>`` for the encoder (``sift__step``,
    ``sift_encoding__n_components``); ``set_params(<branch>="drop")`` leaves a
    branch out.

    Parameters
    ----------
    branches : list of (str, extractor, encoder or None)
        A map must work row by row (it is fitted on one row of zeros): one that
        learns from the data, as PCA does, belongs after the ImageEncoder.
    weights : dict of str to float, default=None
        Multiplier of each branch's output (1 when absent). With unit-norm
        branches a multiplier ``w`` is a kernel weight ``w ** 2``.
    weight_grid : dict of str to sequence of float, default=None
        Candidate multipliers of the branches to search, tried one branch at a time
        in the dict's order, each starting left out; the branches outside the grid
        keep ``weights``. ``None``: no search.
    weight_cv : int, default=3
        Stratified folds of the search. When a class has fewer training images,
        the search does not run (with a warning) and ``weights`` stand.
    weight_C : float, default=10.0
        Penalty of the search's one-vs-rest SVM (the presets' linear tail).
    batch_size : int, default=None
        Images per worker call (None: about four per worker, at most 32).
    cache : path, default=None
        Folder of each branch's encoded output per image, keyed by the image's
        content and the branch's extractor parameters and fitted encoder (see
        :class:`~imgrec_classic.features.cache.DescriptorCache`): an image encoded
        once by these fitted encoders is not decoded again, as when a model is
        updated (:func:`~imgrec_classic.update.update_model`) or evaluated twice.
        Entries of an encoder fitted again are new ones.
    n_jobs : int, default=None
        joblib workers: decoding, extraction and encoding of each image run in one.
    verbose : bool, default=False
        A progress bar on every pass (sampling, encoding), the encoders' fits and
        the weight search.

    Attributes
    ----------
    weights_ : dict of str to float
        The multiplier ``transform`` applies to each branch (0: left out).
    weight_trail_ : list of dict
        The search's trials (kernel weights and ``"cv"`` score); empty without one.
    widths_ : dict of str to int
        Columns of each branch in the output.
    n_features_out_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.encoding import FisherVector, Hellinger
    >>> from imgrec_classic.features import HOG, DenseSIFT
    >>> images = list(np.random.default_rng(0).integers(0, 256, (6, 64, 64), np.uint8))
    >>> encoder = ImageEncoder([
    ...     ("sift", DenseSIFT(step=8, sizes=(4,)), FisherVector(n_components=2)),
    ...     ("hog", HOG(image_shape=(32, 32)), Hellinger())], weights={"hog": 0.5})
    >>> encoder.fit_transform(images).shape
    (6, 580)
    >>> encoder.get_params()["sift_encoding__n_components"]
    2
    """

    _SUFFIX = "_encoding"

    def __init__(self, branches, *, weights=None, weight_grid=None, weight_cv=3,
                 weight_C=10.0, batch_size=None, cache=None, n_jobs=None, verbose=False):
        self.branches = branches
        self.weights = weights
        self.weight_grid = weight_grid
        self.weight_cv = weight_cv
        self.weight_C = weight_C
        self.batch_size = batch_size
        self.cache = cache
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- parameters -------------------------------------------------------------------
    def get_params(self, deep=True):
        params = super().get_params(deep=False)
        if not deep:
            return params
        for name, extractor, encoder in self.branches:
            for key, part in ((name, extractor), (name + self._SUFFIX, encoder)):
                params[key] = part
                if hasattr(part, "get_params"):
                    params.update({f"{key}__{k}": v for k, v in part.get_params().items()})
        return params

    def set_params(self, **params):
        if not params:
            return self
        own, every = super().get_params(deep=False), self.get_params(deep=True)
        for key in params:
            if key not in every:
                raise ValueError(_unknown_key(key, every))
        for key in [k for k in params if k in own]:
            setattr(self, key, params.pop(key))
        branches = [list(b) for b in self.branches]
        slots = {}
        for i, (name, _, _) in enumerate(branches):
            slots[name], slots[name + self._SUFFIX] = (i, 1), (i, 2)
        nested: dict = {}
        for key, value in params.items():
            head, _, rest = key.partition("__")  # every key was checked above
            if rest:
                nested.setdefault(head, {})[rest] = value
            else:
                i, j = slots[head]
                branches[i][j] = value
        for head, values in nested.items():
            i, j = slots[head]
            if not hasattr(branches[i][j], "set_params"):
                raise ValueError(f"branch part {head!r} is {branches[i][j]!r}: it has no "
                                 f"parameters to set ({sorted(values)})")
            branches[i][j].set_params(**values)
        self.branches = [tuple(b) for b in branches]
        return self

    # -- fitting ----------------------------------------------------------------------
    def fit(self, X, y=None):
        """Fit the extractors and learn the encoders from the images they sample.

        With ``weight_grid`` the training images are also encoded, to choose the
        weights (as ``fit_transform`` does).

        Parameters
        ----------
        X : sequence of images (paths, bytes, file objects or arrays)
        y : array-like of shape (n_images,), default=None
            Needed by ``weight_grid`` only.

        Returns
        -------
        self
        """
        images = as_image_list(X)
        if self._fit_encoders(images, y):
            self._encode_and_search(images, y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then encode the training images in the same pass that chooses weights.

        Returns
        -------
        ndarray of shape (n_images, n_features_out_), float32
        """
        images = as_image_list(X)
        if self._fit_encoders(images, y):
            return self._encode_and_search(images, y)
        return self.transform(images)

    def _fit_encoders(self, images, y) -> bool:
        """Checks, the sampled pass and the encoders' fits; True if a search is to run."""
        self._check_params()
        search = self.weight_grid is not None and self._check_search(y)
        active = self._active()
        for _, extractor, _ in active:
            extractor.fit()
        plans = {name: encoder.plan_sample(len(images))
                 for name, _, encoder in active if _is_encoder(encoder)}
        samples = self._sample_pass(images, active, plans)
        self.widths_ = {}
        for name, extractor, encoder in active:
            if _is_encoder(encoder):
                encoder.fit_sampled(samples[name], plans[name])
                self.widths_[name] = encoder.n_features_out_
            else:
                width = extractor.n_features_out_
                if encoder is not None:
                    encoder.fit(np.zeros((1, width), np.float32))
                    width = encoder.transform(np.zeros((1, width), np.float32)).shape[1]
                self.widths_[name] = width
        self.n_features_out_ = sum(self.widths_.values())
        self.weights_ = self._given_weights()
        self.weight_trail_ = []
        return search

    def _sample_pass(self, images, active, plans) -> dict:
        """Each sampling branch's reduced descriptors of the images it picked."""
        if not plans:
            return {}
        rank = {name: {int(i): r for r, i in enumerate(plan.images)}
                for name, plan in plans.items()}
        union = sorted(set().union(*(map(int, plan.images) for plan in plans.values())))
        extractors = {name: e for name, e, _ in active if name in plans}
        caches = dict(zip(extractors, _caches(extractors.values()), strict=True))
        parts: dict = {name: [None] * len(plans[name].images) for name in plans}
        task = _SampleTask(extractors, caches, plans, rank, union)
        for index, result in zip(union, map_batches(
                task, [images[i] for i in union], n_jobs=self.n_jobs, verbose=self.verbose,
                desc=f"extracting {len(union):,} images sampled for the encoders",
                batch_size=self.batch_size), strict=True):
            for name, reduced in result.items():
                parts[name][rank[name][index]] = reduced
        return {name: Descriptors.concatenate(blocks) for name, blocks in parts.items()}

    def _encode_and_search(self, images, y) -> np.ndarray:
        self.weights_ = {name: 1.0 for name in self.widths_}
        out = self.transform(images)
        self.weights_ = self._given_weights()
        self._search_weights(out, y)
        for name, columns in self._blocks().items():
            out[:, columns] *= self.weights_[name]
        return out

    # -- encoding ---------------------------------------------------------------------
    def transform(self, X) -> np.ndarray:
        """Each image's row: the branches' weighted outputs side by side.

        Parameters
        ----------
        X : sequence of images (paths, bytes, file objects or arrays)

        Returns
        -------
        ndarray of shape (n_images, n_features_out_), float32
        """
        return self._rows(X, keep_codes=False)[0]

    def transform_with_codes(self, X) -> tuple[np.ndarray, list[dict]]:
        """:meth:`transform`, and each image's branch outputs as the row cache holds them.

        A service keeps the second for images that may come back as labelled
        feedback: :meth:`cache_codes` then stores them, so that retraining on those
        images does not encode them again.

        Parameters
        ----------
        X : sequence of images (paths, bytes, file objects or arrays)

        Returns
        -------
        rows : ndarray of shape (n_images, n_features_out_), float32
            Exactly ``transform(X)``.
        codes : list of dict
            Per image, ``{branch name: its encoded output, unweighted}`` for the
            branches of nonzero weight.
        """
        return self._rows(X, keep_codes=True)

    def _rows(self, X, keep_codes: bool) -> tuple[np.ndarray, list[dict] | None]:
        check_is_fitted(self)
        images = as_image_list(X)
        active = self._active()
        task = _EncodeTask(active, self.weights_, _caches(e for _, e, _ in active),
                           self._row_caches(active))
        out = np.empty((len(images), self.n_features_out_), np.float32)
        columns = list(self._blocks().values())
        weights = [self.weights_[name] for name, _, _ in active]
        for k in np.flatnonzero(np.equal(weights, 0)):
            out[:, columns[k]] = 0
        branches = ", ".join(name for name, _, _ in active)
        codes = map_batches(task, images, n_jobs=self.n_jobs, verbose=self.verbose,
                            desc=f"extracting and encoding {len(images):,} images ({branches})",
                            batch_size=self.batch_size)
        # Each code lands, weighted, in its slice of the output: no row buffer beside it.
        kept = [] if keep_codes else None
        for i, per_branch in enumerate(codes):
            for k, code in per_branch.items():
                np.multiply(code, weights[k], out=out[i, columns[k]], casting="unsafe")
            if keep_codes:
                kept.append({active[k][0]: code for k, code in per_branch.items()})
        return out, kept

    def cache_codes(self, folder, codes: dict, digest: str) -> None:
        """Store one image's branch outputs in the row cache ``folder``.

        Parameters
        ----------
        folder : path
            A row cache, as ``cache`` takes it.
        codes : dict
            One image's entry of :meth:`transform_with_codes`.
        digest : str
            The image's content key: the SHA-256 (hex) of its file's bytes. A later
            pass over that file with ``cache=folder`` reads these codes instead of
            decoding and encoding it.

        Examples
        --------
        >>> import tempfile, hashlib, cv2, numpy as np
        >>> from imgrec_classic.features import HOG
        >>> encoder = ImageEncoder([("hog", HOG(image_shape=(32, 32)), None)])
        >>> image = np.random.default_rng(0).integers(0, 256, (40, 40), np.uint8)
        >>> png = cv2.imencode(".png", image)[1].tobytes()
        >>> rows, codes = encoder.fit([png]).transform_with_codes([png])
        >>> folder = tempfile.mkdtemp()
        >>> encoder.cache_codes(folder, codes[0], hashlib.sha256(png).hexdigest())
        >>> bool((encoder.set_params(cache=folder).transform([png]) == rows).all())
        True
        """
        check_is_fitted(self)
        for name, extractor, encoder in self._active():
            if name in codes:
                cache = DescriptorCache(folder, extractor, encoder)
                cache.put_at(cache.path(None, digest), codes[name])

    # -- checks and helpers -----------------------------------------------------------
    def _row_caches(self, active) -> list:
        """Each branch's cache of encoded rows, keyed by its fitted state, or None."""
        return [None if self.cache is None else DescriptorCache(self.cache, e, c)
                for _, e, c in active]

    def _active(self) -> list:
        return [(name, e, c) for name, e, c in self.branches if not _dropped(e)]

    def _given_weights(self) -> dict:
        given = self.weights or {}
        return {name: float(given.get(name, 1.0)) for name, _, _ in self._active()}

    def _blocks(self) -> dict:
        blocks, column = {}, 0
        for name, width in self.widths_.items():
            blocks[name] = slice(column, column + width)
            column += width
        return blocks

    def _check_params(self):
        if not isinstance(self.branches, (list, tuple)) or not self.branches:
            raise ValueError("branches must be a non-empty list of (name, extractor, encoder)")
        names = []
        for branch in self.branches:
            if not (isinstance(branch, tuple | list) and len(branch) == 3):
                raise ValueError(f"a branch is (name, extractor, encoder), got {branch!r}")
            name, extractor, encoder = branch
            if not isinstance(name, str) or "__" in name or not name:
                raise ValueError(f"branch names are non-empty strings without '__', got "
                                 f"{name!r}")
            if not _dropped(extractor) and not hasattr(extractor, "extract_images"):
                raise TypeError(f"branch {name!r}: {extractor!r} is not an image extractor "
                                "(it has no extract_images)")
            if encoder is not None and not hasattr(encoder, "transform") \
                    and not _is_encoder(encoder):
                raise TypeError(f"branch {name!r}: {encoder!r} is neither an encoder nor a map")
            if not _dropped(extractor) and getattr(extractor, "local", False) \
                    and not _is_encoder(encoder):
                raise TypeError(f"branch {name!r}: {type(extractor).__name__} gives local "
                                "descriptors, which need an encoder (FisherVector, VLAD, "
                                f"BagOfVisualWords), not {encoder!r}")
            if not _dropped(extractor) and not getattr(extractor, "local", False) \
                    and _is_encoder(encoder):
                raise TypeError(f"branch {name!r}: {type(extractor).__name__} gives one vector "
                                f"per image; {type(encoder).__name__} encodes local "
                                "descriptors (use a row map such as Hellinger, or None)")
            names.append(name)
        clash = {n for n in names if names.count(n) > 1} | (
            set(names) & set(super().get_params(deep=False)))
        clash |= {n for n in names if n.endswith(self._SUFFIX) and
                  n[:-len(self._SUFFIX)] in names}
        if clash:
            raise ValueError(f"branch names must be unique and unlike the parameters: "
                             f"{sorted(clash)}")
        if not self._active():
            raise ValueError("every branch is dropped")
        for key, value in (self.weights or {}).items():
            if key not in names or not isinstance(value, Real) or value < 0:
                raise ValueError(f"weights must map branch names to numbers >= 0, got "
                                 f"{key!r}: {value!r}")
        if self.batch_size is not None and (not isinstance(self.batch_size, Integral)
                                            or self.batch_size < 1):
            raise ValueError(f"batch_size must be a positive int, got {self.batch_size!r}")
        if self.cache is not None and not isinstance(self.cache, str | os.PathLike):
            raise ValueError(f"cache must be a folder path or None, got {self.cache!r}")

    def _check_search(self, y) -> bool:
        """Check the search's parameters before any image is read; False if it cannot run."""
        names = {name for name, _, _ in self._active()}
        grid = self.weight_grid
        if not isinstance(grid, dict) or not grid:
            raise ValueError(f"weight_grid must be a non-empty dict, got {grid!r}")
        unknown = sorted(set(grid) - {name for name, _, _ in self.branches})
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
                          f"{self.weight_cv} folds of the weight search: the encoder keeps "
                          "its weights", UserWarning, stacklevel=4)
            return False
        return True

    def _search_weights(self, out, y):
        from .kernels import select_kernel_weights

        blocks = self._blocks()
        # Kernel weights (a multiplier's square), rounded off the float noise of w ** 0.5 ** 2.
        grid = {name: [float(f"{v ** 2:.12g}") for v in values]
                for name, values in self.weight_grid.items() if name in blocks}
        kernels = {name: _gram(out[:, columns]) for name, columns in blocks.items()}
        start = {name: w ** 2 for name, w in self.weights_.items() if name not in grid}
        chosen, self.weight_trail_ = select_kernel_weights(
            kernels, y, grid, start, cv=self.weight_cv, C=self.weight_C, n_jobs=self.n_jobs,
            verbose=self.verbose)
        self.weights_ = {name: chosen.get(name, 0.0) ** 0.5 for name in blocks}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags


class _SampleTask:
    """A worker's part of the sampled pass: extract, then keep each branch's quota."""

    def __init__(self, extractors, caches, plans, rank, indices):
        self.extractors, self.caches = extractors, caches
        self.plans, self.rank, self.indices = plans, rank, indices

    def __call__(self, sources, start):
        names = list(self.extractors)
        indices = self.indices[start:start + len(sources)]
        out = []
        for index, src in zip(indices, sources, strict=True):
            wanted = [n for n in names if index in self.rank[n]]
            results = decode_and_extract([self.extractors[n] for n in wanted], [src],
                                         [self.caches[n] for n in wanted])[0]
            out.append({n: self.plans[n].reduce(r, self.rank[n][index])
                        for n, r in zip(wanted, results, strict=True)})
        return out


class _EncodeTask:
    """A worker's part of an encoding pass: each image's code from every weighted branch.

    A branch with a row cache reads the image's encoded output from it; an image
    every branch finds there is not decoded at all.
    """

    def __init__(self, active, weights, caches, row_caches):
        self.active, self.weights, self.caches = active, weights, caches
        self.row_caches = row_caches

    def __call__(self, sources, start):
        run = [k for k, (name, _, _) in enumerate(self.active) if self.weights[name] != 0]
        codes, paths = self._cached(sources, run)
        todo = [i for i, found in enumerate(codes) if len(found) < len(run)]
        results = decode_and_extract([self.active[k][1] for k in run],
                                     [sources[i] for i in todo],
                                     [self.caches[k] for k in run]) if todo else []
        for i, per_branch in zip(todo, results, strict=True):
            for k, result in zip(run, per_branch, strict=True):
                if k not in codes[i]:
                    codes[i][k] = _encode(self.active[k][2], result)
                    if paths[i][k] is not None:
                        DescriptorCache.put_at(paths[i][k], codes[i][k])
        return codes

    def _cached(self, sources, run):
        """Per source, the codes its branches' row caches hold, and where each belongs."""
        codes = [{} for _ in sources]
        paths = [dict.fromkeys(run) for _ in sources]
        if not any(self.row_caches[k] is not None for k in run):
            return codes, paths
        for i, src in enumerate(sources):
            digest = content_key(src)  # once per image, for every branch
            for k in run:
                if self.row_caches[k] is not None:
                    paths[i][k] = self.row_caches[k].path(src, digest)
                    code = DescriptorCache.get_at(paths[i][k])
                    if code is not None:
                        codes[i][k] = code
        return codes, paths


def _encode(encoder, result) -> np.ndarray:
    if encoder is None:
        return np.ravel(result)
    if _is_encoder(encoder):
        return encoder.encode(result)
    return np.ravel(encoder.transform(np.asarray(result, np.float32).reshape(1, -1)))


def _caches(extractors) -> list:
    """Each extractor's on-disk cache, or None."""
    return [None if getattr(e, "cache", None) is None else DescriptorCache(e.cache, e)
            for e in extractors]


def _is_encoder(part) -> bool:
    return hasattr(part, "plan_sample") and hasattr(part, "encode")


def _dropped(part) -> bool:
    return isinstance(part, str) and part == "drop"


def _gram(block) -> np.ndarray:
    block = np.asarray(block, np.float32)
    return (block @ block.T).astype(np.float64)


def _unknown_key(key: str, params: dict) -> str:
    import difflib

    close = difflib.get_close_matches(key, [k for k in params if "__" in k], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return f"invalid parameter {key!r} of ImageEncoder{hint}"

