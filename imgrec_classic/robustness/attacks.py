"""Adversarial examples: FGSM and PGD on the CNN (white box), random search on any model.

Perturbations live in pixel space with an L-infinity budget ``epsilon`` (a fraction of
the 0-255 range; use multiples of 1/255 so that rounding to uint8 keeps the budget).
The CNN's adversarial images are returned at its input size as uint8 arrays, ready to
be fed to the classical pipelines to measure transfer.
"""

from __future__ import annotations

import numpy as np

from .._compat import optional_import
from ..predict import predict_with_scores
from ..preprocessing.pending import load_image

__all__ = ["fgsm", "pgd", "random_search_attack"]


def fgsm(cnn, X, y, epsilon: float = 8 / 255) -> list[np.ndarray]:
    """Fast gradient sign method (Goodfellow et al., 2015) on a fitted CNNClassifier."""
    return pgd(cnn, X, y, epsilon=epsilon, step_size=epsilon, steps=1, random_start=False)


def pgd(cnn, X, y, epsilon: float = 8 / 255, step_size: float = 2 / 255, steps: int = 10,
        random_start: bool = True, random_state=0, batch_size: int = 256) -> list[np.ndarray]:
    """Projected gradient descent (Madry et al., 2018) within an L-infinity ball.

    Parameters
    ----------
    cnn : fitted :class:`~imgrec_classic.baselines.CNNClassifier`
    X : sequence of images
    y : array-like of shape (n,)
        True labels (values of ``cnn.classes_``).
    epsilon, step_size : float
        Budget and step, fractions of the 0-255 range.
    steps : int
    random_start : bool
        Start from a random point of the ball.

    Returns
    -------
    images : list of uint8 ndarray
        At the CNN's input size; ``|adv - clean| <= epsilon * 255`` pixel-wise, where
        ``clean`` is the image as the CNN sees it (resized).
    """
    torch = optional_import("torch", "cnn")
    clean = cnn._load(X)
    targets = _class_indices(cnn.classes_, y)
    rng = torch.Generator().manual_seed(int(random_state))
    cnn.module_.eval()
    out = []
    for start in range(0, len(clean), batch_size):
        x0 = torch.from_numpy(clean[start:start + batch_size]).float() / 255
        t = torch.from_numpy(targets[start:start + batch_size])
        x = x0.clone()
        if random_start:
            x = (x + (torch.rand(x.shape, generator=rng) * 2 - 1) * epsilon).clamp(0, 1)
        for _ in range(steps):
            x.requires_grad_(True)
            loss = torch.nn.functional.cross_entropy(cnn.module_(_normalize(cnn, torch, x)), t)
            (grad,) = torch.autograd.grad(loss, x)
            with torch.no_grad():
                x = x + step_size * grad.sign()
                x = torch.minimum(torch.maximum(x, x0 - epsilon), x0 + epsilon).clamp(0, 1)
        pixels = np.rint(x.detach().numpy() * 255).astype(np.uint8)
        out += [p.transpose(1, 2, 0).squeeze(-1) if p.shape[0] == 1 else p.transpose(1, 2, 0)
                for p in pixels]
    return out


def random_search_attack(model, X, y, epsilon: float = 16 / 255, max_queries: int = 300,
                         square: float = 0.1, random_state=0) -> dict:
    """A score-based black-box attack by random search (after Square Attack).

    Each image starts from random vertical stripes of +-epsilon; each query redraws
    the perturbation of one random square (side ``sqrt(square)`` of the image,
    shrinking over time) and keeps it if the margin of the true class (its score
    minus the best other score) decreases. An image is broken once it is
    misclassified. Works on any model with ``decision_function`` or ``predict_proba``.

    Returns
    -------
    result : dict
        ``images`` (adversarial uint8 arrays), ``success`` (bool array), ``queries``
        (per image), ``success_rate`` among images classified correctly at first,
        ``epsilon`` and ``max_queries``.
    """
    rng = np.random.default_rng(random_state)
    images = [load_image(im, mode="gray" if np.ndim(im) == 2 else "rgb") if not (
        isinstance(im, np.ndarray) and im.dtype == np.uint8) else im for im in X]
    y = np.asarray(y)
    budget = epsilon * 255
    x0 = [im.astype(np.float32) for im in images]
    stripes = [rng.choice([-budget, budget], size=(1,) + im.shape[1:]) for im in x0]
    adv = [np.clip(im + s, 0, 255) for im, s in zip(x0, stripes, strict=True)]
    margins = _margins(model, adv, y)
    initially_correct = _margins(model, images, y) > 0
    queries = np.ones(len(images), int)
    for q in range(max_queries):
        active = np.flatnonzero(margins > 0)
        if not len(active):
            break
        fraction = square * (0.5 ** (4 * q // max_queries))  # halve the square 4 times
        proposals = [_redraw_square(adv[i], x0[i], budget, fraction, rng) for i in active]
        new = _margins(model, proposals, y[active])
        queries[active] += 1
        for i, m, p in zip(active, new, proposals, strict=True):
            if m < margins[i]:
                adv[i], margins[i] = p, m
    success = margins <= 0
    return {"images": [np.rint(a).astype(np.uint8) for a in adv], "success": success,
            "queries": queries, "epsilon": epsilon, "max_queries": max_queries,
            "success_rate": float(success[initially_correct].mean())
            if initially_correct.any() else float("nan")}


def _redraw_square(current, clean, budget, fraction, rng):
    h, w = current.shape[:2]
    side = max(1, int(round(np.sqrt(fraction * h * w))))
    top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
    out = current.copy()
    channels = current.shape[2:] if current.ndim == 3 else ()
    delta = rng.choice([-budget, budget], size=(1, 1) + channels)
    out[top:top + side, left:left + side] = np.clip(
        clean[top:top + side, left:left + side] + delta, 0, 255)
    return out


def _margins(model, images, y) -> np.ndarray:
    """Score of the true class minus the best other score (negative: misclassified)."""
    batch = [np.rint(im).astype(np.uint8) for im in images]
    predicted, scores, _ = predict_with_scores(model, batch)
    if scores is None:
        return np.where(predicted == y, 1.0, -1.0)
    index = _class_indices(model.classes_, y)
    true = scores[np.arange(len(y)), index]
    others = scores.copy()
    others[np.arange(len(y)), index] = -np.inf
    return true - others.max(axis=1)


def _class_indices(classes, y) -> np.ndarray:
    classes = np.asarray(classes)
    index = np.searchsorted(classes, y)
    if np.any(index >= len(classes)) or np.any(classes[np.minimum(index, len(classes) - 1)]
                                               != np.asarray(y)):
        raise ValueError("y holds labels the model does not know")
    return index.astype(np.int64)


def _normalize(cnn, torch, x):
    mean = torch.from_numpy(cnn.mean_)[None, :, None, None]
    std = torch.from_numpy(cnn.std_)[None, :, None, None]
    return (x - mean) / std
