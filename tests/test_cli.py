import json
import socket
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from conftest import accel, customer, step, write_source
from stedi import __version__, queries
from stedi.cli import app
from stedi.lake import Lake

T = 1655564444000
runner = CliRunner()


@pytest.fixture
def source(tmp_path):
    return write_source(
        tmp_path / "src",
        {
            "customer/c.json": [customer("ann@x.com", T, consent=T), customer("bo@x.com", T)],
            "accelerometer/a.json": [accel("ann@x.com", T), accel("bo@x.com", T), "oops"],
            "step_trainer/s.json": [step("s-1", T)],
            "step_trainer/README.md": ["notes"],
        },
    )


@pytest.mark.parametrize("command", ["land", "trust", "curate", "run", "inspect", "generate"])
def test_every_command_has_help_with_an_example(command):
    result = runner.invoke(app, [command, "--help"])

    assert result.exit_code == 0, result.output
    assert f"Example: stedi {command}" in result.output


def test_run_prints_a_summary_and_exits_0(source, tmp_path):
    result = runner.invoke(app, ["run", str(source), "--lake", str(tmp_path / "lake")])

    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert ["landing", "accelerometer_landing", "2", "1", "0", "published"] in lines
    assert ["landing", "quarantine", "1", "0", "published"] in lines
    assert ["trusted", "customer_trusted", "1", "0", "published"] in lines
    assert ["curated", "machine_learning_curated", "1", "0", "published"] in lines
    assert "ignored (not JSON lines): step_trainer/README.md" in result.output
    assert (
        "accelerometer: 1 file(s) landed, 0 already landed, 2 record(s) landed, 1 quarantined"
    ) in result.output


def test_quiet_prints_nothing_on_success(source, tmp_path):
    result = runner.invoke(app, ["run", str(source), "--lake", str(tmp_path / "lake"), "--quiet"])

    assert result.exit_code == 0
    assert result.output == ""


def test_quiet_json_prints_nothing_on_success_but_the_error_on_failure(source, tmp_path):
    quiet_json = ["--lake", str(tmp_path / "lake"), "--quiet", "--log-format", "json"]

    done = runner.invoke(app, ["run", str(source), *quiet_json])
    failed = runner.invoke(app, ["run", str(tmp_path / "nowhere"), *quiet_json])

    assert (done.exit_code, done.output) == (0, "")
    assert failed.exit_code == 1
    [event] = [json.loads(line) for line in failed.stderr.splitlines()]
    assert (event["event"], event["message"], event["exit_code"]) == (
        "error",
        f"source folder not found: {tmp_path / 'nowhere'}",
        1,
    )


def test_json_log_format_writes_one_json_event_per_line(source, tmp_path):
    result = runner.invoke(
        app, ["run", str(source), "--lake", str(tmp_path / "lake"), "--log-format", "json"]
    )

    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert {e["event"] for e in events} == {"progress", "summary"}
    [summary] = [e for e in events if e["event"] == "summary"]
    assert {t["table"]: t["rows"] for t in summary["tables"]}["customer_curated"] == 1
    assert result.stdout == ""


def test_a_missing_source_is_one_line_and_exit_1(tmp_path):
    result = runner.invoke(app, ["run", str(tmp_path / "nowhere"), "--lake", str(tmp_path / "l")])

    assert result.exit_code == 1
    assert result.output == f"error: source folder not found: {tmp_path / 'nowhere'}\n"
    assert not (tmp_path / "l").exists()


@pytest.mark.parametrize("command", ["trust", "curate"])
def test_building_a_lake_that_is_not_there_says_so_and_makes_no_lake(
    command, tmp_path, monkeypatch
):
    monkeypatch.delenv("STEDI_PSEUDONYM_KEY")  # curate would make the lake's own key
    lake = tmp_path / "lake"

    result = runner.invoke(app, [command, "--lake", str(lake)])

    assert result.exit_code == 1
    assert result.output == (
        f"error: no landed_files table in lake {lake}:"
        f" run `stedi land SOURCE --lake {lake}` first\n"
    )
    assert not lake.exists()


