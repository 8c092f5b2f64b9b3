"""A real browser (headless Chromium through Selenium) uses the web page of `imgrec serve`."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from imgrec_classic.persistence import save_model
from imgrec_classic.pipelines import preset

from ..conftest import dataset_path

webdriver = pytest.importorskip("selenium.webdriver")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                 reason="Debian chromium and chromium-driver not installed")]
CLASSES = ["Faces_easy", "Motorbikes", "airplanes"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def caltech_model(tmp_path_factory):
    root = dataset_path("caltech101")
    train, test = [], {}
    for name in CLASSES:
        files = sorted((root / name).glob("*.jpg"))
        train += [(str(p), name) for p in files[:25]]
        test[name] = files[40]
    model = preset("hog-svm").fit([p for p, _ in train], [n for _, n in train])
    path = tmp_path_factory.mktemp("caltech") / "caltech3.imgrec"
    save_model(model, path, preset="hog-svm")
    return path, test


@pytest.fixture(scope="module")
def server(caltech_model):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "imgrec_classic.cli", "serve",
                             str(caltech_model[0]), "--port", str(port)])
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "health", timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the server did not start")
    yield url
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def browser():
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def test_page_uploads_an_image_and_shows_the_label(server, browser, caltech_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    _, test_images = caltech_model
    browser.get(server)
    wait = WebDriverWait(browser, 30)
    wait.until(lambda d: "3 classes" in d.find_element(By.ID, "meta").text)
    browser.find_element(By.ID, "file").send_keys(str(test_images["Motorbikes"]))
    browser.find_element(By.ID, "submit").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#bars .bar")))
    label = browser.find_element(By.ID, "label").text
    assert label == "Motorbikes"
    bars = browser.find_elements(By.CSS_SELECTOR, "#bars .bar .name")
    assert [b.text for b in bars][0] == "Motorbikes" and len(bars) == 3
    assert browser.find_element(By.ID, "error").text == ""


def test_page_shows_an_error_for_a_bad_file(server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"definitely not a jpeg")
    browser.get(server)
    browser.find_element(By.ID, "file").send_keys(str(bad))
    browser.find_element(By.ID, "submit").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "error").text)
    assert "broken.jpg" in browser.find_element(By.ID, "error").text
