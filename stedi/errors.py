"""The errors stedi expects; each message says how to fix the problem.

`cli.py` catches only `StediError` and exits with its `exit_code`: 1 error, 3 a quality
check failed, 4 the lake is locked (2, usage, is the command line's own).
"""


class StediError(Exception):
    """An expected failure: one line for the user, exit code 1."""

    exit_code = 1


class SourceError(StediError):
    """The source folder is missing, empty or not laid out as stedi expects."""


class LakeError(StediError):
    """The lake cannot be read or written, or is not in the state a command needs."""


class QueryError(StediError):
    """A query given to `stedi inspect` failed or would write."""


class QualityCheckFailed(StediError):
    """A quality check found offending rows; nothing was published."""

    exit_code = 3

    def __init__(self, failures):
        self.failures = failures
        failed = ", ".join(f"{f.name} ({f.count} offending rows)" for f in failures)
        msg = (
            f"quality check failed, nothing was published: {failed};"
            f" first rows of {failures[0].name}: {failures[0].sample}"
        )
        super().__init__(msg)


class LakeLocked(StediError):
    """Another run holds the lake."""

    exit_code = 4
