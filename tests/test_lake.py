import errno
import json
import os
import socket
import subprocess
import sys

import pytest

from stedi.errors import LakeError, LakeLocked
from stedi.lake import Lake


def write_lock(lake: Lake, pid: int, host: str | None = None) -> None:
    (lake.root / "_system").mkdir(parents=True, exist_ok=True)
    holder = {
        "host": host or socket.gethostname(),
        "pid": pid,
        "started": "2026-12-03T10:00:00+00:00",
    }
    (lake.root / "_system" / "lock").write_text(json.dumps(holder))


def test_a_lock_held_by_a_live_process_refuses_a_second_run(lake):
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as holder:
        write_lock(lake, holder.pid)
        try:
            with pytest.raises(LakeLocked) as raised, lake.locked():
                pass
        finally:
            holder.kill()

    assert str(raised.value) == (
        f"the lake is locked by another run (host {socket.gethostname()}, pid {holder.pid},"
        f" started 2026-12-03T10:00:00+00:00); try again when it ends,"
        f" or delete {lake.root / '_system' / 'lock'} if that run is gone"
    )
    assert raised.value.exit_code == 4


def test_a_lock_left_by_a_dead_process_is_taken_over_and_released(lake):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    write_lock(lake, int(dead.stdout))

    with lake.locked():
        holder = json.loads((lake.root / "_system" / "lock").read_text())
        with lake.locked():  # re-entrant within one run
            pass
        assert (lake.root / "_system" / "lock").exists()

    assert holder["pid"] != int(dead.stdout)
    assert not (lake.root / "_system" / "lock").exists()


def test_a_lock_of_another_host_is_never_taken_over(lake):
    write_lock(lake, 1, host="elsewhere")

    with pytest.raises(LakeLocked, match=r"host elsewhere, pid 1"), lake.locked():
        pass


def test_wait_takes_the_lock_once_its_holder_ends(lake):
    # Left unreaped once it ends, as a crashed run's process may be: still counts as gone.
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.6)"]) as holder:
        write_lock(lake, holder.pid)
        with Lake(lake.root, wait=10).locked():
            mine = json.loads((lake.root / "_system" / "lock").read_text())

    assert mine["pid"] == os.getpid()
    assert not (lake.root / "_system" / "lock").exists()


def test_wait_gives_up_after_its_seconds(lake):
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as holder:
        write_lock(lake, holder.pid)
        try:
            with (
                pytest.raises(LakeLocked, match=rf"pid {holder.pid}"),
                Lake(lake.root, wait=0.5).locked(),
            ):
                pass
        finally:
            holder.kill()


def test_a_lock_that_cannot_be_written_in_full_is_one_error_and_leaves_no_file(lake, monkeypatch):
    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(LakeError) as raised, lake.locked():
        pass
    monkeypatch.undo()

    assert str(raised.value) == (
        f"cannot write the lake's lock {lake.root}/_system/lock: No space left on device"
    )
    assert sorted(p.name for p in (lake.root / "_system").iterdir()) == []
    with lake.locked():
        assert (lake.root / "_system" / "lock").read_bytes().startswith(b'{"host": ')
