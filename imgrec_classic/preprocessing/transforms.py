"""Resize, ToGray, Equalize, CenterCrop: one image in, one image out."""

from __future__ import annotations

from numbers import Integral, Real

import cv2
import numpy as np

from ..utils._param_validation import Interval, StrOptions
from .base import ImageTransform

__all__ = ["CenterCrop", "Equalize", "Resize", "ToGray"]

_INTERPOLATION = {"area": cv2.INTER_AREA, "linear": cv2.INTER_LINEAR, "cubic": cv2.INTER_CUBIC,
                  "nearest": cv2.INTER_NEAREST}


def _pair(size) -> tuple[int, int]:
    """(height, width) from an int or a pair."""
    if isinstance(size, Integral):
        return int(size), int(size)
    h, w = size
    return int(h), int(w)


def _check_size(size, name: str):
    h, w = _pair(size)
    if h < 1 or w < 1:
        raise ValueError(f"{name} must be positive, got {size!r}")


def _resize(image: np.ndarray, width: int, height: int, interpolation: str) -> np.ndarray:
    if (height, width) == image.shape[:2]:
        return image
    shrinking = width * height < image.shape[0] * image.shape[1]
    # Area averaging is the right filter for shrinking, but blocky for enlarging.
    flag = cv2.INTER_LINEAR if interpolation == "area" and not shrinking else \
        _INTERPOLATION[interpolation]
    return cv2.resize(image, (max(1, width), max(1, height)), interpolation=flag)


def center_crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The centred ``height`` x ``width`` window (a side smaller than asked stays whole)."""
    h, w = image.shape[:2]
    top, left = max(0, (h - height) // 2), max(0, (w - width) // 2)
    return image[top:top + min(h, height), left:left + min(w, width)].copy()


class Resize(ImageTransform):
    """Resize images to a maximum side, or to an exact shape.

    Parameters
    ----------
    max_side : int, default=None
        Scale so that the longer side equals ``max_side`` (aspect kept).
    shape : int or (height, width), default=None
        Exact output shape. With ``keep_aspect=True`` the image is scaled to cover
        the shape and the centre is cropped; otherwise it is stretched.
    keep_aspect : bool, default=True
    upscale : bool, default=True
        With ``max_side``, also enlarge smaller images; ``False`` only shrinks.
    interpolation : {"area", "linear", "cubic", "nearest"}, default="area"
        ``"area"`` uses area averaging when shrinking and bilinear when enlarging.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.preprocessing import Resize
    >>> image = np.zeros((100, 200, 3), np.uint8)
    >>> Resize(max_side=50).fit_transform([image])[0].shape
    (25, 50, 3)
    >>> Resize(shape=(32, 32)).fit_transform([image])[0].shape
    (32, 32, 3)
    """

    _parameter_constraints = {
        "max_side": [Interval(Integral, 1, None, closed="left"), None],
        "shape": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "keep_aspect": ["boolean"],
        "upscale": ["boolean"],
        "interpolation": [StrOptions(set(_INTERPOLATION))],
    }

    def __init__(self, max_side=None, shape=None, keep_aspect=True, upscale=True,
                 interpolation="area"):
        self.max_side = max_side
        self.shape = shape
        self.keep_aspect = keep_aspect
        self.upscale = upscale
        self.interpolation = interpolation

    def fit(self, X=None, y=None):
        super().fit(X, y)
        if (self.max_side is None) == (self.shape is None):
            raise ValueError("give exactly one of max_side and shape")
        if self.shape is not None:
            _check_size(self.shape, "shape")
        return self

    def apply(self, image):
        h, w = image.shape[:2]
        if self.max_side is not None:
            scale = self.max_side / max(h, w)
            if scale > 1 and not self.upscale:
                return image
            return _resize(image, round(w * scale), round(h * scale), self.interpolation)
        out_h, out_w = _pair(self.shape)
        if not self.keep_aspect:
            return _resize(image, out_w, out_h, self.interpolation)
        scale = max(out_h / h, out_w / w)
        covering = _resize(image, max(out_w, round(w * scale)), max(out_h, round(h * scale)),
                           self.interpolation)
        return center_crop(covering, out_h, out_w)


class ToGray(ImageTransform):
    """Convert to one grayscale channel (ITU-R BT.601 luma, as OpenCV).

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.preprocessing import ToGray
    >>> ToGray().fit_transform([np.zeros((4, 6, 3), np.uint8)])[0].shape
    (4, 6)
    """

    def __init__(self):
        pass

    def apply(self, image):
        return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


class Equalize(ImageTransform):
    """Contrast-limited adaptive histogram equalisation (CLAHE).

    Colour images are equalised on the lightness channel of CIELAB, so hues do
    not shift.

    Parameters
    ----------
    clip_limit : float, default=2.0
        Contrast limit per tile (OpenCV's ``clipLimit``); larger equalises harder.
    tile_grid_size : int or (rows, cols), default=8
        Tiles the image is divided into.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.preprocessing import Equalize
    >>> image = np.tile(np.arange(100, 140, dtype=np.uint8), (40, 1))
    >>> out = Equalize().fit_transform([image])[0]
    >>> int(np.ptp(out)) > int(np.ptp(image))
    True
    """

    _parameter_constraints = {
        "clip_limit": [Interval(Real, 0, None, closed="neither")],
        "tile_grid_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
    }

    def __init__(self, clip_limit=2.0, tile_grid_size=8):
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size

    def fit(self, X=None, y=None):
        super().fit(X, y)
        _check_size(self.tile_grid_size, "tile_grid_size")
        return self

    def apply(self, image):
        rows, cols = _pair(self.tile_grid_size)
        clahe = cv2.createCLAHE(clipLimit=float(self.clip_limit), tileGridSize=(cols, rows))
        if image.ndim == 2:
            return clahe.apply(image)
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
        lab[..., 0] = clahe.apply(np.ascontiguousarray(lab[..., 0]))
        return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


class CenterCrop(ImageTransform):
    """Keep the centred window of the given size.

    Parameters
    ----------
    size : int or (height, width)
        Window size in pixels; a side of the image smaller than asked is kept whole.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.preprocessing import CenterCrop
    >>> CenterCrop((10, 20)).fit_transform([np.zeros((30, 40), np.uint8)])[0].shape
    (10, 20)
    """

    _parameter_constraints = {"size": [Interval(Integral, 1, None, closed="left"), tuple, list]}

    def __init__(self, size=224):
        self.size = size

    def fit(self, X=None, y=None):
        super().fit(X, y)
        _check_size(self.size, "size")
        return self

    def apply(self, image):
        return center_crop(image, *_pair(self.size))
