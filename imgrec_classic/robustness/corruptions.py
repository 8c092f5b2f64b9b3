"""Image corruptions at five severities, deterministic for a seed (after ImageNet-C)."""

from __future__ import annotations

from numbers import Integral

import cv2
import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..preprocessing.base import ImageTransform
from ..preprocessing.pending import PendingImage
from ..utils._param_validation import Interval, StrOptions
from ..utils.images import as_image_list

__all__ = ["CORRUPTIONS", "Corruption", "corrupt"]

#: Parameter of each corruption at severities 1..5 (severity 0 is the identity).
SEVERITIES = {
    "gaussian_noise": (0.04, 0.08, 0.12, 0.18, 0.26),   # noise sigma, fraction of 255
    "blur": (0.7, 1.2, 1.8, 2.6, 3.6),                  # Gaussian sigma, pixels at 100 px
    "jpeg": (60, 40, 25, 15, 7),                        # JPEG quality
    "contrast": (0.7, 0.5, 0.35, 0.2, 0.1),             # contrast kept
    "brightness": (0.1, 0.2, 0.3, 0.4, 0.5),            # added, fraction of 255
    "rotation": (5, 10, 15, 22, 30),                    # degrees, random sign
    "scale": (0.9, 0.8, 0.7, 0.6, 0.5),                 # zoom-out factor
    "occlusion": (0.04, 0.08, 0.12, 0.18, 0.25),        # occluded fraction of the area
}
CORRUPTIONS = tuple(SEVERITIES)


def corrupt(image: np.ndarray, kind: str, severity: int, rng=None) -> np.ndarray:
    """One corrupted copy of a uint8 image (gray or RGB); severity 0 returns a copy.

    Parameters
    ----------
    image : ndarray, uint8
    kind : str
        One of :data:`CORRUPTIONS`.
    severity : int
        0 (none) to 5 (strongest).
    rng : numpy Generator, default=None
        Draws the noise, the rotation's sign and the occluder's place.

    Examples
    --------
    >>> import numpy as np
    >>> image = np.full((20, 20), 128, np.uint8)
    >>> rng = np.random.default_rng(0)
    >>> [int(np.abs(corrupt(image, "brightness", s, rng).astype(int) - 128).max())
    ...  for s in range(3)]
    [0, 25, 51]
    """
    if kind not in SEVERITIES:
        raise ValueError(f"unknown corruption {kind!r}; choose from {', '.join(CORRUPTIONS)}")
    if not 0 <= severity <= 5:
        raise ValueError(f"severity must be 0 to 5, got {severity}")
    image = np.ascontiguousarray(image)
    if severity == 0:
        return image.copy()
    rng = np.random.default_rng() if rng is None else rng
    return _APPLY[kind](image, SEVERITIES[kind][severity - 1], rng)


def _noise(image, sigma, rng):
    noisy = image.astype(np.float32) + rng.normal(0, 255 * sigma, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _blur(image, sigma, rng):
    # Relative to the image size, so a 28-pixel and a 300-pixel image blur alike.
    return cv2.GaussianBlur(image, (0, 0), sigma * max(image.shape[:2]) / 100)


def _jpeg(image, quality, rng):
    bgr = image[..., ::-1] if image.ndim == 3 else image
    data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])[1]
    out = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return out[..., ::-1].copy() if image.ndim == 3 else out


def _contrast(image, kept, rng):
    mean = image.mean(axis=(0, 1), keepdims=True)
    return np.clip((image - mean) * kept + mean, 0, 255).astype(np.uint8)


def _brightness(image, added, rng):
    return np.clip(image.astype(np.float32) + 255 * added, 0, 255).astype(np.uint8)


def _warp(image, angle, zoom):
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)


def _rotation(image, degrees, rng):
    return _warp(image, degrees * rng.choice([-1, 1]), 1.0)


def _scale(image, zoom, rng):
    return _warp(image, 0.0, zoom)


def _occlusion(image, fraction, rng):
    h, w = image.shape[:2]
    side_h, side_w = max(1, round(h * np.sqrt(fraction))), max(1, round(w * np.sqrt(fraction)))
    top, left = rng.integers(0, h - side_h + 1), rng.integers(0, w - side_w + 1)
    out = image.copy()
    out[top:top + side_h, left:left + side_w] = 128
    return out


_APPLY = {"gaussian_noise": _noise, "blur": _blur, "jpeg": _jpeg, "contrast": _contrast,
          "brightness": _brightness, "rotation": _rotation, "scale": _scale,
          "occlusion": _occlusion}


class _Corrupt:
    """One image's corruption with its own seed, applied lazily in a worker."""

    __slots__ = ("kind", "severity", "seed")

    def __init__(self, kind, severity, seed):
        self.kind, self.severity, self.seed = kind, severity, seed

    def __getstate__(self):
        return self.kind, self.severity, self.seed

    def __setstate__(self, state):
        self.kind, self.severity, self.seed = state

    def apply(self, image):
        return corrupt(image, self.kind, self.severity, np.random.default_rng(self.seed))


class Corruption(ImageTransform):
    """Corrupt every image of a sequence: ``kind`` at ``severity``, seeded per image.

    Image ``i`` draws from the seed ``(random_state, i)``, so results do not depend
    on batching or workers. Arrays are corrupted at once; paths lazily (see
    :class:`~imgrec_classic.preprocessing.ImageTransform`).

    Parameters
    ----------
    kind : str, default="gaussian_noise"
        One of :data:`CORRUPTIONS`.
    severity : int, default=3
        0 (identity) to 5.
    random_state : int, default=0

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.robustness import Corruption
    >>> out = Corruption("occlusion", 5).fit_transform([np.zeros((10, 10), np.uint8)])
    >>> int((out[0] == 128).sum())
    25
    """

    _parameter_constraints = {
        "kind": [StrOptions(set(CORRUPTIONS))],
        "severity": [Interval(Integral, 0, 5, closed="both")],
        "random_state": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, kind="gaussian_noise", severity=3, random_state=0):
        self.kind = kind
        self.severity = severity
        self.random_state = random_state

    def transform(self, X) -> list:
        check_is_fitted(self)
        images = as_image_list(X)
        ops = [_Corrupt(self.kind, self.severity, [self.random_state, i])
               for i in range(len(images))]
        if all(isinstance(im, np.ndarray) for im in images):
            return [op.apply(im if im.dtype == np.uint8 else _as_uint8(im))
                    for op, im in zip(ops, images, strict=True)]
        return [PendingImage.chain(im, op) for op, im in zip(ops, images, strict=True)]


def _as_uint8(image):
    from ..io.images import read_image

    return read_image(image, mode="gray" if image.ndim == 2 else "rgb")
