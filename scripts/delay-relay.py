#!/usr/bin/env python3
"""A TCP relay that delays every byte by a fixed time, each way.

    python3 scripts/delay-relay.py LISTEN_PORT TARGET_HOST:TARGET_PORT DELAY_MS

For benchmarks where netem is not available (a kernel without sch_netem):
it listens on 127.0.0.1:LISTEN_PORT, connects each accepted connection to
the target, and forwards what it reads in both directions DELAY_MS after it
arrived, in order, like a link with that one-way delay (so a round trip
gains twice DELAY_MS). Bandwidth is not limited. It prints `ready` once
listening and runs until killed.
"""

import asyncio
import sys
import time


async def pump(reader, writer, delay):
    """Copies reader to writer, each chunk `delay` seconds after it came."""
    queue = asyncio.Queue()

    async def deliver():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    delivery = asyncio.ensure_future(deliver())
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            queue.put_nowait((time.monotonic() + delay, data))
    except OSError:
        pass
    queue.put_nowait((0, None))
    try:
        await delivery
    except OSError:
        pass


async def main():
    listen_port = int(sys.argv[1])
    target_host, target_port = sys.argv[2].rsplit(":", 1)
    delay = float(sys.argv[3]) / 1000.0

    async def accepted(client_reader, client_writer):
        try:
            target_reader, target_writer = await asyncio.open_connection(
                target_host, int(target_port)
            )
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pump(client_reader, target_writer, delay),
            pump(target_reader, client_writer, delay),
        )
        client_writer.close()
        target_writer.close()

    server = await asyncio.start_server(accepted, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
