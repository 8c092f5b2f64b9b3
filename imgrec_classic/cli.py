"""The ``imgrec`` command line.

Every sub-command is a function of parsed arguments returning an exit code, and
:func:`main` takes ``argv`` so that tests call it in-process.
"""

from __future__ import annotations

import argparse
import sys
import time

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    from sklearn.metrics import accuracy_score, classification_report
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    from .datasets import load_opencv_digits
    from .features import HOG

    digits = load_opencv_digits()
    train = digits.tutorial_train
    print(f"OpenCV digits (embedded): {int(train.sum())} training and {int((~train).sum())} "
          "test images, 20x20, 10 classes")
    model = make_pipeline(
        HOG(orientations=12, pixels_per_cell=(5, 5), cells_per_block=(2, 2),
            image_shape=(20, 20), signed_gradient=True, n_jobs=args.n_jobs),
        SVC(C=10, gamma="scale"),
    )
    start = time.perf_counter()
    model.fit(digits.images[train], digits.target[train])
    fit_time = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(digits.images[~train])
    predict_time = time.perf_counter() - start
    truth = digits.target[~train]
    print(f"\nHOG + SVM (RBF): accuracy {accuracy_score(truth, predicted):.4f}  "
          f"(fit {fit_time:.1f} s, predict {predict_time:.1f} s)\n")
    print(classification_report(truth, predicted, target_names=digits.target_names, digits=3))
    return 0


def _presets(args: argparse.Namespace) -> int:
    from .pipelines import PRESETS

    width = max(map(len, PRESETS))
    for name, description in PRESETS.items():
        print(f"{name:<{width}}  {description}")
    return 0


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