def test_an_unwritable_lake_is_one_line_and_exit_1(source, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    result = runner.invoke(app, ["land", str(source), "--lake", str(blocker / "lake")])

    assert result.exit_code == 1
    assert result.output.startswith(f"error: cannot write to lake {blocker / 'lake'}: ")
    assert result.output.count("\n") == 1


def test_bad_sql_is_one_line_and_exit_1(source, tmp_path):
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake])

    result = runner.invoke(app, ["inspect", "--lake", lake, "select nope from customer_trusted"])

    assert result.exit_code == 1
    assert result.output.startswith('error: Binder Error: Referenced column "nope" not found')
    assert result.output.count("\n") == 1


@pytest.mark.parametrize(
    "sql",
    [
        "copy customer_trusted to 'out.csv'",
        "create table t as select 1",
        "drop view customer_trusted",
        "attach 'x.db'",
    ],
)
def test_inspect_refuses_statements_that_write(source, tmp_path, sql):
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake])

    result = runner.invoke(app, ["inspect", "--lake", lake, sql])

    assert result.exit_code == 1
    assert result.output.startswith("error: stedi inspect is read-only: ")


def test_inspect_cannot_read_files_beside_the_lake(source, tmp_path):
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake])

    result = runner.invoke(
        app, ["inspect", "--lake", lake, "select * from read_text('/etc/hostname')"]
    )

    assert result.exit_code == 1
    assert "file system operations are disabled" in result.output


def test_inspect_lists_the_catalog_and_answers_json(source, tmp_path):
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake])

    catalog = runner.invoke(app, ["inspect", "--lake", lake])
    answer = runner.invoke(
        app, ["inspect", "--lake", lake, "-f", "json", "select reason, line_number from quarantine"]
    )

    assert catalog.exit_code == 0, catalog.output
    assert catalog.output.splitlines()[0].split() == ["table", "zone", "rows", "version", "updated"]
    names = [line.split()[0] for line in catalog.output.splitlines()[2:]]
    assert names == [
        "customer_landing",
        "accelerometer_landing",
        "step_trainer_landing",
        "quarantine",
        "customer_trusted",
        "accelerometer_trusted",
        "step_trainer_trusted",
        "customer_curated",
        "machine_learning_curated",
        "landed_files",
        "runs",
    ]
    assert json.loads(answer.output) == [{"reason": "invalid_json", "line_number": 3}]


def test_inspect_of_an_empty_lake_says_what_to_do(tmp_path):
    result = runner.invoke(app, ["inspect", "--lake", str(tmp_path / "lake")])

    assert result.exit_code == 1
    assert result.output == (
        f"error: no tables in lake {tmp_path / 'lake'}:"
        f" run `stedi run SOURCE --lake {tmp_path / 'lake'}` first\n"
    )


def test_a_query_of_a_table_the_lake_lacks_says_what_makes_it(tmp_path):
    write_source(tmp_path / "src", {"accelerometer/a.json": [accel("a@x.com", T)]})
    lake = tmp_path / "lake"
    runner.invoke(app, ["land", str(tmp_path / "src"), "--lake", str(lake)])

    result = runner.invoke(
        app, ["inspect", "--lake", str(lake), "select count(*) from customer_trusted"]
    )

    assert result.exit_code == 1
    assert result.output == (
        f"error: no customer_trusted table in lake {lake}: run `stedi trust --lake {lake}` first\n"
    )


def test_the_run_history_of_a_lake_only_landed_says_stedi_run_makes_it(source, tmp_path):
    lake = tmp_path / "lake"
    runner.invoke(app, ["land", str(source), "--lake", str(lake)])

    result = runner.invoke(app, ["inspect", "--lake", str(lake), "select * from runs"])

    assert result.exit_code == 1
    assert result.output == (
        f"error: no runs table in lake {lake}: run `stedi run SOURCE --lake {lake}` first\n"
    )


