"""How each process of a container ended, from the kernel's process-exit events.

`initify verify` must tell a process that exited by itself (the app got the stop signal and
shut down) from one the kernel SIGKILLed because PID 1 exited and took the PID namespace down
with it: from outside, both are simply gone. The kernel's process connector (netlink,
NETLINK_CONNECTOR / CN_IDX_PROC, root only) reports every exit, in order, with its wait status.
When PID 1 exits, the kernel SIGKILLs every other process of its PID namespace and waits for them
before PID 1's own exit completes, so those processes end with status SIGKILL; a process that
shut down by itself ended earlier with its own status (an exit code, or the stop signal's default
action). Where the connector is not available (no CAP_NET_ADMIN, another network namespace),
`ExitWatcher.open()` returns None and the caller falls back to what it saw in /proc.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Dict, List, NamedTuple, Optional

NETLINK_CONNECTOR = 11
CN_IDX_PROC = 1
CN_VAL_PROC = 1
PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2
PROC_EVENT_EXIT = 0x80000000
_NLMSG_DONE = 3
_NLMSG_HEADER = struct.Struct("IHHII")  # len, type, flags, seq, pid
_CN_MSG = struct.Struct("IIIIHH")  # idx, val, seq, ack, len, flags
_EVENT_HEADER = struct.Struct("IIQ")  # what, cpu, timestamp_ns
_EXIT = struct.Struct("IIII")  # process pid, tgid, exit_code (a wait status), exit_signal


class Exit(NamedTuple):
    pid: int  # host pid (thread group id)
    status: int  # wait status: exit code << 8, or the killing signal's number
    order: int  # arrival order: exits are reported in the order they happened

    @property
    def signal(self) -> Optional[int]:
        """The signal that killed the process, None when it called exit."""
        return self.status & 0x7F or None

    @property
    def code(self) -> int:
        return (self.status >> 8) & 0xFF


def _message(operation: int) -> bytes:
    payload = struct.pack("I", operation)
    cn = _CN_MSG.pack(CN_IDX_PROC, CN_VAL_PROC, 0, 0, len(payload), 0) + payload
    return _NLMSG_HEADER.pack(_NLMSG_HEADER.size + len(cn), _NLMSG_DONE, 0, 0, os.getpid()) + cn


class ExitWatcher:
    """Collects exit events of every process on the machine until closed (filter by pid)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.exits: Dict[int, Exit] = {}
        self.count = 0

    @classmethod
    def open(cls) -> Optional["ExitWatcher"]:
        try:
            sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        except (OSError, AttributeError):
            return None
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
            sock.bind((0, CN_IDX_PROC))
            sock.send(_message(PROC_CN_MCAST_LISTEN))
            sock.setblocking(False)
        except OSError:
            sock.close()
            return None
        return cls(sock)

    def drain(self) -> bool:
        """Read every pending event; False when events were lost (the receive buffer overflowed)."""
        complete = True
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return complete
            except OSError:  # ENOBUFS: the kernel dropped events
                complete = False
                continue
            self._parse(data)

    def _parse(self, data: bytes) -> None:
        offset = 0
        while offset + _NLMSG_HEADER.size <= len(data):
            length = _NLMSG_HEADER.unpack_from(data, offset)[0]
            if length < _NLMSG_HEADER.size:
                return
            event = offset + _NLMSG_HEADER.size + _CN_MSG.size
            if event + _EVENT_HEADER.size + _EXIT.size <= offset + length:
                what = _EVENT_HEADER.unpack_from(data, event)[0]
                if what == PROC_EVENT_EXIT:
                    pid, tgid, status, _ = _EXIT.unpack_from(data, event + _EVENT_HEADER.size)
                    if pid == tgid and tgid not in self.exits:  # the process, not one of its threads
                        self.exits[tgid] = Exit(tgid, status, self.count)
                        self.count += 1
            offset += (length + 3) & ~3

    def exit_of(self, pid: int) -> Optional[Exit]:
        return self.exits.get(pid)

    def close(self) -> None:
        try:
            self.sock.send(_message(PROC_CN_MCAST_IGNORE))
        except OSError:
            pass
        self.sock.close()


def sorted_exits(watcher: ExitWatcher, pids: List[int]) -> List[Exit]:
    return sorted((e for e in (watcher.exit_of(pid) for pid in pids) if e is not None), key=lambda e: e.order)
