"""output: atomic staging, the output-folder pre-check and the manifest of what each run wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ketareport.errors import OutputNotWritable
from ketareport.output import MANIFEST, StagedOutput, check_writable, read_manifest, write_atomic


def publish(folder, files: dict[str, str]):
    with StagedOutput(folder) as staged:
        for name, text in files.items():
            staged.path(name).write_text(text)
        written = staged.publish()
    return written, staged.removed


def test_files_appear_together_and_staging_is_cleaned(tmp_path):
    written, _ = publish(tmp_path / "out", {"a.csv": "a", "figures/f.svg": "<svg/>"})
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == ["a.csv", "figures/f.svg"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging folder left beside it


def test_a_failed_run_leaves_the_folder_as_it_was(tmp_path):
    publish(tmp_path / "out", {"a.csv": "old"})
    with pytest.raises(RuntimeError):
        with StagedOutput(tmp_path / "out") as staged:
            staged.path("a.csv").write_text("new")
            raise RuntimeError("the analysis failed")
    assert (tmp_path / "out" / "a.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_use_outside_the_with_block_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="outside its with-block"):
        StagedOutput(tmp_path).path("a")


def test_manifest_records_each_file_and_its_digest(tmp_path):
    publish(tmp_path / "out", {"a.csv": "a", "figures/f.svg": "<svg/>"})
    manifest = read_manifest(tmp_path / "out")
    assert sorted(manifest) == ["a.csv", "figures/f.svg"]
    assert manifest["a.csv"] == "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"  # sha256("a")


def test_files_of_the_previous_run_that_this_run_does_not_write_are_removed(tmp_path):
    out = tmp_path / "out"
    publish(out, {"results.json": "1", "report.pdf": "pdf", "verification.csv": "v", "figures/f.svg": "s"})
    _, removed = publish(out, {"results.json": "2"})
    assert sorted(p.name for p in removed) == ["f.svg", "report.pdf", "verification.csv"]
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST, "results.json"]  # the emptied figures/ went too


def test_a_file_the_tool_did_not_write_is_never_removed(tmp_path):
    out = tmp_path / "out"
    publish(out, {"results.json": "1", "report.pdf": "pdf", "notes.txt": "tool"})
    (out / "mine.txt").write_text("the user's")       # never listed
    (out / "notes.txt").write_text("edited by hand")  # listed, but changed since
    _, removed = publish(out, {"results.json": "2"})
    assert [p.name for p in removed] == ["report.pdf"]
    assert (out / "mine.txt").exists() and (out / "notes.txt").read_text() == "edited by hand"


def test_a_manifest_naming_files_outside_the_folder_removes_nothing_there(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "precious.txt"
    outside.write_text("a")
    digest = "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
    (out / MANIFEST).write_text(json.dumps({"files": {"../precious.txt": digest, str(outside): digest}}))
    _, removed = publish(out, {"results.json": "1"})
    assert removed == [] and outside.exists()


def test_an_unreadable_manifest_is_ignored(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text("not json")
    (out / "old.pdf").write_text("x")
    publish(out, {"results.json": "1"})
    assert (out / "old.pdf").exists()


def test_check_writable_accepts_a_new_nested_folder(tmp_path):
    check_writable(tmp_path / "new" / "deeper")
    assert not (tmp_path / "new").exists()  # probing creates nothing that stays


@pytest.mark.parametrize("where", ["file", "under_file", "proc", "read_only"])
def test_check_writable_refuses_a_folder_that_cannot_be_written(tmp_path, where):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file")
    if where == "read_only":
        if os.geteuid() == 0:
            pytest.skip("root writes into a read-only-mode folder; /proc stands in for a read-only mount")
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        target = locked / "out"
    else:
        target = {"file": blocker, "under_file": blocker / "out", "proc": Path("/proc/ketareport-out")}[where]
    with pytest.raises(OutputNotWritable, match=f"cannot write to {target}"):
        check_writable(target)


def test_write_atomic_replaces_a_file_whole(tmp_path):
    path = write_atomic(tmp_path / "sub" / "a.txt", "one")
    write_atomic(path, b"two")
    assert path.read_text() == "two" and sorted(p.name for p in path.parent.iterdir()) == ["a.txt"]
