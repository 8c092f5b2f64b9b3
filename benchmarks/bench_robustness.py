"""Robustness: classical, pretrained-CNN and hybrid pipelines and the CNN trained from
scratch, under corruptions and adversarial noise.

For each dataset, every model is trained on the same training images, then measured on
the same test images: clean; under the 8 corruptions at the chosen severities; under
PGD crafted on the CNN trained from scratch (white box for it, transferred to the
others); and under a score-based random-search black-box attack (L-infinity budget,
fixed number of queries) run on each of the others. A heat map per dataset goes to
benchmarks/figures/.

Usage:
    python benchmarks/bench_robustness.py --dataset fashion_mnist
    python benchmarks/bench_robustness.py --dataset flowers17 --severities 1 3 5 --test-per-class 10
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import BENCH_DIR, require_dataset, write_result
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from imgrec_classic.baselines import CNNClassifier
from imgrec_classic.datasets import load_mnist
from imgrec_classic.features import HOG
from imgrec_classic.io import read_image
from imgrec_classic.pipelines import preset
from imgrec_classic.robustness import (
    CORRUPTIONS,
    evaluate_under_corruptions,
    pgd,
    random_search_attack,
)

SCRATCH = "CNN from scratch"


def fashion(n_train: int, n_test: int):
    root = require_dataset("fashion_mnist")
    train, test = load_mnist(root, "train"), load_mnist(root, "test")
    rng = np.random.default_rng(0)
    tr = np.sort(rng.choice(len(train.target), n_train, replace=False))
    te = np.sort(rng.choice(len(test.target), n_test, replace=False))
    X_train, X_test = list(train.images[tr]), list(test.images[te])
    models = {
        "HOG + SVM": make_pipeline(
            HOG(pixels_per_cell=(4, 4), image_shape=(28, 28), n_jobs=2), PCA(200, random_state=0),
            SVC(C=10)),
        SCRATCH: CNNClassifier(input_size=28, color="gray", channels=(32, 64, 128), epochs=30,
                               batch_size=128, crop_padding=2, max_time=240, n_threads=2,
                               random_state=0),
        # 28 px garments upsampled to 64 px: a quarter of the pixels of 224 px, where
        # the network would cost 12 times more per image.
        "pretrained CNN + SVM (cnn-svm, 64 px)": preset("cnn-svm", n_jobs=2,
                                                          features__cnn__input_size=64),
    }
    return X_train, train.target[tr], X_test, test.target[te], models, 28, "gray"


def flowers(test_per_class: int):
    from bench_flowers17 import load_split

    X_train, y_train, X_test, y_test = load_split(0)
    keep = np.concatenate([np.flatnonzero(y_test == c)[:test_per_class]
                           for c in np.unique(y_test)])
    size = 96
    # Everything at the CNN's input size, so adversarial images feed every model alike.
    def load(paths):
        import cv2

        return [cv2.resize(read_image(p), (size, size), interpolation=cv2.INTER_AREA)
                for p in paths]

    models = {
        "dense SIFT Fisher vectors (dsift-fisher-svm)": preset("dsift-fisher-svm", n_jobs=2),
        SCRATCH: CNNClassifier(input_size=size, channels=(32, 64, 128, 256), epochs=100,
                               patience=15, max_time=300, n_threads=2, random_state=0),
        "pretrained CNN + SVM (cnn-svm)": preset("cnn-svm", n_jobs=2),
        "hybrid (hybrid-svm)": preset("hybrid-svm", n_jobs=2),
    }
    return (load(X_train), y_train, load([X_test[i] for i in keep]), y_test[keep], models,
            size, "rgb")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=["fashion_mnist", "flowers17"],
                        default="fashion_mnist")
    parser.add_argument("--severities", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--n-train", type=int, default=10_000)
    parser.add_argument("--n-test", type=int, default=2_000)
    parser.add_argument("--test-per-class", type=int, default=10)
    parser.add_argument("--epsilon", type=float, default=8, help="attack budget, in 1/255")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--black-box-images", type=int, default=100)
    args = parser.parse_args()
    if args.dataset == "fashion_mnist":
        X_train, y_train, X_test, y_test, models, _, _ = fashion(args.n_train, args.n_test)
    else:
        X_train, y_train, X_test, y_test, models, _, _ = flowers(args.test_per_class)
    rows = []
    for name, model in models.items():
        start = time.perf_counter()
        model.fit(X_train, y_train)
        print(f"{name}: trained in {time.perf_counter() - start:.0f} s", flush=True)
        result = evaluate_under_corruptions(model, X_test, y_test,
                                            severities=args.severities, verbose=True)
        rows.append({"model": name, "clean_accuracy": result["clean_accuracy"],
                     "mean_corruption_accuracy": result["mean_corruption_accuracy"],
                     "relative_robustness": result["relative_robustness"],
                     **{f"{c} (mean over severities)": float(np.mean(list(
                         result["accuracy"][c].values()))) for c in CORRUPTIONS},
                     "by_severity": result["accuracy"]})
        print(rows[-1], flush=True)
    cnn = models[SCRATCH]
    eps = args.epsilon / 255
    adversarial = pgd(cnn, X_test, y_test, epsilon=eps, steps=10)
    for row, (name, model) in zip(rows, models.items(), strict=True):
        row[f"PGD eps={args.epsilon:g}/255 crafted on the CNN"] = float(
            np.mean(model.predict(adversarial) == y_test))
        row["PGD is"] = "white box" if name == SCRATCH else "transferred"
        if name != SCRATCH:
            n = args.black_box_images
            attack = random_search_attack(model, X_test[:n], y_test[:n], epsilon=eps,
                                          max_queries=args.queries, random_state=0)
            row[f"black-box random search success ({args.queries} queries)"] = \
                attack["success_rate"]
            row["black-box mean queries"] = float(attack["queries"].mean())
        print(row, flush=True)
    heatmap(args.dataset, rows, args.severities)
    print("wrote", write_result(f"robustness_{args.dataset}",
                                {"rows": rows, "severities": args.severities,
                                 "n_test": len(y_test), "epsilon_255": args.epsilon}))


def heatmap(dataset, rows, severities):
    from imgrec_classic.evaluation.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, len(rows), figsize=(1.2 + 3.2 * len(rows), 4.4), squeeze=False,
                             sharey=True)
    for ax, row in zip(axes[0], rows, strict=True):
        grid = np.array([[row["by_severity"][c][s] for s in severities] for c in CORRUPTIONS])
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(severities)), severities)
        ax.set_yticks(range(len(CORRUPTIONS)), CORRUPTIONS)
        ax.set_xlabel("severity")
        ax.set_title(f"{row['model'][:30]}\nclean {row['clean_accuracy']:.2f}", fontsize=8)
        for i in range(grid.shape[0]):
            for j in range(grid.shape[1]):
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if grid[i, j] < 0.5 else "black")
    fig.colorbar(image, ax=axes[0].tolist(), fraction=0.03)
    fig.suptitle(f"{dataset}: accuracy under corruptions", y=1.02)
    (BENCH_DIR / "figures").mkdir(exist_ok=True)
    fig.savefig(BENCH_DIR / "figures" / f"robustness_{dataset}.png", dpi=110,
                bbox_inches="tight")


if __name__ == "__main__":
    main()
