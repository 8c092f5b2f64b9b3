"""The ``imgrec`` command line.

Every sub-command is a function of parsed arguments returning an exit code, and
:func:`main` takes ``argv`` so that tests call it in-process.
"""

from __future__ import annotations

import argparse
import os
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
    bovw = preset("dsift-bovw-chi2svm", n_jobs=n_jobs, features__sift__step=4,
                  features__sift__sizes=(4, 6), features__sift_encoding__n_words=200,
                  features__sift_encoding__pyramid=(1, 2))
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
    from .pipelines import PRESETS, preset_params

    if args.name is None:
        width = max(map(len, PRESETS))
        for name, description in PRESETS.items():
            print(f"{name:<{width}}  {description}")
        return 0
    if args.name not in PRESETS:
        raise ValueError(f"unknown preset {args.name!r}; choose from {', '.join(PRESETS)}")
    print(f"{args.name}: {PRESETS[args.name]}\n\nparameters (--param KEY=VALUE, values as "
          "JSON: [8, 8] for a tuple, null for None):")
    params = preset_params(args.name)
    width = max(map(len, params))
    for key, value in params.items():
        print(f"  {key:<{width}}  {value!r}")
    return 0


def parse_param(item: str) -> tuple[str, object]:
    """``"step__param=value"`` with the value read as JSON when it parses (10, 0.5, true,
    [1, 2] -> a tuple), else kept as a string."""
    import json

    if "=" not in item:
        raise ValueError(f"--param expects key=value, got {item!r}")
    key, text = item.split("=", 1)
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text
    return key.strip(), tuple(value) if isinstance(value, list) else value


def _load_folder(path: str, verbose: bool = True):
    from .datasets import load_image_folder

    data = load_image_folder(path, on_error="skip", verbose=verbose)
    if data.skipped:
        print(f"skipped {len(data.skipped)} files (first: {data.skipped[0][0]}: "
              f"{data.skipped[0][1]})", file=sys.stderr)
    labels = [data.target_names[t] for t in data.target]
    return data, labels


def _train(args: argparse.Namespace) -> int:
    import numpy as np

    from .evaluation import evaluate
    from .persistence import save_model
    from .pipelines import configure, preset

    if not 0 <= args.test_size < 1:
        raise ValueError(f"--test-size is a fraction in [0, 1), got {args.test_size}")
    params = dict(parse_param(p) for p in args.param)
    model = preset(args.preset, n_jobs=args.n_jobs, verbose=not args.quiet, **params)
    if args.cache:
        configure(model, cache=args.cache)
    _check_output(args.output)
    data, labels = _load_folder(args.data_dir, verbose=not args.quiet)
    if len(data.target_names) < 2:
        raise ValueError(f"{args.data_dir} holds {len(data.target_names)} class folder(s) "
                         f"({', '.join(data.target_names) or 'none'}); a classifier needs two "
                         "or more, one sub-folder of images per class")
    images, y = data.images, np.asarray(labels)
    metrics, test_images, y_test = None, [], []
    if args.test_size > 0:
        from sklearn.model_selection import train_test_split

        _check_held_out(y, args.test_size)
        images, test_images, y, y_test = train_test_split(
            images, y, test_size=args.test_size, stratify=y, random_state=args.seed)
    print(f"training {args.preset} on {len(images)} images of {len(set(y))} classes")
    start = time.perf_counter()
    model.fit(images, y)
    fit_seconds = time.perf_counter() - start
    if args.test_size > 0:
        report = evaluate(model, test_images, y_test)
        metrics = report.to_dict()
        print(f"held-out {len(test_images)} images: {report}")
    from .update import data_manifest

    if args.cache:  # the metadata records it for `imgrec update`; the model itself, served
        configure(model, cache=False)  # or watched, would cache every request or frame
    # The data manifest (files and their hashes): `imgrec update` retrains from it.
    path = save_model(model, args.output, preset=args.preset,
                      params={k: repr(v) for k, v in params.items()},
                      target_names=data.target_names, data_dir=str(args.data_dir),
                      n_train=len(images), fit_seconds=round(fit_seconds, 1), metrics=metrics,
                      training_data=data_manifest(images, y),
                      held_out=data_manifest(test_images, y_test),
                      cache=None if args.cache is None else os.path.abspath(args.cache))
    print(f"saved {path} (fit {fit_seconds:.1f} s)")
    return 0


