"""Fine-tuning the last blocks of a pretrained network behind the classifier API."""

from __future__ import annotations

import itertools
from numbers import Integral

import numpy as np

from .._compat import optional_import
from ..features.cnn import (
    BACKBONES,
    backbone_features,
    backbone_tail,
    layer_width,
    load_backbone,
    prepare_image,
)
from ..preprocessing.pending import load_image
from ..utils._param_validation import Interval, StrOptions
from ..utils.images import as_image_list
from ..utils.parallel import map_batches
from ..utils.threads import torch_threads
from .cnn import CNNClassifier

__all__ = ["FineTunedCNN"]

# Training the layers from this stage on keeps everything before it frozen.
_FROZEN_BEFORE = {"head": "stage7", "stage7": "stage6", "stage6": "stage5", "stage5": "stage4"}


class FineTunedCNN(CNNClassifier):
    """A pretrained network whose last blocks and a new linear head learn the user's classes.

    The layers before ``train_from`` stay frozen, so their output is computed once
    per training image (and once more for its mirror image when ``flip``), not
    every epoch: an epoch costs only the trained layers. Training reuses
    :class:`CNNClassifier`'s loop: Adam, cosine learning rate, a stratified
    validation hold-out for early stopping and the best epoch, a time budget.
    The pretrained layers learn at a tenth of ``learning_rate``, the new head at
    ``learning_rate``; batch-normalisation statistics stay as pretrained (small
    batches would only add noise to them).

    Needs the ``[cnn]`` extra.

    Parameters
    ----------
    backbone : str, default="efficientnet-lite0"
        A key of :data:`~imgrec_classic.features.cnn.BACKBONES`.
    train_from : {"head", "stage7", "stage6", "stage5"}, default="stage7"
        The first trained layer: ``"head"`` trains the 1x1 head convolution and the
        classifier, ``"stage7"`` adds the last block, and so on.
    input_size : int or None, default=None
        Side of the centre crop fed to the network (None: the backbone's own).
    epochs : int, default=30
    batch_size : int, default=32
    learning_rate : float, default=1e-3
    weight_decay : float, default=1e-4
    dropout : float, default=0.2
        Before the new linear head.
    flip : bool, default=True
        Each training image is also seen mirrored (a random one of the two views
        per epoch).
    validation_fraction : float, default=0.1
    patience : int, default=5
    max_time : float, default=None
        Training budget in seconds (the frozen layers' pass included).
    lr_schedule : {"cosine", "constant"}, default="cosine"
    n_threads : int, default=None
        torch threads.
    n_jobs : int, default=None
        Threads decoding images.
    random_state : int or None, default=None
    verbose : bool, default=False
    epoch_callback : callable, default=None
        As in :class:`CNNClassifier`.

    Attributes
    ----------
    classes_ : ndarray
    module_ : torch.nn.Module
        The trained layers and the head (the frozen ones come from the installed
        weights package, so a pickled model holds only what was trained).
    history_ : list of dict
    best_epoch_ : int
    stop_reason_ : str
    n_parameters_ : int
        Trained parameters.
    fit_seconds_ : float

    See Also
    --------
    imgrec_classic.features.PretrainedCNN : the frozen network as a feature extractor.

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.baselines import FineTunedCNN
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, (12, 64, 64, 3), np.uint8)
    >>> y = np.repeat([0, 1], 6)
    >>> clf = FineTunedCNN(input_size=64, epochs=2, random_state=0).fit(X, y)
    >>> clf.predict_proba(X).shape
    (12, 2)
    """

    _parameter_constraints = {
        key: value for key, value in CNNClassifier._parameter_constraints.items()
        if key in {"dropout", "epochs", "batch_size", "learning_rate", "weight_decay", "flip",
                   "validation_fraction", "patience", "max_time", "lr_schedule", "n_threads",
                   "random_state", "verbose", "epoch_callback"}
    } | {
        "backbone": [StrOptions(set(BACKBONES))],
        "train_from": [StrOptions(set(_FROZEN_BEFORE))],
        "input_size": [Interval(Integral, 32, None, closed="left"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, backbone="efficientnet-lite0", train_from="stage7", input_size=None,
                 epochs=30, batch_size=32, learning_rate=1e-3, weight_decay=1e-4, dropout=0.2,
                 flip=True, validation_fraction=0.1, patience=5, max_time=None,
                 lr_schedule="cosine", n_threads=None, n_jobs=None, random_state=None,
                 verbose=False, epoch_callback=None):
        self.backbone = backbone
        self.train_from = train_from
        self.input_size = input_size
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.flip = flip
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_time = max_time
        self.lr_schedule = lr_schedule
        self.n_threads = n_threads
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.epoch_callback = epoch_callback

    # -- the hooks of CNNClassifier's loop -----------------------------------------------
    def _load(self, X, views: int = 1) -> np.ndarray:
        """Frozen feature maps, shape (n, views, channels, h, w); view 1 is the mirror."""
        torch = optional_import("torch", "cnn")
        network = load_backbone(self.backbone)
        size = self.input_size or BACKBONES[self.backbone][2]
        frozen = _FROZEN_BEFORE[self.train_from]
        out = None
        done = 0
        images = as_image_list(X)
        with torch_threads(torch, self.n_threads):
            decoded_images = map_batches(_DecodeTask(), images, n_jobs=self.n_jobs,
                                         prefer="threads", verbose=self.verbose,
                                         desc="FineTunedCNN (frozen layers)",
                                         batch_size=self.batch_size)
            for decoded in _chunks(decoded_images, self.batch_size):
                batch = np.stack([prepare_image(im, size, "crop")[0] for im in decoded])
                maps = [backbone_features(network, batch, frozen).numpy()]
                if views == 2:
                    maps.append(backbone_features(network, batch[:, :, ::-1], frozen).numpy())
                maps = np.stack(maps, axis=1)
                if out is None:  # the first batch tells the map's shape
                    out = np.empty((len(images), *maps.shape[1:]), np.float32)
                out[done:done + len(maps)] = maps
                done += len(maps)
        return out

    def _fit_inputs(self, X) -> np.ndarray:
        return self._load(X, views=2 if self.flip else 1)

    def _build(self, torch, images, train):
        network = load_backbone(self.backbone)
        tail = backbone_tail(network, _FROZEN_BEFORE[self.train_from])
        head = torch.nn.Linear(layer_width(network, "head"), len(self.classes_))
        return torch.nn.Sequential(tail, torch.nn.Dropout(self.dropout), head)

    def _parameter_groups(self) -> list[dict]:
        tail, _, head = self.module_
        return [{"params": list(tail.parameters()), "scale": 0.1},
                {"params": list(head.parameters()), "scale": 1.0}]

    def _set_train_mode(self) -> None:
        import torch

        self.module_.train()
        for module in self.module_.modules():  # pretrained statistics stay
            if isinstance(module, torch.nn.BatchNorm2d):
                module.eval()

    def _tensor(self, torch, batch: np.ndarray):
        return torch.from_numpy(np.ascontiguousarray(batch[:, 0]))

    def _train_batch(self, torch, images, batch, rng):
        view = rng.randint(0, images.shape[1], len(batch))
        return torch.from_numpy(np.ascontiguousarray(images[batch, view]))


class _DecodeTask:
    """Decode a batch of sources to RGB (threads: OpenCV releases the GIL)."""

    def __call__(self, sources, start):
        return [load_image(src, mode="rgb") for src in sources]


def _chunks(items, size: int):
    """Lists of ``size`` consecutive items of an iterable (the last one shorter)."""
    items = iter(items)
    while chunk := list(itertools.islice(items, size)):
        yield chunk
