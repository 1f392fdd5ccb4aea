import gzip
import hashlib

import pyarrow as pa
import pytest

from stedi import source
from stedi.errors import SourceError


def read(file: source.SourceFile) -> tuple[str, pa.Table]:
    """The file's digest and all its raw records, read in small chunks."""
    digest = hashlib.sha256()
    tables = list(source.read(file, digest))
    return digest.hexdigest(), pa.concat_tables(tables)


def test_discover_finds_each_dataset_at_any_depth_and_lists_other_files(tmp_path):
    (tmp_path / "customer" / "landing" / "2022").mkdir(parents=True)
    (tmp_path / "customer" / "landing" / "2022" / "a.json").write_text("{}\n")
    (tmp_path / "accelerometer").mkdir()
    (tmp_path / "accelerometer" / "b.jsonl").write_text("{}\n")
    (tmp_path / "accelerometer" / "c.json.gz").write_bytes(gzip.compress(b"{}\n"))
    (tmp_path / "accelerometer" / "README.md").write_text("notes")
    (tmp_path / "accelerometer" / "gone.json").symlink_to(tmp_path / "nowhere.json")
    (tmp_path / "step-trainer").mkdir()
    (tmp_path / "step-trainer" / "d.json").write_text("{}\n")

    found = source.discover(tmp_path)

    assert [(f.dataset, f.name) for f in found.files] == [
        ("customer", "customer/landing/2022/a.json"),
        ("accelerometer", "accelerometer/b.jsonl"),
        ("accelerometer", "accelerometer/c.json.gz"),
    ]
    assert found.ignored == ["step-trainer/", "accelerometer/README.md", "accelerometer/gone.json"]


def test_discover_follows_linked_folders_and_stops_at_a_link_loop(tmp_path):
    feeds = tmp_path / "feeds" / "acc"
    feeds.mkdir(parents=True)
    (feeds / "a.json").write_text("{}\n")
    (feeds / "again").symlink_to(feeds)  # a loop
    (tmp_path / "src" / "accelerometer").mkdir(parents=True)
    (tmp_path / "src" / "accelerometer" / "landing").symlink_to(feeds)

    found = source.discover(tmp_path / "src")

    assert [(f.dataset, f.name) for f in found.files] == [
        ("accelerometer", "accelerometer/landing/a.json")
    ]
    assert found.ignored == []


def test_discover_rejects_a_missing_folder(tmp_path):
    with pytest.raises(SourceError, match=r"source folder not found: .*nowhere"):
        source.discover(tmp_path / "nowhere")


def test_discover_rejects_a_folder_without_datasets(tmp_path):
    (tmp_path / "misc").mkdir()
    with pytest.raises(SourceError, match="no customer/, accelerometer/ or step_trainer/ folder"):
        source.discover(tmp_path)


def test_discover_rejects_dataset_folders_without_json_files(tmp_path):
    (tmp_path / "customer").mkdir()
    with pytest.raises(SourceError, match="no JSON-lines files"):
        source.discover(tmp_path)


def test_records_number_lines_and_strip_crlf_bom_and_blank_lines(tmp_path):
    path = tmp_path / "customer" / "a.json.gz"
    path.parent.mkdir()
    path.write_bytes(gzip.compress('\ufeff{"a": 1}\r\n\r\n  \n{"a": 2}\r\n{"a": 3}'.encode()))
    [file] = source.discover(tmp_path).files

    digest, table = read(file)

    assert (
        digest
        == hashlib.sha256('\ufeff{"a": 1}\r\n\r\n  \n{"a": 2}\r\n{"a": 3}'.encode()).hexdigest()
    )
    assert table.select(["_line_number", "raw", "unreadable"]).to_pylist() == [
        {"_line_number": 1, "raw": '{"a": 1}', "unreadable": False},
        {"_line_number": 4, "raw": '{"a": 2}', "unreadable": False},
        {"_line_number": 5, "raw": '{"a": 3}', "unreadable": False},
    ]


def test_records_replace_invalid_utf8_so_the_line_is_kept(tmp_path):
    path = tmp_path / "customer" / "a.json"
    path.parent.mkdir()
    path.write_bytes(b'{"email": "caf\xff@x.com"}\n')
    [file] = source.discover(tmp_path).files

    assert read(file)[1]["raw"].to_pylist() == ['{"email": "caf\ufffd@x.com"}']


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not gzip at all", "BadGzipFile: Not a gzipped file (b'no')"),
        (gzip.compress(b'{"a": 1}\n')[:-6], "EOFError: Compressed file ended before the"),
    ],
)
def test_a_file_that_cannot_be_decompressed_is_unreadable(tmp_path, content, message):
    path = tmp_path / "customer" / "a.json.gz"
    path.parent.mkdir()
    path.write_bytes(content)
    [file] = source.discover(tmp_path).files

    with pytest.raises(source.UnreadableFile) as raised:
        read(file)

    assert str(raised.value).startswith(message)


def test_a_file_name_that_is_not_utf8_is_kept_readable(tmp_path):
    (tmp_path / "customer").mkdir()
    (tmp_path / "customer" / "bad\udcff.json").write_bytes(b"{}\n")

    [file] = source.discover(tmp_path).files

    assert file.name == "customer/bad\\xff.json"
    assert read(file)[1]["_source_file"].to_pylist() == ["customer/bad\\xff.json"]


def test_records_are_the_same_whatever_the_chunk_size(tmp_path, monkeypatch):
    lines = [f'{{"a": {i}}}' for i in range(50)]
    lines[10] = '{"a": 10}{"a": 10.5}'
    lines[20] = ""
    text = "\ufeff" + "\r\n".join(lines) + "\r\n"
    path = tmp_path / "customer" / "a.json"
    path.parent.mkdir()
    path.write_text(text, newline="")
    [file] = source.discover(tmp_path).files
    whole = read(file)

    monkeypatch.setattr(source, "CHUNK_BYTES", 7)
    chunked = read(file)

    assert chunked == whole
    assert whole[0] == hashlib.sha256(text.encode()).hexdigest()
    assert whole[1].num_rows == 50
    assert whole[1].slice(10, 2).select(["_line_number", "_record_number", "raw"]).to_pylist() == [
        {"_line_number": 11, "_record_number": 11, "raw": '{"a": 10}'},
        {"_line_number": 11, "_record_number": 12, "raw": '{"a": 10.5}'},
    ]
    assert whole[1]["_line_number"].to_pylist()[-1] == 50
