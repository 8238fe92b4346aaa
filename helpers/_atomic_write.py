"""Write a file so that a failed save never leaves it half written, and keep what a plain write keeps.

The bytes go to a temporary file next to the real target, are flushed to disk and moved
over it with ``os.replace``. Like ``open(path, "w")``: a symlink is written through (the
link stays, the file it points to changes), an existing file keeps its permissions (and
owner where allowed), and a write-protected file is refused with ``PermissionError``.
A file with several hard links is rewritten in place instead, as ``cp`` does, so every
link sees the new content; that write is not atomic, so free space is checked first.
Temporary names are short whatever the target's name, start with :data:`TEMP_PREFIX`, and
any left by a killed process are removed by the next save to that folder once they are
:data:`STALE_AFTER_S` seconds old. Errors name the user's path, never the temporary one.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import stat
import time
import uuid
from pathlib import Path

TEMP_PREFIX = ".linreg-save-"
TEMP_SUFFIX = ".tmp"
STALE_AFTER_S = 600
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


def _error(exc: OSError, path: Path) -> OSError:
    """The same kind of error, worded for the user's path (``OSError`` picks the subclass)."""
    if exc.errno in _NO_SPACE:
        return OSError(
            exc.errno,
            f"No space left to save {path}: the disk (or your quota) is full. Any earlier "
            "file there is unchanged; free some space and save again.",
        )
    if exc.errno is None:
        return exc
    return OSError(exc.errno, f"Could not save {path}: {exc.strerror}")


def _clean_stale(folder: Path) -> None:
    limit = time.time() - STALE_AFTER_S
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if not (entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX)):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                os.unlink(entry.path)
        except OSError:
            pass  # another process may have cleaned it first


def _temp_path(target: Path) -> Path:
    tag = hashlib.sha1(os.fsencode(target.name)).hexdigest()[:8]
    return target.parent / f"{TEMP_PREFIX}{tag}-{uuid.uuid4().hex[:12]}{TEMP_SUFFIX}"


def _write_and_sync(handle, data: bytes) -> None:
    handle.write(data)
    handle.truncate()
    handle.flush()
    os.fsync(handle.fileno())


def _replace(target: Path, data: bytes, info: os.stat_result | None) -> None:
    temp = _temp_path(target)
    try:
        # "xb" rather than mkstemp, whose 0600 mode would make a new file private.
        with open(temp, "xb") as handle:
            _write_and_sync(handle, data)
        if info is not None:
            os.chmod(temp, stat.S_IMODE(info.st_mode))
            if (info.st_uid, info.st_gid) != (os.stat(temp).st_uid, os.stat(temp).st_gid):
                try:
                    os.chown(temp, info.st_uid, info.st_gid)
                except (OSError, AttributeError):
                    pass  # only root may give a file away; it then belongs to the saver
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _rewrite_in_place(target: Path, data: bytes, info: os.stat_result) -> None:
    if len(data) > info.st_size and shutil.disk_usage(target.parent).free < len(data):
        raise OSError(errno.ENOSPC, "No space left on device")
    with open(target, "r+b") as handle:
        _write_and_sync(handle, data)


def _sync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems cannot sync a folder; the file itself is synced
    finally:
        os.close(descriptor)


def write_atomically(path: Path, data: bytes) -> None:
    """Put ``data`` at ``path`` (through a symlink), creating the parent folders."""
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise IsADirectoryError(
            errno.EISDIR, f"{path} is a folder; give a file name such as {path / 'model.pt'}."
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        info = target.stat() if target.exists() else None
        if info is not None:
            open(target, "r+b").close()  # the permission check open(path, "w") makes
        _clean_stale(target.parent)
        if info is not None and info.st_nlink > 1:
            _rewrite_in_place(target, data, info)
        else:
            _replace(target, data, info)
    except OSError as exc:
        raise _error(exc, path) from None
    _sync_folder(target.parent)
