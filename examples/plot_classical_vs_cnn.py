"""Classical pipeline or small CNN? Accuracy against training time on the embedded digits.

HOG + SVM is trained on growing numbers of training images; the CNN is followed epoch
by epoch. Both are measured with the same `evaluate` on the same test half of OpenCV's
5,000 digits (shipped with the package, nothing downloaded), and the curves are
saved to ``classical_vs_cnn.png``. Needs the ``[cnn]`` and ``[plot]`` extras.

Run: python examples/plot_classical_vs_cnn.py [output.png]
"""

import sys
import time

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from imgrec_classic.baselines import CNNClassifier
from imgrec_classic.datasets import load_opencv_digits
from imgrec_classic.evaluation import evaluate
from imgrec_classic.evaluation.plots import plot_accuracy_vs_time
from imgrec_classic.features import HOG

digits = load_opencv_digits()
train, test = digits.tutorial_train, ~digits.tutorial_train
X_train, y_train = digits.images[train], digits.target[train]
X_test, y_test = digits.images[test], digits.target[test]

curves = {"HOG + SVM": [], "CNN": []}
order = np.random.default_rng(0).permutation(len(y_train))
for n in (250, 500, 1000, 2500):
    model = make_pipeline(HOG(orientations=12, pixels_per_cell=(5, 5), image_shape=(20, 20),
                              signed_gradient=True), SVC(C=10))
    start = time.perf_counter()
    model.fit(X_train[order[:n]], y_train[order[:n]])
    seconds = time.perf_counter() - start
    accuracy = evaluate(model, X_test, y_test).accuracy
    curves["HOG + SVM"].append((seconds, accuracy))
    print(f"HOG + SVM  {n:>5} images  {seconds:6.1f} s  accuracy {accuracy:.4f}")


def follow(clf, record):
    accuracy = float(np.mean(clf.predict(X_test) == y_test))
    curves["CNN"].append((record["seconds"], accuracy))
    print(f"CNN        epoch {record['epoch']:>2}    {record['seconds']:6.1f} s  "
          f"accuracy {accuracy:.4f}")


cnn = CNNClassifier(input_size=20, color="gray", channels=(16, 32), hidden=64, epochs=12,
                    flip=False, crop_padding=2, n_threads=2, random_state=0,
                    epoch_callback=follow).fit(X_train, y_train)
print()
print(evaluate(cnn, X_test, y_test).to_markdown(per_class=False))

output = sys.argv[1] if len(sys.argv) > 1 else "classical_vs_cnn.png"
ax = plot_accuracy_vs_time(curves, title="OpenCV digits: accuracy against training time")
ax.figure.savefig(output, dpi=120)
print(f"\nsaved {output}")