def test_an_unknown_option_value_is_a_usage_error_exit_2(tmp_path):
    result = runner.invoke(app, ["trust", "--lake", str(tmp_path), "--consent", "always"])

    assert result.exit_code == 2


def forget_the_consent_filter(monkeypatch):
    """Swap in a customer_trusted model that forgets the consent filter: a check must stop it."""
    real_load = queries.load
    leaky = real_load("trusted/customer_trusted").replace(
        "shareWithResearchAsOfDate is not null\n        and ", ""
    )
    assert leaky != real_load("trusted/customer_trusted")
    monkeypatch.setattr(
        queries,
        "load",
        lambda name: leaky if name == "trusted/customer_trusted" else real_load(name),
    )


def test_a_failing_check_exits_3_and_publishes_nothing(source, tmp_path, monkeypatch):
    lake_path = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake_path])
    before = {t: Lake(lake_path).version(t) for t in Lake(lake_path).tables()}
    forget_the_consent_filter(monkeypatch)

    result = runner.invoke(app, ["trust", "--lake", lake_path])

    assert result.exit_code == 3
    assert result.output == (
        "error: quality check failed, nothing was published: trusted/consent (2 offending rows);"
        " first rows of trusted/consent: [{'table_name': 'customer_trusted', 'row_key':"
        " 'bo@x.com'}, {'table_name': 'accelerometer_trusted', 'row_key':"
        " 'bo@x.com@1655564444000'}]\n"
    )
    assert {t: Lake(lake_path).version(t) for t in before} == before


def test_a_locked_lake_exits_4_with_one_line_naming_the_holder(source, tmp_path):
    lake = Lake(tmp_path / "lake")
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as holder:
        (lake.root / "_system").mkdir(parents=True)
        (lake.root / "_system" / "lock").write_text(
            json.dumps({"host": socket.gethostname(), "pid": holder.pid, "started": "then"})
        )
        try:
            result = runner.invoke(app, ["run", str(source), "--lake", str(lake.root)])
        finally:
            holder.kill()

    assert result.exit_code == 4
    assert result.output == (
        f"error: the lake is locked by another run (host {socket.gethostname()}, pid {holder.pid},"
        f" started then); try again when it ends, or delete {lake.root / '_system' / 'lock'}"
        " if that run is gone\n"
    )
    assert lake.tables() == []


def test_version():
    result = runner.invoke(app, ["--version"])

    assert (result.exit_code, result.output) == (0, f"stedi {__version__}\n")


@pytest.mark.parametrize("name", ["lake#1", "la\\ke"])
def test_a_lake_path_with_url_characters_is_one_line_and_exit_1(source, tmp_path, name):
    result = runner.invoke(app, ["run", str(source), "--lake", str(tmp_path / name)])

    assert result.exit_code == 1
    assert result.output == (
        f"error: a lake path may not contain any of [ ] # ? % \\: {tmp_path / name}\n"
    )
    assert not (tmp_path / name).exists()


