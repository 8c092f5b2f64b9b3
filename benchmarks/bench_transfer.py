"""Classical, pretrained-CNN and hybrid pipelines side by side, on the same splits.

Each branch of the presets (the fusion preset's dense-SIFT Fisher vectors, HOG and
colour; the frozen EfficientNet-Lite0 embedding; Fisher vectors of its local
features) is fitted once per split, timed, sized (pickled, fitted) and watched for
peak memory; its train and test linear kernels are kept (``benchmarks/cache/``,
not in git). Every row that is a linear SVM on a weighted sum of branches is then
scored from those kernels: it is exactly the preset, whose weighted concatenation
of unit-norm branches makes the same kernel. A row's training time is the sum of
its branches' plus its SVM's; its predict time per image the sum of its branches'
test time per image plus the SVM's; its model size the fitted branches plus the
linear weights ``imgrec train`` keeps; its peak memory that of its largest branch
(the union runs branches one after the other). The CNNs that train end to end
(fine-tuned, from scratch) are fitted and timed directly.

The hybrid preset chooses its weights by 3-fold cross-validation on the training
images only (``kernels.select_kernel_weights``, the search ``hybrid-svm`` runs in
``fit``, here on the same kernels; its time is part of the row's training time); the
test images score the choice. The preset's fixed fallback weights are scored beside it.

Usage:
    python benchmarks/bench_transfer.py --dataset caltech101 --seeds 0 1
    python benchmarks/bench_transfer.py --dataset flowers17 --seeds 0 1 2
    python benchmarks/bench_transfer.py --dataset orl_faces --seeds 0
    python benchmarks/bench_transfer.py --dataset opencv_digits --budget 120
    python benchmarks/bench_transfer.py --dataset fashion_mnist --n-train 10000
    python benchmarks/bench_transfer.py --overhead     # PretrainedCNN against a bare forward
"""

from __future__ import annotations

import argparse
import json
import pickle
import time

import numpy as np
from _common import BENCH_DIR, PeakMemory, require_dataset, write_result
from bench_caltech101 import load_split as caltech_split
from bench_caltech101 import mean_class_accuracy
from bench_flowers17 import load_split as flowers_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC, LinearSVC

from imgrec_classic.compose import ImageEncoder
from imgrec_classic.datasets import load_image_folder
from imgrec_classic.evaluation import per_class_split
from imgrec_classic.kernels import select_kernel_weights
from imgrec_classic.pipelines import preset

CACHE = BENCH_DIR / "cache"
C_KERNEL = 10  # the presets' one-vs-rest SVM on a precomputed linear kernel


SMALL_GRAY = {"opencv_digits": 20, "fashion_mnist": 28}  # dataset -> image side


def load_data(dataset: str, seed: int, n_train: int):
    if dataset == "opencv_digits":
        from imgrec_classic.datasets import load_opencv_digits

        digits = load_opencv_digits()
        train = digits.tutorial_train
        return (list(digits.images[train]), digits.target[train], list(digits.images[~train]),
                digits.target[~train])
    if dataset == "fashion_mnist":
        from imgrec_classic.datasets import load_mnist

        root = require_dataset("fashion_mnist")
        train, test = load_mnist(root, "train"), load_mnist(root, "test")
        picked = np.sort(np.random.default_rng(seed).choice(len(train.target), n_train,
                                                            replace=False))
        return list(train.images[picked]), train.target[picked], list(test.images), test.target
    if dataset == "caltech101":
        return caltech_split("30x50", seed)[:4]
    if dataset == "flowers17":
        return flowers_split(seed)
    n_train = {"orl_faces": 5, "coil20": 10, "yale_faces": 5}[dataset]
    data = load_image_folder(require_dataset(dataset))
    train, test = per_class_split(data.target, n_train, random_state=seed)
    images = np.asarray(data.images, dtype=object)
    return list(images[train]), data.target[train], list(images[test]), data.target[test]


def branches(dataset: str) -> dict:
    """Name -> unfitted branch (a transformer from images to unit-norm rows)."""
    if dataset in SMALL_GRAY:  # dense SIFT and colour have nothing to work on at 20-28 px
        from sklearn.pipeline import make_pipeline

        from imgrec_classic.encoding import Hellinger

        side = SMALL_GRAY[dataset]
        return {"hog": make_pipeline(small_hog(side), Hellinger()),
                "cnn": preset("cnn-svm", features__cnn__input_size=SMALL_CNN_SIZE)[0],
                "cnn_local": preset("cnn-fisher-svm",
                                    features__cnn_local__input_size=SMALL_CNN_SIZE)[0]}
    return {branch[0]: ImageEncoder([branch]) for branch in preset("hybrid-svm")[0].branches}


