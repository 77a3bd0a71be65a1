"""The strict zip layout: a re-zipped bundle is refused with the field that differs, briefly."""

import zipfile

import pytest
from fixtures_records import golden_bundle

from sync.bundle import verify_bundle
from sync.errors import BundleError


def _rezip(src, dst, **kw):
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as out:
        for info in z.infolist():
            out.writestr(zipfile.ZipInfo(info.filename, **kw), z.read(info.filename))
    return dst


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"date_time": (2026, 5, 16, 9, 0, 0)}, "field time: expected 0x0000, got 0x4800"),
        ({}, "field external attributes: expected 0x81a40000, got 0x01800000"),
    ],
)
def test_a_rezipped_bundle_names_the_field_and_shows_only_its_bytes(
    enrolled, tmp_path, kw, message
):
    good = golden_bundle(enrolled, tmp_path / "good.urne")
    bad = _rezip(good, tmp_path / "bad.urne", **kw)
    with pytest.raises(BundleError) as err:
        verify_bundle(bad, enrolled.election)
    text = str(err.value)
    assert text == f"{bad}: member 'certificate.json' central header: non-canonical zip {message}"


def test_a_changed_local_header_names_its_field(enrolled, tmp_path):
    data = bytearray(golden_bundle(enrolled, tmp_path / "good.urne").read_bytes())
    data[10:12] = b"\x00\x48"  # the first member's local header time: 09:00 instead of 00:00
    (tmp_path / "bad.urne").write_bytes(bytes(data))
    with pytest.raises(BundleError, match=r"local header: non-canonical zip field time: expected "
                       r"0x0000, got 0x4800$"):  # fmt: skip
        verify_bundle(tmp_path / "bad.urne", enrolled.election)
