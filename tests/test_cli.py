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


def test_console_script_entry_point():
    result = subprocess.run([sys.executable, "-m", "imgrec_classic.cli", "--version"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("imgrec-classic ")
