"""The `stedi` command line: parse options, call one library function, show the result."""

import os
import signal
import sys
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import duckdb
import typer

from stedi import __version__, catalog, curate, land, pipeline, trust
from stedi.errors import StediError
from stedi.lake import Lake
from stedi.render import Reporter
from stedi.storage import S3
from stedi.zone import TableResult

app = typer.Typer(
    help="stedi: a single-node lakehouse for STEDI Step Trainer data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


class Consent(StrEnum):
    customer = "customer"
    since_consent = "since-consent"


class MlJoin(StrEnum):
    customer = "customer"
    timestamp = "timestamp"


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


LakeOption = Annotated[
    str,
    typer.Option(
        "--lake", envvar="STEDI_LAKE", help="Lake folder or s3://bucket/prefix.", show_default=True
    ),
]
# A flag takes no value: an empty metavar keeps the help from showing it one.
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", metavar="", help="Print nothing but errors.")
]
WaitOption = Annotated[
    float,
    typer.Option(min=0, help="Seconds to wait for a lake another run holds (then exit 4)."),
]
LogFormatOption = Annotated[
    LogFormat, typer.Option("--log-format", help="text, or json: one JSON event per line.")
]
ConsentOption = Annotated[
    Consent,
    typer.Option(
        help="customer: all readings of consenting customers; since-consent: "
        "only readings at or after their consent date."
    ),
]
MlJoinOption = Annotated[
    MlJoin,
    typer.Option(
        help="customer: pair a customer's own readings; timestamp: pair by time "
        "alone, as the course rubric did (warns)."
    ),
]
ProfileOption = Annotated[
    str | None,
    typer.Option(help="AWS profile for s3:// locations (default: env AWS_PROFILE)."),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        help="S3-compatible endpoint for s3:// locations, e.g. MinIO's"
        " (default: env AWS_ENDPOINT_URL)."
    ),
]
SOURCE_HELP = (
    "Folder or s3://bucket/prefix with customer/, accelerometer/ and step_trainer/"
    " JSON-lines files."
)


def version_callback(value: bool):
    if value:
        print(f"stedi {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version",
            callback=version_callback,
            is_eager=True,
            metavar="",
            help="Show the version.",
        ),
    ] = None,
):
    """stedi: a single-node lakehouse for STEDI Step Trainer data."""


def open_lake(root: str, wait: float, profile: str | None, endpoint_url: str | None) -> Lake:
    """The lake at `root`; s3:// locations are reached with the profile and endpoint given."""
    return Lake(root, wait=wait, s3=S3(profile=profile, endpoint_url=endpoint_url))


@contextmanager
def reporting(quiet: bool = False, log_format: LogFormat = LogFormat.text):
    """A reporter for the command; a `StediError` becomes one line on stderr and its exit code.

    So does Ctrl-C (exit 130), whatever the library was doing when it came: DuckDB and
    delta-rs report it as errors of their own.
    """
    reporter = Reporter(quiet=quiet, log_format=log_format.value)
    interrupted = []

    def on_interrupt(signum, frame):
        interrupted.append(signum)
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield reporter
    except StediError as err:
        reporter.error(str(err), err.exit_code)
        raise typer.Exit(err.exit_code) from None
    except (duckdb.IOException, duckdb.InvalidInputException) as err:
        # Data files of the lake that cannot be read (gone, cut short, out of reach).
        reporter.error(f"cannot read the lake's data: {' '.join(str(err).split())}", 1)
        raise typer.Exit(1) from None
    except BrokenPipeError:
        # The reader of the output went away (`| head`): nothing more to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(1) from None
    except (Exception, KeyboardInterrupt) as err:
        if not interrupted and not isinstance(err, KeyboardInterrupt):
            raise
        reporter.error(INTERRUPTED, 130)
        raise typer.Exit(130) from None
    finally:
        signal.signal(signal.SIGINT, previous)


INTERRUPTED = (
    "interrupted: every table is at its old or its new version; the next run completes the job"
)


@app.command("land")
def land_command(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help=SOURCE_HELP)],
    lake: LakeOption = "./lake",
    wait: WaitOption = 0.0,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    quiet: QuietOption = False,
    log_format: LogFormatOption = LogFormat.text,
):
    """Land new source files into the landing tables; bad records go to quarantine.

    Example: stedi land ../shared/data/stedi --lake ./lake
    """
    with reporting(quiet, log_format) as out:
        with out.working("landing"):
            result = land.land(
                source, open_lake(lake, wait, profile, endpoint_url), progress=out.progress
            )
        out.summary(result.tables, land_notes(result))


