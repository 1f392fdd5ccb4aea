"""Crash safety: `stedi run` killed with SIGKILL at many moments leaves a lake that is whole.

The lake starts from a state A (part of a generated source landed and built); the run lands
the rest and rebuilds (state B). The kills are spread over the run's progress events (each
read, validation, staging, check and publication), a few milliseconds after one, so that
they fall at the same moments of the run however fast the machine is. After each kill, every
table reads as exactly its A or its B content, and the next run completes to B.
"""

import json
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import table_digests
from stedi import generator, pipeline
from stedi.generator import DATASETS, generate
from stedi.lake import Lake

KILLS = 22


def stedi_run(source, lake) -> subprocess.Popen:
    """`stedi run` in a child process whose JSON events can be read, one per line."""
    command = ["run", str(source), "--lake", str(lake), "--log-format", "json"]
    return subprocess.Popen(
        [sys.executable, "-c", "from stedi.cli import app; app()", *command],
        stderr=subprocess.PIPE,
        text=True,
    )


def events(process: subprocess.Popen):
    """The events the process logs, as they come."""
    for line in process.stderr:
        yield json.loads(line)


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """The source, a template lake in state A, and the contents of states A and B."""
    root = tmp_path_factory.mktemp("crash")
    source = root / "source"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(generator, "CUSTOMERS_PER_PART", 100)
        generate(source, customers=600, seed=11)
    later = {f"{d}-000{part}.json" for d in DATASETS for part in (5, 6)}
    first_part = root / "first_part"
    shutil.copytree(source, first_part, ignore=lambda _dir, names: [n for n in names if n in later])
    template = Lake(root / "template")
    pipeline.run(first_part, template)
    state_a = table_digests(template)

    shutil.copytree(template.root, root / "reference")
    reference = stedi_run(source, root / "reference")
    progress = sum(1 for event in events(reference) if event["event"] == "progress")
    assert reference.wait() == 0
    state_b = table_digests(Lake(root / "reference"))
    assert state_a.keys() == state_b.keys()
    assert {t for t in state_a if state_a[t] == state_b[t]} == set()
    return source, template, state_a, state_b, progress


def kill_after(process: subprocess.Popen, progress_event: int, delay: float) -> None:
    """SIGKILL the process `delay` seconds after its `progress_event`-th progress event."""
    seen = 0
    for event in events(process):
        seen += event["event"] == "progress"
        if seen == progress_event:
            break
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()


def test_a_run_killed_at_any_moment_leaves_every_table_old_or_new(states, tmp_path, monkeypatch):
    source, template, state_a, state_b, progress = states
    assert progress >= KILLS // 2
    monkeypatch.delenv("STEDI_PSEUDONYM_KEY")  # each lake uses the key the template made
    observed = set()
    for kill in range(KILLS):
        lake = Lake(tmp_path / f"lake-{kill}")
        shutil.copytree(template.root, lake.root)
        kill_after(stedi_run(source, lake.root), 1 + kill * progress // KILLS, 0.02 * (kill % 3))

        after_kill = table_digests(lake)
        assert after_kill.keys() == state_a.keys()
        for table, content in after_kill.items():
            assert content in (state_a[table], state_b[table]), (kill, table)
        observed.add(tuple(after_kill[t] == state_b[t] for t in sorted(after_kill)))

        pipeline.run(source, lake)
        assert table_digests(lake) == state_b, kill

    # The kills caught the run before, between and after its commits, not only at one end.
    assert len(observed) >= 3


INTERRUPTS = 6


def test_ctrl_c_at_any_moment_is_one_line_exit_130_and_leaves_every_table_old_or_new(
    states, tmp_path, monkeypatch
):
    source, template, state_a, state_b, progress = states
    monkeypatch.delenv("STEDI_PSEUDONYM_KEY")
    for interrupt in range(INTERRUPTS):
        lake = Lake(tmp_path / f"lake-{interrupt}")
        shutil.copytree(template.root, lake.root)
        process = stedi_run(source, lake.root)
        seen = 0
        for event in events(process):
            seen += event["event"] == "progress"
            if seen == 1 + interrupt * (progress - 4) // (INTERRUPTS - 1):
                break
        process.send_signal(signal.SIGINT)
        rest = process.stderr.read().splitlines()

        assert process.wait() == 130, interrupt
        assert [json.loads(line)["event"] for line in rest][-1:] == ["error"], rest
        assert json.loads(rest[-1])["message"] == (
            "interrupted: every table is at its old or its new version;"
            " the next run completes the job"
        )
        for table, content in table_digests(lake).items():
            assert content in (state_a[table], state_b[table]), (interrupt, table)
        pipeline.run(source, lake)
        assert table_digests(lake) == state_b, interrupt
