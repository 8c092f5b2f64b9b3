"""A small convolutional network behind the scikit-learn classifier API (plain ``torch.nn``)."""

from __future__ import annotations

import copy
import time
from numbers import Integral, Real

import cv2
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from tqdm.auto import tqdm

from .._compat import optional_import
from ..preprocessing.pending import load_image
from ..utils._param_validation import Interval, StrOptions
from ..utils.images import as_image_list
from ..utils.parallel import map_batches
from ..utils.threads import torch_threads

__all__ = ["CNNClassifier", "load_tensor_images"]


def _load_one(src, size: int, mode: str) -> np.ndarray:
    image = load_image(src, mode=mode)
    if image.shape[:2] != (size, size):
        shrink = max(image.shape[:2]) > size
        image = cv2.resize(image, (size, size),
                           interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return image if image.ndim == 3 else image[:, :, None]


def load_tensor_images(X, size: int, mode: str = "rgb", n_jobs: int | None = None) -> np.ndarray:
    """Decode and resize images to a (n, channels, size, size) uint8 array.

    Examples
    --------
    >>> import numpy as np
    >>> load_tensor_images(np.zeros((2, 10, 12), np.uint8), 8, "gray").shape
    (2, 1, 8, 8)
    """
    images = as_image_list(X)
    # Threads: OpenCV decodes and resizes with the GIL released.
    arrays = list(map_batches(_LoadTask(size, mode), images, n_jobs=n_jobs, prefer="threads",
                              max_batch=256))
    return np.stack(arrays).transpose(0, 3, 1, 2).copy()


class _LoadTask:
    def __init__(self, size, mode):
        self.size, self.mode = size, mode

    def __call__(self, sources, start):
        return [_load_one(src, self.size, self.mode) for src in sources]


def _build_network(torch, in_channels: int, channels, hidden: int, dropout: float,
                   n_classes: int):
    nn = torch.nn
    layers, width = [], in_channels
    for out in channels:
        layers += [nn.Conv2d(width, out, 3, padding=1, bias=False), nn.BatchNorm2d(out),
                   nn.ReLU(inplace=True), nn.Conv2d(out, out, 3, padding=1, bias=False),
                   nn.BatchNorm2d(out), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        width = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
               nn.Linear(width, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
               nn.Linear(hidden, n_classes)]
    return nn.Sequential(*layers)


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """A small VGG-style convolutional network trained from scratch on the CPU.

    Each block is two 3x3 convolutions with batch normalisation and ReLU, then 2x2
    max pooling; global average pooling and a two-layer head follow. Trained with
    Adam and cross-entropy on mini-batches of inputs normalised by the training
    set's channel means and deviations, with random flips, crops and brightness,
    contrast and saturation changes (``jitter``), keeping
    the weights of the epoch with the best validation accuracy (early stopping).
    Takes the same image sequences as the classical pipelines.

    Needs the ``[cnn]`` extra (torch).

    Parameters
    ----------
    input_size : int, default=64
        Images are resized to ``input_size`` x ``input_size``.
    color : {"rgb", "gray"}, default="rgb"
    channels : tuple of int, default=(32, 64, 128)
        Width of each convolutional block; each block halves the resolution.
    hidden : int, default=256
        Width of the hidden fully connected layer.
    dropout : float, default=0.3
    epochs : int, default=30
        Upper bound on training epochs.
    batch_size : int, default=64
    learning_rate : float, default=1e-3
    weight_decay : float, default=1e-4
    flip : bool, default=True
        Random horizontal flips during training (turn off for digits and text).
    crop_padding : int, default=4
        Random crops of the image padded by this many pixels (0: none).
    jitter : float, default=0.3
        Random brightness, contrast and (colour images) saturation changes during
        training, each by a factor drawn from ``[1 - jitter, 1 + jitter]``, plus a
        brightness shift of up to ``jitter / 2`` of the range, as practitioners
        augment; 0 turns them off. Without them a uniformly brighter test image
        is out of the training distribution (0.26 accuracy on Fashion-MNIST under
        the brightness corruption).
    validation_fraction : float, default=0.1
        Held out of the training images (stratified) to choose the best epoch and
        stop early; 0 trains on everything and keeps the last epoch.
    patience : int, default=5
        Epochs without validation improvement before stopping.
    max_time : float, default=None
        Training budget in seconds: no epoch starts that would, at the pace of the
        last one, end after it.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        ``"cosine"`` anneals the learning rate from ``learning_rate`` to 0 over the
        training, measured in epochs or, when ``max_time`` is set and comes first,
        in time: a budget-limited run still ends with small steps.
    n_threads : int, default=None
        torch CPU threads during fit and predict (None: torch's default).
    random_state : int or None, default=None
        Seeds weights, batches, augmentation and the validation split.
    verbose : bool, default=False
        Progress bar over epochs with the losses.
    epoch_callback : callable, default=None
        Called as ``epoch_callback(self, record)`` after each epoch, with the
        epoch's ``history_`` record and the network in evaluation mode, e.g. to
        follow test accuracy against training time. Its own run time is not
        counted in ``record["seconds"]``.

    Attributes
    ----------
    classes_ : ndarray
    module_ : torch.nn.Module
        The trained network (on the CPU, in evaluation mode).
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``val_accuracy`` (None without
        validation), ``seconds`` (cumulative).
    best_epoch_ : int
    stop_reason_ : str
        ``"epochs"``, ``"early_stopping"`` or ``"max_time"``.
    n_parameters_ : int
    fit_seconds_ : float
        Wall time of ``fit`` (decoding included, ``epoch_callback`` excluded).

    Examples
    --------
    >>> import numpy as np
    >>> from imgrec_classic.baselines import CNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, (40, 16, 16), np.uint8)
    >>> y = np.repeat([0, 1], 20)
    >>> X[y == 1, :8] = 255  # class 1: a bright top half
    >>> clf = CNNClassifier(input_size=16, color="gray", channels=(8,), hidden=16,
    ...                     epochs=15, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> clf.predict_proba(X).shape  # doctest: +SKIP
    (40, 2)
    """

    _parameter_constraints = {
        "input_size": [Interval(Integral, 8, None, closed="left")],
        "color": [StrOptions({"rgb", "gray"})],
        "channels": [tuple, list],
        "hidden": [Interval(Integral, 1, None, closed="left")],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "flip": ["boolean"],
        "crop_padding": [Interval(Integral, 0, None, closed="left")],
        "jitter": [Interval(Real, 0, 1, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "epoch_callback": [callable, None],
    }

    def __init__(self, input_size=64, color="rgb", channels=(32, 64, 128), hidden=256,
                 dropout=0.3, epochs=30, batch_size=64, learning_rate=1e-3, weight_decay=1e-4,
                 flip=True, crop_padding=4, jitter=0.3, validation_fraction=0.1, patience=5,
                 max_time=None,
                 lr_schedule="cosine", n_threads=None, random_state=None, verbose=False,
                 epoch_callback=None):
        self.input_size = input_size
        self.color = color
        self.channels = channels
        self.hidden = hidden
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.flip = flip
        self.crop_padding = crop_padding
        self.jitter = jitter
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.max_time = max_time
        self.lr_schedule = lr_schedule
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.epoch_callback = epoch_callback

    # -- public API -----------------------------------------------------------------------
    def fit(self, X, y):
        """Train the network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : sequence of images
        y : array-like of shape (n_images,)

        Returns
        -------
        self
        """
        self._validate_params()
        torch = optional_import("torch", "cnn")
        start = time.perf_counter()
        images = self._fit_inputs(X)
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        if len(images) != len(codes):
            raise ValueError(f"X has {len(images)} images but y has {len(codes)} labels")
        if len(self.classes_) < 2:
            raise ValueError("need at least two classes to train a classifier")
        rng = check_random_state(self.random_state)
        train, val = self._split(codes, rng)
        with torch_threads(torch, self.n_threads):
            torch.manual_seed(rng.randint(np.iinfo(np.int32).max))
            self.module_ = self._build(torch, images, train)
            paused = self._train(torch, images, codes, train, val, rng, start)
        self.n_parameters_ = int(sum(p.numel() for p in self.module_.parameters()
                                     if p.requires_grad))
        self.fit_seconds_ = time.perf_counter() - start - paused
        return self

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities, shape (n_images, n_classes), columns in ``classes_`` order."""
        check_is_fitted(self)
        torch = optional_import("torch", "cnn")
        images = self._load(X)
        with torch_threads(torch, self.n_threads):
            return self._forward(torch, images).softmax(1).numpy()

    def predict(self, X) -> np.ndarray:
        """Most probable class of each image."""
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    # -- hooks (FineTunedCNN overrides them) ---------------------------------------------
    def _load(self, X) -> np.ndarray:
        """The network's inputs for images ``X`` (here uint8 pixels, (n, C, H, W))."""
        return load_tensor_images(X, self.input_size, self.color)

    def _fit_inputs(self, X) -> np.ndarray:
        """The inputs of the training images (augmented views may be added)."""
        return self._load(X)

    def _build(self, torch, images: np.ndarray, train: np.ndarray):
        """The network to train; sets the input normalisation from the training images."""
        pixels = images[train].astype(np.float32) / 255
        self.mean_ = pixels.mean(axis=(0, 2, 3)).astype(np.float32)
        self.std_ = np.maximum(pixels.std(axis=(0, 2, 3)), 1e-3).astype(np.float32)
        return _build_network(torch, images.shape[1], self.channels, self.hidden,
                              self.dropout, len(self.classes_))

    def _parameter_groups(self) -> list[dict]:
        """Optimiser groups; ``scale`` multiplies the learning rate of a group."""
        return [{"params": list(self.module_.parameters()), "scale": 1.0}]

    def _train_batch(self, torch, images: np.ndarray, batch: np.ndarray, rng):
        """The augmented input tensor of one training batch."""
        return self._augment(torch, self._tensor(torch, images[batch]), rng)

    def _set_train_mode(self) -> None:
        self.module_.train()

    # -- training -------------------------------------------------------------------------

    def _split(self, codes, rng):
        index = np.arange(len(codes))
        if self.validation_fraction == 0:
            return index, index[:0]
        counts = np.bincount(codes)
        stratify = codes if counts.min() >= 2 else None
        n_val = max(len(self.classes_), round(self.validation_fraction * len(codes)))
        if n_val >= len(codes):
            raise ValueError(f"validation_fraction={self.validation_fraction} leaves no "
                             "training images")
        train, val = train_test_split(index, test_size=n_val, stratify=stratify,
                                      random_state=rng.randint(np.iinfo(np.int32).max))
        return np.sort(train), np.sort(val)

    def _train(self, torch, images, codes, train, val, rng, start):
        optimizer = torch.optim.Adam(self._parameter_groups(), lr=self.learning_rate,
                                     weight_decay=self.weight_decay)
        loss_fn = torch.nn.CrossEntropyLoss()
        targets = torch.from_numpy(codes.astype(np.int64))
        self.history_, best, best_state, waited, paused = [], -1.0, None, 0, 0.0
        self.stop_reason_ = "epochs"
        bar = tqdm(range(self.epochs), disable=not self.verbose, desc=type(self).__name__,
                   unit="epoch")
        # The pace of an epoch excludes the work before the first (decoding, frozen layers).
        last = time.perf_counter() - start
        for epoch in bar:
            self._set_train_mode()
            losses = []
            batches = np.array_split(rng.permutation(train),
                                     max(1, -(-len(train) // self.batch_size)))
            for k, batch in enumerate(batches):
                self._set_learning_rate(optimizer, (epoch + k / len(batches)) / self.epochs,
                                        time.perf_counter() - start - paused)
                inputs = self._train_batch(torch, images, batch, rng)
                loss = loss_fn(self.module_(inputs), targets[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                losses.append(loss.item())
            val_acc = None
            if len(val):
                val_acc = float((self._forward(torch, images[val]).argmax(1).numpy()
                                 == codes[val]).mean())
            elapsed = time.perf_counter() - start - paused
            self.history_.append({"epoch": epoch + 1, "train_loss": float(np.mean(losses)),
                                  "val_accuracy": val_acc, "seconds": round(elapsed, 2)})
            if self.epoch_callback is not None:
                t = time.perf_counter()
                self.module_.eval()
                self.epoch_callback(self, self.history_[-1])
                paused += time.perf_counter() - t
            bar.set_postfix(loss=f"{np.mean(losses):.3f}", val=val_acc)
            score = val_acc if val_acc is not None else epoch
            if score > best:
                best, best_state, waited = score, copy.deepcopy(self.module_.state_dict()), 0
                self.best_epoch_ = epoch + 1
            else:
                waited += 1
            if len(val) and waited >= self.patience:
                self.stop_reason_ = "early_stopping"
                break
            if self.max_time is not None and 2 * elapsed - last > self.max_time:
                self.stop_reason_ = "max_time"  # the next epoch would end over budget
                break
            last = elapsed
        bar.close()
        self.module_.load_state_dict(best_state)
        self.module_.eval()
        return paused

    def _set_learning_rate(self, optimizer, epoch_progress: float, elapsed: float) -> None:
        if self.lr_schedule == "constant":
            return
        progress = epoch_progress
        if self.max_time is not None:
            progress = max(progress, elapsed / self.max_time)
        rate = self.learning_rate * 0.5 * (1 + np.cos(np.pi * min(progress, 1.0)))
        for group in optimizer.param_groups:
            group["lr"] = rate * group.get("scale", 1.0)

    def _tensor(self, torch, batch: np.ndarray):
        x = torch.from_numpy(batch).float().div_(255)
        mean = torch.from_numpy(self.mean_)[None, :, None, None]
        std = torch.from_numpy(self.std_)[None, :, None, None]
        return (x - mean) / std

    def _augment(self, torch, x, rng):
        if self.jitter:
            x = _jitter(torch, x, self.jitter, self.mean_, self.std_, rng)
        if self.flip:
            flipped = torch.from_numpy(rng.random_sample(len(x)) < 0.5)
            x = torch.where(flipped[:, None, None, None], x.flip(3), x)
        pad = self.crop_padding
        if pad:
            size = x.shape[-1]
            padded = torch.nn.functional.pad(x, (pad, pad, pad, pad), mode="reflect")
            offsets = rng.randint(0, 2 * pad + 1, (len(x), 2))
            x = torch.stack([padded[i, :, dy:dy + size, dx:dx + size]
                             for i, (dy, dx) in enumerate(offsets)])
        return x

    def _forward(self, torch, images: np.ndarray):
        """Logits for uint8 images, in batches, without gradients."""
        self.module_.eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, len(images), 256):
                outputs.append(self.module_(self._tensor(torch, images[start:start + 256])))
        return torch.cat(outputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.non_deterministic = False
        return tags


def _jitter(torch, x, amount: float, mean, std, rng):
    """Random brightness, contrast and saturation of normalised images, per image.

    Applied to pixel values (undoing the normalisation), clipped to [0, 1].
    """
    n, channels = x.shape[:2]
    mean = torch.from_numpy(mean)[None, :, None, None]
    std = torch.from_numpy(std)[None, :, None, None]
    pixels = x * std + mean

    def factors(spread):
        return torch.from_numpy(rng.uniform(1 - spread, 1 + spread, n).astype(np.float32))[
            :, None, None, None]

    gray = pixels.mean(1, keepdim=True)
    if channels == 3:
        pixels = gray + (pixels - gray) * factors(amount)
        gray = pixels.mean(1, keepdim=True)
    level = gray.mean((2, 3), keepdim=True)
    pixels = level + (pixels - level) * factors(amount)
    shift = rng.uniform(-amount / 2, amount / 2, n).astype(np.float32)
    pixels = pixels * factors(amount) + torch.from_numpy(shift)[:, None, None, None]
    return (pixels.clamp_(0, 1) - mean) / std
