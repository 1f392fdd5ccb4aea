"""The landing source: finding the three datasets' files and reading them as raw records."""

import gzip
import io
import json
import os
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stedi.errors import SourceError
from stedi.storage import S3, is_s3, s3_error, split_s3

DATASETS = ("customer", "accelerometer", "step_trainer")
JSON_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
RAW_SCHEMA = pa.schema(
    [
        ("_source_file", pa.string()),
        ("_line_number", pa.int64()),
        ("_record_number", pa.int64()),
        ("raw", pa.large_string()),
        ("unreadable", pa.bool_()),
        ("invalid_utf8", pa.bool_()),
    ]
)
# A line that may hold several JSON values: objects back to back, or an array of records.
SEVERAL_VALUES = r"\}\s*\{|^\s*\["
DECODER = json.JSONDecoder(strict=False)
JSON_WHITESPACE = " \t\r\n"
# An undecodable byte, as the surrogateescape error handler writes it.
ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
CHUNK_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SourceFile:
    """One JSON-lines file of one dataset: `location` is its absolute path or S3 URI,
    `name` its path relative to the source root; an S3 object has an `etag`, a local
    file a change time."""

    dataset: str
    location: str
    name: str
    size: int
    modified_ns: int
    changed_ns: int | None = None
    etag: str | None = None


@dataclass(frozen=True)
class Discovery:
    """What a source root holds: the files to land and the files that are not JSON lines."""

    files: list[SourceFile]
    ignored: list[str]


class UnreadableFile(Exception):
    """A source file that cannot be read or decompressed; its message says why."""


def discover(root: str | Path, s3: S3 | None = None) -> Discovery:
    """Find the JSON-lines files of each dataset folder under `root`, at any depth.

    `root` is a local folder or an S3 prefix (`s3://bucket/prefix`, listed through `s3`).
    Raises `SourceError` when `root` is missing or holds none of the dataset folders.
    """
    listing = _s3_listing(str(root), s3 or S3()) if is_s3(root) else _local_listing(Path(root))
    if listing is None:
        msg = f"no objects under {root}" if is_s3(root) else f"source folder not found: {root}"
        raise SourceError(msg)
    if not listing.datasets:
        msg = (
            f"no customer/, accelerometer/ or step_trainer/ folder under {root}:"
            " a source holds one folder per dataset"
        )
        raise SourceError(msg)
    if not listing.files:
        msg = f"no JSON-lines files (.json, .jsonl, .json.gz) under the dataset folders of {root}"
        raise SourceError(msg)
    return Discovery(listing.files, listing.ignored)


