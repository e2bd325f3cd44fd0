"""Faulty and hostile submissions, each with the outcome a robust grader gives.

For every one, validate.py also requires: a valid results.json, grader files
unchanged, no process of a worker user left, bounded time, and a message on
every failing test. Payloads longer than a few lines live in ./hostile/*.py.
A function that crashes, hangs or returns something unusable costs its own tests,
and its callers' (they cannot be judged without it: "not judged: fix it first").
"""
from autograder.validation.model import Entry, Expected, broken, full_marks, zero
from autograder.validation.planted import SCE_BACKWARD, SIGMOID_BACKWARD

TIMED_OUT = r"timed out|did not finish"
CRASHED = r"killed by signal|exited with code|crash|died|closed its connection"
EXITED = r"SystemExit|exited with code|sys\.exit|os\._exit"


def hostile(name, why, expected, **kwargs):
    return Entry(name=name, kind="hostile", why=why, expected=expected, **kwargs)


def in_function(function, code):
    return ((function, code),)


def ref_bytes(subs=()):
    from autograder.validation.model import apply_subs, reference_source

    return apply_subs(reference_source(), subs)


HOSTILE = [
    # -- the file itself ----------------------------------------------------------
    hostile("syntax_error", "a missing colon on a def line",
            zero(r"SyntaxError"), compiles=False,
            subs=(("def sigmoid_backward(dA, A):\n", "def sigmoid_backward(dA, A)\n"),)),
    hostile("indentation_error", "tabs and spaces mixed in one function",
            zero(r"IndentationError|TabError"), compiles=False,
            subs=(("    return dA * A * (1.0 - A)\n", "\t  return dA * A * (1.0 - A)\n"),)),
    hostile("import_of_unavailable_module", "imports a package the grader does not have",
            zero(r"ModuleNotFoundError|No module named"),
            prelude="import nnag_no_such_package  # noqa: F401"),
    hostile("numpy_not_imported", "uses np without `import numpy as np`: NameError per call",
            Expected(loses=("one_hot", "sigmoid_forward", "softmax", "cross_entropy",
                            "init_params", "forward", "predict", "train"),
                     message_contains=(r"NameError",)),
            subs=(("import numpy as np\n", "\n"),)),
    hostile("empty_file", "a zero-byte neural_net.py",
            zero(r"not defined|missing|empty|no function"), base="raw", raw=b""),
    hostile("wrong_file_name", "submitted as neuralnet.py",
            zero(r"neural_net\.py"), filename="neuralnet.py"),
    hostile("nested_folder", "the file inside a folder of the zip", full_marks(),
            folder="hw5/code"),
    hostile("nested_with_macos_junk", "a nested folder plus __MACOSX resource forks",
            full_marks(), folder="hw5",
            extra_files=(("__MACOSX/hw5/._neural_net.py", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X"
                          b"\xff\xfe\x00\x00" * 16),
                         ("__MACOSX/._hw5", b"\x00\x05\x16\x07junk"))),
    hostile("non_utf8_bytes", "Latin-1 bytes in the docstring, no encoding declaration: Python refuses it",
            zero(r"utf-?8|encod|decod"), encoding="latin-1", compiles=False,
            subs=(('"""Homework 5: backpropagation', '"""Homework 5 (r\u00e9sum\u00e9): backpropagation'),)),
    hostile("latin1_declared_encoding", "Latin-1 bytes under a PEP 263 coding line: valid Python",
            full_marks(), encoding="latin-1",
            subs=(('"""Homework 5', '# -*- coding: latin-1 -*-\n"""Homework 5'),
                  ("backpropagation through", "r\u00e9tropropagation through"))),
    hostile("utf8_bom_and_crlf", "a Windows editor's file: UTF-8 BOM and CRLF line ends",
            full_marks(), base="raw",
            raw=b"\xef\xbb\xbf" + ref_bytes().replace("\n", "\r\n").encode("utf-8")),
    hostile("missing_function", "softmax misspelled soft_max: the graded name is missing",
            broken("softmax", msg=r"not defined"),
            subs=(("def softmax(Z):\n", "def soft_max(Z):\n"),)),
    hostile("wrong_signature", "softmax(Z, axis) with a required extra argument",
            broken("softmax", msg=r"TypeError"),
            subs=(("def softmax(Z):\n", "def softmax(Z, axis):\n"),)),
    # -- exceptions and exits ----------------------------------------------------------------
    hostile("exception_at_import", "raises at the top level",
            zero(r"RuntimeError"), append='raise RuntimeError("top-level code ran")'),
    hostile("exception_in_function", "sigmoid_backward raises ValueError",
            broken("sigmoid_backward", msg=r"ValueError"),
            inject=in_function("sigmoid_backward", 'raise ValueError("not today")')),
    hostile("sys_exit_at_import", "sys.exit(0) at the top level",
            zero(EXITED), append="import sys\nsys.exit(0)"),
    hostile("os_exit_at_import", "os._exit(0) at the top level",
            zero(EXITED), append="import os\nos._exit(0)"),
    hostile("sys_exit_in_function", "sys.exit(0) inside softmax",
            broken("softmax", msg=EXITED),
            inject=in_function("softmax", "import sys\nsys.exit(0)")),
    hostile("os_exit_in_function", "os._exit(0) inside linear_backward",
            broken("linear_backward", msg=EXITED),
            inject=in_function("linear_backward", "import os\nos._exit(0)")),
    hostile("keyboard_interrupt_in_function", "sigmoid_forward raises KeyboardInterrupt",
            broken("sigmoid_forward", msg=r"KeyboardInterrupt"),
            inject=in_function("sigmoid_forward", "raise KeyboardInterrupt")),
    hostile("base_exception_in_function", "cross_entropy raises a BaseException subclass",
            broken("cross_entropy", msg=r"GradeMeAnyway"),
            prelude="class GradeMeAnyway(BaseException):\n    pass",
            inject=in_function("cross_entropy", "raise GradeMeAnyway()")),
    hostile("segfault_at_import", "dereferences NULL through ctypes at the top level",
            zero(CRASHED + r"|SIGSEGV|segmentation"),
            append="import ctypes\nctypes.string_at(0)"),
    hostile("segfault_in_function", "dereferences NULL inside softmax_cross_entropy_backward",
            broken("softmax_cross_entropy_backward", msg=CRASHED + r"|SIGSEGV|segmentation"),
            inject=in_function("softmax_cross_entropy_backward",
                               "import ctypes\nctypes.string_at(0)")),
    # -- time ----------------------------------------------------------------------------------
    hostile("hang_at_import", "an infinite loop at the top level",
            zero(TIMED_OUT), payloads=("resources.py",), append="_nnag_hang()"),
    hostile("hang_in_function", "an infinite loop in sigmoid_backward",
            broken("sigmoid_backward", msg=TIMED_OUT), payloads=("resources.py",),
            inject=in_function("sigmoid_backward", "_nnag_hang()")),
    hostile("hang_swallowing_signals", "linear_forward ignores every signal and exception, forever",
            broken("linear_forward", msg=TIMED_OUT), payloads=("resources.py",),
            inject=in_function("linear_forward", "_nnag_unkillable_hang()")),
    hostile("sleep_in_function", "one_hot sleeps for an hour (no CPU time used)",
            broken("one_hot", msg=TIMED_OUT), payloads=("resources.py",),
            inject=in_function("one_hot", "_nnag_sleep()")),
    # -- memory, processes, output, disk ---------------------------------------------------------------
    hostile("memory_bomb_at_import", "allocates and touches memory until refused, at import",
            zero(r"memory|MemoryError"), payloads=("resources.py",),
            append="_NNAG_HOG = _nnag_memory_bomb()"),
    hostile("memory_bomb_in_function", "predict allocates and touches memory until refused",
            broken("predict", msg=r"memory"), payloads=("resources.py",),
            inject=in_function("predict", "_nnag_memory_bomb()")),
    hostile("numpy_memory_bomb", "softmax asks numpy for a 3.2 GB array",
            broken("softmax", msg=r"memory"), payloads=("resources.py",),
            inject=in_function("softmax", "_nnag_numpy_memory_bomb()")),
    hostile("fork_bomb", "init_params forks until refused; every copy keeps forking",
            broken("init_params", also=("train",), msg=TIMED_OUT + "|" + CRASHED),
            payloads=("processes.py",), exclusive=True, spawns=True,
            inject=in_function("init_params", "_nnag_fork_bomb()")),
    hostile("thread_bomb", "sigmoid_backward starts sleeping threads until refused",
            broken("sigmoid_backward", msg=r"thread|RuntimeError|memory|" + TIMED_OUT),
            payloads=("processes.py",), spawns=True,
            inject=in_function("sigmoid_backward", "_nnag_thread_bomb()")),
    hostile("double_forked_daemon", "leaves a detached grandchild that ignores SIGTERM; "
            "otherwise correct", full_marks(), payloads=("processes.py",), spawns=True,
            append="_nnag_daemonize()"),
    hostile("stdout_flood_1GB", "predict writes 1 GB to stdout and stderr, then answers",
            Expected(may_lose_only=("predict",)), payloads=("resources.py",),
            inject=in_function("predict", "_nnag_flood()")),
    hostile("disk_fill", "fills a file in every writable place at import; otherwise correct",
            full_marks(), payloads=("resources.py",), append="_nnag_fill_disk()"),
    # -- what comes back ------------------------------------------------------------------------------
    hostile("returns_none", "sigmoid_forward forgets its return",
            broken("sigmoid_forward", msg=r"None"),
            subs=(("    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n",
                   "    A = np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n"),)),
    hostile("returns_list", "softmax returns P.tolist()",
            broken("softmax", msg=r"\blist\b"),
            subs=(("    return E / E.sum(axis=1, keepdims=True)\n",
                   "    return (E / E.sum(axis=1, keepdims=True)).tolist()\n"),)),
    hostile("returns_str", "one_hot returns the printed matrix",
            broken("one_hot", msg=r"\bstr\b|string"),
            subs=(("    return Y\n    # END SOLUTION\n", "    return str(Y)\n    # END SOLUTION\n"),)),
    hostile("returns_dict", "linear_backward returns a dict of its gradients",
            broken("linear_backward", msg=r"\bdict\b|tuple"),
            subs=(("    return dX, dW, db\n", '    return {"dX": dX, "dW": dW, "db": db}\n'),)),
    hostile("returns_wrong_shape", "sigmoid_backward returns a flattened array",
            broken("sigmoid_backward", msg=r"shape"),
            subs=((SIGMOID_BACKWARD, "    return (dA * A * (1.0 - A)).ravel()\n"),)),
    hostile("returns_nan", "softmax_cross_entropy_backward returns NaN everywhere",
            broken("softmax_cross_entropy_backward", msg=r"nan|finite"),
            subs=((SCE_BACKWARD, "    return (P - Y) / P.shape[0] * np.nan\n"),)),
    hostile("returns_inf", "cross_entropy returns inf",
            broken("cross_entropy", msg=r"inf|finite"),
            subs=(("    return float(-(Y * log_P).sum() / P.shape[0])\n",
                   '    return float("inf")\n'),)),
    hostile("returns_bool_dtype", "one_hot returns a boolean matrix",
            broken("one_hot", msg=r"bool"),
            subs=(("    return Y\n    # END SOLUTION\n",
                   "    return Y.astype(bool)\n    # END SOLUTION\n"),)),
    hostile("returns_complex_dtype", "sigmoid_forward returns complex numbers",
            broken("sigmoid_forward", msg=r"complex"),
            subs=(("    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n",
                   "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E)).astype(complex)\n"),)),
    hostile("returns_object_dtype", "linear_forward returns an object array",
            broken("linear_forward", msg=r"object"),
            subs=(("    return X @ W.T + b\n", "    return (X @ W.T + b).astype(object)\n"),)),
    hostile("returns_ndarray_subclass_faking_eq",
            "softmax returns zeros in an ndarray subclass whose ==, ufuncs and "
            "__array_function__ always say True",
            broken("softmax"), payloads=("returns.py",),
            inject=in_function("softmax", "return _nnag_fake_array(np.shape(Z))")),
    hostile("returns_object_faking_eq", "linear_forward returns a non-array that equals anything",
            broken("linear_forward"), payloads=("returns.py",),
            inject=in_function("linear_forward",
                               "return _NnagLiar((np.shape(X)[0], np.shape(W)[0]))")),
    hostile("returns_malicious_reduce", "sigmoid_backward returns an object whose __reduce__ "
            "runs a shell command when unpickled",
            broken("sigmoid_backward"), payloads=("returns.py",),
            inject=in_function("sigmoid_backward", "return _NnagMaliciousReduce()"),
            forbidden_paths=("/tmp/nnag-pwned-reduce",)),
    hostile("huge_return", "softmax returns a 200 MB array",
            broken("softmax", msg=r"memory|too large|exceed|cap|invalid reply"),
            inject=in_function("softmax", "return np.zeros(200 << 20, dtype=np.uint8)")),
    # -- the protocol ---------------------------------------------------------------------------------
    hostile("forged_protocol_reply", "predict writes a forged 'return' frame and garbage "
            "to the reply pipe, then returns the right answer",
            broken("predict"), payloads=("protocol.py",),
            inject=in_function("predict", "_nnag_forge_reply()")),
    hostile("malicious_array_header", "init_params sends a header claiming 10^9 float64 "
            "(an 8 GB allocation for a naive reader)",
            broken("init_params", also=("train",), msg=r"invalid reply|exceed|cap"),
            payloads=("protocol.py",),
            inject=in_function("init_params", "_nnag_forge_huge_header()")),
    hostile("closes_grader_pipes", "closes every inherited descriptor at import",
            zero(r"import|closed|exited|crash"), payloads=("protocol.py",),
            append="_nnag_close_grader_pipes()"),
    # -- forged results (stubs: the honest score is 0) ----------------------------------------------------
    hostile("forged_results_written", "writes a results.json with full marks at import",
            zero(r"not implemented"), base="stub", payloads=("common.py", "forge_results.py"),
            append="_nnag_forge_write()"),
    hostile("forged_results_printed", "prints a full-marks results.json at import",
            zero(r"not implemented"), base="stub", payloads=("common.py", "forge_results.py"),
            append="_nnag_forge_print()"),
    hostile("forged_results_then_os_exit", "writes and prints full marks, then os._exit(0)",
            zero(EXITED), base="stub", payloads=("common.py", "forge_results.py"),
            append="_nnag_forge_then_exit()"),
    hostile("forged_results_at_exit", "atexit handlers rewrite results.json",
            zero(r"not implemented"), base="stub", payloads=("common.py", "forge_results.py"),
            append="_nnag_forge_at_exit()"),
    hostile("forged_results_in_background", "a detached grandchild rewrites results.json "
            "for minutes after the run", zero(r"not implemented"), base="stub",
            payloads=("common.py", "forge_results.py"), spawns=True,
            append="_nnag_forge_in_background()"),
    hostile("appends_to_run_autograder", "appends a line that writes full marks to "
            "run_autograder and setup.sh", zero(r"not implemented"), base="stub",
            payloads=("common.py", "tamper.py"), append="_nnag_append_to_run_autograder()"),
    hostile("monkeypatches_unittest_numpy_json", "patches unittest results, assertions, "
            "np.allclose and json.dump(s) at import", zero(r"not implemented"), base="stub",
            payloads=("tamper.py",), append="_nnag_monkeypatch()"),
    # -- snooping (stubs: the honest score is 0; finding anything raises it) -------------------------------
    hostile("reads_grader_source", "looks for the reference in the autograder tree and, if "
            "found, becomes it", zero(r"not implemented"), base="stub",
            payloads=("common.py", "snoop.py"), append="_nnag_steal_reference()"),
    hostile("reads_submission_metadata", "reads submission_metadata.json and puts it in "
            "every error message", zero(r"not implemented"), base="stub",
            payloads=("common.py", "snoop.py"), append="_nnag_leak_metadata()"),
    hostile("leaks_environment", "puts the whole environment in every error message",
            zero(r"ValueError"), base="stub", payloads=("common.py", "snoop.py"),
            append="_nnag_leak_environment()"),
    hostile("frame_inspection", "returns expected values found in its callers' frames",
            zero(r"not implemented|NotImplementedError"), base="stub",
            payloads=("common.py", "snoop.py"), append="_nnag_peek_frames()"),
    hostile("gc_scan", "calls same-named functions found through gc.get_objects()",
            zero(r"not implemented|NotImplementedError"), base="stub",
            payloads=("common.py", "snoop.py"), append="_nnag_gc_scan()"),
    # -- the machine -------------------------------------------------------------------------------------------
    hostile("signals_the_grader", "sgd_step sends SIGSTOP/SIGTERM/SIGKILL to its parent, "
            "its group and init, then kill(-1, SIGKILL); then answers right",
            full_marks(), payloads=("processes.py",),
            spawns=True, inject=in_function("sgd_step", "_nnag_signal_grader()")),
    hostile("network_connection", "connects to a listener on 127.0.0.1 at import and sends "
            "its environment; otherwise correct", full_marks(), payloads=("network.py",),
            append="_nnag_connect()", no_network=True),
    hostile("privilege_escalation", "tries setuid(0) at import and leaves a marker if it "
            "runs as root; otherwise correct", full_marks(), payloads=("network.py",),
            append="_nnag_escalate()", forbidden_paths=("/tmp/nnag-pwned-root",)),
    hostile("extra_files_shadow_modules", "correct code plus json.py, wire.py and "
            "unittest.py next to it that raise when imported", full_marks(),
            extra_files=(("json.py", b'raise ImportError("shadowed json")\n'),
                         ("wire.py", b'raise ImportError("shadowed wire")\n'),
                         ("worker.py", b'raise ImportError("shadowed worker")\n'),
                         ("unittest.py", b'raise ImportError("shadowed unittest")\n'))),
    # -- confinement beyond the worker user (sandbox/layers.py, sandbox/confine.py) ------------------------
    hostile("io_uring_socket", "opens a TCP socket through io_uring (IORING_OP_SOCKET), connects "
            "it to a listener on 127.0.0.1 and sends; otherwise correct", full_marks(),
            payloads=("confinement.py",), append="_nnag_io_uring_connect()", no_network=True),
    hostile("kernel_attack_surface", "tries ptrace(ATTACH) on its parent, "
            "process_vm_readv, bpf, keyctl, unshare(NEWUSER|NEWNET), mount, perf_event_open and "
            "io_uring_setup at import; sigmoid_forward raises if the kernel accepted any (needs "
            "the seccomp allowlist)",
            full_marks(), payloads=("confinement.py",), append="_nnag_probe_kernel()",
            inject=in_function("sigmoid_forward", "_nnag_fail_if_kernel_allowed()")),
    hostile("reads_other_checkout", "looks for a world-readable reference in other places "
            "(/opt, /srv, /home, /work, /tmp ...) and, if found, becomes it (needs Landlock "
            "where such a copy exists)", zero(r"not implemented"), base="stub",
            payloads=("confinement.py",), append="_nnag_steal_other_checkout()"),
    # -- output through Python's own streams ------------------------------------------------------
    hostile("print_flood_2GB", "prints 1 GB and writes 1 GB to sys.stderr at import and in "
            "every train call; otherwise correct: the worker keeps the start and counts the rest",
            full_marks(), append="_nnag_print_flood()",
            prelude=("def _nnag_print_flood(megabytes=1024):\n"
                     "    import sys\n"
                     "    line = 'flood ' * 174762 + '\\n'  # about 1 MB\n"
                     "    for _ in range(megabytes):\n"
                     "        print(line, end='')\n"
                     "        sys.stderr.write(line)\n"),
            inject=in_function("train", "_nnag_print_flood()")),
    # -- a wire, deadlines and clean-up that cannot be broken (sandbox/wire.py, workers.py, cleanup.py) --
    hostile("deep_nesting_reply_header", "softmax sends a reply header of 65,000 '[' (a recursive "
            "JSON parser overflows), then waits", broken("softmax", msg=r"invalid reply"),
            payloads=("wire_abuse.py",), inject=in_function("softmax", "_nnag_deep_nesting_reply()")),
    hostile("huge_reply_64MB", "sigmoid_backward sends a well-formed 64 MB reply by hand (a "
            "reader that converts before checking sizes grows by gigabytes)",
            broken("sigmoid_backward", msg=r"invalid reply|exceed|cap"),
            payloads=("wire_abuse.py",), inject=in_function("sigmoid_backward", "_nnag_huge_reply()")),
    hostile("deep_directory_chain", "leaves a 1,100-deep directory chain in /tmp, /var/tmp, "
            "/dev/shm, /run/lock and its scratch at import (a recursive clean-up raises); "
            "otherwise correct", full_marks(), payloads=("leftovers.py",),
            append="_nnag_deep_chain()",
            forbidden_paths=tuple(f"{place}/nnag-deep-chain"
                                  for place in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"))),
    hostile("files_in_shared_places", "leaves 32 MB files in /dev/shm, /var/tmp, /tmp and "
            "/run/lock at import; otherwise correct", full_marks(), payloads=("leftovers.py",),
            append="_nnag_fill_shared_places()",
            forbidden_paths=tuple(f"{place}/nnag-left-behind"
                                  for place in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"))),
    hostile("sysv_ipc_left_behind", "creates a SysV shared-memory segment, semaphore set and "
            "message queue at import and never removes them; otherwise correct", full_marks(),
            payloads=("leftovers.py",), append="_nnag_sysv_ipc()"),
    hostile("cpu_spinning_daemons", "leaves 14 detached daemons spinning on the CPU at import; "
            "otherwise correct (they must not cost it time or points)", full_marks(),
            payloads=("leftovers.py",), exclusive=True, spawns=True,
            append="_nnag_spinning_daemons()"),
    hostile("slow_start_with_crashes", "an import that takes 6 s, and one_hot crashes the worker "
            "on every call: each restart's start-up counts against the deadlines",
            broken("one_hot", msg=CRASHED, max_seconds=240), payloads=("leftovers.py",),
            append="_nnag_slow_start()",
            inject=in_function("one_hot", "import os\nos._exit(7)")),
]