def _check_held_out(labels, test_size: float) -> None:
    """Raise, before any work, unless a stratified hold-out of ``test_size`` exists."""
    import numpy as np

    names, counts = np.unique(labels, return_counts=True)
    single = [str(n) for n, c in zip(names, counts, strict=True) if c < 2]
    if single:
        raise ValueError(f"class(es) {', '.join(single[:5])} hold one image: a held-out "
                         "evaluation needs two or more per class; add images or pass "
                         "--test-size 0")
    held = np.ceil(test_size * len(labels))  # scikit-learn's rounding
    if held < len(names) or len(labels) - held < len(names):
        raise ValueError(f"--test-size {test_size} of {len(labels)} images cannot give each of "
                         f"the {len(names)} classes a training and a held-out image; change "
                         "it, or pass --test-size 0")


def _update(args: argparse.Namespace) -> int:
    from .persistence import save_model
    from .update import file_sha256, update_model

    _check_output(args.output)
    model, metadata = _load_for_work(args)
    data, labels = _load_folder(args.new_data, verbose=not args.quiet)
    start = time.perf_counter()
    result = update_model(model, metadata, data.images, labels,
                          refit_encoder=args.refit_encoder, test_size=args.test_size,
                          random_state=args.seed, cache=args.cache,
                          parent=file_sha256(args.model), verbose=not args.quiet)
    seconds = time.perf_counter() - start
    old, new = result.old_report, result.new_report
    print(f"updated on {result.metadata['n_train']} images in {seconds:.1f} s "
          f"({'encoder refitted' if args.refit_encoder else 'encoder kept'})")
    if new is not None:
        print(f"held-out images: {len(result.held_out)}\n\n| metric | old | new |\n|---|---:|---:|")
        for name in ("accuracy", "mean_class_accuracy", "f1"):
            print(f"| {name.replace('_', ' ')} | {getattr(old, name):.4f} | "
                  f"{getattr(new, name):.4f} |")
    if args.promote_if_better and new is not None and \
            new.mean_class_accuracy < old.mean_class_accuracy:
        print(f"not written: mean per-class accuracy fell ({old.mean_class_accuracy:.4f} -> "
              f"{new.mean_class_accuracy:.4f})", file=sys.stderr)
        return 4
    path = save_model(result.model, args.output,
                      **{**result.metadata, "fit_seconds": round(seconds, 1)})
    print(f"saved {path}")
    return 0


def _check_output(path: str) -> None:
    """The model file can be written: its folder exists and is writable (before any work)."""
    import os
    from pathlib import Path

    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise ValueError(f"cannot write {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write {path}: the folder {folder} is not writable")


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from .evaluation import evaluate

    model, _ = _load_for_work(args)
    data, labels = _load_folder(args.data_dir, verbose=not (args.json or args.quiet))
    known = {str(c) for c in getattr(model, "classes_", [])}
    unknown = sorted(set(data.target_names) - known) if known else []
    images = list(data.images)
    if unknown and not args.skip_unknown:
        raise ValueError(f"{args.data_dir} has classes the model does not know: "
                         f"{', '.join(unknown)}; the model knows {', '.join(sorted(known))} "
                         "(--skip-unknown leaves those images out and counts them)")
    if unknown:
        keep = [i for i, label in enumerate(labels) if label in known]
        print(f"left out {len(labels) - len(keep)} images of classes the model does not know: "
              f"{', '.join(unknown)}", file=sys.stderr)
        if not keep:
            raise ValueError("no image of a class the model knows is left to evaluate")
        images, labels = [images[i] for i in keep], list(np.asarray(labels)[keep])
    report = evaluate(model, images, labels)
    if args.json:
        print(report.to_json(indent=2))
    else:
        print(report.to_markdown())
    if args.plot:
        ax = report.plot()
        ax.figure.savefig(args.plot, dpi=120)
        print(f"confusion matrix: {args.plot}", file=sys.stderr)
    return 0


