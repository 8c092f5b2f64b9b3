"""Service metrics in Prometheus' text format (the ``prometheus-client`` package)."""

from __future__ import annotations

import threading
from collections import deque

from .._compat import optional_import

__all__ = ["ServiceMetrics"]


class ServiceMetrics:
    """Counters, a latency histogram and a drift signal, in a registry of their own.

    ``imgrec_requests_total{path, status}``, ``imgrec_request_seconds{path}`` (histogram),
    ``imgrec_predictions_total{label}``, and ``imgrec_top_score_mean``: the mean top
    score of the last ``window`` predictions. A falling mean top score is the first sign
    that the images served drift away from the training images.

    Parameters
    ----------
    window : int, default=200

    Examples
    --------
    >>> metrics = ServiceMetrics(window=2)
    >>> metrics.predicted("cat", 0.9); metrics.predicted("dog", 0.5)
    >>> b"imgrec_top_score_mean 0.7" in metrics.exposition()[0]
    True
    """

    def __init__(self, window: int = 200):
        prometheus = optional_import("prometheus_client", "serve")
        self._prometheus = prometheus
        self.registry = prometheus.CollectorRegistry()
        self.requests = prometheus.Counter(
            "imgrec_requests", "HTTP requests answered", ["path", "status"],
            registry=self.registry)
        self.latency = prometheus.Histogram(
            "imgrec_request_seconds", "Time to answer a request", ["path"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry)
        self.predictions = prometheus.Counter(
            "imgrec_predictions", "Images predicted, by predicted label", ["label"],
            registry=self.registry)
        self.top_score = prometheus.Gauge(
            "imgrec_top_score_mean", f"Mean top score of the last {window} predictions",
            registry=self.registry)
        self._scores, self._lock = deque(maxlen=window), threading.Lock()

    def answered(self, path: str, status: int, seconds: float) -> None:
        """Count one answered request (unknown paths share one label: bounded series)."""
        self.requests.labels(path=path, status=str(status)).inc()
        self.latency.labels(path=path).observe(seconds)

    def predicted(self, label: str, top_score: float | None) -> None:
        """Count one predicted image and its top score."""
        self.predictions.labels(label=label).inc()
        if top_score is not None:
            with self._lock:
                self._scores.append(top_score)
                self.top_score.set(sum(self._scores) / len(self._scores))

    def exposition(self) -> tuple[bytes, str]:
        """The metrics as Prometheus text and its content type."""
        return (self._prometheus.generate_latest(self.registry),
                self._prometheus.CONTENT_TYPE_LATEST)
