"""The ports `veritext up` gives its gateway and metrics endpoints. A default that another program
(often a second pipeline) already holds is replaced by a free port, and the banner and
`up-addresses.json` say which; a port the operator chose (its variable is set) is kept, and a taken
one is refused with the variable to change, since something else may be configured to reach it there.

A port is free when it can be bound now; the child binds it a moment later, so a program that takes it
in between makes that child fail and restart, which the supervisor reports.

Several gateway processes (`VERITEXT_GATEWAY_WORKERS`) serve one port: each binds it with `SO_REUSEPORT`
(`shared_socket`), and the kernel spreads new connections over them; one that dies leaves the others
serving, and the one started in its place binds beside them."""

import socket

from schemas.errors import ConfigError
from stream.embedded_broker import free_port

__all__ = ["choose_port", "port_is_free", "shared_socket"]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind: TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def choose_port(host: str, port: int, variable: str, *, chosen: bool) -> int:
    """The port to serve on: `port` when it is free; when it is taken, refused if the operator `chosen`
    it (through `variable`), else a free port the system picks. 0 (serve nothing) is kept as it is."""
    if port == 0 or port_is_free(host, port):
        return port
    if chosen:
        raise ConfigError(f"{host}:{port} is taken by another program; change {variable} or stop that program")
    return free_port(host)


def shared_socket(host: str, port: int) -> socket.socket:
    """A socket bound to `host:port` that other processes may bind too (`SO_REUSEPORT`, Linux and the BSDs);
    the server listens on it."""
    if not hasattr(socket, "SO_REUSEPORT"):
        raise ConfigError("several gateway processes on one port need SO_REUSEPORT, which this system lacks")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"{host}:{port} cannot be bound: {exc.strerror}") from exc
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"{host}:{port} cannot be bound: {exc.strerror}") from exc
    return sock
