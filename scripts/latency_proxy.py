#!/usr/bin/python3
"""A TCP proxy on loopback that adds a fixed one-way delay, turning loopback into a slow link.

    scripts/latency_proxy.py --port PORT --target TARGET [--delay-ms 10] [--host 127.0.0.1]
                             [--target-host 127.0.0.1] [--pidfile FILE] [--ready-file FILE]

Listens on HOST:PORT (PORT 0 picks a free port; the chosen port is printed as "port N" on stdout and written to
--ready-file when given) and forwards every connection to TARGET_HOST:TARGET. Each chunk read from one side is
delivered to the other side DELAY ms after it arrived (so 10 ms each way gives a 20 ms round trip), with byte order
preserved and without throttling throughput: chunks are scheduled at arrival time + DELAY, not delivered by sleeping
the whole connection. A half-close (EOF) is also delayed by DELAY and passed on as a half-close.

Memory is bounded: when more than --max-buffer bytes are in flight in one direction, reading from that side pauses
until the writer has caught up (TCP back-pressure to the sender). SIGTERM/SIGINT stop the proxy and close every
connection.
"""

import argparse
import asyncio
import os
import signal
import sys
import time

CHUNK = 256 * 1024


class Pipe:
    """One direction of one connection: reader -> (delay) -> writer."""

    def __init__(self, reader, writer, delay, max_buffer):
        self.reader = reader
        self.writer = writer
        self.delay = delay
        self.max_buffer = max_buffer
        self.queue = asyncio.Queue()  # (due time, bytes or None for EOF)
        self.in_flight = 0
        self.room = asyncio.Event()
        self.room.set()

    async def pump_in(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                await self.room.wait()
                data = await self.reader.read(CHUNK)
                due = loop.time() + self.delay
                if not data:
                    self.queue.put_nowait((due, None))
                    return
                self.in_flight += len(data)
                if self.in_flight > self.max_buffer:
                    self.room.clear()
                self.queue.put_nowait((due, data))
        except (ConnectionError, OSError):
            self.queue.put_nowait((loop.time(), None))

    async def pump_out(self):
        loop = asyncio.get_running_loop()
        try:
            while True:
                due, data = await self.queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()
                    return
                self.writer.write(data)
                await self.writer.drain()
                self.in_flight -= len(data)
                if self.in_flight <= self.max_buffer // 2:
                    self.room.set()
        except (ConnectionError, OSError):
            return


class Proxy:
    def __init__(self, args):
        self.args = args
        self.delay = args.delay_ms / 1000.0
        self.connections = set()

    async def handle(self, client_reader, client_writer):
        task = asyncio.current_task()
        self.connections.add(task)
        server_writer = None
        try:
            try:
                server_reader, server_writer = await asyncio.open_connection(
                    self.args.target_host, self.args.target
                )
            except OSError as error:
                log(f"cannot connect to {self.args.target_host}:{self.args.target}: {error}")
                return
            up = Pipe(client_reader, server_writer, self.delay, self.args.max_buffer)
            down = Pipe(server_reader, client_writer, self.delay, self.args.max_buffer)
            tasks = [asyncio.create_task(c) for c in (up.pump_in(), up.pump_out(), down.pump_in(), down.pump_out())]
            try:
                # Done when both directions have delivered their EOF (or failed).
                await asyncio.gather(tasks[1], tasks[3])
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            for w in (client_writer, server_writer):
                if w is not None:
                    w.close()
            self.connections.discard(task)

    async def main(self):
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        server = await asyncio.start_server(self.handle, self.args.host, self.args.port, reuse_address=True)
        port = server.sockets[0].getsockname()[1]
        if self.args.pidfile:
            write_atomically(self.args.pidfile, f"{os.getpid()}\n")
        if self.args.ready_file:
            write_atomically(self.args.ready_file, f"{port}\n")
        print(f"port {port}", flush=True)
        await stop.wait()
        server.close()
        for task in list(self.connections):
            task.cancel()
        await asyncio.gather(*self.connections, return_exceptions=True)
        await server.wait_closed()


def write_atomically(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def log(message):
    print(f"latency_proxy {time.strftime('%H:%M:%S')}: {message}", file=sys.stderr, flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True, help="listen port (0: pick a free one)")
    parser.add_argument("--target-host", default="127.0.0.1")
    parser.add_argument("--target", type=int, required=True, help="target port")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="one-way delay in ms (default 10)")
    parser.add_argument("--max-buffer", type=int, default=16 << 20, help="bytes in flight per direction")
    parser.add_argument("--pidfile")
    parser.add_argument("--ready-file", help="written with the listening port once ready")
    args = parser.parse_args()
    try:
        asyncio.run(Proxy(args).main())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
