"""The base of the image-to-image transformers: eager on arrays, lazy on files."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..io.images import read_image
from ..utils.images import as_image_list
from .pending import PendingImage

__all__ = ["ImageTransform"]


class ImageTransform(TransformerMixin, BaseEstimator):
    """Base class of the preprocessing transformers (images in, images out).

    Subclasses implement ``apply(image)`` on one uint8 image, RGB (H, W, 3) or
    grayscale (H, W). ``transform`` applies it at once to decoded arrays and returns
    a list of arrays; for any other source (paths, bytes, or the output of another
    lazy transform) it returns :class:`~imgrec_classic.preprocessing.pending.PendingImage`
    objects, and the work happens later, inside the feature extractor's worker.
    """

    _parameter_constraints: dict = {}

    def fit(self, X=None, y=None):
        """Check the parameters; preprocessing learns nothing from the data.

        Parameters
        ----------
        X : sequence of images, ignored
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        self.fitted_ = True
        return self

    def transform(self, X) -> list:
        """Apply the operation to each image (now for arrays, lazily for files).

        Parameters
        ----------
        X : sequence of images

        Returns
        -------
        images : list of ndarray or of PendingImage
        """
        check_is_fitted(self)
        images = as_image_list(X)
        if all(isinstance(im, np.ndarray) for im in images):
            return [self.apply(read_image(im)) if im.dtype != np.uint8 else self.apply(im)
                    for im in images]
        return [PendingImage.chain(im, self) for im in images]

    def apply(self, image: np.ndarray) -> np.ndarray:
        """Transform one decoded uint8 image."""
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        return tags
