"""The README's Python snippets run, in order, on a small real image folder.

Each ```python block runs in one namespace shared with the blocks before it, as a reader
pastes them one after the other; the names a snippet takes from the reader's own work
(``train_paths``, ``car_crops``, ``X_test`` ...) are made from three Caltech-101 classes, and
the download snippet fetches from a server on 127.0.0.1.
"""

from __future__ import annotations

import http.server
import re
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

from .conftest import dataset_path

README = Path(__file__).resolve().parents[1] / "README.md"
CLASSES = ("airplanes", "Motorbikes", "Faces_easy")

pytestmark = pytest.mark.slow


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)


@pytest.fixture()
def workspace(tmp_path, monkeypatch):
    """photos/<class>/ (3 x 40 images), two loose photos, a street and a URL list."""
    root = dataset_path("caltech101")
    photos = tmp_path / "photos"
    for name in CLASSES:
        (photos / name).mkdir(parents=True)
        for i in range(1, 41):
            shutil.copy(root / name / f"image_{i:04d}.jpg", photos / name)
    for i, name in enumerate(("photo1.jpg", "photo2.jpg", "street.jpg")):
        shutil.copy(root / CLASSES[i] / "image_0045.jpg", tmp_path / name)
    served = tmp_path / "served"
    served.mkdir()
    for i in range(3):
        shutil.copy(root / CLASSES[i] / "image_0046.jpg", served / f"{i}.jpg")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *a, directory=str(served), **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    (tmp_path / "urls.csv").write_text(
        "".join(f"http://127.0.0.1:{port}/{i}.jpg,{CLASSES[i]}\n" for i in range(3)))
    # joblib's worker processes outlive a test and keep the folder they started in: start
    # fresh ones here (the snippets use relative paths), and again after, for other tests.
    from joblib.externals.loky import get_reusable_executor

    get_reusable_executor().shutdown(wait=True)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    get_reusable_executor().shutdown(wait=True)
    server.shutdown()


def _reader_names(workspace: Path) -> dict:
    """What the snippets take from the reader: images, labels, crops, a test set, a CNN."""
    import cv2

    from imgrec_classic.baselines import CNNClassifier

    paths = sorted(str(p) for p in (workspace / "photos").glob("*/*.jpg"))
    # Class numbers as load_image_folder gives them (sorted names): the README's models
    # are trained on data.target.
    labels = np.searchsorted(sorted(CLASSES), [Path(p).parent.name for p in paths])
    train, test = np.arange(len(paths)) % 3 != 0, np.arange(len(paths)) % 3 == 0
    images = [cv2.imread(p)[..., ::-1] for p in paths]
    crops = [cv2.resize(im, (100, 40)) for im in images[:12]]
    X_test, y_test = [images[i] for i in np.flatnonzero(test)][:12], labels[test][:12]
    cnn = CNNClassifier(input_size=32, channels=(8, 16), epochs=1, random_state=0)
    return {"train_paths": [paths[i] for i in np.flatnonzero(train)],
            "train_labels": labels[train], "car_crops": crops,
            "images_without_cars": images[-4:], "X_test": X_test, "y_test": y_test,
            "cnn": cnn.fit([images[i] for i in np.flatnonzero(train)], labels[train])}


def test_the_readme_snippets_run(workspace):
    pytest.importorskip("torch")
    blocks = python_blocks()
    assert len(blocks) >= 10
    namespace = _reader_names(workspace)
    for number, code in enumerate(blocks, 1):
        try:
            exec(compile(code, f"README.md python block {number}", "exec"), namespace)
        except Exception as exc:  # name the block: the traceback points into README.md
            raise AssertionError(f"README python block {number} failed: {exc!r}\n{code}") from exc
