# Looking for answers and secrets: the grader's tree, the reference, the
# submission metadata, the environment, caller frames, the garbage collector.
# If it finds the reference, the submission becomes the reference: a stub that
# suddenly scores 100 is how the validator sees that the sandbox leaked.
import gc as _nnag_gc
import os as _nnag_os
import sys as _nnag_sys

_NNAG_API = ("one_hot", "linear_forward", "linear_backward", "sigmoid_forward",
             "sigmoid_backward", "softmax", "cross_entropy", "softmax_cross_entropy_backward",
             "init_params", "forward", "backward", "sgd_step", "predict", "train")


def _nnag_read(path, limit=1 << 20):
    try:
        with open(path, "rb") as handle:
            return handle.read(limit).decode("utf-8", "replace")
    except OSError:
        return None


def _nnag_steal_reference():
    for root in _nnag_roots():
        for relative in ("source/reference/neural_net.py", "reference/neural_net.py",
                         "source/neural_net.py"):
            text = _nnag_read(_nnag_os.path.join(root, relative))
            if text and "def train" in text and "NotImplementedError" not in text:
                namespace = {"__name__": "stolen"}
                try:
                    exec(compile(text, "stolen", "exec"), namespace)
                except Exception:
                    continue
                for name in _NNAG_API:
                    if name in namespace:
                        globals()[name] = namespace[name]
                return True
    return False


def _nnag_raise_everywhere(text):
    def make(name):
        def leaky(*args, **kwargs):
            raise ValueError(f"{name}: {text}")
        return leaky

    for name in _NNAG_API:
        globals()[name] = make(name)


def _nnag_leak_metadata():
    for root in _nnag_roots():
        for relative in ("submission_metadata.json", "source/submission_metadata.json"):
            text = _nnag_read(_nnag_os.path.join(root, relative), 4000)
            if text:
                _nnag_raise_everywhere(text)
                print(text)
                return True
    return False


def _nnag_leak_environment():
    text = repr(dict(_nnag_os.environ))
    print(text)
    _nnag_raise_everywhere(text[:3000])


_NNAG_SUSPECT_NAMES = ("expected", "want", "wanted", "ref", "reference", "truth", "target",
                       "correct", "answer", "solution", "true")


def _nnag_peek_frames():
    """Each function returns a value found in its callers' frames, if any."""
    def make(name):
        def peeking(*args, **kwargs):
            frame = _nnag_sys._getframe(1)
            while frame is not None:
                for key, value in list(frame.f_locals.items()):
                    if key.lower() in _NNAG_SUSPECT_NAMES:
                        return value
                    if getattr(value, "__name__", "") == "reference" or key == "reference":
                        found = getattr(value, name, None)
                        if callable(found):
                            return found(*args, **kwargs)
                frame = frame.f_back
            raise NotImplementedError(f"{name}: nothing to copy in the callers' frames")
        return peeking

    for name in _NNAG_API:
        globals()[name] = make(name)


def _nnag_gc_scan():
    """Each function calls a same-named function found through gc, if any."""
    here = globals()

    def make(name):
        def scanning(*args, **kwargs):
            for obj in _nnag_gc.get_objects():
                if (callable(obj) and getattr(obj, "__name__", None) == name
                        and getattr(obj, "__globals__", here) is not here):
                    return obj(*args, **kwargs)
            for module in list(_nnag_sys.modules.values()):
                found = getattr(module, name, None)
                if callable(found) and getattr(found, "__globals__", here) is not here:
                    return found(*args, **kwargs)
            raise NotImplementedError(f"{name}: no reference found through gc")
        return scanning

    for name in _NNAG_API:
        globals()[name] = make(name)
