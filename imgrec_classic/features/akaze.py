"""AKAZE: keypoints in a nonlinear scale space with binary (MLDB) descriptors (OpenCV)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from .._compat import cv2_attribute
from ..utils._param_validation import Interval, StrOptions
from .base import KeypointExtractor

__all__ = ["AKAZE"]

# descriptor_type -> (OpenCV constant name, descriptor width, dtype)
_TYPES = {
    "mldb": ("AKAZE_DESCRIPTOR_MLDB", 61, np.uint8),
    "mldb_upright": ("AKAZE_DESCRIPTOR_MLDB_UPRIGHT", 61, np.uint8),
    "kaze": ("AKAZE_DESCRIPTOR_KAZE", 64, np.float32),
    "kaze_upright": ("AKAZE_DESCRIPTOR_KAZE_UPRIGHT", 64, np.float32),
}


class AKAZE(KeypointExtractor):
    """AKAZE keypoints and descriptors (Alcantarilla et al., 2013).

    OpenCV 5 moved AKAZE to ``cv2.xfeatures2d``; both locations are supported.

    Parameters
    ----------
    descriptor_type : {"mldb", "mldb_upright", "kaze", "kaze_upright"}, default="mldb"
        MLDB gives 61-byte binary descriptors (uint8, bits packed), KAZE gives
        64 float32 values.
    threshold : float, default=0.001
        Detector response threshold; lower finds more keypoints.
    n_octaves : int, default=4
    n_octave_layers : int, default=4
    max_side : int, default=None
        Shrink images whose longer side exceeds this before extraction.
    n_jobs : int, default=None
    verbose : bool or int, default=False
    cache : str or path, default=None
        Folder of an on-disk cache of per-image results, keyed by the image's content
        and this extractor's parameters: a second run (say, with another encoder)
        reads them instead of extracting again. See :mod:`imgrec_classic.features.cache`.

    Attributes
    ----------
    fitted_ : bool

    See Also
    --------
    ORB : faster binary descriptors.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import AKAZE
    >>> rng = np.random.default_rng(0)
    >>> d = AKAZE().fit_transform([rng.integers(0, 256, (96, 96), np.uint8)])
    >>> d.n_dims, d.values.dtype
    (61, dtype('uint8'))
    """

    _parameter_constraints = {
        **KeypointExtractor._parameter_constraints,
        "descriptor_type": [StrOptions(set(_TYPES))],
        "threshold": [Interval(Real, 0, None, closed="neither")],
        "n_octaves": [Interval(Integral, 1, None, closed="left")],
        "n_octave_layers": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, descriptor_type="mldb", threshold=0.001, n_octaves=4, n_octave_layers=4,
                 max_side=None, n_jobs=None, verbose=False, cache=None):
        self.descriptor_type = descriptor_type
        self.threshold = threshold
        self.n_octaves = n_octaves
        self.n_octave_layers = n_octave_layers
        self.max_side = max_side
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.cache = cache

    @property
    def n_dims(self):
        return _TYPES[self.descriptor_type][1]

    @property
    def dtype(self):
        return _TYPES[self.descriptor_type][2]

    def _context(self):
        create = cv2_attribute("AKAZE_create")
        return create(descriptor_type=cv2_attribute(_TYPES[self.descriptor_type][0]),
                      threshold=float(self.threshold), nOctaves=int(self.n_octaves),
                      nOctaveLayers=int(self.n_octave_layers))
