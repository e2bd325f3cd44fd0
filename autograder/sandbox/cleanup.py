"""Removing what a worker user left behind: files and SysV IPC (trusted parent side).

Nothing here recurses: a directory chain of any depth (thousands of levels,
paths far beyond PATH_MAX) is removed with one open directory at a time,
walking back up through ".." and checking at each step that ".." is the
directory we came from. Every function takes a deadline and gives up
cleanly when it passes, so clean-up can never hold up a run for long, and
no error of a single entry stops the rest. The worker user's processes must
be killed first (workers.kill_all_processes_of): then nothing changes the
trees while they are removed.

POSIX only (Linux's /proc/sysvipc for IPC).
"""
import os
import stat
import time

# Where any user may create files: the usual world-writable places.
WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue",
                  "/var/crash")
# How deep the search for the worker's entries goes inside directories that
# are not the worker's own (theirs are removed whole, at any depth).
MAX_SEARCH_DEPTH = 24
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class TimeUp(Exception):
    """The clean-up deadline passed; what is left stays for the next run's clean-up."""


def _check(deadline):
    if deadline is not None and time.monotonic() > deadline:
        raise TimeUp()


def _identity(st):
    return st.st_dev, st.st_ino


def remove_tree(path, deadline=None):
    """Remove path (a file or a whole directory tree) without recursion.

    Returns True if path no longer exists. Symbolic links are removed, never
    followed; other file systems mounted inside are left alone.
    """
    parent, name = os.path.split(os.path.abspath(path))
    try:
        parent_fd = os.open(parent, _DIR_FLAGS)
    except OSError:
        return not os.path.lexists(path)
    try:
        return remove_entry(parent_fd, name, deadline)
    except TimeUp:
        return False
    finally:
        os.close(parent_fd)


def remove_entry(parent_fd, name, deadline=None):
    """Remove the entry `name` of the open directory parent_fd, with all below it.

    Iterative: one directory is open at a time besides parent_fd; each level
    keeps the names of its subdirectories still to visit. Raises TimeUp when
    the deadline passes; individual failures are skipped. Returns True if the
    entry is gone.
    """
    try:
        top = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except OSError:
        return True
    if not stat.S_ISDIR(top.st_mode):
        return _unlink(name, parent_fd)
    parent_identity = _identity(os.fstat(parent_fd))
    try:
        current = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError:
        return False
    # levels[i] = (identity, its name in its parent, subdirectories still to visit)
    levels = [(_identity(top), name, _clear_files(current, top.st_dev))]
    try:
        while True:
            _check(deadline)
            identity, _, pending = levels[-1]
            if pending:
                child = pending.pop()
                try:
                    opened = os.open(child, _DIR_FLAGS, dir_fd=current)
                except OSError:
                    continue
                child_stat = os.fstat(opened)
                os.close(current)
                current = opened
                levels.append((_identity(child_stat), child, _clear_files(current, top.st_dev)))
                continue
            # This level is empty (as far as we could empty it): go up and remove it.
            up = os.open("..", _DIR_FLAGS, dir_fd=current)
            os.close(current)
            current = up
            _, left, _ = levels.pop()
            expected = levels[-1][0] if levels else parent_identity
            if _identity(os.fstat(current)) != expected:
                return False  # moved under us: never remove anything outside the tree
            if not levels:
                break
            try:
                os.rmdir(left, dir_fd=current)
            except OSError:
                pass
    finally:
        os.close(current)
    try:
        os.rmdir(name, dir_fd=parent_fd)
    except FileNotFoundError:
        pass
    except OSError:
        return False
    return True


def _clear_files(dir_fd, device):
    """Unlink every non-directory in dir_fd; return the names of its subdirectories
    on the same file system (the ones to descend into)."""
    subdirectories = []
    try:
        with os.scandir(dir_fd) as entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.stat(follow_symlinks=False).st_dev == device:
                            subdirectories.append(entry.name)
                    else:
                        os.unlink(entry.name, dir_fd=dir_fd)
                except OSError:
                    pass
    except OSError:
        pass
    return subdirectories


