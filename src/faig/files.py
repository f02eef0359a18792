"""Atomic file writes: a result file is either complete or absent, never half-written; every file
gets the permissions the umask allows, and errors name the user's path, never a temporary one.
And one writer at a time: :func:`exclusive` refuses a second process on a file already worked on."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from faig.errors import FaigError

if TYPE_CHECKING:
    import torch


def _naming(error: OSError, target: Path) -> OSError:
    """The same operating-system error, naming ``target`` instead of a temporary file."""
    return OSError(error.errno, error.strerror or str(error), os.fspath(target))


@contextmanager
def atomic_path(path: str | os.PathLike, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    The file gets mode 0666 less the umask, as a plain ``open`` would give it. ``durable`` flushes
    its bytes to the disk before the move (a training checkpoint: after a host crash the file is the
    old one or the new one, never an empty one).

    Raises:
        OSError: the folder cannot be made or written; it names ``path`` (or the folder), never the
            hidden temporary file ``.<name>.<random><suffix>``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    except OSError as error:
        raise _naming(error, target) from None
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(name, 0o666 & ~umask)
    try:
        yield Path(name)
        if durable:
            descriptor = os.open(name, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        os.replace(name, target)
    except OSError as error:
        if error.filename is not None and os.fspath(error.filename) != name:
            raise
        raise _naming(error, target) from None
    finally:
        if os.path.exists(name):
            os.remove(name)


@contextmanager
def exclusive(path: str | os.PathLike, what: str) -> Iterator[None]:
    """Hold ``path``'s lock file ``<path>.lock`` for the block, so that a second process working
    on the same file (two ``faig train --resume`` of one checkpoint) is refused at once instead of
    overwriting the first one's checkpoints. The operating system frees the lock when the holder
    exits, however it exits; the file is removed when the block ends, and so are the folders made
    for it if the block left them empty. Where ``fcntl`` is missing (Windows) the block runs unlocked.

    Args:
        path: the file the block works on (its folder is made if missing).
        what: the work, as the refusal names it ("training").

    Raises:
        FaigError: another process holds the lock.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> with exclusive(folder / "run.pt", "training"):
        ...     (folder / "run.pt.lock").is_file()
        True
        >>> (folder / "run.pt.lock").exists()
        False
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    lock = Path(f"{os.fspath(path)}.lock")
    made = [folder for folder in (lock.parent, *lock.parent.parents) if not folder.exists()]
    lock.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FaigError(f"another {what} is using {path} (it holds {lock}); "
                            "wait for it to end or stop it") from None
        if not lock.exists() or os.stat(lock).st_ino != os.fstat(descriptor).st_ino:  # its holder ended meanwhile
            raise FaigError(f"another {what} on {path} ended or began at this moment; run this one again")
        try:
            yield
        finally:
            lock.unlink(missing_ok=True)
    finally:
        os.close(descriptor)
        for folder in made:  # the folders made for the lock alone, if the block left nothing in them
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def check_writable_dir(path: str | os.PathLike, what: str = "output folder") -> None:
    """Refuse, before any work, an output folder that is empty, a file, or cannot be created or
    written. ``Path('')`` is the current folder, so an empty ``--out`` would silently write there:
    callers pass the text they were given, not a Path made of it. ``what`` names the folder's role
    in the message (a cache folder is no output).

    Raises:
        FaigError: naming the folder and what is wrong with it.
    """
    if not os.fspath(path):
        raise FaigError(f"{what} '' names no folder; give a path (. for the current folder)")
    folder = Path(path)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if folder.exists() and not folder.is_dir():
        raise FaigError(f"{what} {folder} is a file")
    if existing is not None and not existing.is_dir():
        raise FaigError(f"cannot create {what} {folder}: {existing} is a file")
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise FaigError(f"{what} {folder} is not writable ({existing} is read-only)")


def check_writable_file(path: str | os.PathLike) -> None:
    """Refuse, before any work, an output file that is empty, a folder, or whose folder cannot be
    written.

    Raises:
        FaigError: naming the file (or its folder) and what is wrong with it.
    """
    if not os.fspath(path):
        raise FaigError("output file '' names no file; give a path")
    file = Path(path)
    if file.is_dir():
        raise FaigError(f"output file {file} is a folder")
    check_writable_dir(file.parent)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically: an interrupted write leaves the old file (or none)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def copy_file(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy ``source`` to ``target`` atomically: an interrupted copy leaves ``target`` as it was."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented JSON with a final newline, atomically (:func:`write_text`)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_tensors(path: str | os.PathLike, tensors: dict[str, "torch.Tensor"],
                  metadata: dict[str, str] | None = None) -> None:
    """Write named tensors (and string metadata) as a safetensors file, atomically.

    The bytes go through :func:`atomic_path`, so the file gets the umask's permissions: safetensors'
    own ``save_file`` creates its files with mode 0600 whatever the umask. Each tensor is copied to
    contiguous CPU memory first, so views of one tensor (which safetensors refuses) can be written.
    """
    import torch
    from safetensors.torch import save

    data = save({key: value.detach().cpu().clone(memory_format=torch.contiguous_format)
                 for key, value in tensors.items()}, metadata=metadata)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
