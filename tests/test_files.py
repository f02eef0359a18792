"""Atomic writes: errors name the user's path, files get the umask's permissions, outputs are checked."""

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import faig.files as files
from faig.errors import FaigError
from faig.files import atomic_path, check_writable_dir, check_writable_file, exclusive, write_tensors, write_text


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_failed_write_names_the_users_file_not_the_temporary_one(tmp_path):
    target = tmp_path / "e.json"
    with pytest.raises(OSError) as error:
        with atomic_path(target) as tmp:
            raise OSError(errno.ENOSPC, "No space left on device", str(tmp))
    assert error.value.errno == errno.ENOSPC and error.value.filename == str(target)
    with pytest.raises(OSError) as error:
        with atomic_path(target):
            raise OSError(errno.ENOSPC, "No space left on device")  # as a failed write() says it
    assert error.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


def test_a_temporary_file_that_cannot_be_made_names_the_users_file(tmp_path, monkeypatch):
    def refuse(prefix, suffix, dir):
        raise PermissionError(errno.EACCES, "Permission denied", os.path.join(dir, f"{prefix}3zbkm1l6{suffix}"))

    monkeypatch.setattr(files.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as error:
        write_text(tmp_path / "e.json", "{}")
    assert error.value.filename == str(tmp_path / "e.json") and error.value.strerror == "Permission denied"


def test_errors_about_other_files_pass_unchanged(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        with atomic_path(tmp_path / "out.txt"):
            (tmp_path / "missing.txt").read_text()
    assert error.value.filename == str(tmp_path / "missing.txt")


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_every_written_file_respects_the_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        write_text(tmp_path / "a.txt", "x")
        write_tensors(tmp_path / "b.safetensors", {"x": torch.arange(3.0)}, {"note": "kept"})
    finally:
        os.umask(previous)
    assert mode(tmp_path / "a.txt") == mode(tmp_path / "b.safetensors") == 0o666 & ~umask


def test_write_tensors_writes_views_of_one_tensor(tmp_path):
    table = torch.arange(6.0).view(2, 3)
    write_tensors(tmp_path / "t.safetensors", {"row": table[0], "column": table[:, 1], "all": table})
    loaded = load_file(tmp_path / "t.safetensors")
    assert loaded["row"].tolist() == [0.0, 1.0, 2.0] and loaded["column"].tolist() == [1.0, 4.0]


def test_an_output_file_must_not_be_a_folder_nor_inside_a_file(tmp_path):
    (tmp_path / "folder").mkdir()
    with pytest.raises(FaigError, match="output file .*folder is a folder"):
        check_writable_file(tmp_path / "folder")
    (tmp_path / "file").write_text("")
    with pytest.raises(FaigError, match="cannot create output folder .*: .*file is a file"):
        check_writable_file(tmp_path / "file" / "sub" / "e.json")
    check_writable_file(tmp_path / "new" / "e.json")
    assert not (tmp_path / "new").exists()


def test_an_output_file_in_a_read_only_folder_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    real_access = os.access  # root may write anywhere, so the folder is made read-only where faig asks
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != folder and real_access(path, mode))
    with pytest.raises(FaigError, match=f"output folder {folder} is not writable"):
        check_writable_file(folder / "e.json")
    with pytest.raises(FaigError, match=f"is not writable \\({folder} is read-only\\)"):
        check_writable_dir(folder / "new" / "deeper")
    check_writable_file(tmp_path / "e.json")


def test_an_empty_output_path_is_refused_not_taken_as_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FaigError) as error:
        check_writable_dir("")
    assert str(error.value) == "output folder '' names no folder; give a path (. for the current folder)"
    with pytest.raises(FaigError, match="^output file '' names no file; give a path$"):
        check_writable_file("")
    check_writable_dir(".")
    check_writable_file("e.json")  # a file in the current folder: its parent is ".", not ""


def test_a_durable_write_reaches_the_disk_before_it_replaces_the_old_file(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda descriptor: synced.append(descriptor) or real_fsync(descriptor))
    with atomic_path(tmp_path / "plain.txt") as tmp:
        tmp.write_text("plain")
    assert synced == []
    with atomic_path(tmp_path / "checkpoint.pt", durable=True) as tmp:
        tmp.write_text("state")
    assert len(synced) == 1 and (tmp_path / "checkpoint.pt").read_text() == "state"


def test_a_failed_copy_leaves_the_target_as_it_was(tmp_path):
    (tmp_path / "source").write_bytes(b"new")
    (tmp_path / "target").write_bytes(b"old")
    with pytest.raises(FileNotFoundError):
        files.copy_file(tmp_path / "nowhere", tmp_path / "target")
    assert (tmp_path / "target").read_bytes() == b"old"
    files.copy_file(tmp_path / "source", tmp_path / "target")
    assert (tmp_path / "target").read_bytes() == b"new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["source", "target"]


class TestExclusive:
    """One process at a time on a file: the second is refused at once, the lock dies with its holder."""

    def test_a_second_holder_is_refused_naming_the_file(self, tmp_path):
        target = tmp_path / "checkpoints" / "run.pt"
        with exclusive(target, "training"):
            with pytest.raises(FaigError, match=r"another training is using .*run\.pt .*wait for it"):
                with exclusive(target, "training"):
                    pass
            assert (tmp_path / "checkpoints" / "run.pt.lock").is_file()
        with exclusive(target, "training"):  # free again once the block ended
            pass

    def test_it_leaves_no_lock_and_no_folder_made_for_it(self, tmp_path):
        with exclusive(tmp_path / "new" / "deeper" / "run.pt", "training"):
            pass
        assert list(tmp_path.iterdir()) == []
        with exclusive(tmp_path / "kept" / "run.pt", "training"):
            (tmp_path / "kept" / "run.pt").write_text("checkpoint")
        assert [path.name for path in (tmp_path / "kept").iterdir()] == ["run.pt"]

    def test_the_lock_is_freed_when_its_holder_is_killed(self, tmp_path):
        target = tmp_path / "run.pt"
        holder = subprocess.Popen([sys.executable, "-c", (
            "import sys, time\nfrom faig.files import exclusive\n"
            f"with exclusive({str(target)!r}, 'training'):\n    print('held', flush=True)\n    time.sleep(60)")],
            stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "held"
            with pytest.raises(FaigError, match="another training"):
                with exclusive(target, "training"):
                    pass
        finally:
            holder.kill()
            holder.wait()
        with exclusive(target, "training"):  # SIGKILL ran no cleanup: the lock file is still there, unheld
            pass