def _predict(args: argparse.Namespace) -> int:
    import json

    from .io import ImageDecodeError, read_image
    from .predict import predict_top_k

    if args.top_k < 1:
        raise ValueError(f"--top-k must be at least 1, got {args.top_k}")
    for path in args.images:
        if "://" in str(path):
            raise ValueError(f"{path} is a URL: predict reads local files; fetch images first "
                             "with `imgrec download URLS_FILE DEST`")
    args.images = _image_files(args.images)
    model, _ = _load_for_work(args)
    # One entry per image, in order, in the shape of the HTTP API's /predict entries.
    entries = []
    for start in range(0, len(args.images), 64):  # bounded memory over long lists
        decoded, where = [], []
        for path in args.images[start:start + 64]:
            try:  # decoded here, once: a bad file is named and skipped, not fatal
                decoded.append(read_image(path))
                where.append(len(entries))
                entries.append({"file": path})
            except ImageDecodeError as exc:
                print(f"imgrec predict: error: {exc}", file=sys.stderr)
                entries.append({"file": path, "error": exc.reason})
        for i, result in zip(where, predict_top_k(model, decoded, k=args.top_k) if decoded
                             else [], strict=True):
            entries[i].update(result)
    failed = sum("error" in e for e in entries)
    if args.json:
        print(json.dumps(entries, indent=2))
    else:
        for entry in entries:
            if "error" in entry:
                continue
            scores = ", ".join(f"{t['label']} {t['score']:.3f}" for t in entry["top"])
            kind = {"decision": "; softmax of decision values",
                    "probability": "; probabilities"}.get(entry["score_kind"], "")
            print(f"{entry['file']}: {entry['label']}" + (f"  ({scores}{kind})" if scores else ""))
    return 1 if failed else 0


def _image_files(paths: list[str]) -> list[str]:
    """``paths`` with every folder replaced by the images in it, at any depth."""
    from .io.folders import list_images

    files = []
    for path in paths:
        if not os.path.isdir(path):
            files.append(path)
            continue
        found = list_images(path)
        if not found:
            raise ValueError(f"no images in folder {path!r} (by extension)")
        files += found
    return files


