"""Turning a failed bind into an error that says what to do about it, and who holds a port.

When a port is taken, the person reading the message wants to know *what*
holds it: another notebook's kernel (which notebook), a ``codette-lab serve``
left running, or something else. On Linux the listening socket's owner can be
read from ``/proc`` (for processes of the same user); elsewhere, or when it
cannot be read, the message says only that another process holds it.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

from ..errors import PortInUseError, ServerError

#: ``/proc/net/tcp`` state of a listening socket.
_LISTEN = "0A"

#: The environment variable Jupyter servers give a kernel: the path of its notebook.
_NOTEBOOK_VARIABLE = b"JPY_SESSION_NAME="


def bind_error(exc: OSError, host: str, port: int) -> ServerError:
    """PortInUseError when ``host:port`` is taken, ServerError for any other reason it cannot be bound."""
    if exc.errno == errno.EADDRINUSE or "address already in use" in str(exc).lower():
        holder = port_holder(port) or "another process"
        return PortInUseError(
            f"Port {port} on {host} is already in use by {holder}: "
            f"stop that process or choose another port (port=0 picks a free one)"
        )
    return ServerError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}")


def _listening_inodes(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on ``port`` (IPv4 and IPv6), from ``/proc/net``."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = Path("/proc/net", table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def holder_pid(port: int) -> int | None:
    """The id of a process (of this user) listening on ``port``, when ``/proc`` says so; else None."""
    sockets = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not sockets:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            descriptors = list((entry / "fd").iterdir())
        except OSError:  # another user's process, or gone meanwhile
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(descriptor) in sockets:
                    return int(entry.name)
            except OSError:  # closed meanwhile
                continue
    return None


def describe_process(pid: int) -> str:
    """``the Jupyter kernel of notebook 05_export_and_serve.ipynb (pid 123)``, ``codette-lab serve (pid
    123)``, ``this kernel``, or the program's name and id."""
    if pid == os.getpid():
        return "this process"
    proc = Path("/proc", str(pid))
    try:
        argv = [part.decode(errors="replace") for part in (proc / "cmdline").read_bytes().split(b"\0") if part]
    except OSError:
        return f"process {pid}"
    try:
        environ = (proc / "environ").read_bytes().split(b"\0")
    except OSError:
        environ = []
    notebook = next((item[len(_NOTEBOOK_VARIABLE) :].decode(errors="replace") for item in environ
                     if item.startswith(_NOTEBOOK_VARIABLE)), None)  # fmt: skip
    command = " ".join(argv)
    if notebook:
        return f"the Jupyter kernel of notebook {Path(notebook).name} (pid {pid})"
    if "ipykernel" in command:
        return f"a Jupyter kernel (pid {pid})"
    if "codette_lab serve" in command or "codette-lab serve" in command:
        return f"a standalone server, codette-lab serve (pid {pid})"
    program = Path(argv[0]).name if argv else "?"
    return f"{program} (pid {pid})"


def port_holder(port: int) -> str | None:
    """What holds ``port``, in words (see :func:`describe_process`); None when it cannot be told."""
    try:
        pid = holder_pid(port)
    except OSError:
        return None
    return describe_process(pid) if pid is not None else None


def free_port_near(port: int, host: str = "127.0.0.1", *, tries: int = 20) -> int | None:
    """A port after ``port`` that can be bound right now (a suggestion for a message: it may be taken later)."""
    for candidate in range(port + 1, min(port + 1 + tries, 65536)):
        with socket.socket() as probe:
            try:
                probe.bind((host if host not in ("0.0.0.0", "::", "") else "127.0.0.1", candidate))
            except OSError:
                continue
            return candidate
    return None
