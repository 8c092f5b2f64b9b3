"""VideoFrames and `imgrec watch` on a small video the test writes."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from imgrec_classic.video import VideoError, VideoFrames


def _write_video(path, n=30, fps=30, size=(64, 48)):
    """Frames whose brightness encodes their index (0, 8, 16, ...): readable back."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), 8 * i % 256, np.uint8))
    writer.release()
    return path


@pytest.fixture()
def clip(tmp_path):
    return _write_video(tmp_path / "clip.avi")


def test_a_file_yields_every_frame_in_order(clip):
    frames = VideoFrames(clip)
    got = list(frames)
    assert [f.index for f in got] == list(range(30))
    assert got[0].image.shape == (48, 64, 3) and got[0].image.dtype == np.uint8
    # the index is the frame's own (MJPG keeps the brightness within a few levels)
    assert abs(int(got[10].image.mean()) - 80) <= 3
    assert frames.fps == pytest.approx(30) and frames.frames_dropped == 0
    assert got[15].timestamp == pytest.approx(0.5)


def test_rate_skips_frames_of_the_source_time(clip):
    frames = VideoFrames(clip, rate=10)
    assert [f.index for f in frames] == list(range(0, 30, 3))
    assert frames.frames_dropped == 20


def test_a_slow_consumer_gets_the_newest_frame_not_a_queue(clip):
    frames = VideoFrames(clip, realtime=True)  # plays at 30 fps: 1 s in all
    taken = []
    for frame in frames:
        taken.append(frame.index)
        time.sleep(0.2)  # a model at 5 frames/s
    assert 4 <= len(taken) <= 9
    assert taken == sorted(taken) and taken[-1] >= 25  # kept up with the source
    assert frames.frames_read == 30
    assert frames.frames_dropped == 30 - len(taken)


def test_missing_camera_missing_file_and_not_a_video(tmp_path):
    with pytest.raises(VideoError, match="camera 97"):
        VideoFrames(97)
    with pytest.raises(VideoError, match="no such video file"):
        VideoFrames(tmp_path / "none.mp4")
    text = tmp_path / "notes.mp4"
    text.write_text("not a video at all\n" * 50)
    with pytest.raises(VideoError, match="cannot open"):
        VideoFrames(text)


class _Stalling:
    """A capture that stops delivering after 3 frames, as a stream that stops sending."""

    def __init__(self, capture, frames):
        self.capture, self.frames = capture, frames

    def read(self):
        if self.frames.frames_read >= 3:
            time.sleep(5)
        return self.capture.read()

    def release(self):
        self.capture.release()


def test_a_stalled_source_ends_with_an_error_not_a_hang(clip):
    frames = VideoFrames(clip, realtime=True, stall_timeout=0.3)
    frames._capture = _Stalling(frames._capture, frames)
    got = []
    start = time.perf_counter()
    with pytest.raises(VideoError, match="stalled"):
        for frame in frames:
            got.append(frame.index)
    assert time.perf_counter() - start < 3 and len(got) >= 1


def test_watch_prints_frames_smoothed_and_a_summary(clip, tmp_path):
    from imgrec_classic.persistence import save_model

    rng = np.random.default_rng(0)
    dark = [rng.integers(0, 60, (48, 64, 3), np.uint8) for _ in range(8)]
    light = [rng.integers(180, 255, (48, 64, 3), np.uint8) for _ in range(8)]
    model = _brightness_model().fit(dark + light, ["dark"] * 8 + ["light"] * 8)
    path = save_model(model, tmp_path / "m.imgrec")
    out = tmp_path / "annotated.avi"
    result = subprocess.run([sys.executable, "-m", "imgrec_classic.cli", "watch", str(path),
                             str(clip), "--every-frame", "--smooth", "3", "--output", str(out)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    frames, summary = lines[:-1], lines[-1]["summary"]
    assert [f["frame"] for f in frames] == list(range(30))
    assert frames[0]["label"] == "dark" and frames[-1]["label"] == "light"
    assert set(frames[0]) == {"frame", "time", "label", "score_kind", "top", "latency_ms"}
    assert summary["frames_classified"] == summary["frames_read"] == 30
    assert summary["ended"] == "end of source" and summary["latency_p99_ms"] > 0
    assert len(list(VideoFrames(out))) == 30
    # Smoothing over 3 frames changes its mind later than the raw labels do.
    raw = subprocess.run([sys.executable, "-m", "imgrec_classic.cli", "watch", str(path),
                          str(clip), "--every-frame"], capture_output=True, text=True)
    raw_labels = [json.loads(line).get("label") for line in raw.stdout.splitlines()[:-1]]
    assert raw_labels.index("light") <= [f["label"] for f in frames].index("light")
    bad = subprocess.run([sys.executable, "-m", "imgrec_classic.cli", "watch", str(path),
                          str(tmp_path / "none.mp4")], capture_output=True, text=True)
    assert bad.returncode == 1 and "no such video file" in bad.stderr


def _brightness_model():
    """Colour histograms + a linear SVM: tells dark frames from light ones."""
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    from imgrec_classic.features import ColorHistogram

    return make_pipeline(ColorHistogram(bins=(4, 2, 2)), LinearSVC())


def test_watch_draws_a_detector_s_boxes(clip, tmp_path):
    from imgrec_classic.detection import PeopleDetector
    from imgrec_classic.persistence import save_model

    path = save_model(PeopleDetector().fit(), tmp_path / "people.imgrec")
    out = tmp_path / "boxes.avi"
    result = subprocess.run([sys.executable, "-m", "imgrec_classic.cli", "watch", str(path),
                             str(clip), "--every-frame", "--max-frames", "5", "--output",
                             str(out)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(f) for f in lines[:-1]] == [{"frame", "time", "boxes", "scores",
                                             "latency_ms"}] * 5
    assert lines[-1]["summary"]["ended"] == "max frames"
    assert len(list(VideoFrames(out))) == 5
