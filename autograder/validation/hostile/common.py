# Shared helper of the hostile payloads: where an autograder root might be.
import os as _nnag_os
import sys as _nnag_sys


def _nnag_roots():
    """Directories that might be the autograder root (/autograder on Gradescope).

    The environment, the usual place, every ancestor of this file, of the
    working directory and of sys.path, and every directory directly in /tmp
    (where local graders and validators keep their trees).
    """
    roots = []

    def add(path):
        if path and path not in roots:
            roots.append(path)

    add(_nnag_os.environ.get("AUTOGRADER_ROOT"))
    add("/autograder")
    starts = [_nnag_os.path.abspath(__file__), _nnag_os.getcwd()] + list(_nnag_sys.path)
    for start in starts:
        path = start
        for _ in range(12):
            parent = _nnag_os.path.dirname(path)
            if parent == path:
                break
            add(parent)
            path = parent
    try:
        for name in sorted(_nnag_os.listdir("/tmp"))[:500]:
            add(_nnag_os.path.join("/tmp", name))
    except OSError:
        pass
    return roots


def _nnag_try_write(path, text, mode="w"):
    try:
        with open(path, mode) as handle:
            handle.write(text)
        return True
    except (OSError, ValueError):
        return False
