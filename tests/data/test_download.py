import hashlib
import io
import socket

import pytest

from glassnet.data.download import ChecksumError, DownloadError, SizeError, _fetch, download_url, sha256_file

PAYLOAD = bytes(range(256)) * 1000  # 256 kB: several read chunks
SHA = hashlib.sha256(PAYLOAD).hexdigest()


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def test_happy_path(http_server, tmp_path):
    http_server.files["/data/file.gz"] = PAYLOAD
    dest = tmp_path / "sub" / "file.gz"
    out = download_url(http_server.url + "/data/file.gz", dest, SHA, size=len(PAYLOAD), backoff=0)
    assert out == dest and dest.read_bytes() == PAYLOAD and sha256_file(dest) == SHA
    assert leftovers(dest.parent) == [] and http_server.requests == ["/data/file.gz"]


def test_checksum_mismatch_removes_file_and_keeps_previous(http_server, tmp_path):
    http_server.files["/f"] = PAYLOAD[:-1] + b"\x00"
    dest = tmp_path / "f"
    dest.write_bytes(b"previous good file")
    with pytest.raises(ChecksumError, match=f"SHA-256 mismatch: expected {SHA}, got [0-9a-f]{{64}}; the downloaded file was removed"):
        download_url(http_server.url + "/f", dest, SHA, size=len(PAYLOAD), backoff=0)
    assert dest.read_bytes() == b"previous good file"  # the rename never happened
    assert leftovers(tmp_path) == []
    assert len(http_server.requests) == 1  # a wrong file is not fetched again


def test_truncated_transfer_is_an_error_and_leaves_nothing(http_server, tmp_path):
    http_server.files["/t"] = PAYLOAD
    http_server.truncate.add("/t")
    dest = tmp_path / "t"
    with pytest.raises(DownloadError, match=r"(?s)could not download t after 2 attempt\(s\).*transfer truncated"):
        download_url(http_server.url + "/t", dest, SHA, size=len(PAYLOAD), retries=2, backoff=0)
    assert not dest.exists() and leftovers(tmp_path) == []
    assert http_server.requests == ["/t", "/t"]  # retried, and only as often as allowed


def test_falls_back_to_the_next_mirror_without_retrying_404(http_server, tmp_path):
    http_server.files["/b/f"] = PAYLOAD
    dest = download_url([http_server.url + "/a/f", http_server.url + "/b/f"], tmp_path / "f", SHA, size=len(PAYLOAD), backoff=0)
    assert dest.read_bytes() == PAYLOAD
    assert http_server.requests == ["/a/f", "/b/f"]


def test_unreachable_server(tmp_path):
    with socket.socket() as s:  # a port that was free a moment ago: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match=rf"127.0.0.1:{port}/f: .*(refused|Connection)"):
        download_url(f"http://127.0.0.1:{port}/f", tmp_path / "f", SHA, size=len(PAYLOAD), retries=1, timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_a_server_that_never_stops_is_cut_off_at_the_expected_size(http_server, tmp_path):
    http_server.endless.add("/forever")
    dest = tmp_path / "f"
    with pytest.raises(SizeError, match=rf"/forever: the server sent more than the {len(PAYLOAD)} bytes of the file"):
        download_url(http_server.url + "/forever", dest, SHA, size=len(PAYLOAD), backoff=0)
    assert not dest.exists() and leftovers(tmp_path) == []
    assert http_server.requests == ["/forever"]  # a wrong file is not fetched again
    # what reaches the file is bounded by the size, whatever the server sends
    out = io.BytesIO()
    with pytest.raises(SizeError):
        _fetch(http_server.url + "/forever", out, timeout=5, progress=False, size=len(PAYLOAD))
    assert len(out.getvalue()) <= len(PAYLOAD)


def test_a_wrong_content_length_is_refused_before_reading(http_server, tmp_path):
    http_server.files["/big"] = PAYLOAD
    http_server.announce["/big"] = str(10**12)
    with pytest.raises(SizeError, match=rf"/big: the server announces '1000000000000' bytes, the file has {len(PAYLOAD)}"):
        download_url(http_server.url + "/big", tmp_path / "big", SHA, size=len(PAYLOAD), backoff=0)
    assert list(tmp_path.iterdir()) == []


def test_a_short_file_without_content_length_is_a_truncated_transfer(http_server, tmp_path):
    http_server.files["/short"] = PAYLOAD[:-5]
    http_server.announce["/short"] = str(len(PAYLOAD))  # claims the right size, sends less, closes
    with pytest.raises(DownloadError, match=r"transfer truncated.*\(5 bytes missing\)"):
        download_url(http_server.url + "/short", tmp_path / "s", SHA, size=len(PAYLOAD), retries=1, backoff=0)
    assert list(tmp_path.iterdir()) == []