# 20-28 px images upsampled to 64 px: the network then costs a twelfth of 224 px.
SMALL_CNN_SIZE = 64


def small_hog(side: int):
    """The HOG of ``imgrec demo`` (digits) and of the Fashion-MNIST benchmark."""
    from imgrec_classic.features import HOG

    cell = 5 if side == 20 else 4
    return HOG(orientations=12, pixels_per_cell=(cell, cell), cells_per_block=(2, 2),
               image_shape=(side, side), signed_gradient=True)


def hog_rbf_svm(side: int):
    """The best classical model on small grey images: HOG and an RBF-kernel SVM."""
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline

    steps = [small_hog(side), *([PCA(200, random_state=0)] if side == 28 else []),
             SVC(C=10, gamma="scale", cache_size=2000)]
    return make_pipeline(*steps)


def run_branch(name, branch, data, n_jobs, key):
    """Fit ``branch`` on the training images, transform both parts; cache the kernels."""
    path = CACHE / f"{key}_{name}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files if k != "stats"}, json.loads(str(f["stats"]))
    X_train, y_train, X_test, _ = data
    branch.set_params(**{k: n_jobs for k in branch.get_params() if k.endswith("n_jobs")})
    with PeakMemory() as memory:
        start = time.perf_counter()
        A = np.asarray(branch.fit_transform(X_train, y_train), np.float32)
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        B = np.asarray(branch.transform(X_test), np.float32)
        test_s = time.perf_counter() - start
    stats = {"dims": A.shape[1], "train_s": train_s, "test_s": test_s,
             "model_bytes": len(pickle.dumps(branch)), "peak_mb": memory.peak_mb}
    print(json.dumps({"branch": name, **{k: round(v, 1) for k, v in stats.items()}}), flush=True)
    arrays = {"K_train": (A @ A.T).astype(np.float64), "K_test": (B @ A.T).astype(np.float64)}
    if name == "cnn":  # the cnn-svm row trains on the vectors themselves
        arrays.update(A=A, B=B)
    CACHE.mkdir(exist_ok=True)
    np.savez(path, stats=json.dumps(stats), **arrays)
    return arrays, stats


def kernel_svm(K_fit, y_fit, K_eval):
    model = OneVsRestClassifier(SVC(kernel="precomputed", C=C_KERNEL)).fit(K_fit, y_fit)
    return model.predict(K_eval)


def searched_weights(union, kernels, y) -> tuple[dict, list, float]:
    """The weights ``union`` (the hybrid preset's) chooses in ``fit``, from the same kernels."""
    grid = {b: [float(f"{w ** 2:.12g}") for w in values] for b, values in union.weight_grid.items()
            if b in kernels}
    start = {b: (union.weights or {}).get(b, 1.0) ** 2 for b in kernels
             if b not in union.weight_grid}
    begin = time.perf_counter()
    chosen, trail = select_kernel_weights({b: kernels[b]["K_train"] for b in kernels}, y, grid,
                                          start, cv=union.weight_cv, C=union.weight_C,
                                          n_jobs=2)
    seconds = time.perf_counter() - begin
    for step in trail:
        print(json.dumps({k: round(v, 4) for k, v in step.items()}), flush=True)
    return chosen, trail, seconds


def kernel_row(label, weights, kernels, stats, data, n_classes, extra_s=0.0):
    _, y_train, X_test, y_test = data
    used = [b for b, w in weights.items() if w]
    K = sum(weights[b] * kernels[b]["K_train"] for b in used)
    K_test = sum(weights[b] * kernels[b]["K_test"] for b in used)
    start = time.perf_counter()
    model = OneVsRestClassifier(SVC(kernel="precomputed", C=C_KERNEL)).fit(K, y_train)
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(K_test)
    predict_s = time.perf_counter() - start
    dims = sum(stats[b]["dims"] for b in used)
    return {"row": label, "weights": {b: weights[b] for b in used},
            "mean_class_accuracy": mean_class_accuracy(y_test, predicted),
            "train_s": sum(stats[b]["train_s"] for b in used) + fit_s + extra_s,
            "predict_ms_per_image": 1000 * (sum(stats[b]["test_s"] for b in used) + predict_s)
            / len(X_test),
            "model_mb": (sum(stats[b]["model_bytes"] for b in used) + 4 * dims * n_classes)
            / 2**20,
            "peak_memory_mb": max(stats[b]["peak_mb"] for b in used)}


