"""Download a file over HTTP(S) safely: of known size, verified, atomic, with bounded retries.

    download_url(urls, destination, sha256, size=...)

1. refuses a response whose Content-Length is not `size`;
2. streams the response into a temporary file next to `destination`, hashing as it goes, and
   stops at the first byte past `size` (a server that never stops sends at most that much);
3. checks that as many bytes arrived as expected, so a connection closed early is an error,
   not a short file;
4. compares the SHA-256 with the expected one;
5. fsyncs and renames the temporary file onto `destination` (a rename within one directory is
   atomic, so `destination` is either absent or complete and verified).

Network failures, server errors (5xx) and short transfers are retried (`retries` attempts per
URL, with a short pause), then the next URL is tried. A wrong size or checksum is not retried:
the server delivered what it has, and it is not the file expected. Whatever fails, the
temporary file is removed.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

CHUNK = 1 << 16


class DownloadError(OSError):
    """A file could not be downloaded and verified; the message says which and why.

    An OSError, so `except OSError` catches it with the other file errors; download_url's example
    shows one raised.

    Examples:
        >>> from glassnet.data import ChecksumError, DownloadError
        >>> issubclass(DownloadError, OSError), issubclass(ChecksumError, DownloadError)
        (True, True)
    """


class ChecksumError(DownloadError):
    """The downloaded bytes do not have the expected SHA-256 (or size).

    Not retried: the server delivered what it has, and it is not the file expected. A
    DownloadError, so `except DownloadError` catches both; download_url's example shows one raised.

    Examples:
        >>> from glassnet.data import ChecksumError, DownloadError
        >>> issubclass(ChecksumError, DownloadError)
        True
    """


class SizeError(ChecksumError):
    """The server announced or sent more bytes than the file has.

    A ChecksumError: a server that sends more than the file's size is not serving that file, and
    the download stops at the first byte too many.

    Examples:
        >>> from glassnet.data.download import ChecksumError, SizeError
        >>> issubclass(SizeError, ChecksumError)
        True
    """


def sha256_file(path) -> str:
    """The SHA-256 of a file as 64 hex digits, read in 1 MiB pieces (the file is never held whole).

    Examples:
        >>> import pathlib, tempfile
        >>> from glassnet.data.download import sha256_file
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = pathlib.Path(folder) / "empty"
        ...     path.touch()
        ...     digest = sha256_file(path)
        >>> digest                    # the SHA-256 of no bytes
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fetch(url: str, out, timeout: float, progress: bool, size: int) -> str:
    """Stream `url` into the open file `out`, at most `size` bytes; return the SHA-256 hex digest
    of what was written."""
    h = hashlib.sha256()
    request = urllib.request.Request(url, headers={"User-Agent": "glassnet"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        if length is not None and length.strip() != str(size):
            raise SizeError(f"{url}: the server announces {length.strip()!r} bytes, the file has {size}; "
                            f"nothing was kept")
        bar = None
        if progress:
            from tqdm import tqdm
            bar = tqdm(total=size, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1], leave=False)
        received = 0
        try:
            while True:
                # http.client raises IncompleteRead when the peer closes before Content-Length
                chunk = response.read(min(CHUNK, size + 1 - received))
                if not chunk:
                    break
                if received + len(chunk) > size:
                    raise SizeError(f"{url}: the server sent more than the {size} bytes of the file; "
                                    f"the download was stopped and nothing was kept")
                out.write(chunk)
                h.update(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if received != size:
        raise http.client.IncompleteRead(b"", size - received)
    return h.hexdigest()


def download_url(urls, destination, sha256: str, *, size: int, retries: int = 3, timeout: float = 30.0,
                 backoff: float = 1.0, progress: bool = False) -> Path:
    """Download the first of `urls` that works to `destination`, verified against `size` (bytes)
    and `sha256`.

    urls: one URL or a list of mirrors serving the same file.
    retries: attempts per URL for network errors and truncated transfers (>= 1).
    backoff: seconds to wait before the k-th retry is k * backoff.
    Returns the destination path; raises ChecksumError (SizeError) or DownloadError otherwise.

    Args:
        urls: one URL or a list of mirrors serving the same file (http, https, or file).
        destination: the file to write; its folder is created. It appears only once verified.
        sha256: the expected SHA-256, 64 hex digits.
        size: the expected length in bytes (keyword-only, required: it bounds what is read).
        retries: attempts per URL for network errors and truncated transfers (>= 1).
        timeout: seconds to wait for the server on each attempt.
        backoff: the pause before the k-th retry is k * backoff seconds.
        progress: show a progress bar (needs tqdm).

    Examples:
        A file:// URL shows the checks without a network:

        >>> import hashlib, pathlib, shutil, tempfile
        >>> from glassnet.data import ChecksumError, DownloadError, download_url
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> source = folder / "served.bin"
        >>> _ = source.write_bytes(b"glassnet")
        >>> digest = hashlib.sha256(b"glassnet").hexdigest()
        >>> download_url(source.as_uri(), folder / "copy.bin", digest, size=8).read_bytes()
        b'glassnet'
        >>> try:
        ...     download_url(source.as_uri(), folder / "bad.bin", "0" * 64, size=8)
        ... except ChecksumError as err:
        ...     print("SHA-256 mismatch" in str(err), (folder / "bad.bin").exists())   # nothing kept
        True False
        >>> try:
        ...     download_url((folder / "missing.bin").as_uri(), folder / "m.bin", digest, size=8, retries=1)
        ... except DownloadError as err:
        ...     print(str(err).splitlines()[0])
        could not download m.bin after 1 attempt(s) per URL:
        >>> shutil.rmtree(folder)
    """
    urls = [urls] if isinstance(urls, str) else list(urls)
    if retries < 1:
        raise ValueError(f"retries must be >= 1, got {retries}")
    if not (isinstance(size, int) and size >= 0):
        raise ValueError(f"size must be the file's length in bytes, got {size!r}")
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        for attempt in range(retries):
            if attempt:
                time.sleep(backoff * attempt)
            fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.",
                                            suffix=".part")
            tmp = Path(tmp_name)
            try:
                with os.fdopen(fd, "wb") as out:
                    digest = _fetch(url, out, timeout, progress, size)
                    out.flush()
                    os.fsync(out.fileno())
                if digest != sha256.lower():
                    raise ChecksumError(
                        f"{url}: SHA-256 mismatch: expected {sha256.lower()}, got {digest}; the "
                        f"downloaded file was removed (the server has a different or damaged file)")
                os.replace(tmp, destination)
                return destination
            except ChecksumError:
                raise
            except http.client.IncompleteRead as err:
                failures.append(f"{url}: transfer truncated: the connection closed before the "
                                f"whole file was received ({err.expected} bytes missing)")
            except urllib.error.HTTPError as err:
                failures.append(f"{url}: HTTP {err.code} {err.reason}")
                if 400 <= err.code < 500:
                    break  # the server refuses or lacks the file: asking again will not help
            except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
                reason = getattr(err, "reason", None) or err
                failures.append(f"{url}: {reason}")
            finally:
                tmp.unlink(missing_ok=True)
    raise DownloadError(f"could not download {destination.name} after {retries} attempt(s) per URL:\n  "
                        + "\n  ".join(failures))