def _watch(args: argparse.Namespace) -> int:
    import json
    import time
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from .predict import predict_with_scores, score_shares, top_k_entry
    from .video import VideoError, VideoFrames

    if args.smooth < 1 or args.top_k < 1 or args.workers < 1:
        raise ValueError("--smooth, --top-k and --workers must be at least 1")
    model, _ = _load_for_work(args)
    # A detector (SlidingWindowDetector, PeopleDetector) gives boxes, a classifier labels.
    detector = hasattr(model, "detect") and not hasattr(model, "classes_")
    frames = VideoFrames(args.source, rate=args.rate, realtime=not args.every_frame,
                         stall_timeout=args.stall_timeout)
    classes = None if detector else np.asarray(model.classes_)
    history, latencies, writer, ended = deque(maxlen=args.smooth), [], None, "end of source"

    def classify(frame):
        began = time.perf_counter()
        out = model.detect(frame.image) if detector else predict_with_scores(model, [frame.image])
        return frame, out, time.perf_counter() - began

    def describe(out) -> dict:
        if detector:
            boxes, scores = out
            return {"boxes": np.round(boxes, 1).tolist(), "scores": np.round(scores, 3).tolist()}
        y_pred, scores, kind = out
        # Smoothing: the mean of the last N frames' shares (votes without scores).
        history.append(score_shares(scores, kind)[0] if scores is not None
                       else (classes == y_pred[0]).astype(float))
        shares = np.mean(history, axis=0)
        return top_k_entry(classes, classes[shares.argmax()],
                           shares if scores is not None else None, kind, args.top_k)

    def emit(result):
        nonlocal writer
        frame, out, seconds = result
        entry = describe(out)
        latencies.append(1000 * seconds)
        print(json.dumps({"frame": frame.index, "time": round(frame.timestamp, 3), **entry,
                          "latency_ms": round(latencies[-1], 1)}), flush=True)
        if args.output:
            writer = _annotate(writer, args.output, frame.image, entry, args.rate or frames.fps)

    start = time.monotonic()
    # Up to --workers frames in flight, each taken newest when a worker is free, the
    # results in frame order; every worker on one thread, so they share the cores.
    pending, submitted = deque(), 0
    with ThreadPoolExecutor(args.workers) as pool, _one_thread_each(args.workers > 1):
        try:
            for frame in frames:
                pending.append(pool.submit(classify, frame))
                submitted += 1
                if len(pending) >= args.workers:
                    emit(pending.popleft().result())
                if args.max_frames and submitted >= args.max_frames:
                    ended = "max frames"
                    break
            while pending:
                emit(pending.popleft().result())
        except VideoError as exc:
            ended = f"error: {exc}"
        except KeyboardInterrupt:
            ended = "interrupted"
        finally:
            if writer is not None:
                writer.release()
    elapsed = time.monotonic() - start
    summary = {"frames_read": frames.frames_read, "frames_classified": len(latencies),
               "frames_dropped": frames.frames_dropped,
               "fps": round(len(latencies) / elapsed, 2) if elapsed > 0 else None,
               "latency_p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies
               else None,
               "latency_p99_ms": round(float(np.percentile(latencies, 99)), 1) if latencies
               else None, "ended": ended}
    print(json.dumps({"summary": summary}), flush=True)
    if not args.quiet:
        print(f"{summary['frames_classified']} of {summary['frames_read']} frames classified "
              f"({summary['frames_dropped']} dropped), {summary['fps']} frames/s, latency p50 "
              f"{summary['latency_p50_ms']} ms, p99 {summary['latency_p99_ms']} ms; {ended}",
              file=sys.stderr)
    return 1 if ended.startswith("error") else 0


class _one_thread_each:
    """BLAS and OpenCV on one thread for the block (when ``active``): parallel workers."""

    def __init__(self, active: bool):
        self.active = active

    def __enter__(self):
        if self.active:
            import cv2
            from threadpoolctl import threadpool_limits

            self.limits, self.cv_threads = threadpool_limits(1), cv2.getNumThreads()
            cv2.setNumThreads(1)
        return self

    def __exit__(self, *exc):
        if self.active:
            import cv2

            self.limits.unregister()
            cv2.setNumThreads(self.cv_threads)


def _annotate(writer, path: str, image, entry: dict, fps: float):
    """Write ``image`` with its label and score drawn to the video at ``path``."""
    import cv2

    if writer is None:
        fourcc = cv2.VideoWriter_fourcc(*("mp4v" if path.endswith(".mp4") else "MJPG"))
        writer = cv2.VideoWriter(path, fourcc, fps, (image.shape[1], image.shape[0]))
        if not writer.isOpened():
            raise OSError(f"cannot write the video {path}")
    if "boxes" in entry:  # a detector's frame: its boxes and scores
        from .detection import draw_boxes

        writer.write(cv2.cvtColor(draw_boxes(image, entry["boxes"], entry["scores"]),
                                  cv2.COLOR_RGB2BGR))
        return writer
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    score = f" {entry['top'][0]['score']:.2f}" if entry["top"] else ""
    text = f"{entry['label']}{score}"
    for color, thickness in (((0, 0, 0), 4), ((255, 255, 255), 1)):  # outlined: readable anywhere
        cv2.putText(bgr, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.7, color, thickness,
                    cv2.LINE_AA)
    writer.write(bgr)
    return writer