def _unlink(name, dir_fd):
    try:
        os.unlink(name, dir_fd=dir_fd)
        return True
    except FileNotFoundError:
        return True
    except OSError:
        return False


def remove_files_of(uid, gid=None, roots=WORLD_WRITABLE, deadline=None):
    """Delete every entry owned by uid in the places it could write to.

    Searches each root and, below it, the directories uid may create entries
    in (world-writable, owned by uid, or group-writable for gid); an entry of
    uid is removed whole (remove_entry). Returns the number of entries removed;
    stops quietly at the deadline.
    """
    removed = 0
    seen = set()
    for root in roots:
        try:
            root_stat = os.stat(root)
        except OSError:
            continue
        if not stat.S_ISDIR(root_stat.st_mode) or _identity(root_stat) in seen:
            continue  # /var/lock is usually a link to /run/lock
        seen.add(_identity(root_stat))
        try:
            removed += _remove_owned_below(root, uid, gid, deadline)
        except TimeUp:
            break
    return removed


def _remove_owned_below(root, uid, gid, deadline):
    """Depth-first search of root for uid's entries, without recursion."""
    removed = 0
    try:
        root_fd = os.open(root, _DIR_FLAGS)
    except OSError:
        return 0
    stack = [root_fd]  # open directories still to search (bounded by MAX_SEARCH_DEPTH)
    depth = {root_fd: 0}
    try:
        while stack:
            _check(deadline)
            dir_fd = stack.pop()
            try:
                with os.scandir(dir_fd) as entries:
                    names = [entry.name for entry in entries]
            except OSError:
                names = []
            for name in names:
                _check(deadline)
                try:
                    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                except OSError:
                    continue
                if st.st_uid == uid:
                    removed += remove_entry(dir_fd, name, deadline)
                elif (stat.S_ISDIR(st.st_mode) and _writable_by(st, uid, gid)
                      and depth[dir_fd] < MAX_SEARCH_DEPTH):
                    try:
                        child = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
                    except OSError:
                        continue
                    depth[child] = depth[dir_fd] + 1
                    stack.append(child)
            os.close(dir_fd)
            del depth[dir_fd]
    finally:
        for dir_fd in stack:
            os.close(dir_fd)
    return removed


def _writable_by(st, uid, gid):
    """Could uid (in group gid) create entries in the directory st describes?"""
    return bool(st.st_mode & stat.S_IWOTH
                or (st.st_uid == uid and st.st_mode & stat.S_IWUSR)
                or (gid is not None and st.st_gid == gid and st.st_mode & stat.S_IWGRP))


# ---------------------------------------------------------------------------
# SysV IPC: shared memory, semaphores and message queues outlive processes
# ---------------------------------------------------------------------------

IPC_RMID = 0
SYSV_TABLES = (("shm", "shmid"), ("sem", "semid"), ("msg", "msqid"))


def ipc_objects_of(uid, proc_dir="/proc/sysvipc"):
    """[(kind, id)] of the SysV IPC objects uid owns or created ("shm", "sem", "msg")."""
    found = []
    for kind, id_column in SYSV_TABLES:
        try:
            with open(os.path.join(proc_dir, kind)) as table:
                lines = table.read().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        columns = lines[0].split()
        try:
            at_id, at_uid, at_cuid = (columns.index(c) for c in (id_column, "uid", "cuid"))
        except ValueError:
            continue
        for line in lines[1:]:
            fields = line.split()
            try:
                if uid in (int(fields[at_uid]), int(fields[at_cuid])):
                    found.append((kind, int(fields[at_id])))
            except (IndexError, ValueError):
                continue
    return found


def remove_ipc_of(uid):
    """Remove uid's SysV IPC objects; returns how many were removed."""
    objects = ipc_objects_of(uid)
    if not objects:
        return 0
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    removers = {
        "shm": lambda ident: libc.shmctl(ident, IPC_RMID, None),
        "sem": lambda ident: libc.semctl(ident, 0, IPC_RMID),
        "msg": lambda ident: libc.msgctl(ident, IPC_RMID, None),
    }
    return sum(removers[kind](ident) == 0 for kind, ident in objects)
