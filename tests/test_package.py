import subprocess
import sys

import cv2
import pytest

import imgrec_classic
from imgrec_classic._compat import cv2_attribute, optional_import


def test_import_is_cheap():
    code = ("import sys, imgrec_classic, imgrec_classic.features, imgrec_classic.datasets; "
            "print(sorted(m for m in ('torch', 'fastapi', 'matplotlib') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_public_names():
    assert imgrec_classic.Descriptors.__name__ == "Descriptors"
    assert callable(imgrec_classic.read_image)
    assert imgrec_classic.__version__.count(".") == 2
    with pytest.raises(AttributeError):
        imgrec_classic.nothing  # noqa: B018


def test_compat_finds_akaze_wherever_it_lives():
    create = cv2_attribute("AKAZE_create")
    assert create is getattr(cv2, "AKAZE_create", None) or create is cv2.xfeatures2d.AKAZE_create
    with pytest.raises(ImportError, match="not available"):
        cv2_attribute("NoSuchThing_create")


def test_optional_import_names_the_extra():
    with pytest.raises(ImportError, match=r"imgrec-classic\[plot\]"):
        optional_import("surely_not_installed_module", "plot")
