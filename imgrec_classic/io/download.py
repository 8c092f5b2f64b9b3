"""Downloading images safely: retries, size and content checks, atomic files, resumable runs.

A run writes each image to a temporary file inside ``dest`` and renames it into place
only after it has been fully received, hashed and decoded, so an interrupted run never
leaves a half-written image behind. Every URL gets one line in a JSON-lines manifest;
rerunning with the same ``dest`` skips what is already done.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path

import requests
import urllib3
from requests.adapters import HTTPAdapter
from tqdm.auto import tqdm
from urllib3.util.retry import Retry

from .header import image_extension
from .images import MAX_PIXELS, ImageDecodeError, read_image

__all__ = ["DownloadRecord", "download_images", "read_url_list", "safe_label"]

MANIFEST = "manifest.jsonl"
_PARTIAL_SUFFIX = ".part"
_RETRY_STATUS = (429, 500, 502, 503, 504)
_MAX_RETRY_AFTER = 10  # seconds: a server asking for longer is not waited for that long
_MAX_LABEL_BYTES = 100  # well under every file system's 255-byte name limit
# Names Windows reserves for devices: not usable as folder names there.
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)),
             *(f"LPT{i}" for i in range(10))}


@dataclass
class DownloadRecord:
    """One manifest line: what happened to one URL.

    ``status`` is ``"ok"`` (saved at ``path``), ``"duplicate"`` (same bytes as an
    image already saved at ``path``) or ``"failed"`` (``error`` says why; nothing kept).
    """

    url: str
    label: str | None
    status: str
    path: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    error: str | None = None


class _Rejected(Exception):
    """A response that arrived but must not be kept (wrong type, too big, undecodable)."""


class _Interrupted(Exception):
    """The body broke off or stalled midway: worth another attempt."""


def read_url_list(path: str | os.PathLike) -> list[tuple[str, str | None]]:
    """Read ``(url, label)`` pairs from a text file of URLs or a CSV of ``url,label``.

    Blank lines and lines starting with ``#`` are ignored; a CSV header ``url,label``
    is skipped. A plain list gives ``label=None``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "urls.csv"
    >>> _ = f.write_text("url,label\\nhttp://a/1.jpg,cat\\nhttp://a/2.jpg,dog\\n")
    >>> read_url_list(f)
    [('http://a/1.jpg', 'cat'), ('http://a/2.jpg', 'dog')]
    """
    pairs = []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            cells = [c.strip() for c in row]
            if not cells or not cells[0] or cells[0].startswith("#"):
                continue
            if [c.lower() for c in cells[:2]] == ["url", "label"]:
                continue
            pairs.append((cells[0], cells[1] if len(cells) > 1 and cells[1] else None))
    return pairs


def download_images(urls: Iterable[str] | Iterable[tuple[str, str | None]],
                    dest: str | os.PathLike, *, max_bytes: int = 20 * 2**20,
                    timeout: float | tuple[float, float] = (5.0, 30.0), retries: int = 3,
                    backoff_factor: float = 0.5, max_redirects: int = 10, n_workers: int = 8,
                    manifest: str = MANIFEST, verbose: bool = True,
                    max_pixels: int | None = MAX_PIXELS,
                    deadline: float = 60.0) -> list[DownloadRecord]:
    """Download images into ``dest``, keeping only complete, decodable, distinct files.

    Parameters
    ----------
    urls : iterable of str or of (url, label) pairs
        With labels (see :func:`read_url_list` for a CSV), files go to ``dest/label/``.
    dest : path
        Output folder, created if needed. It also holds the manifest.
    max_bytes : int, default=20 MiB
        Larger files are refused (from ``Content-Length`` when sent, else while reading).
    timeout : float or (connect, read) tuple, default=(5, 30)
        Seconds, per connection attempt and per read: a stalled server fails the attempt.
    retries : int, default=3
        Retries after connection errors, timeouts, 429 and 5xx answers, with exponential
        backoff (``backoff_factor * 2**attempt`` s) that honours ``Retry-After`` up to
        10 s.
    backoff_factor : float, default=0.5
    max_redirects : int, default=10
        A longer redirect chain (or a loop) fails the URL.
    n_workers : int, default=8
        Concurrent downloads (threads); at most ``2 * n_workers`` URLs are in flight.
    manifest : str, default="manifest.jsonl"
        File name, inside ``dest``, of the JSON-lines manifest (one :class:`DownloadRecord`
        per URL and run).
    verbose : bool, default=True
        Show a progress bar.
    max_pixels : int or None, default=MAX_PIXELS
        A file whose header declares more pixels is refused before it is decoded
        (see :func:`~imgrec_classic.io.read_image`).
    deadline : float, default=60
        Seconds one URL may take in all, attempts included: a server that trickles
        bytes (each read within ``timeout``) fails the URL when it passes.

    Returns
    -------
    records : list of DownloadRecord
        One per URL of this call, in input order. URLs finished by an earlier run are
        returned from the manifest without being fetched again.

    Notes
    -----
    Files are named by the SHA-256 of their content (``<first 16 hex digits>.<ext>``, the
    extension from the bytes' signature), so the same image met twice is stored once and
    reported as ``"duplicate"``. Leftover ``*.part`` files of an interrupted run are removed
    when the next run starts. Labels become portable folder names: characters other than
    letters, digits, space, ``-``, ``_`` and ``.`` are replaced, names are cut to 100
    bytes, and a label that had to change (or a reserved name: ``CON``, the manifest's)
    gets a short hash of the original, so distinct labels never share a folder. Paths in
    the manifest are relative to ``dest``: a rerun from another working directory resumes.

    Examples
    --------
    >>> records = download_images(["http://127.0.0.1:8000/cat.jpg"], "images/")  # doctest: +SKIP
    >>> records[0].status, records[0].path  # doctest: +SKIP
    ('ok', 'images/3f2a9c0d5e1b7a44.jpg')
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    _remove_partials(dest)
    items = [(u, None) if isinstance(u, str) else (u[0], u[1]) for u in urls]
    manifest_path = dest / manifest
    done, by_hash = _read_manifest(manifest_path, dest)
    fetcher = _Fetcher(max_bytes, timeout, retries, backoff_factor, max_redirects, max_pixels,
                       deadline)
    records: list[DownloadRecord | None] = [done.get(url) for url, _ in items]
    todo = [i for i, r in enumerate(records) if r is None]
    with open(manifest_path, "a", encoding="utf-8") as log, \
            tqdm(total=len(items), initial=len(items) - len(todo), unit="img",
                 disable=not verbose, desc="download") as bar:
        for i, result in _run_bounded(lambda i: fetcher.fetch(*items[i], dest), todo,
                                      n_workers):
            records[i] = _finish(result, dest, by_hash, manifest)
            log.write(json.dumps(_manifest_line(records[i], dest)) + "\n")
            log.flush()
            bar.update(1)
    return records


def _run_bounded(func, indices: list[int], n_workers: int) -> Iterator[tuple[int, object]]:
    """Yield ``(i, func(i))`` as they complete, with at most ``2 * n_workers`` pending."""
    pending: dict = {}
    queue = iter(indices)
    with ThreadPoolExecutor(max_workers=max(1, n_workers)) as pool:
        while True:
            for i in queue:
                pending[pool.submit(func, i)] = i
                if len(pending) >= 2 * max(1, n_workers):
                    break
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                yield pending.pop(future), future.result()


@dataclass
class _Fetched:
    url: str
    label: str | None
    temp: Path | None = None
    sha256: str | None = None
    size: int | None = None
    ext: str | None = None
    error: str | None = None


class _Fetcher:
    """Fetches one URL to a verified temporary file; one requests session per thread."""

    def __init__(self, max_bytes, timeout, retries, backoff_factor, max_redirects, max_pixels,
                 deadline):
        self.max_bytes, self.timeout, self.max_pixels = max_bytes, timeout, max_pixels
        self.deadline = deadline
        self.retries, self.backoff_factor = retries, backoff_factor
        self.max_redirects = max_redirects
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            retry = Retry(total=self.retries, connect=self.retries, read=self.retries,
                          status=self.retries, backoff_factor=self.backoff_factor,
                          status_forcelist=_RETRY_STATUS, allowed_methods={"GET"},
                          respect_retry_after_header=True, retry_after_max=_MAX_RETRY_AFTER,
                          raise_on_status=False)
            session = requests.Session()
            session.max_redirects = self.max_redirects
            session.headers["User-Agent"] = "imgrec-classic (image downloader)"
            for scheme in ("http://", "https://"):
                session.mount(scheme, HTTPAdapter(max_retries=retry))
            self._local.session = session
        return session

    def fetch(self, url: str, label: str | None, dest: Path) -> _Fetched:
        # urllib3 retries up to the response headers; a body that breaks off or stalls
        # midway is retried here, with the same backoff, all within the deadline.
        until = time.monotonic() + self.deadline
        for attempt in range(self.retries + 1):
            try:
                return self._fetch_once(url, label, dest, until)
            except _Interrupted as exc:
                pause = self.backoff_factor * 2 ** attempt
                if attempt == self.retries or time.monotonic() + pause >= until:
                    return _Fetched(url, label, error=str(exc))
                time.sleep(pause)
            except _Rejected as exc:
                return _Fetched(url, label, error=str(exc))
            except requests.exceptions.RequestException as exc:
                return _Fetched(url, label, error=_describe(exc))
        raise AssertionError("unreachable")

    def _fetch_once(self, url, label, dest, until) -> _Fetched:
        with self._session().get(url, stream=True, timeout=self.timeout) as response:
            if response.status_code != 200:
                raise _Rejected(f"HTTP {response.status_code}")
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind and not (kind.startswith("image/") or kind == "application/octet-stream"):
                raise _Rejected(f"not an image: Content-Type {kind}")
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > self.max_bytes:
                raise _Rejected(f"too large: {declared} bytes > max_bytes={self.max_bytes}")
            return self._save(response, url, label, dest, until)

    def _save(self, response, url, label, dest, until) -> _Fetched:
        digest, size = hashlib.sha256(), 0
        fd, name = tempfile.mkstemp(suffix=_PARTIAL_SUFFIX, dir=dest)
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in self._body(response, until):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise _Rejected(f"too large: over max_bytes={self.max_bytes}")
                    digest.update(chunk)
                    f.write(chunk)
            with open(temp, "rb") as f:
                head = f.read(16)
            read_image(temp, max_pixels=self.max_pixels)  # a kept file must decode
        except ImageDecodeError as exc:
            temp.unlink(missing_ok=True)
            raise _Rejected(f"does not decode as an image: {exc.reason}") from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                requests.exceptions.Timeout) as exc:
            temp.unlink(missing_ok=True)
            raise _Interrupted(f"interrupted after {size} bytes: {_describe(exc)}") from None
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return _Fetched(url, label, temp, digest.hexdigest(), size, image_extension(head))


    def _body(self, response, until) -> Iterator[bytes]:
        """The body as it arrives, one socket read at a time, up to the deadline.

        Each read has its timeout, but a trickle (a byte a second) never trips it,
        and ``iter_content`` waits for a full chunk: here every read returns what
        came, so the deadline is checked between bytes.
        """
        while True:
            if time.monotonic() > until:
                raise _Rejected(f"took longer than the {self.deadline:g} s deadline")
            try:
                chunk = response.raw.read1(64 * 1024, decode_content=True)
            except urllib3.exceptions.HTTPError as exc:  # broke off, stalled, bad encoding
                raise requests.exceptions.ConnectionError(exc) from exc
            if not chunk:
                return
            yield chunk


def _finish(result: _Fetched, dest: Path, by_hash: dict[str, str],
            manifest: str) -> DownloadRecord:
    """Rename a fetched file into place (in the calling thread, so dedup is race-free).

    A file that cannot be put in place (a full disk, a folder that cannot be made)
    fails its URL, recorded in the manifest; the run goes on.
    """
    if result.error is not None:
        return DownloadRecord(result.url, result.label, "failed", error=result.error)
    record = DownloadRecord(result.url, result.label, "ok", sha256=result.sha256,
                            bytes=result.size)
    if result.sha256 in by_hash:
        result.temp.unlink(missing_ok=True)
        record.status, record.path = "duplicate", by_hash[result.sha256]
        return record
    folder = dest / safe_label(result.label, reserved={manifest}) if result.label else dest
    target = folder / f"{result.sha256[:16]}{result.ext}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        os.replace(result.temp, target)
    except OSError as exc:
        result.temp.unlink(missing_ok=True)
        return DownloadRecord(result.url, result.label, "failed",
                              error=f"cannot write {target}: {exc.strerror or exc}")
    record.path = by_hash[result.sha256] = str(target)
    return record


def _manifest_line(record: DownloadRecord, dest: Path) -> dict:
    """The record as written to the manifest: its path relative to ``dest``."""
    line = asdict(record)
    if record.path is not None:
        line["path"] = Path(os.path.relpath(record.path, dest)).as_posix()
    return line


def _read_manifest(path: Path, dest: Path) -> tuple[dict[str, DownloadRecord], dict[str, str]]:
    """Finished URLs of earlier runs (whose files still exist) and the hashes already kept.

    Failed URLs are tried again; a torn last line (a run killed mid-write) is ignored.
    """
    done: dict[str, DownloadRecord] = {}
    by_hash: dict[str, str] = {}
    if not path.exists():
        return done, by_hash
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = DownloadRecord(**json.loads(line))
        except (json.JSONDecodeError, TypeError):
            continue
        if record.status not in ("ok", "duplicate") or not record.path:
            continue
        # Relative to dest (older manifests: to the working directory of their run).
        for where in (dest / record.path, Path(record.path)):
            if where.exists():
                record.path = str(where)
                done[record.url] = record
                by_hash.setdefault(record.sha256, record.path)
                break
    return done, by_hash


def _remove_partials(dest: Path) -> None:
    for partial in dest.glob(f"*{_PARTIAL_SUFFIX}"):
        partial.unlink(missing_ok=True)


def safe_label(label: str, reserved: Iterable[str] = ()) -> str:
    """A label as one portable folder name, distinct for distinct labels.

    Characters other than letters, digits, space, ``-``, ``_`` and ``.`` become ``_``
    (separators, NUL, ``..`` cannot escape the folder), leading and trailing dots and
    spaces go, and the name is cut to 100 bytes of UTF-8. When any of that changed
    the label, or it is a reserved name (Windows devices such as ``CON``, or one of
    ``reserved``), 8 hex digits of its SHA-256 are appended: ``a/b`` and ``a_b`` get
    different folders.

    Examples
    --------
    >>> safe_label("golden retriever"), safe_label("a/b"), safe_label("a_b")
    ('golden retriever', 'a_b-c14cddc0', 'a_b')
    """
    cleaned = "".join(c if c.isalnum() or c in " -_." else "_"
                      for c in unicodedata.normalize("NFC", label)).strip(" .")
    cut = cleaned.encode()[:_MAX_LABEL_BYTES].decode(errors="ignore")
    if (cut == label and cut and cut.split(".")[0].upper() not in _RESERVED
            and cut not in set(reserved)):
        return cut
    digest = hashlib.sha256(label.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{cut or 'label'}-{digest}"


def _describe(exc: Exception) -> str:
    kind = type(exc).__name__
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return f"{kind}: redirect loop or chain longer than allowed"
    return f"{kind}: {str(exc)[:200]}"
