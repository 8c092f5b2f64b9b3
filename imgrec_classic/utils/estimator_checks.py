"""Estimator checks for transformers whose input is a sequence of images.

scikit-learn's ``check_estimator`` feeds 2-D numeric arrays, which image
extractors cannot take, so it runs none of its data checks on them. This
module runs scikit-learn's data-free checks one by one and adds image-aware
ones: not fitted before ``fit``, clone and pickle round trips, determinism,
list/tuple/generator input, ``n_jobs`` invariance and parameter validation in
``fit``.

Examples
--------
>>> import numpy as np
>>> from imgrec_classic.features import LBP
>>> from imgrec_classic.utils.estimator_checks import check_image_estimator
>>> images = list(np.random.default_rng(0).integers(0, 256, (3, 32, 32), np.uint8))
>>> check_image_estimator(LBP(), images)
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Iterator

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as sk

from ..descriptors import Descriptors
from ..preprocessing.pending import load_image

__all__ = ["check_image_estimator", "image_estimator_checks", "assert_same_output"]

_SKLEARN_DATA_FREE = (
    "check_parameters_default_constructible",
    "check_no_attributes_set_in_init",
    "check_get_params_invariance",
    "check_set_params",
    "check_estimator_cloneable",
    "check_estimator_repr",
    "check_estimator_tags_renamed",
    "check_mixin_order",
    "check_do_not_raise_errors_in_init_or_set_params",
)


def assert_same_output(a, b) -> None:
    """Assert that two outputs (Descriptors, arrays, or lists of images) are identical."""
    if isinstance(a, list) or isinstance(b, list):
        assert isinstance(a, list) and isinstance(b, list) and len(a) == len(b), "lists differ"
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(_decoded(x), _decoded(y))
        return
    if isinstance(a, Descriptors) or isinstance(b, Descriptors):
        assert isinstance(a, Descriptors) and isinstance(b, Descriptors), "types differ"
        for field in Descriptors.__slots__:
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    else:
        np.testing.assert_array_equal(a, b)


def _decoded(image):
    """An image list item as an array (pending images are decoded to compare them)."""
    return image if isinstance(image, np.ndarray) else load_image(image)


def check_not_fitted(estimator, images):
    try:
        clone(estimator).transform(images)
    except NotFittedError:
        return
    raise AssertionError(f"{type(estimator).__name__}.transform before fit did not raise "
                         "NotFittedError")


def check_clone_and_pickle(estimator, images):
    fitted = clone(estimator).fit(images)
    expected = fitted.transform(images)
    assert_same_output(clone(fitted).fit(images).transform(images), expected)
    assert_same_output(pickle.loads(pickle.dumps(fitted)).transform(images), expected)


def check_deterministic(estimator, images):
    fitted = clone(estimator).fit(images)
    assert_same_output(fitted.transform(images), fitted.transform(images))


def check_input_containers(estimator, images):
    expected = clone(estimator).fit_transform(list(images))
    assert_same_output(clone(estimator).fit_transform(tuple(images)), expected)
    assert_same_output(clone(estimator).fit_transform(im for im in images), expected)
    assert_same_output(clone(estimator).fit(images).transform(iter(images)), expected)


def check_n_jobs_invariance(estimator, images):
    one = clone(estimator).set_params(n_jobs=1).fit_transform(images)
    two = clone(estimator).set_params(n_jobs=2).fit_transform(images)
    assert_same_output(one, two)


def check_bad_param_raises_in_fit(estimator, images):
    est = clone(estimator).set_params(n_jobs="many")  # __init__ and set_params must not check
    try:
        est.fit(images)
    except (TypeError, ValueError):
        return
    raise AssertionError(f"{type(estimator).__name__}.fit accepted n_jobs='many'")


_IMAGE_CHECKS = (check_not_fitted, check_clone_and_pickle, check_deterministic,
                 check_input_containers, check_n_jobs_invariance, check_bad_param_raises_in_fit)


def image_estimator_checks(estimator, images) -> Iterator[tuple[str, Callable[[], None]]]:
    """Yield ``(name, check)`` pairs, each check a no-argument callable.

    ``images`` is a small list of images for extractors, or a ``Descriptors``
    for encoders (which then skip the list/tuple/generator check). Use with
    ``pytest.mark.parametrize`` to see each check as its own test.
    """
    name = type(estimator).__name__
    for check_name in _SKLEARN_DATA_FREE:
        check = getattr(sk, check_name, None)
        if check is not None:  # older scikit-learn lacks some
            yield check_name, (lambda c=check: c(name, clone(estimator)))
    parallel = "n_jobs" in estimator.get_params()
    for check in _IMAGE_CHECKS:
        if check is check_input_containers and isinstance(images, Descriptors):
            continue
        if check in (check_n_jobs_invariance, check_bad_param_raises_in_fit) and not parallel:
            continue
        yield check.__name__, (lambda c=check: c(estimator, images))


def check_image_estimator(estimator, images) -> None:
    """Run every check on ``estimator`` with the small list ``images``; raise on failure."""
    for _, check in image_estimator_checks(estimator, images):
        check()
