"""Clean-up after a worker user: iterative, bounded in time, complete.

The trees here live in a private (0700) folder: never in world-readable /tmp,
where a hostile catalogue entry running at the same time could read them.
"""
import ctypes
import os
import shutil
import subprocess
import sys
import time

import pytest

from autograder.sandbox import cleanup

IS_ROOT = os.geteuid() == 0
DEEP = 1100  # deeper than Python's recursion limit
LONG_NAME = "d" * 200  # 1,100 of them: a path of 220 KB, far beyond PATH_MAX


@pytest.fixture
def private_dir(tmp_path):
    os.chmod(tmp_path, 0o700)
    return tmp_path


def make_chain(top, depth, name=LONG_NAME):
    """A directory chain `depth` deep under top, with a file at the bottom (fd-relative:
    the path is too long for the path-based calls)."""
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir(name, dir_fd=fd)
        child = os.open(name, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(os.open("bottom.txt", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)


def test_the_stdlib_fails_on_a_deep_chain_and_remove_tree_does_not(private_dir):
    chain = private_dir / "chain"
    chain.mkdir()
    make_chain(str(chain), DEEP)
    # The failure this module exists for: the recursive removal gives up (or
    # raises) and leaves the chain in place.
    try:
        shutil.rmtree(chain, ignore_errors=True)
    except RecursionError:
        pass
    assert os.path.lexists(chain)
    started = time.monotonic()
    assert cleanup.remove_tree(str(chain)) is True
    assert not os.path.lexists(chain)
    assert time.monotonic() - started < 10


def test_remove_tree_removes_links_without_following_them(private_dir):
    outside = private_dir / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    tree = private_dir / "tree"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / "a" / "b" / "f").write_text("x")
    os.symlink(outside, tree / "a" / "link_to_dir")
    os.symlink(outside / "keep.txt", tree / "link_to_file")
    assert cleanup.remove_tree(str(tree))
    assert not tree.exists()
    assert (outside / "keep.txt").read_text() == "keep"


def test_remove_tree_stops_at_its_deadline(private_dir):
    chain = private_dir / "chain"
    chain.mkdir()
    make_chain(str(chain), 200, "x")
    assert cleanup.remove_tree(str(chain), deadline=time.monotonic() - 1) is False
    assert chain.exists()  # left for later, nothing raised
    assert cleanup.remove_tree(str(chain))


def chown_tree(path, uid, gid):
    for directory, dirnames, filenames in os.walk(path):
        os.chown(directory, uid, gid)
        for name in filenames:
            os.chown(os.path.join(directory, name), uid, gid)


@pytest.mark.skipif(not IS_ROOT, reason="needs root to own files as another user")
def test_remove_files_of_takes_only_that_users_entries(private_dir):
    root = private_dir / "world"
    root.mkdir()
    os.chmod(root, 0o1777)
    uid, other = 64001, 64002
    theirs = root / "theirs"
    (theirs / "sub").mkdir(parents=True)
    (theirs / "sub" / "f").write_text("x")
    (root / "their_file").write_text("x")
    shared = root / "shared"  # someone else's world-writable folder: searched
    shared.mkdir()
    os.chmod(shared, 0o777)
    (shared / "their_nested").write_text("x")
    (shared / "others_nested").write_text("x")
    (root / "others").write_text("x")
    chown_tree(theirs, uid, uid)
    for path in (root / "their_file", shared / "their_nested"):
        os.chown(path, uid, uid)
    for path in (root / "others", shared / "others_nested"):
        os.chown(path, other, other)
    deep = root / "deep"
    deep.mkdir()
    make_chain(str(deep), DEEP)
    fd = os.open(deep, os.O_RDONLY)
    os.chown(deep, uid, uid)
    os.close(fd)
    removed = cleanup.remove_files_of(uid, uid, roots=(str(root),))
    assert removed == 4
    assert sorted(os.listdir(root)) == ["others", "shared"]
    assert os.listdir(shared) == ["others_nested"]


@pytest.mark.skipif(not IS_ROOT, reason="needs root to run as another user")
def test_remove_ipc_of_removes_shared_memory_semaphores_and_queues():
    uid = 64003
    code = ("import ctypes; libc = ctypes.CDLL(None)\n"
            "assert libc.shmget(0, 4096, 0o1600) >= 0\n"
            "assert libc.semget(0, 1, 0o1600) >= 0\n"
            "assert libc.msgget(0, 0o1600) >= 0\n")
    subprocess.run([sys.executable, "-I", "-c", code], user=uid, group=uid, extra_groups=[],
                   check=True, cwd="/")
    left = cleanup.ipc_objects_of(uid)
    assert sorted(kind for kind, _ in left) == ["msg", "sem", "shm"]
    assert cleanup.remove_ipc_of(uid) == 3
    assert cleanup.ipc_objects_of(uid) == []


def test_ipc_table_parsing_reads_owner_and_creator(tmp_path):
    (tmp_path / "shm").write_text(
        "       key      shmid perms       size  cpid  lpid nattch   uid   gid  cuid  cgid\n"
        "         0         17  1600       4096   10    10      0  5000  5000  5000  5000\n"
        "         0         18  1600       4096   10    10      0     0     0  5000  5000\n"
        "         0         19  1600       4096   10    10      0     0     0     0     0\n")
    (tmp_path / "msg").write_text(
        "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid\n"
        "         0          3   600           0          0     0     0  5000  5000  5000  5000\n")
    found = cleanup.ipc_objects_of(5000, proc_dir=str(tmp_path))
    assert found == [("shm", 17), ("shm", 18), ("msg", 3)]


@pytest.mark.skipif(not IS_ROOT, reason="needs root to run as another user")
def test_clean_up_user_removes_daemons_ipc_and_files_in_the_real_shared_places():
    from types import SimpleNamespace

    from autograder.sandbox import workers

    user = SimpleNamespace(pw_uid=64004, pw_gid=64004)
    places = [p for p in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock") if os.path.isdir(p)]
    code = (
        "import ctypes, os, sys, time\n"
        "for place in sys.argv[1:]:\n"
        "    os.makedirs(place + '/nnag-test-left/a/b', exist_ok=True)\n"
        "    open(place + '/nnag-test-left/a/b/f', 'w').write('x')\n"
        "ctypes.CDLL(None).shmget(0, 4096, 0o1600)\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(60)\n"
        "    os._exit(0)\n")
    subprocess.run([sys.executable, "-I", "-c", code] + places, user=user.pw_uid,
                   group=user.pw_gid, extra_groups=[], check=True, cwd="/")
    time.sleep(0.2)
    assert workers.live_processes_of(user.pw_uid)
    report = workers.clean_up_user(user, time.monotonic() + 20)
    assert report["processes left"] == 0 and report["ipc objects removed"] == 1
    assert report["files removed"] == len(places)
    assert workers.live_processes_of(user.pw_uid) == []
    assert cleanup.ipc_objects_of(user.pw_uid) == []
    for place in places:
        assert not os.path.lexists(os.path.join(place, "nnag-test-left"))