def cnn_svm_row(kernels, stats, data):
    _, y_train, X_test, y_test = data
    start = time.perf_counter()
    clf = LinearSVC(C=1).fit(kernels["cnn"]["A"], y_train)
    fit_s = time.perf_counter() - start
    predicted = clf.predict(kernels["cnn"]["B"])
    s = stats["cnn"]
    return {"row": "cnn-svm: frozen EfficientNet-Lite0 + linear SVM",
            "mean_class_accuracy": mean_class_accuracy(y_test, predicted),
            "train_s": s["train_s"] + fit_s,
            "predict_ms_per_image": 1000 * s["test_s"] / len(X_test),
            "model_mb": (s["model_bytes"] + len(pickle.dumps(clf))) / 2**20,
            "peak_memory_mb": s["peak_mb"]}


def direct_row(label, model, data):
    """An estimator fitted and evaluated end to end (the CNNs that train, HOG + RBF SVM)."""
    X_train, y_train, X_test, y_test = data
    with PeakMemory() as memory:
        start = time.perf_counter()
        model.fit(X_train, y_train)
        train_s = time.perf_counter() - start
        start = time.perf_counter()
        predicted = model.predict(X_test)
        predict_s = time.perf_counter() - start
    row = {"row": label, "mean_class_accuracy": mean_class_accuracy(y_test, predicted),
           "train_s": train_s, "predict_ms_per_image": 1000 * predict_s / len(X_test),
           "model_mb": len(pickle.dumps(model)) / 2**20, "peak_memory_mb": memory.peak_mb}
    if hasattr(model, "history_"):
        row.update(epochs=len(model.history_), stop_reason=model.stop_reason_)
    print(json.dumps(row), flush=True)
    return row


def run_split(dataset, seed, args):
    data = load_data(dataset, seed, args.n_train)
    n_classes = len(np.unique(data[1]))
    print(f"{dataset} seed {seed}: {len(data[0])} train, {len(data[2])} test, "
          f"{n_classes} classes", flush=True)
    kernels, stats = {}, {}
    for name, branch in branches(dataset).items():
        if name in args.skip:
            continue
        kernels[name], stats[name] = run_branch(name, branch, data, args.n_jobs,
                                                f"{dataset}_seed{seed}")
    y = data[1]
    fusion = {b: w ** 2 for b, w in preset("dsift-fisher-hog-color-svm")["features"]
              .weights.items()}
    union = preset("hybrid-svm")["features"]
    fallback = {b: w ** 2 for b, w in union.weights.items()}
    if dataset in SMALL_GRAY:
        rows = [direct_row("HOG + RBF SVM: best classical", hog_rbf_svm(SMALL_GRAY[dataset]),
                           data), cnn_svm_row(kernels, stats, data)]
        rows[1]["row"] += f" ({SMALL_CNN_SIZE} px)"
    else:
        rows = [kernel_row("dsift-fisher-hog-color-svm: best classical preset", fusion,
                           kernels, stats, data, n_classes),
                cnn_svm_row(kernels, stats, data)]
    if "cnn_local" in kernels:
        rows.append(kernel_row("cnn-fisher-svm: Fisher vectors of CNN local features",
                               {"cnn_local": 1.0}, kernels, stats, data, n_classes))
    chosen, trail, search_s = searched_weights(union, kernels, y)
    search = {"chosen": chosen, "trail": trail, "search_s": search_s}
    label = ("hybrid-svm: the preset, weights by cross-validation on the training images"
             if dataset not in SMALL_GRAY else "hybrid of HOG, the embedding and the deep "
             "local features, weights by hybrid-svm's cross-validated search")
    rows.append(kernel_row(label, chosen, kernels, stats, data, n_classes, extra_s=search_s))
    if dataset not in SMALL_GRAY:
        rows.append(kernel_row("hybrid-svm with its fixed fallback weights (Caltech-101's "
                               "choice)", fallback, kernels, stats, data, n_classes))
        light = {b: k for b, k in kernels.items() if b != "cnn_local"}
        light_weights, _, light_s = searched_weights(union, light, y)
        rows.append(kernel_row('hybrid-svm without the CNN\'s local features '
                               '(features__cnn_local="drop")', light_weights, light, stats,
                               data, n_classes, extra_s=light_s))
    if "finetuned" not in args.skip:
        from imgrec_classic.baselines import FineTunedCNN

        size = SMALL_CNN_SIZE if dataset in SMALL_GRAY else None
        rows.append(direct_row("FineTunedCNN: last blocks and head trained",
                               FineTunedCNN(input_size=size, random_state=seed,
                                            max_time=args.budget, n_jobs=args.n_jobs), data))
    if "scratch" not in args.skip:
        from imgrec_classic.baselines import CNNClassifier

        if dataset in SMALL_GRAY:  # the Fashion-MNIST benchmark's network
            scratch = CNNClassifier(input_size=SMALL_GRAY[dataset], color="gray",
                                    channels=(32, 64, 128), epochs=30, batch_size=128,
                                    flip=dataset == "fashion_mnist", crop_padding=2,
                                    max_time=args.budget, random_state=seed)
        else:
            scratch = CNNClassifier(input_size=64, channels=(32, 64, 128, 256), dropout=0.4,
                                    epochs=200, patience=15, max_time=args.budget,
                                    random_state=seed)
        rows.append(direct_row(f"CNNClassifier: from scratch, {args.budget:.0f} s budget",
                               scratch, data))
    for row in rows:
        row.update(dataset=dataset, seed=seed)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v
                          for k, v in row.items()}), flush=True)
    return rows, {"dataset": dataset, "seed": seed, "branches": stats, **search}


