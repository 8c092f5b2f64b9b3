"""Deep local features: which layer, input size and scales feed Fisher vectors best.

On one Flowers-17 split (40 / 40 per class), each variant of ``PretrainedCNN(output=
"local")`` is Fisher-encoded (64 Gaussians, PCA 64) and classified by the presets'
linear SVM, alone and beside the frozen global embedding (a sum of the two linear
kernels); the global embedding alone is the reference row. Extraction time covers the
training and test images.

Usage: python benchmarks/bench_cnn_local.py [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time

from _common import write_result
from bench_caltech101 import mean_class_accuracy
from bench_flowers17 import load_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import normalize
from sklearn.svm import SVC

from imgrec_classic.encoding import FisherVector
from imgrec_classic.features import PretrainedCNN

VARIANTS = {
    "stage 7, 448 px": dict(layer="stage7", input_size=448),
    "stage 6, 320 px": dict(layer="stage6", input_size=320),
    "stage 5, 224 px": dict(layer="stage5", input_size=224),
    "stage 5, 224 and 336 px": dict(layer="stage5", input_size=224, scales=(1.0, 1.5)),
}


def score(K, K_test, y_train, y_test) -> float:
    model = OneVsRestClassifier(SVC(kernel="precomputed", C=10)).fit(K, y_train)
    return mean_class_accuracy(y_test, model.predict(K_test))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args()
    X_train, y_train, X_test, y_test = load_split(args.seed)
    start = time.perf_counter()
    cnn = PretrainedCNN(n_jobs=args.n_jobs).fit()
    G, G_test = normalize(cnn.transform(X_train)), normalize(cnn.transform(X_test))
    rows = [{"variant": "global embedding (224 px crop), reference",
             "mean_class_accuracy": score(G @ G.T, G_test @ G.T, y_train, y_test),
             "extract_s": time.perf_counter() - start}]
    print(json.dumps(rows[-1]), flush=True)
    for name, params in VARIANTS.items():
        start = time.perf_counter()
        local = PretrainedCNN(output="local", resize="keep", n_jobs=args.n_jobs, **params).fit()
        D, D_test = local.transform(X_train), local.transform(X_test)
        extract_s = time.perf_counter() - start
        fv = FisherVector(n_components=64, pca_components=64, max_images=500, random_state=0,
                          n_jobs=args.n_jobs)
        F, F_test = fv.fit_transform(D), fv.transform(D_test)
        K, K_test = F @ F.T, F_test @ F.T
        rows.append({"variant": name, "cells_per_image": D.n_descriptors / len(D),
                     "channels": D.n_dims, "extract_s": extract_s,
                     "mean_class_accuracy": score(K, K_test, y_train, y_test),
                     "beside_global": score(K + G @ G.T, K_test + G_test @ G.T, y_train,
                                            y_test)})
        print(json.dumps(rows[-1]), flush=True)
    print("wrote", write_result("cnn_local", {"seed": args.seed, "rows": rows}))


if __name__ == "__main__":
    main()
