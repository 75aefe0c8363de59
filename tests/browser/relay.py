"""A TCP relay in front of a local server: one browser's network, which a test can cut.

Chromium's offline emulation fails new requests but leaves an open response streaming, so
an event stream would survive it. Cutting the relay closes every open connection at once,
as a phone losing its signal does, and refuses new ones until the signal returns.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class Relay:
    """Forwards 127.0.0.1:`port` to 127.0.0.1:`upstream`; `cut()` and `restore()` the line."""

    def __init__(self, upstream: int) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._up = True
        self._stopped = False
        threading.Thread(target=self._accept, name="relay", daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cut(self) -> None:
        """Drop every open connection; new ones are closed as soon as they arrive."""
        with self._lock:
            self._up = False
            connections, self._open = self._open, set()
        for connection in connections:
            _close(connection)

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self._stopped = True
        self.cut()
        self._listener.close()

    def __enter__(self) -> Relay:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(("127.0.0.1", self._upstream))
            except OSError:
                _close(client)
                continue
            with self._lock:
                up = self._up
                if up:
                    self._open |= {client, server}
            if not up:
                _close(client)
                _close(server)
                continue
            for source, target in ((client, server), (server, client)):
                threading.Thread(
                    target=self._pump, args=(source, target), daemon=True
                ).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            with contextlib.suppress(OSError):  # cut, or the other side went away
                while chunk := source.recv(65536):
                    target.sendall(chunk)
        finally:
            with self._lock:
                self._open -= {source, target}
            _close(source)
            _close(target)


def _close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already gone
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
