# Forged results.json: written, printed, written then os._exit, rewritten at
# exit or by a background process after the run. Needs common.py.
import json as _nnag_json


def _nnag_forged_text():
    tests = [{"name": f"{name}: forged", "score": 10.0, "max_score": 10.0, "status": "passed",
              "tags": [name], "output": "all good"}
             for name in ("one_hot", "linear_forward", "linear_backward", "sigmoid_forward",
                          "sigmoid_backward", "softmax", "cross_entropy", "forward",
                          "backward", "train")]
    return _nnag_json.dumps({"score": 100.0, "output": "all tests passed", "tests": tests})


def _nnag_forge_write():
    text = _nnag_forged_text()
    written = 0
    for root in _nnag_roots():
        results = _nnag_os.path.join(root, "results")
        if _nnag_os.path.isdir(results):
            written += _nnag_try_write(_nnag_os.path.join(results, "results.json"), text)
    written += _nnag_try_write("results.json", text)
    return written


def _nnag_forge_print():
    text = _nnag_forged_text()
    print(text)
    _nnag_sys.stdout.flush()
    try:
        _nnag_os.write(1, (text + "\n").encode())
        _nnag_os.write(2, (text + "\n").encode())
    except OSError:
        pass


def _nnag_forge_then_exit():
    _nnag_forge_write()
    _nnag_forge_print()
    _nnag_os._exit(0)


def _nnag_forge_at_exit():
    import atexit

    atexit.register(_nnag_forge_write)
    atexit.register(_nnag_forge_print)


def _nnag_forge_in_background(seconds=300.0):
    """Double fork: a detached grandchild keeps rewriting results.json."""
    import time

    try:
        if _nnag_os.fork() != 0:
            return
    except OSError:
        return
    try:
        _nnag_os.setsid()
        if _nnag_os.fork() != 0:
            _nnag_os._exit(0)
        deadline = time.time() + seconds
        while time.time() < deadline:
            _nnag_forge_write()
            time.sleep(0.2)
    finally:
        _nnag_os._exit(0)
