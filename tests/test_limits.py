"""Input limits: defaults, raised through `INSIDE_KERAS_<NAME>`, and small text files."""

import pytest

from inside_keras.errors import InputError
from inside_keras.runs.limits import MAX_IMAGE_PIXELS, check_image_size, limit, read_text


def test_a_limit_is_its_default_unless_the_environment_sets_it(monkeypatch):
    monkeypatch.delenv("INSIDE_KERAS_MAX_IMAGE_PIXELS", raising=False)
    assert limit("MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS) == MAX_IMAGE_PIXELS
    monkeypatch.setenv("INSIDE_KERAS_MAX_IMAGE_PIXELS", "1_000")
    assert limit("MAX_IMAGE_PIXELS", MAX_IMAGE_PIXELS) == 1000
    check_image_size(40, 25, "a.png")
    with pytest.raises(
        InputError, match=r"a.png: 41x25 is 1025 pixels, more than the limit of 1000"
    ):
        check_image_size(41, 25, "a.png")


@pytest.mark.parametrize("value", ["0", "-5", "lots", "1.5"])
def test_a_limit_set_to_something_else_is_refused(monkeypatch, value):
    monkeypatch.setenv("INSIDE_KERAS_MAX_TEXT_BYTES", value)
    with pytest.raises(InputError, match="INSIDE_KERAS_MAX_TEXT_BYTES: must be a positive integer"):
        limit("MAX_TEXT_BYTES", 10)


def test_read_text_reads_no_further_than_the_limit(tmp_path, monkeypatch):
    path = tmp_path / "Info.cfg"
    path.write_text("ED: 1\n" * 10)
    assert read_text(path, "Info.cfg").count("ED") == 10
    monkeypatch.setenv("INSIDE_KERAS_MAX_TEXT_BYTES", "59")
    with pytest.raises(InputError, match="larger than the limit of 59 bytes"):
        read_text(path, "Info.cfg")
    path.write_bytes(b"\xff\x00")
    with pytest.raises(InputError, match="not a text file"):
        read_text(path, "Info.cfg")
    with pytest.raises(InputError, match="cannot read it"):
        read_text(tmp_path / "missing", "Info.cfg")
