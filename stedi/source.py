"""The landing source: finding the three datasets' files and reading them as raw records."""

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stedi.errors import SourceError

DATASETS = ("customer", "accelerometer", "step_trainer")
JSON_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")
RAW_SCHEMA = pa.schema(
    [
        ("_source_file", pa.string()),
        ("_line_number", pa.int64()),
        ("_record_number", pa.int64()),
        ("raw", pa.large_string()),
        ("unreadable", pa.bool_()),
    ]
)
# A line that may hold several JSON values: objects back to back, or an array of records.
SEVERAL_VALUES = r"\}\s*\{|^\s*\["
DECODER = json.JSONDecoder(strict=False)
JSON_WHITESPACE = " \t\r\n"


@dataclass(frozen=True)
class SourceFile:
    """One JSON-lines file of one dataset; `path` is absolute, `name` relative to the root."""

    dataset: str
    path: Path
    name: str
    size: int
    modified_ns: int
    changed_ns: int


@dataclass(frozen=True)
class Discovery:
    """What a source root holds: the files to land and the files that are not JSON lines."""

    files: list[SourceFile]
    ignored: list[str]


def discover(root: str | Path) -> Discovery:
    """Find the JSON-lines files of each dataset folder under `root`, at any depth.

    Raises `SourceError` when `root` is missing or holds none of the dataset folders.
    """
    root = Path(root)
    if not root.is_dir():
        msg = f"source folder not found: {root}"
        raise SourceError(msg)
    folders = [root / dataset for dataset in DATASETS if (root / dataset).is_dir()]
    if not folders:
        msg = (
            f"no customer/, accelerometer/ or step_trainer/ folder under {root}:"
            " a source holds one folder per dataset"
        )
        raise SourceError(msg)
    files = []
    ignored = [
        _name(p, root) + ("/" if p.is_dir() else "")
        for p in sorted(root.iterdir())
        if p not in folders
    ]
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if not p.is_dir()):
            name = _name(path, root)
            if not path.is_file() or not path.name.lower().endswith(JSON_SUFFIXES):
                ignored.append(name)
                continue
            stat = path.stat()
            files.append(
                SourceFile(
                    folder.name, path, name, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns
                )
            )
    if not files:
        msg = f"no JSON-lines files (.json, .jsonl, .json.gz) under the dataset folders of {root}"
        raise SourceError(msg)
    return Discovery(files, ignored)


def read(file: SourceFile) -> tuple[str, pa.Table]:
    """The SHA-256 of the file's (decompressed) content and its raw records.

    A file that cannot be read or decompressed is one record, at line 0, whose raw text
    says why and which is flagged `unreadable`, so that it is quarantined, not lost.
    """
    try:
        data = file.path.read_bytes()
    except OSError as err:
        return f"unreadable:{file.size}:{file.modified_ns}", _unreadable(file, err)
    if file.path.name.lower().endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            return hashlib.sha256(data).hexdigest(), _unreadable(file, err)
    return hashlib.sha256(data).hexdigest(), records(file, data)


def records(file: SourceFile, data: bytes) -> pa.Table:
    """The file's JSON records as raw records: (_source_file, _line_number, _record_number, raw).

    A record is a non-blank line, or one of several JSON values on a line (objects back to
    back with no separator, as Kinesis Firehose writes them, or the elements of an array);
    a file that holds one JSON array, over as many lines as it likes, is its elements.
    Line numbers count from 1 in the decompressed file, blank lines included; record
    numbers count the file's records from 1. CRLF line ends and a UTF-8 byte-order mark
    are removed; invalid UTF-8 bytes become U+FFFD, which then fails JSON validation and
    is quarantined with the line's text.
    """
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    numbers, raws, first_line = [], [], 1
    if text.lstrip(JSON_WHITESPACE).startswith("["):
        values, stop = _values(text)
        *numbers, first_line = _line_numbers(text, [at for at, _ in values] + [stop])
        raws, text = [v for _, v in values], text[stop:]
    lines, line_numbers = _lines(text, first_line)
    lines = pa.concat_arrays([pa.array(raws, pa.large_string()), lines])
    line_numbers = pa.concat_arrays([pa.array(numbers, pa.int64()), line_numbers])
    return pa.table(
        [
            pa.repeat(file.name, len(lines)).cast(pa.string()),
            line_numbers,
            pa.array(np.arange(1, len(lines) + 1, dtype=np.int64)),
            lines,
            pa.repeat(False, len(lines)),
        ],
        schema=RAW_SCHEMA,
    )


def _lines(text: str, first_line: int) -> tuple[pa.Array, pa.Array]:
    """The non-blank lines of `text` and their numbers, lines of several values split up."""
    lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    lines = pc.utf8_rtrim(lines, characters="\r")
    numbers = pa.array(np.arange(first_line, first_line + len(lines), dtype=np.int64))
    keep = pc.not_equal(pc.utf8_trim_whitespace(lines), "")
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
            except (json.JSONDecodeError, RecursionError):
                return values, at
            values.append((at, text[at:end]))
            at = end
        at = _skip(text, at)
    return values, at


def _elements(text: str, at: int) -> tuple[list[tuple[int, str]], int, bool]:
    """The elements of the array at `at`, the offset where the scan ended, and whether the
    array was complete (else the offset is that of the first element that is not JSON)."""
    elements, at = [], _skip(text, at + 1)
    if text.startswith("]", at):
        return elements, at + 1, True
    while True:
        try:
            end = DECODER.raw_decode(text, at)[1]
        except (json.JSONDecodeError, RecursionError):
            return elements, at, False
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


def _unreadable(file: SourceFile, err: Exception) -> pa.Table:
    message = f"{type(err).__name__}: {err}"
    return pa.Table.from_pylist(
        [
            {
                "_source_file": file.name,
                "_line_number": 0,
                "_record_number": 1,
                "raw": message,
                "unreadable": True,
            }
        ],
        schema=RAW_SCHEMA,
    )