@dataclass
class _Listing:
    datasets: set[str] = field(default_factory=set)
    files: list[SourceFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _is_json(name: str) -> bool:
    return name.lower().endswith(JSON_SUFFIXES)


def _local_listing(root: Path) -> _Listing | None:
    if not root.is_dir():
        return None
    root, listing = root.absolute(), _Listing()
    folders = [root / d for d in DATASETS if (root / d).is_dir()]
    listing.datasets = {folder.name for folder in folders}
    listing.ignored = [
        _name(p, root) + ("/" if p.is_dir() else "")
        for p in sorted(root.iterdir())
        if p not in folders
    ]
    for folder in folders:
        paths = list(_files_under(folder))
        # By name as text, the order that "the later file" means in SQL.
        for path in sorted(paths, key=lambda p: _name(p, root)):
            name = _name(path, root)
            if not path.is_file() or not _is_json(path.name):
                listing.ignored.append(name)
                continue
            stat = path.stat()
            listing.files.append(
                SourceFile(
                    folder.name, str(path), name, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns
                )
            )
    return listing


def _files_under(folder: Path) -> Iterator[Path]:
    """Everything but folders below `folder`, at any depth, through linked folders too: each
    real folder once, so that a link loop ends where it comes back."""
    seen = set()
    for top, folders, files in os.walk(folder, followlinks=True):
        stat = os.stat(top)
        if (stat.st_dev, stat.st_ino) in seen:
            folders.clear()
            continue
        seen.add((stat.st_dev, stat.st_ino))
        folders.sort()  # the same names on every run, whichever way the disk lists them
        yield from (Path(top, name) for name in files)


def _s3_listing(root: str, s3: S3) -> _Listing | None:
    """The listing of an S3 prefix; "folders" are the key prefixes up to a `/`."""
    bucket, prefix = split_s3(root)
    listing, others, empty = _Listing(), {}, True
    for obj in s3.list(root):
        empty = False
        name = obj.key[len(prefix) + 1 :] if prefix else obj.key
        top, _, rest = name.partition("/")
        if not name or name.endswith("/"):
            continue  # a folder marker, as consoles create them
        if top not in DATASETS or not rest:
            others.setdefault(top + ("/" if rest else ""), None)
            continue
        listing.datasets.add(top)
        if not _is_json(name):
            listing.ignored.append(name)
            continue
        location = f"s3://{bucket}/{obj.key}"
        listing.files.append(
            SourceFile(top, location, name, obj.size, obj.modified_ns, etag=obj.etag)
        )
    if empty:
        s3.check_bucket(root)  # a missing bucket or refused access says so
        return None
    listing.ignored = sorted(others) + listing.ignored
    listing.files.sort(key=lambda f: (DATASETS.index(f.dataset), f.name))
    return listing


def read(
    file: SourceFile, digest, s3: S3 | None = None, fetched: bytes | None = None
) -> Iterator[pa.Table]:
    """The file's raw records, a table per chunk of about `CHUNK_BYTES` read.

    The file is streamed, never read whole, except a file that holds one JSON array, which
    must be parsed whole, and a small object `fetched` ahead (see `fetch`). `digest` (a
    hashlib object) is fed the decompressed content. Raises `UnreadableFile` when the file
    cannot be read or decompressed, `S3Error` when S3 fails after retries.
    """
    chunks = _chunks(file, s3, fetched)
    head = b""
    for chunk in chunks:
        head += chunk
        if head.lstrip(b"\xef\xbb\xbf \t\r\n"):
            break
    digest.update(head)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        rest = b"".join(chunks)
        digest.update(rest)
        yield records(file, head + rest)
        return
    pending, line, record = head, 1, 1
    for chunk in chunks:
        digest.update(chunk)
        pending += chunk
        cut = pending.rfind(b"\n") + 1
        if cut:
            table = _line_records(file, pending[:cut], line, record)
            line, record = line + pending.count(b"\n", 0, cut), record + len(table)
            pending = pending[cut:]
            yield table
    yield _line_records(file, pending, line, record)


def fetch(file: SourceFile, s3: S3 | None = None) -> bytes:
    """The whole (compressed) content of a small S3 object, to fetch many at a time."""
    return (s3 or S3()).download(*split_s3(file.location))


def _chunks(file: SourceFile, s3: S3 | None, fetched: bytes | None) -> Iterator[bytes]:
    """The decompressed bytes of the file, chunk by chunk.

    A file that cannot be read or decompressed is an `UnreadableFile`; S3 failing while it
    sends an object is an `S3Error` (the object is fine, the run stops).
    """
    try:
        with io.BytesIO(fetched) if fetched is not None else _open(file, s3) as raw:
            gz = file.name.lower().endswith(".gz")
            stream = gzip.GzipFile(fileobj=raw) if gz else raw
            while chunk := stream.read(CHUNK_BYTES):
                yield chunk
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise UnreadableFile(f"{type(err).__name__}: {err}") from err
    except Exception as err:
        if is_s3(file.location):
            raise s3_error(file.location, err) from err
        if isinstance(err, OSError):
            raise UnreadableFile(f"{type(err).__name__}: {err}") from err
        raise


def _open(file: SourceFile, s3: S3 | None) -> BinaryIO:
    if is_s3(file.location):
        return (s3 or S3()).open(*split_s3(file.location))
    return open(file.location, "rb")


def records(file: SourceFile, data: bytes) -> pa.Table:
    """The JSON records of a whole file's content as raw records.

    A record is a non-blank line, or one of several JSON values on a line (objects back to
    back with no separator, as Kinesis Firehose writes them, or the elements of an array);
    a file that holds one JSON array, over as many lines as it likes, is its elements.
    """
    text, invalid_lines = _text(data)
    numbers, raws, first_line = [], [], 1
    if text.lstrip(JSON_WHITESPACE).startswith("["):
        values, stop = _values(text)
        *numbers, first_line = _line_numbers(text, [at for at, _ in values] + [stop])
        raws, text = [v for _, v in values], text[stop:]
    lines, line_numbers = _lines(text, first_line)
    lines = pa.concat_arrays([pa.array(raws, pa.large_string()), lines])
    line_numbers = pa.concat_arrays([pa.array(numbers, pa.int64()), line_numbers])
    return _table(file, line_numbers, lines, 1, [1 + i for i in invalid_lines])


def _line_records(file: SourceFile, data: bytes, first_line: int, first_record: int) -> pa.Table:
    """The records of whole lines of a file, from line `first_line` and record `first_record`."""
    text, invalid_lines = _text(data, bom=first_line == 1)
    lines, numbers = _lines(text, first_line)
    return _table(file, numbers, lines, first_record, [first_line + i for i in invalid_lines])


def _text(data: bytes, *, bom: bool = True) -> tuple[str, list[int]]:
    """The text, and the lines (0-based) with bytes that are not UTF-8, which become U+FFFD
    (and those lines' records are quarantined; a U+FFFD the source wrote is no sign of it);
    a byte-order mark at the start of the file goes."""
    try:
        text, invalid_lines = data.decode("utf-8"), []
    except UnicodeDecodeError:
        escaped = data.decode("utf-8", errors="surrogateescape").split("\n")
        invalid_lines = [i for i, line in enumerate(escaped) if ESCAPED_BYTE.search(line)]
        text = data.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff") if bom else text, invalid_lines


def _table(
    file: SourceFile, numbers: pa.Array, lines: pa.Array, first_record: int, invalid_lines: list
) -> pa.Table:
    """Raw records; those of the lines numbered in `invalid_lines` are flagged as invalid UTF-8."""
    invalid = (
        pc.is_in(numbers, pa.array(invalid_lines, pa.int64()))
        if invalid_lines
        else pa.repeat(False, len(lines))
    )
    return pa.table(
        [
            pa.repeat(file.name, len(lines)).cast(pa.string()),
            numbers,
            pa.array(np.arange(first_record, first_record + len(lines), dtype=np.int64)),
            lines,
            pa.repeat(False, len(lines)),
            invalid,
        ],
        schema=RAW_SCHEMA,
    )


def _lines(text: str, first_line: int) -> tuple[pa.Array, pa.Array]:
    """The non-blank lines of `text` and their numbers, lines of several values split up.

    CRLF line ends are removed; line numbers count blank lines too.
    """
    # The text of whole lines ends with a line end, after which there is no line.
    text = text.removesuffix("\n")
    lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    lines = pc.utf8_rtrim(lines, characters="\r")
    numbers = pa.array(np.arange(first_line, first_line + len(lines), dtype=np.int64))
    blank = pc.or_(pc.equal(pc.binary_length(lines), 0), pc.utf8_is_space(lines))
    if pc.any(blank).as_py():  # most chunks have none: spare copying them
        keep = pc.invert(blank)
        lines, numbers = pc.filter(lines, keep), pc.filter(numbers, keep)
    several = pc.indices_nonzero(pc.match_substring_regex(lines, SEVERAL_VALUES)).to_pylist()
    if not several:
        return lines, numbers
    line_parts, number_parts, done = [], [], 0
    for i in several:
        line, number = lines[i].as_py(), numbers[i].as_py()
        values, stop = _values(line)
        split = [v for _, v in values] + ([line[stop:].strip()] if stop < len(line) else [])
        line_parts += [lines.slice(done, i - done), pa.array(split, pa.large_string())]
        number_parts += [numbers.slice(done, i - done), pa.repeat(number, len(split))]
        done = i + 1
    line_parts.append(lines.slice(done))
    number_parts.append(numbers.slice(done))
    return pa.concat_arrays(line_parts), pa.concat_arrays(number_parts).cast(pa.int64())


def _line_numbers(text: str, offsets: list[int]) -> list[int]:
    """The line number of each offset into `text`; offsets ascend."""
    numbers, line, last = [], 1, 0
    for at in offsets:
        line += text.count("\n", last, at)
        numbers.append(line)
        last = at
    return numbers


def _values(text: str) -> tuple[list[tuple[int, str]], int]:
    """The JSON values at the start of `text`, with their offsets, and where they stop.

    Values may follow each other with or without white space; the elements of a top-level
    array are values of their own. Values are cut out of the text, not re-serialised, so
    that validation sees them as sent. The scan stops at the first text that is not JSON.
    """
    values, at = [], _skip(text, 0)
    while at < len(text):
        if text[at] == "[":
            elements, at, complete = _elements(text, at)
            values += elements
            if not complete:
                return values, at
        else:
            try:
                end = DECODER.raw_decode(text, at)[1]
            except (ValueError, RecursionError):
                return values, at
            values.append((at, text[at:end]))
            at = end
        at = _skip(text, at)
    return values, at


def _elements(text: str, at: int) -> tuple[list[tuple[int, str]], int, bool]:
    """The elements of the array at `at`, the offset where the scan ended, and whether the
    array was complete (else the offset of the text that is not JSON: the first bad
    element, or the array's `[` when it has no good one)."""
    start, elements, at = at, [], _skip(text, at + 1)
    if text.startswith("]", at):
        return elements, at + 1, True
    while True:
        try:
            end = DECODER.raw_decode(text, at)[1]
        except (ValueError, RecursionError):
            return elements, at if elements else start, False
        elements.append((at, text[at:end]))
        at = _skip(text, end)
        if text.startswith("]", at):
            return elements, at + 1, True
        if not text.startswith(",", at):
            return elements, at, False
        at = _skip(text, at + 1)


def _skip(text: str, at: int) -> int:
    """The offset of the first character at or after `at` that is not JSON white space."""
    while at < len(text) and text[at] in JSON_WHITESPACE:
        at += 1
    return at


def _name(path: Path, root: Path) -> str:
    """The path relative to the source root; bytes that are not UTF-8 become `\\xff`."""
    relative = path.relative_to(root).as_posix()
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def unreadable(file: SourceFile, message: str) -> pa.Table:
    """The one record of a file that cannot be read: at line 0, its raw text says why."""
    return pa.Table.from_pylist(
        [
            {
                "_source_file": file.name,
                "_line_number": 0,
                "_record_number": 1,
                "raw": message,
                "unreadable": True,
                "invalid_utf8": False,
            }
        ],
        schema=RAW_SCHEMA,
    )
