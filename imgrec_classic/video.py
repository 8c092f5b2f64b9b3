"""Frames from a video file, a camera or a stream, with real-time semantics.

:class:`VideoFrames` opens what ``cv2.VideoCapture`` opens (a file, a camera index, an
RTSP/HTTP stream URL) and yields RGB frames. In real time a reader thread keeps only
the newest frame: when the consumer (a classifier) is slower than the source, it
gets the newest frame and the ones in between are counted as dropped, never queued.
A file is played at its own frame rate in real time (or read frame by frame, as fast
as the consumer goes, with ``realtime=False``).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["Frame", "VideoError", "VideoFrames"]


class VideoError(OSError):
    """The source cannot be opened, is not a video, or stalled."""


@dataclass
class Frame:
    """One decoded frame: its index in the source, its time in seconds, RGB pixels."""

    index: int
    timestamp: float
    image: np.ndarray


class VideoFrames:
    """Iterate over the frames of ``source``, optionally at most ``rate`` per second.

    Parameters
    ----------
    source : str, os.PathLike or int
        A video file, a camera index (``0``, or ``"0"``) or a stream URL.
    rate : float, default=None
        Yield at most this many frames per second of the source's time (frames
        in between are skipped); None: every frame the consumer can take.
    realtime : bool, default=None
        Keep only the newest frame while the consumer works (see the module's
        notes). None: True for cameras and streams, False for files.
    stall_timeout : float, default=10
        Seconds without a new frame after which a live source counts as stalled:
        iteration stops with :class:`VideoError`.

    Attributes
    ----------
    fps : float
        The source's frame rate (30 when it does not say).
    frames_read, frames_yielded, frames_dropped : int
        Counts so far; read = yielded + dropped (replaced by a newer frame before
        the consumer took them, or skipped by ``rate``).

    Raises
    ------
    VideoError
        On opening: a missing file, a file that is not a video, a camera that
        does not open.

    Examples
    --------
    >>> import tempfile, os, numpy as np, cv2
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.avi")
    >>> out = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 24))
    >>> for i in range(5):
    ...     _ = out.write(np.full((24, 32, 3), 40 * i, np.uint8))
    >>> out.release()
    >>> frames = VideoFrames(path)
    >>> [f.index for f in frames], frames.frames_read
    ([0, 1, 2, 3, 4], 5)
    """

    def __init__(self, source, rate: float | None = None, realtime: bool | None = None,
                 stall_timeout: float = 10.0):
        self.source, self.rate, self.stall_timeout = source, rate, stall_timeout
        if rate is not None and rate <= 0:
            raise ValueError(f"rate must be positive, got {rate}")
        self._capture, self.live = _open(source)
        self.realtime = self.live if realtime is None else realtime
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps and 0 < fps < 1000 else 30.0
        self.frames_read = self.frames_yielded = self.frames_dropped = 0

    def __iter__(self) -> Iterator[Frame]:
        self._busy_reader = None
        last = None
        try:
            for frame in self._newest() if self.realtime else self._every():
                if not self._due(frame, last):  # --rate: too soon after the last one
                    self.frames_dropped += 1
                    continue
                last = frame.timestamp
                self.frames_yielded += 1
                yield frame
        finally:
            # A reader thread still blocked in a stalled read owns the capture: releasing
            # it under that thread could crash; it goes when the thread returns.
            if self._busy_reader is None or not self._busy_reader.is_alive():
                self._capture.release()

    def _read(self) -> Frame | None:
        ok, bgr = self._capture.read()
        if not ok or bgr is None:
            return None
        index = self.frames_read
        self.frames_read += 1
        stamp = index / self.fps if not self.live else time.monotonic()
        return Frame(index, stamp, cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def _due(self, frame: Frame, last: float | None) -> bool:
        return self.rate is None or last is None or frame.timestamp - last >= 1 / self.rate - 1e-9

    def _every(self) -> Iterator[Frame]:
        while (frame := self._read()) is not None:
            yield frame

    def _newest(self) -> Iterator[Frame]:
        slot: dict = {"frame": None, "done": False, "error": None}
        changed = threading.Condition()
        stop = threading.Event()
        start = time.monotonic()

        def reader():
            try:
                while not stop.is_set():
                    frame = self._read()
                    if frame is None:
                        break
                    if not self.live:  # a file plays at its own pace
                        time.sleep(max(0.0, start + frame.index / self.fps - time.monotonic()))
                    with changed:
                        if slot["frame"] is not None:
                            self.frames_dropped += 1  # never taken: replaced by a newer one
                        slot["frame"] = frame
                        changed.notify()
            except cv2.error as exc:
                slot["error"] = exc
            finally:
                with changed:
                    slot["done"] = True
                    changed.notify()

        thread = threading.Thread(target=reader, daemon=True, name="imgrec-video-reader")
        thread.start()
        try:
            while True:
                with changed:
                    if not changed.wait_for(lambda: slot["frame"] is not None or slot["done"],
                                            timeout=self.stall_timeout):
                        raise VideoError(f"{_name(self.source)} stalled: no frame in "
                                         f"{self.stall_timeout:g} s")
                    frame, slot["frame"] = slot["frame"], None
                    if frame is None:  # done and nothing left
                        break
                yield frame
            if slot["error"] is not None:
                raise VideoError(f"{_name(self.source)}: {slot['error']}")
        finally:
            stop.set()
            thread.join(timeout=1)
            self._busy_reader = thread


def _name(source) -> str:
    return f"camera {source}" if isinstance(source, int) else repr(os.fspath(source))


def _open(source) -> tuple[cv2.VideoCapture, bool]:
    """The opened capture and whether it is live (a camera or a stream)."""
    if isinstance(source, str) and source.isdigit():
        source = int(source)
    if isinstance(source, int):
        capture = cv2.VideoCapture(source)
        if not capture.isOpened():
            raise VideoError(f"cannot open camera {source} (no such device, or it is busy)")
        return capture, True
    path = os.fspath(source)
    live = "://" in path
    if not live:
        if not os.path.exists(path):
            raise VideoError(f"no such video file: {path!r}")
        if not os.path.isfile(path):
            raise VideoError(f"{path!r} is not a regular file")
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise VideoError(f"cannot open {path!r} as a video (not a video, or a codec "
                         "OpenCV does not have)")
    return capture, live