def _split_for_compare(y, args):
    """Indices of the per-class split of ``imgrec compare``, checked before any work."""
    import numpy as np

    from .evaluation import per_class_split

    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise ValueError(f"{args.data_dir} holds {len(classes)} class; comparing needs two or "
                         "more sub-folders of images")
    if args.n_train is not None:
        if counts.min() <= args.n_train:
            small = str(classes[counts.argmin()])
            raise ValueError(f"--n-train {args.n_train} leaves no test image of class "
                             f"{small!r} ({counts.min()} images)")
        return per_class_split(y, args.n_train, random_state=args.seed)
    if counts.min() < 2:
        raise ValueError(f"class {str(classes[counts.argmin()])!r} has one image; each class needs "
                         "two or more (one to train, one to test)")
    from sklearn.model_selection import train_test_split

    index = np.arange(len(y))
    n_test = max(len(classes), round(args.test_size * len(y)))
    train, test = train_test_split(index, test_size=n_test, stratify=y, random_state=args.seed)
    return np.sort(train), np.sort(test)


def _compare(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from .evaluation.compare import available_presets, compare_presets
    from .evaluation.plots import plot_comparison

    presets, left_out = available_presets(args.presets)
    if left_out:
        print(f"leaving out {', '.join(left_out)}: pip install 'imgrec-classic[cnn]' for the "
              "pretrained network", file=sys.stderr)
    if args.plot:
        from ._compat import optional_import

        optional_import("matplotlib", "plot")
    data, labels = _load_folder(args.data_dir, verbose=not args.quiet)
    y = np.asarray(labels)
    train, test = _split_for_compare(y, args)
    print(f"comparing {len(presets)} presets on {len(train)} training and {len(test)} test "
          f"images of {len(set(labels))} classes", file=sys.stderr)
    rows = compare_presets(data.images, y, train, test, presets, n_jobs=args.n_jobs,
                           verbose=not args.quiet,
                           log=lambda line: print(line, file=sys.stderr, flush=True))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        width = max(len(r["preset"]) for r in rows)
        print(f"{'preset':<{width}}  {'mean per-class acc':>18}  {'accuracy':>8}  "
              f"{'train s':>8}  {'predict ms/img':>14}  {'model MB':>8}")
        for r in sorted(rows, key=lambda r: -r["mean_class_accuracy"]):
            print(f"{r['preset']:<{width}}  {r['mean_class_accuracy']:>18.4f}  "
                  f"{r['accuracy']:>8.4f}  {r['train_seconds']:>8.1f}  "
                  f"{r['predict_ms_per_image']:>14.1f}  {r['model_mb']:>8.2f}")
    if args.plot:
        plot_comparison(rows).figure.savefig(args.plot, dpi=120)
        print(f"accuracy against training time: {args.plot}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .serve import run

    run(args.model, host=args.host, port=args.port, max_mb=args.max_mb,
        allow_pickle=args.trust, token=args.token, quiet=args.quiet,
        feedback_dir=args.feedback_dir, row_cache=False if args.no_cache else args.cache)
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


class _DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows a default where there is one to show (not None, False or an empty list)."""

    def _get_help_string(self, action):
        empty = action.default is None or action.default is False or action.default == []
        if empty or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="imgrec", description="Classical image recognition with imgrec-classic.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status:\n"
               "  0    success\n"
               "  1    an error, said in one line on stderr (bad input, a file that cannot be\n"
               "       read, a port in use); for predict: some images could not be read\n"
               "  2    wrong usage (unknown option, bad value)\n"
               "  3    download: some URLs failed (the manifest says why)\n"
               "  4    update --promote-if-better: the new model is not better, not written\n"
               "  130  interrupted (Ctrl+C)\n"
               "  141  the reader of the output left (`| head`)")
    parser.add_argument("--version", action="version", version=f"imgrec-classic {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    add_parser = commands.add_parser

    parser.subcommands = {}

    def with_defaults(name, **kwargs):  # every subcommand's --help shows its defaults
        kwargs.setdefault("formatter_class", _DefaultsFormatter)
        parser.subcommands[name] = add_parser(name, **kwargs)
        return parser.subcommands[name]

    commands.add_parser = with_defaults
    demo = commands.add_parser(
        "demo", help="train and evaluate two classical pipelines on the embedded digits",
        description="Train HOG + SVM and dense SIFT + bag of words + chi2 SVM on half of the "
                    "5,000 OpenCV digits shipped with the package (nothing is downloaded), "
                    "evaluate both on the other half and print their accuracy, time and a "
                    "classification report.")
    demo.add_argument("--n-jobs", type=int, default=None,
                      help="parallel workers for feature extraction (-1: all cores)")
    demo.set_defaults(func=_demo)
    presets = commands.add_parser("presets", help="list the named pipelines, or one's parameters",
                                  description="List the named pipelines of "
                                              "imgrec_classic.pipelines.preset(), or with NAME "
                                              "the parameters of one and their defaults.")
    presets.add_argument("name", nargs="?", default=None, metavar="NAME",
                         help="a preset whose tunable parameters to print")
    presets.set_defaults(func=_presets)
    download = commands.add_parser(
        "download", help="download images listed in a file, with retries and checks",
        description="Download the URLs of URLS_FILE (one per line, or a CSV of url,label that "
                    "sorts images into DEST/label/) into DEST. Only complete, decodable, "
                    "distinct images are kept; DEST/manifest.jsonl records every URL; rerunning "
                    "resumes. Exit code 3 when some URLs failed.")
    download.add_argument("urls_file", metavar="URLS_FILE",
                          help="one URL per line, or CSV rows url,label")
    download.add_argument("dest", metavar="DEST", help="folder to write the images into")
    download.add_argument("--workers", type=int, default=8, help="concurrent downloads")
    download.add_argument("--retries", type=int, default=3,
                          help="further attempts of a URL after a failure")
    download.add_argument("--timeout", type=float, default=30.0, help="seconds per read")
    download.add_argument("--max-mb", type=float, default=20.0, help="largest file kept")
    download.add_argument("--quiet", action="store_true", help="no progress bar")
    download.set_defaults(func=_download)

    train = commands.add_parser(
        "train", help="train a preset on a folder of labelled images and save the model",
        description="Train a named pipeline on DATA_DIR (one sub-folder per class), evaluate it "
                    "on a held-out part, and save it with its metadata to MODEL.")
    train.add_argument("data_dir", metavar="DATA_DIR", help="one sub-folder of images per class")
    train.add_argument("--preset", default="dsift-bovw-chi2svm",
                       help="pipeline name (see `imgrec presets`); hog-svm trains in seconds, "
                       "cnn-svm ([cnn] extra) is the most accurate on photographs")
    train.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                       help="set a pipeline parameter, e.g. features__sift_encoding__n_words=1000; "
                       "values are JSON ([8, 8] for a tuple, null for None); `imgrec presets "
                       "NAME` lists the keys (repeatable)")
    train.add_argument("-o", "--output", required=True, metavar="MODEL",
                       help="model file to write (.imgrec, or .skops for the safer format)")
    train.add_argument("--test-size", type=float, default=0.2,
                       help="fraction held out for evaluation (0: train on everything)")
    train.add_argument("--seed", type=int, default=0, help="random seed of the split")
    train.add_argument("--cache", metavar="DIR", default=None,
                       help="keep every image's encoded row in DIR (keyed by its content and "
                       "the fitted encoders), so that `imgrec update` encodes only new images")
    train.add_argument("--n-jobs", type=int, default=None, help="parallel workers (-1: all)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(func=_train)

    evaluate = commands.add_parser(
        "evaluate", help="evaluate a saved model on a folder of labelled images",
        description="Predict every image of DATA_DIR (one sub-folder per class) with MODEL and "
                    "print accuracy, per-class precision/recall/F1 and more.")
    _model_arguments(evaluate)
    evaluate.add_argument("data_dir", metavar="DATA_DIR", help="one sub-folder of images per class")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument("--skip-unknown", action="store_true",
                          help="leave out (and count) images of classes the model does not know, "
                          "instead of refusing them")
    evaluate.add_argument("--plot", metavar="FILE",
                          help="save the confusion matrix figure (needs matplotlib)")
    _work_arguments(evaluate)
    evaluate.set_defaults(func=_evaluate)

    predict = commands.add_parser(
        "predict", help="label images with a saved model",
        description="Print the predicted label and the best-scoring classes of each IMAGE.")
    _model_arguments(predict)
    predict.add_argument("images", metavar="IMAGE", nargs="+",
                         help="image files, or folders (every image in them, at any depth)")
    predict.add_argument("--top-k", type=int, default=5, help="classes to show per image")
    predict.add_argument("--json", action="store_true", help="print JSON")
    _work_arguments(predict)
    predict.set_defaults(func=_predict)

    compare = commands.add_parser(
        "compare", help="train and evaluate several presets on one split of a folder",
        description="Split DATA_DIR (one sub-folder per class) per class, train each preset on "
                    "the training part, evaluate it on the rest, and print mean per-class "
                    "accuracy, training time, predict time per image and model size side by "
                    "side. By default: hog-svm, dsift-fisher-hog-color-svm (classical), cnn-svm "
                    "(a frozen pretrained network) and hybrid-svm (both); the CNN ones need "
                    "the [cnn] extra and are left out without it.")
    compare.add_argument("data_dir", metavar="DATA_DIR", help="one sub-folder of images per class")
    compare.add_argument("--presets", nargs="+", default=None, metavar="NAME",
                         help="presets to compare (see `imgrec presets`); None: the four above")
    compare.add_argument("--n-train", type=int, default=None, metavar="N",
                         help="training images per class, the rest to test (None: --test-size)")
    compare.add_argument("--test-size", type=float, default=0.3,
                         help="fraction of each class held out for testing")
    compare.add_argument("--seed", type=int, default=0, help="random seed of the split")
    compare.add_argument("--n-jobs", type=int, default=None, help="parallel workers (-1: all)")
    compare.add_argument("--plot", metavar="FILE",
                         help="save accuracy against training time (needs matplotlib)")
    compare.add_argument("--json", action="store_true", help="print the rows as JSON")
    compare.add_argument("--quiet", action="store_true", help="no progress bars")
    compare.set_defaults(func=_compare)

    update = commands.add_parser(
        "update", help="retrain a saved model with new labelled images",
        description="Retrain MODEL on the images it was trained on (recorded in it by "
                    "`imgrec train`) plus NEW_DATA (one sub-folder per class, new classes "
                    "welcome), keeping its fitted vocabulary or mixture unless "
                    "--refit-encoder; evaluate the old and the new model on the same "
                    "held-out images (the model's and a share of the new ones) and print both; "
                    "write NEW_MODEL with its lineage (parent hash, data manifest). Exit code 4 "
                    "when --promote-if-better withholds a model that is not better.")
    _model_arguments(update)
    update.add_argument("new_data", metavar="NEW_DATA", help="one sub-folder of images per class")
    update.add_argument("-o", "--output", required=True, metavar="NEW_MODEL",
                        help="the new model file")
    update.add_argument("--refit-encoder", action="store_true",
                        help="learn the vocabulary / mixture again from all the images")
    update.add_argument("--promote-if-better", action="store_true",
                        help="write NEW_MODEL only if mean per-class accuracy does not drop")
    update.add_argument("--test-size", type=float, default=0.2,
                        help="share of the new images held out for the comparison")
    update.add_argument("--seed", type=int, default=0, help="random seed of that split")
    update.add_argument("--cache", metavar="DIR", default=None,
                        help="row cache (default: the one the model was trained with)")
    _work_arguments(update)
    update.set_defaults(func=_update, json=False)

    watch = commands.add_parser(
        "watch", help="classify the frames of a video, a camera or a stream",
        description="Classify frames of SOURCE (a video file, a camera index such as 0, or a "
                    "stream URL OpenCV opens) with MODEL in real time: when the model is "
                    "slower than the source, the newest frame is taken and the others "
                    "dropped. Prints one JSON line per classified frame (frame, time, label, "
                    "top scores, latency) and a closing {\"summary\": ...} line.")
    _model_arguments(watch)
    watch.add_argument("source", metavar="SOURCE", help="video file, camera index or stream URL")
    watch.add_argument("--rate", type=float, default=None,
                       help="classify at most this many frames per second of the source")
    watch.add_argument("--smooth", type=int, default=1,
                       help="average the scores of the last N frames (1: no smoothing)")
    watch.add_argument("--top-k", type=int, default=3, help="classes to show per frame")
    watch.add_argument("-o", "--output", metavar="VIDEO",
                       help="write the classified frames, label and score drawn (.mp4 or .avi)")
    watch.add_argument("--every-frame", action="store_true",
                       help="a file: classify every frame, as fast as the model goes, instead "
                       "of playing it at its own rate")
    watch.add_argument("--max-frames", type=int, default=None, help="stop after N frames")
    watch.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                       help="frames classified at once, each on one core (1: one frame at a "
                       "time, with the libraries' own threads)")
    watch.add_argument("--stall-timeout", type=float, default=10.0,
                       help="seconds without a frame before a live source counts as stalled")
    _work_arguments(watch)
    watch.set_defaults(func=_watch, json=True)

    serve = commands.add_parser(
        "serve", help="serve a saved model over HTTP, with a web page",
        description="Start an HTTP server (FastAPI + uvicorn, the [serve] extra): POST /predict, "
                    "GET /health, GET /model, GET /metrics (Prometheus), POST /feedback (with "
                    "--feedback-dir) and a web page at /.")
    _model_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (127.0.0.1: this machine only; the server has "
                       "no authentication)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port")
    serve.add_argument("--max-mb", type=float, default=10.0, help="largest upload accepted")
    serve.add_argument("--token", default=None,
                       help="require 'Authorization: Bearer TOKEN' on /predict and /model "
                       "(for a server reachable by others; also put it behind HTTPS)")
    serve.add_argument("--quiet", action="store_true", help="no log line per request")
    serve.add_argument("--feedback-dir", metavar="DIR", default=None,
                       help="accept POST /feedback (an image, or the id of a prediction, and "
                       "its right label) and store the images as DIR/<label>/<sha256>.<ext>, "
                       "a folder `imgrec update` learns from")
    serve.add_argument("--cache", metavar="DIR", default=None,
                       help="with --feedback-dir: the row cache where the encoded rows of "
                       "images given as feedback are written, so `imgrec update` does not "
                       "encode them again (default: the one the model was trained with, when "
                       "it is on this machine)")
    serve.add_argument("--no-cache", action="store_true",
                       help="keep no rows for feedback")
    serve.set_defaults(func=_serve)
    return parser


def _load_for_work(args: argparse.Namespace):
    """The model of ``args.model`` and its metadata, with the workers and progress bars
    the flags ask for, and no row cache (a file saved with one would write an entry for
    every image it labels)."""
    from sklearn.pipeline import Pipeline

    from .persistence import load_model
    from .pipelines import configure

    model, metadata = load_model(args.model, allow_pickle=args.trust)
    if isinstance(model, Pipeline):
        configure(model, n_jobs=args.n_jobs, verbose=not (args.quiet or args.json),
                  cache=False)
    return model, metadata


def _work_arguments(parser: argparse.ArgumentParser) -> None:
    """--n-jobs and --quiet, the same on every command that extracts features."""
    parser.add_argument("--n-jobs", type=int, default=None, help="parallel workers (-1: all)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def _model_arguments(parser: argparse.ArgumentParser) -> None:
    """MODEL and --trust, the same on every command that loads a model."""
    parser.add_argument("model", metavar="MODEL",
                        help="a model written by `imgrec train` (.imgrec: pickle, .skops: skops)")
    parser.add_argument("--trust", action="store_true",
                        help="load a pickle model file this user account did not save (a "
                        "download, a colleague's): unpickling runs any code its author put in "
                        "it, so only for files from people you trust; .skops files never need it")


def main(argv: list[str] | None = None) -> int:
    """Run the ``imgrec`` command with ``argv`` (default: ``sys.argv[1:]``)."""
    parser = _build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # the subcommand's usage, not the top-level one, says what is accepted
        parser.subcommands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout left (`imgrec predict ... | head`): stop quietly, as shell
        # tools do, and keep the interpreter from failing on its last flush.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (OSError, ValueError, ImportError) as exc:
        print(f"imgrec {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
