"""Where are the cars? HOG + linear SVM sliding windows on the UIUC car images.

Trains a SlidingWindowDetector on the UIUC training crops (550 cars, 500 non-cars),
detects cars on six test images and saves them with their boxes to
``detected_cars.png``. Needs ../shared/datasets/uiuc_cars and the ``[plot]`` extra.

Run: python examples/detect_cars.py [DATASET_DIR] [output.png]
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from imgrec_classic.detection import SlidingWindowDetector, draw_boxes  # noqa: E402
from imgrec_classic.features import HOG  # noqa: E402

# The project's datasets sit beside its checkout: ../shared/datasets from the project root.
DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "uiuc_cars"
root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
output = sys.argv[2] if len(sys.argv) > 2 else "detected_cars.png"
if not (root / "TrainImages").is_dir():
    sys.exit(f"UIUC car images not found in {root} (no TrainImages folder): "
             "pass the dataset's folder as the first argument")

detector = SlidingWindowDetector(window=(40, 100), feature=HOG(pixels_per_cell=(4, 4)),
                                 stride=4, scales=(1.0,), threshold=0.0, random_state=0,
                                 n_jobs=2)
detector.fit(sorted((root / "TrainImages").glob("pos-*.pgm")),
             sorted((root / "TrainImages").glob("neg-*.pgm")))
print("hard negatives added per round:", detector.hard_negatives_)

tests = [root / "TestImages" / f"test-{i}.pgm" for i in (0, 1, 3, 10, 25, 60)]
fig, axes = plt.subplots(3, 2, figsize=(9, 7))
for ax, path in zip(axes.ravel(), tests, strict=True):
    boxes, scores = detector.detect(path)
    print(f"{path.name}: {len(boxes)} car(s), scores {[round(float(s), 2) for s in scores]}")
    ax.imshow(draw_boxes(path, boxes, scores))
    ax.set_title(path.name)
    ax.axis("off")
fig.tight_layout()
fig.savefig(output, dpi=110)
print(f"saved {output}")
