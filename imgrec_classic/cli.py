"""The ``imgrec`` command line.

Every sub-command is a function of parsed arguments returning an exit code, and
:func:`main` takes ``argv`` so that tests call it in-process.
"""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["main"]


def _demo_models(n_jobs):
    """The demo's contenders: (name, model, image side) for the 20x20 digits."""
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from .features import HOG
    from .pipelines import preset

    hog = make_pipeline(
        HOG(orientations=12, pixels_per_cell=(5, 5), cells_per_block=(2, 2),
            image_shape=(20, 20), signed_gradient=True, n_jobs=n_jobs),
        SVC(C=10, gamma="scale"))
    # Dense SIFT needs room for its 4x4 bins: the digits are upsampled to 40x40.
    bovw = preset("dsift-bovw-chi2svm", n_jobs=n_jobs, features__step=4,
                  features__sizes=(4, 6), encoding__n_words=200, encoding__pyramid=(1, 2))
    return [("HOG + SVM (RBF)", hog, 20), ("dense SIFT + BoVW + chi2 SVM", bovw, 40)]


def _demo(args: argparse.Namespace) -> int:
    import cv2
    import numpy as np
    from sklearn.metrics import accuracy_score, classification_report

    from .datasets import load_opencv_digits

    digits = load_opencv_digits()
    train, truth = digits.tutorial_train, digits.target[~digits.tutorial_train]
    print(f"OpenCV digits (embedded): {int(train.sum())} training and {int((~train).sum())} "
          "test images, 20x20, 10 classes\n")
    print(f"{'model':<30} {'accuracy':>8} {'fit s':>6} {'predict s':>9}")
    reports = []
    for name, model, side in _demo_models(args.n_jobs):
        images = digits.images if side == 20 else np.array(
            [cv2.resize(im, (side, side), interpolation=cv2.INTER_LINEAR) for im in digits.images])
        start = time.perf_counter()
        model.fit(images[train], digits.target[train])
        fit_time = time.perf_counter() - start
        start = time.perf_counter()
        predicted = model.predict(images[~train])
        predict_time = time.perf_counter() - start
        accuracy = accuracy_score(truth, predicted)
        print(f"{name:<30} {accuracy:>8.4f} {fit_time:>6.1f} {predict_time:>9.1f}", flush=True)
        reports.append((name, predicted))
    name, predicted = reports[0]
    print(f"\n{name}: accuracy {accuracy_score(truth, predicted):.4f}\n")
    print(classification_report(truth, predicted, target_names=digits.target_names, digits=3))
    return 0


def _presets(args: argparse.Namespace) -> int:
    from .pipelines import PRESETS

    width = max(map(len, PRESETS))
    for name, description in PRESETS.items():
        print(f"{name:<{width}}  {description}")
    return 0


def _download(args: argparse.Namespace) -> int:
    from .io.download import download_images, read_url_list

    records = download_images(read_url_list(args.urls_file), args.dest,
                              max_bytes=int(args.max_mb * 2**20), timeout=args.timeout,
                              retries=args.retries, n_workers=args.workers,
                              verbose=not args.quiet)
    counts = {s: sum(r.status == s for r in records) for s in ("ok", "duplicate", "failed")}
    print(f"{counts['ok']} saved, {counts['duplicate']} duplicates, {counts['failed']} failed; "
          f"manifest: {args.dest}/manifest.jsonl")
    return 0 if counts["failed"] == 0 else 3


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="imgrec", description="Classical image recognition with imgrec-classic.")
    parser.add_argument("--version", action="version", version=f"imgrec-classic {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    demo = commands.add_parser(
        "demo", help="train and evaluate HOG + SVM on the embedded OpenCV digits",
        description="Train HOG + SVM on the 5,000 OpenCV digits shipped with the package "
                    "(nothing is downloaded) and print accuracy and a classification report.")
    demo.add_argument("--n-jobs", type=int, default=None,
                      help="parallel workers for feature extraction (-1: all cores)")
    demo.set_defaults(func=_demo)
    presets = commands.add_parser("presets", help="list the named pipelines",
                                  description="List the named pipelines of "
                                              "imgrec_classic.pipelines.preset().")
    presets.set_defaults(func=_presets)
    download = commands.add_parser(
        "download", help="download images listed in a file, with retries and checks",
        description="Download the URLs of URLS_FILE (one per line, or a CSV of url,label that "
                    "sorts images into DEST/label/) into DEST. Only complete, decodable, "
                    "distinct images are kept; DEST/manifest.jsonl records every URL; rerunning "
                    "resumes. Exit code 3 when some URLs failed.")
    download.add_argument("urls_file", metavar="URLS_FILE")
    download.add_argument("dest", metavar="DEST")
    download.add_argument("--workers", type=int, default=8, help="concurrent downloads")
    download.add_argument("--retries", type=int, default=3)
    download.add_argument("--timeout", type=float, default=30.0, help="seconds per read")
    download.add_argument("--max-mb", type=float, default=20.0, help="largest file kept")
    download.add_argument("--quiet", action="store_true", help="no progress bar")
    download.set_defaults(func=_download)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``imgrec`` command with ``argv`` (default: ``sys.argv[1:]``)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (OSError, ValueError) as exc:
        print(f"imgrec {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
