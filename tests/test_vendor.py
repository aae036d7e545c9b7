"""Browser libraries are served by the app itself, pinned, with their checksums and licences."""
import hashlib
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "webapp" / "static" / "vendor"


def test_vendored_files_match_their_pinned_checksums():
    lines = (VENDOR / "SHA256SUMS").read_text().split("\n")
    checked = 0
    for line in filter(None, lines):
        digest, name = line.split()
        assert hashlib.sha256((VENDOR / name.lstrip("*")).read_bytes()).hexdigest() == digest, name
        checked += 1
    assert checked >= 2


def test_each_vendored_library_ships_its_licence():
    assert (VENDOR / "LICENSE-htmx.txt").stat().st_size > 100
    assert (VENDOR / "LICENSE-sortablejs.txt").stat().st_size > 100


def test_pages_load_no_third_party_asset(client):
    html = client.get("/login").data.decode()
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html