def overhead(n_images: int, batch_size: int) -> dict:
    """PretrainedCNN.transform over paths against a bare forward over the same batches."""
    import torch
    from _common import caltech101_paths

    from imgrec_classic.features import PretrainedCNN
    from imgrec_classic.features.cnn import load_backbone, prepare_image
    from imgrec_classic.io import read_image

    paths = caltech101_paths()[::max(1, 6055 // n_images)][:n_images]
    extractor = PretrainedCNN(batch_size=batch_size, n_jobs=2).fit()
    network = load_backbone("efficientnet-lite0")
    tensors = [torch.from_numpy(np.stack([prepare_image(read_image(p), 224)[0]
                                          for p in paths[i:i + batch_size]]))
               .permute(0, 3, 1, 2).float().sub(127).div(128)
               for i in range(0, len(paths), batch_size)]

    def bare():
        with torch.inference_mode():
            for x in tensors:
                network.extract_features(x).mean((2, 3))

    bare()  # warm both paths once
    extractor.transform(paths[:batch_size])
    times = {"bare_forward_s": [], "pretrained_cnn_s": []}
    for _ in range(3):  # interleaved, so drift of the machine hits both
        start = time.perf_counter()
        bare()
        times["bare_forward_s"].append(time.perf_counter() - start)
        start = time.perf_counter()
        extractor.transform(paths)
        times["pretrained_cnn_s"].append(time.perf_counter() - start)
    best = {k: min(v) for k, v in times.items()}
    result = {"n_images": len(paths), "batch_size": batch_size, "torch_threads":
              torch.get_num_threads(), **best,
              "ratio": best["pretrained_cnn_s"] / best["bare_forward_s"],
              "ms_per_image": 1000 * best["pretrained_cnn_s"] / len(paths)}
    print(json.dumps(result), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="caltech101",
                        choices=["caltech101", "flowers17", "orl_faces", "coil20", "yale_faces",
                                 "opencv_digits", "fashion_mnist"])
    parser.add_argument("--n-train", type=int, default=10_000,
                        help="Fashion-MNIST training images (a random subset)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--skip", nargs="*", default=[],
                        help="branches or rows to leave out (cnn_local, finetuned, scratch)")
    parser.add_argument("--budget", type=float, default=300,
                        help="training seconds of the CNNs that train")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--overhead", action="store_true")
    parser.add_argument("--name", default=None)
    args = parser.parse_args()
    if args.overhead:
        print("wrote", write_result(args.name or "cnn_overhead", {"rows": [overhead(512, 32)]}))
        return
    rows, splits = [], []
    for seed in args.seeds:
        split_rows, split = run_split(args.dataset, seed, args)
        rows += split_rows
        splits.append(split)
    print("wrote", write_result(args.name or f"transfer_{args.dataset}",
                                {"rows": rows, "splits": splits}))


if __name__ == "__main__":
    main()