def test_a_lake_path_with_a_tab_is_one_line_and_exit_1(source, tmp_path):
    lake = str(tmp_path / "a\tb")

    result = runner.invoke(app, ["run", str(source), "--lake", lake])

    assert result.exit_code == 1
    assert result.output == (
        f"error: a lake path may not contain control characters (tab, newline): {lake!r}\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_an_empty_lake_path_is_one_line_and_exit_1(source, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    result = runner.invoke(app, ["run", str(source), "--lake", ""])

    assert result.exit_code == 1
    assert result.output == (
        "error: the lake path is empty: give --lake a folder or s3://bucket/prefix\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


@pytest.mark.parametrize("name", ["my lake", "låke😀"])
def test_a_lake_path_with_spaces_or_any_letters_works(source, tmp_path, name):
    lake = str(tmp_path / name)
    runner.invoke(app, ["run", str(source), "--lake", lake])

    result = runner.invoke(
        app, ["inspect", "--lake", lake, "-f", "csv", "select count(*) as n from customer_curated"]
    )

    assert (result.exit_code, result.output) == (0, "n\n1\n")


def test_generate_into_a_file_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "afile").write_text("")

    result = runner.invoke(app, ["generate", str(tmp_path / "afile" / "out")])

    assert result.exit_code == 1
    assert result.output == (
        f"error: cannot write a dataset into {tmp_path / 'afile' / 'out'}: Not a directory\n"
    )


def test_generate_into_a_folder_with_files_is_one_line_and_writes_nothing(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "old.json").write_text("{}\n")

    result = runner.invoke(app, ["generate", str(tmp_path / "out")])

    assert result.exit_code == 1
    assert result.output == (
        f"error: {tmp_path / 'out'} is not empty: generate into a new or empty folder\n"
    )
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["old.json"]


def test_flags_show_no_value_in_help():
    result = runner.invoke(app, ["run", "--help"])

    [quiet] = [line for line in result.output.splitlines() if "--quiet" in line]
    assert "<bool>" not in quiet


def test_inspect_renders_values_python_cannot_hold(source, tmp_path):
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake])

    result = runner.invoke(
        app,
        [
            "inspect",
            "--lake",
            lake,
            "-f",
            "csv",
            "select 'infinity'::date as d, 'nan'::double as n, '[/]' as m",
        ],
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1].split(",")[1:] == ["nan", "[/]"]


def test_inspect_writes_nan_and_infinities_as_json_null_at_any_depth(source, tmp_path):
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake])
    sql = "select [1.5, 'nan'::double] as l, {'v': '-inf'::double} as s, 'inf'::double as d"

    result = runner.invoke(app, ["inspect", "--lake", lake, "-f", "json", sql])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [{"l": [1.5, None], "s": {"v": None}, "d": None}]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_output_that_cannot_be_written_is_one_line_and_exit_1(source, tmp_path, fmt):
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake])
    command = ["inspect", "--lake", lake, "-f", fmt, "select 1 as one"]

    with open("/dev/full", "w") as full:
        done = subprocess.run(
            [sys.executable, "-c", "from stedi.cli import app; app()", *command],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
        )

    assert (done.returncode, done.stderr) == (
        1,
        "error: cannot write the output: No space left on device\n",
    )


def test_each_run_is_recorded_in_the_run_history(source, tmp_path, monkeypatch):
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["run", str(source), "--lake", lake])
    forget_the_consent_filter(monkeypatch)
    runner.invoke(app, ["run", str(source), "--lake", lake])
    monkeypatch.undo()

    result = runner.invoke(
        app,
        [
            "inspect",
            "--lake",
            lake,
            "-f",
            "json",
            "select status, quarantined, rows->>'customer_trusted' as customers,"
            " checks->>'trusted/consent' as consent, error is null as ok"
            " from runs order by started_at",
        ],
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"status": "succeeded", "quarantined": 1, "customers": "1", "consent": "0", "ok": True},
        {
            "status": "quality_check_failed",
            "quarantined": None,
            "customers": None,
            "consent": None,
            "ok": False,
        },
    ]


def test_inspect_writes_intervals_as_duckdb_does(tmp_path):
    write_source(tmp_path / "src", {"accelerometer/a.json": [accel("a@x.com", T)]})
    lake = str(tmp_path / "lake")
    runner.invoke(app, ["land", str(tmp_path / "src"), "--lake", lake])

    result = runner.invoke(
        app,
        [
            "inspect",
            "--lake",
            lake,
            "-f",
            "csv",
            "select interval '1 month 2 days 3 hours 4 minutes 5.5 seconds' as a,"
            " interval '1 day' as b, -interval '90 seconds' as c, null::interval as d",
        ],
    )

    assert (result.exit_code, result.output) == (
        0,
        "a,b,c,d\n1 month 2 days 03:04:05.5,1 day 00:00:00,-00:01:30,\n",
    )
