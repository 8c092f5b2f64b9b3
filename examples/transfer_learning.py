"""A pretrained network beside HOG, on data unlike ImageNet: the embedded digits.

The frozen EfficientNet-Lite0 embedding (``PretrainedCNN``), Fisher vectors of its local
features (``output="local"``, encoded like dense SIFT), and HOG, each with a linear SVM,
then HOG and the embedding side by side: four pipelines on the same 600 training and
600 test digits (20x20, shipped with the package). On natural photographs the
pretrained embedding wins by 6-12 points (benchmarks/RESULTS.md); on small greyscale
digits, which ImageNet never showed it, it falls behind HOG, while Fisher vectors of
its local features, which keep where each stroke is, do as well as HOG or better.
Needs the ``[cnn]`` extra.

Run: python examples/transfer_learning.py
"""

import time

import numpy as np
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import Normalizer
from sklearn.svm import LinearSVC

from imgrec_classic.datasets import load_opencv_digits
from imgrec_classic.encoding import FisherVector, Hellinger
from imgrec_classic.evaluation import evaluate
from imgrec_classic.features import HOG, PretrainedCNN

digits = load_opencv_digits()
order = np.random.default_rng(0).permutation(len(digits.target))
train, test = order[:600], order[600:1200]


def hog():
    return make_pipeline(HOG(orientations=12, pixels_per_cell=(5, 5), image_shape=(20, 20),
                             signed_gradient=True), Hellinger())


def embedding():  # 20 px digits upsampled to 64 px: a twelfth of the cost of 224 px
    return make_pipeline(PretrainedCNN(input_size=64, n_jobs=2), Normalizer())


models = {
    "HOG + linear SVM": make_pipeline(hog(), LinearSVC(C=1)),
    "frozen CNN embedding + linear SVM": make_pipeline(embedding(), LinearSVC(C=1)),
    "Fisher vectors of CNN local features": make_pipeline(
        PretrainedCNN(output="local", layer="stage5", input_size=64, resize="keep", n_jobs=2),
        FisherVector(n_components=16, pca_components=32, random_state=0), LinearSVC(C=1)),
    "HOG beside the CNN embedding": make_pipeline(make_union(hog(), embedding()),
                                                  LinearSVC(C=1)),
}
print(f"{'model':<38} {'accuracy':>8} {'fit s':>6}")
for name, model in models.items():
    start = time.perf_counter()
    model.fit(digits.images[train], digits.target[train])
    seconds = time.perf_counter() - start
    report = evaluate(model, digits.images[test], digits.target[test])
    print(f"{name:<38} {report.accuracy:>8.4f} {seconds:>6.1f}", flush=True)
