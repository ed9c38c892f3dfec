"""A loopback server that speaks just enough of PostgreSQL's protocol to refuse a password.

The test server trusts every local connection, so a wrong password can only be shown against
something that asks for one. This one asks in cleartext, remembers what it was sent (so a test
can prove the password really travelled) and answers as PostgreSQL does: SQLSTATE 28P01.
"""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
CLEARTEXT_PASSWORD = 3


class PasswordRefusingServer:
    """Accepts connections on 127.0.0.1 and fails each one's password authentication."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.passwords: list[str] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def __enter__(self) -> PasswordRefusingServer:
        self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.listener.close()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    self.refuse(conn)
                except (OSError, struct.error):
                    continue  # the client gave up; wait for the next one

    def refuse(self, conn: socket.socket) -> None:
        user = "unknown"
        while True:
            length, code = struct.unpack("!ii", receive(conn, 8))
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                conn.sendall(b"N")  # no encryption here; the client goes on in the clear
                continue
            parameters = receive(conn, length - 8).split(b"\0")
            if b"user" in parameters:
                user = parameters[parameters.index(b"user") + 1].decode()
            break
        conn.sendall(b"R" + struct.pack("!ii", 8, CLEARTEXT_PASSWORD))
        tag = receive(conn, 1)
        (length,) = struct.unpack("!i", receive(conn, 4))
        payload = receive(conn, length - 4)
        if tag == b"p":
            self.passwords.append(payload.rstrip(b"\0").decode())
        message = f'password authentication failed for user "{user}"'.encode()
        fields = b"SFATAL\0VFATAL\0C28P01\0M" + message + b"\0\0"
        conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)


def receive(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise OSError("client closed the connection")
        data += chunk
    return data
