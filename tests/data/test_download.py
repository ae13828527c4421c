import hashlib
import socket

import pytest

from glassnet.data.download import ChecksumError, DownloadError, download_url, sha256_file

PAYLOAD = bytes(range(256)) * 1000  # 256 kB: several read chunks
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_happy_path(http_server, tmp_path):
    http_server.files["/data/file.gz"] = PAYLOAD
    dest = tmp_path / "sub" / "file.gz"
    out = download_url(http_server.url + "/data/file.gz", dest, SHA, backoff=0)
    assert out == dest and dest.read_bytes() == PAYLOAD and sha256_file(dest) == SHA
    assert leftovers(dest.parent) == [] and http_server.requests == ["/data/file.gz"]


def test_checksum_mismatch_removes_file_and_keeps_previous(http_server, tmp_path):
    http_server.files["/f"] = PAYLOAD[:-1] + b"\x00"
    dest = tmp_path / "f"
    dest.write_bytes(b"previous good file")
    with pytest.raises(ChecksumError, match=f"SHA-256 mismatch: expected {SHA}, got [0-9a-f]{{64}}; the downloaded file was removed"):
        download_url(http_server.url + "/f", dest, SHA, backoff=0)
    assert dest.read_bytes() == b"previous good file"  # the rename never happened
    assert leftovers(tmp_path) == []
    assert len(http_server.requests) == 1  # a wrong file is not fetched again


def test_truncated_transfer_is_an_error_and_leaves_nothing(http_server, tmp_path):
    http_server.files["/t"] = PAYLOAD
    http_server.truncate.add("/t")
    dest = tmp_path / "t"
    with pytest.raises(DownloadError, match=r"(?s)could not download t after 2 attempt\(s\).*transfer truncated"):
        download_url(http_server.url + "/t", dest, SHA, retries=2, backoff=0)
    assert not dest.exists() and leftovers(tmp_path) == []
    assert http_server.requests == ["/t", "/t"]  # retried, and only as often as allowed


def test_falls_back_to_the_next_mirror_without_retrying_404(http_server, tmp_path):
    http_server.files["/b/f"] = PAYLOAD
    dest = download_url([http_server.url + "/a/f", http_server.url + "/b/f"], tmp_path / "f", SHA, backoff=0)
    assert dest.read_bytes() == PAYLOAD
    assert http_server.requests == ["/a/f", "/b/f"]


def test_unreachable_server(tmp_path):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match=rf"127.0.0.1:{port}/f: .*(refused|Connection)"):
        download_url(f"http://127.0.0.1:{port}/f", tmp_path / "f", SHA, retries=1, timeout=5)
    assert list(tmp_path.iterdir()) == []
