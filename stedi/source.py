"""The landing source: finding the three datasets' files and reading them as raw records."""

import gzip
import hashlib
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
        ("raw", pa.large_string()),
        ("unreadable", pa.bool_()),
    ]
)


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
    """The file's non-blank lines as raw records: (_source_file, _line_number, raw).

    Line numbers count from 1 in the decompressed file, blank lines included. CRLF line
    ends and a UTF-8 byte-order mark are removed; invalid UTF-8 bytes become U+FFFD, which
    then fails JSON validation and is quarantined with the line's text.
    """
    text = data.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = pc.split_pattern(pa.array([text], pa.large_string()), "\n").flatten()
    lines = pc.utf8_rtrim(lines, characters="\r")
    numbers = pa.array(np.arange(1, len(lines) + 1, dtype=np.int64))
    keep = pc.not_equal(pc.utf8_trim_whitespace(lines), "")
    kept = pc.filter(lines, keep)
    return pa.table(
        [
            pa.repeat(file.name, len(kept)).cast(pa.string()),
            pc.filter(numbers, keep),
            kept,
            pa.repeat(False, len(kept)),
        ],
        schema=RAW_SCHEMA,
    )


def _name(path: Path, root: Path) -> str:
    """The path relative to the source root; bytes that are not UTF-8 become `\\xff`."""
    relative = path.relative_to(root).as_posix()
    return relative.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _unreadable(file: SourceFile, err: Exception) -> pa.Table:
    message = f"{type(err).__name__}: {err}"
    return pa.Table.from_pylist(
        [{"_source_file": file.name, "_line_number": 0, "raw": message, "unreadable": True}],
        schema=RAW_SCHEMA,
    )