@app.command("trust")
def trust_command(
    lake: LakeOption = "./lake",
    consent: ConsentOption = Consent.customer,
    wait: WaitOption = 0.0,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    quiet: QuietOption = False,
    log_format: LogFormatOption = LogFormat.text,
):
    """Rebuild the trusted zone from landing: consenting customers and their readings.

    Example: stedi trust --lake ./lake --consent since-consent
    """
    with reporting(quiet, log_format) as out:
        with out.working("building the trusted zone"):
            result = trust.trust(
                open_lake(lake, wait, profile, endpoint_url),
                consent=consent.value,
                progress=out.progress,
            )
        out.summary(result.tables, conflict_notes(result.tables))


@app.command("curate")
def curate_command(
    lake: LakeOption = "./lake",
    consent: ConsentOption = Consent.customer,
    ml_join: MlJoinOption = MlJoin.customer,
    wait: WaitOption = 0.0,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    quiet: QuietOption = False,
    log_format: LogFormatOption = LogFormat.text,
):
    """Rebuild the curated zone from trusted: pseudonymised customers and ML pairs.

    Example: stedi curate --lake ./lake --ml-join customer
    """
    with reporting(quiet, log_format) as out:
        with out.working("building the curated zone"):
            result = curate.curate(
                open_lake(lake, wait, profile, endpoint_url),
                consent=consent.value,
                ml_join=ml_join.value,
                progress=out.progress,
            )
        for warning in result.warnings:
            out.warn(warning)
        out.summary(result.tables, [])


@app.command("run")
def run_command(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help=SOURCE_HELP)] = "sample_data",
    lake: LakeOption = "./lake",
    consent: ConsentOption = Consent.customer,
    ml_join: MlJoinOption = MlJoin.customer,
    wait: WaitOption = 0.0,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
    quiet: QuietOption = False,
    log_format: LogFormatOption = LogFormat.text,
):
    """The main job: land new files from SOURCE, then rebuild trusted and curated.

    Example: stedi run ../shared/data/stedi --lake ./lake
    """
    with reporting(quiet, log_format) as out:
        with out.working("running"):
            result = pipeline.run(
                source,
                open_lake(lake, wait, profile, endpoint_url),
                consent=consent.value,
                ml_join=ml_join.value,
                progress=out.progress,
            )
        for warning in result.warnings:
            out.warn(warning)
        tables = [*result.land.tables, *result.trusted.tables, *result.curated.tables]
        out.summary(tables, land_notes(result.land) + conflict_notes(tables))


@app.command("inspect")
def inspect_command(
    sql: Annotated[
        str | None, typer.Argument(metavar="SQL", help="A read-only SQL query over the tables.")
    ] = None,
    lake: LakeOption = "./lake",
    format: Annotated[Format, typer.Option("--format", "-f", help="Result format.")] = Format.table,
    profile: ProfileOption = None,
    endpoint_url: EndpointOption = None,
):
    """Show the catalog, or answer a read-only SQL query over the lake's tables.

    Example: stedi inspect "select count(*) from machine_learning_curated"
    """
    with reporting() as out:
        if sql is None or not sql.strip():
            out.catalog(catalog.catalog(open_lake(lake, 0.0, profile, endpoint_url)))
        else:
            out.result(
                catalog.query(open_lake(lake, 0.0, profile, endpoint_url), sql), format.value
            )


@app.command("generate")
def generate_command(
    out_dir: Annotated[Path, typer.Argument(metavar="OUT", help="Folder to write into.")],
    customers: Annotated[int, typer.Option(min=1, help="Number of customers.")] = 200,
    seed: Annotated[int, typer.Option(help="The same seed writes the same files.")] = 0,
    defect_rate: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of lines given a defect.")
    ] = 0.001,
    gzip: Annotated[bool, typer.Option("--gzip", metavar="", help="Write .json.gz files.")] = False,
):
    """Write a synthetic landing dataset shaped like the real STEDI feeds.

    Example: stedi generate sample_data --seed 7
    """
    from stedi import generator  # imports polars and numpy: only this command needs them

    with reporting() as out:
        result = generator.generate(
            out_dir, customers=customers, seed=seed, defect_rate=defect_rate, compress=gzip
        )
        counts = ", ".join(f"{n:,} {dataset}" for dataset, n in result.records.items())
        out.line(
            f"wrote {counts} records ({result.quarantined:,} for quarantine)"
            f" in {len(result.files)} files to {out_dir}"
        )


def land_notes(result: land.LandResult) -> list[str]:
    notes = [
        f"{d.dataset}: {d.files} file(s) landed, {d.skipped} already landed,"
        f" {d.landed:,} record(s) landed, {d.quarantined:,} quarantined"
        for d in result.datasets
    ]
    notes += [f"empty (no records): {name}" for name in result.empty]
    notes += [f"unreadable (quarantined as unreadable_file): {name}" for name in result.unreadable]
    notes += [f"ignored (not JSON lines): {name}" for name in result.ignored]
    return notes


def conflict_notes(tables: list[TableResult]) -> list[str]:
    return [
        f"{t.table}: {t.conflicts:,} key(s) landed with conflicting values; kept the last landed"
        for t in tables
        if t.conflicts and t.published
    ]
