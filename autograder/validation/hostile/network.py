# Network and privileges. Traffic goes to 127.0.0.1 only (the validator's
# listener); a marker file is created only if the worker runs as root.
import os as _nnag_os

NETWORK_PORT = 47315
ROOT_MARKER = "/tmp/nnag-pwned-root"


def _nnag_connect():
    import socket

    for family, address in ((socket.AF_INET, ("127.0.0.1", NETWORK_PORT)),
                            (socket.AF_INET6, ("::1", NETWORK_PORT))):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as connection:
                connection.settimeout(1.0)
                connection.connect(address)
                connection.sendall(b"NNAG-EXFILTRATED " + repr(dict(_nnag_os.environ)).encode())
        except OSError:
            pass


def _nnag_escalate():
    for attempt in (lambda: _nnag_os.setgid(0), lambda: _nnag_os.setuid(0),
                    lambda: _nnag_os.seteuid(0)):
        try:
            attempt()
        except (OSError, AttributeError):
            pass
    if _nnag_os.geteuid() == 0:
        with open(ROOT_MARKER, "w") as marker:
            marker.write("the submission ran as root\n")
