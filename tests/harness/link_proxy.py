#!/usr/bin/python3
"""A TCP proxy that behaves like a bad link, for tests (tests/harness/link_emulator.h).

For each TARGET (host:port) listens on a port of 127.0.0.1 and forwards every
connection to it; all targets share one link (one pacer per direction): the
customer's uplink to n suppliers. Per direction:
  --delay-ms D       holds every chunk D ms before passing it on (added latency;
                     a round trip gains 2 D)
  --rate-kbit R      paces each direction to R kbit/s over all connections
                     together (0: unlimited); a link's bandwidth
  --reset-every S    every S seconds, resets every open connection (RST on both
                     sides, as a NAT or a flaky link does); new ones are accepted
  --blackhole-file F while file F exists, nothing is forwarded and nothing is
                     refused (a black-holed peer: packets vanish)
  --source-address A connections to the targets leave from local address A
                     (the customer's address as the suppliers see it)
  --listen-ports P,..  listen on these ports (one per target) instead of any
                     free ones: a proxy restarted after a "network change"
                     keeps the addresses the customer knows
Writes the ports it listens on (one line per target, in order) to --port-file
once it listens, and counts the
resets it made and the connections it accepted in --stats-file (lines
"resets N" and "connections N") if given.

Python 3 standard library only (Debian's python3). Bytes are queued at most
--queue-kib per connection and direction, so TCP flow control still reaches
the sender.
"""
import argparse
import asyncio
import os
import socket
import struct
import sys
import time


class Pacer:
    """One direction's bandwidth: a byte may leave no earlier than the link allows."""

    def __init__(self, kbit):
        self.bytes_per_s = kbit * 1000 / 8 if kbit > 0 else 0
        self.next_free = 0.0

    async def wait(self, n):
        if not self.bytes_per_s:
            return
        now = time.monotonic()
        start = max(now, self.next_free)
        self.next_free = start + n / self.bytes_per_s
        if start > now:
            await asyncio.sleep(start - now)


class Proxy:
    def __init__(self, args):
        self.args = args
        self.up = Pacer(args.rate_kbit)    # client -> target
        self.down = Pacer(args.rate_kbit)  # target -> client
        self.conns = set()                 # (client writer, target writer)
        self.resets = 0
        self.accepted = 0

    def blackholed(self):
        return self.args.blackhole_file and os.path.exists(self.args.blackhole_file)

    async def pump(self, reader, writer, pacer):
        queue = asyncio.Queue(maxsize=max(1, self.args.queue_kib // 64))
        delay = self.args.delay_ms / 1000.0

        async def read_side():
            while True:
                data = await reader.read(64 * 1024)
                await queue.put((time.monotonic() + delay, data))
                if not data:
                    return

        async def write_side():
            while True:
                due, data = await queue.get()
                while self.blackholed():
                    await asyncio.sleep(0.05)
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not data:
                    if writer.can_write_eof():
                        writer.write_eof()
                    return
                await pacer.wait(len(data))
                writer.write(data)
                await writer.drain()

        try:
            await asyncio.gather(read_side(), write_side())
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass

    async def handle(self, target, c_reader, c_writer):
        self.accepted += 1
        self.write_stats()
        source = (self.args.source_address, 0) if self.args.source_address else None
        try:
            t_reader, t_writer = await asyncio.open_connection(*target, local_addr=source)
        except OSError:
            abort(c_writer)
            return
        pair = (c_writer, t_writer)
        self.conns.add(pair)
        try:
            await asyncio.gather(self.pump(c_reader, t_writer, self.up),
                                 self.pump(t_reader, c_writer, self.down))
        finally:
            self.conns.discard(pair)
            for w in pair:
                w.close()

    async def resetter(self):
        while True:
            await asyncio.sleep(self.args.reset_every)
            for pair in list(self.conns):
                for w in pair:
                    abort(w)
                self.resets += 1
            self.write_stats()

    def write_stats(self):
        if self.args.stats_file:
            tmp = self.args.stats_file + ".tmp"
            with open(tmp, "w") as f:
                f.write("resets %d\nconnections %d\n" % (self.resets, self.accepted))
            os.replace(tmp, self.args.stats_file)

    async def main(self):
        servers, ports = [], []
        listen = [int(p) for p in self.args.listen_ports.split(",")] if self.args.listen_ports else []
        for i, t in enumerate(self.args.targets):
            host, port = t.rsplit(":", 1)
            target = (host, int(port))
            server = await asyncio.start_server(
                lambda r, w, target=target: self.handle(target, r, w), "127.0.0.1",
                listen[i] if i < len(listen) else 0, reuse_address=True)
            servers.append(server)
            ports.append(server.sockets[0].getsockname()[1])
        self.write_stats()
        tmp = self.args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join("%d\n" % p for p in ports))
        os.replace(tmp, self.args.port_file)
        if self.args.reset_every > 0:
            asyncio.ensure_future(self.resetter())
        await asyncio.gather(*(s.serve_forever() for s in servers))


def abort(writer):
    """Closes with RST (linger 0), not FIN: the peer sees 'connection reset'."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
    writer.transport.abort()


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("targets", nargs="+")
    p.add_argument("--port-file", required=True)
    p.add_argument("--delay-ms", type=float, default=0)
    p.add_argument("--rate-kbit", type=float, default=0)
    p.add_argument("--reset-every", type=float, default=0)
    p.add_argument("--blackhole-file", default="")
    p.add_argument("--stats-file", default="")
    p.add_argument("--queue-kib", type=int, default=1024)
    p.add_argument("--source-address", default="")
    p.add_argument("--listen-ports", default="")
    return p.parse_args()


if __name__ == "__main__":
    try:
        asyncio.run(Proxy(parse()).main())
    except KeyboardInterrupt:
        sys.exit(0)
