"""One digit under every corruption, with what HOG + SVM and the CNN make of it.

Trains both models on half of the embedded OpenCV digits (nothing downloaded), then shows
one test digit under each corruption at severity 3, titled with each model's prediction,
and saves ``corruptions.png``. Needs the ``[cnn]`` and ``[plot]`` extras.

Run: python examples/plot_corruptions.py [output.png]
"""

import sys

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from imgrec_classic.baselines import CNNClassifier  # noqa: E402
from imgrec_classic.datasets import load_opencv_digits  # noqa: E402
from imgrec_classic.features import HOG  # noqa: E402
from imgrec_classic.robustness import CORRUPTIONS, corrupt, evaluate_under_corruptions  # noqa: E402

digits = load_opencv_digits()
train, test = digits.tutorial_train, ~digits.tutorial_train
models = {
    "HOG+SVM": make_pipeline(HOG(orientations=12, pixels_per_cell=(5, 5), image_shape=(20, 20),
                                 signed_gradient=True), SVC(C=10)),
    "CNN": CNNClassifier(input_size=20, color="gray", channels=(16, 32), hidden=64, epochs=10,
                         flip=False, crop_padding=2, n_threads=2, random_state=0),
}
for model in models.values():
    model.fit(digits.images[train], digits.target[train])

image, label = digits.images[test][123], digits.target[test][123]
fig, axes = plt.subplots(1, len(CORRUPTIONS) + 1, figsize=(2 * (len(CORRUPTIONS) + 1), 2.6))
for ax, kind in zip(axes, ("none",) + CORRUPTIONS, strict=True):
    shown = image if kind == "none" else corrupt(image, kind, 3, np.random.default_rng(0))
    guesses = ", ".join(f"{n}: {m.predict([shown])[0]}" for n, m in models.items())
    ax.imshow(shown, cmap="gray", vmin=0, vmax=255)
    ax.set_title(f"{kind}\n{guesses}", fontsize=7)
    ax.axis("off")
fig.suptitle(f"true label {label}, severity 3", fontsize=9)
fig.tight_layout()
output = sys.argv[1] if len(sys.argv) > 1 else "corruptions.png"
fig.savefig(output, dpi=120)
print(f"saved {output}")

X_test, y_test = list(digits.images[test][::5]), digits.target[test][::5]
for name, model in models.items():
    r = evaluate_under_corruptions(model, X_test, y_test, severities=[1, 3, 5])
    print(f"{name:<8} clean {r['clean_accuracy']:.3f}  mean under corruptions "
          f"{r['mean_corruption_accuracy']:.3f}")
