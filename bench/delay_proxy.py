"""A local TCP proxy that delays every byte by half a round trip each way, so TCP and TLS
handshakes pay the latency as they do on a real network (the emulator's own `--latency-ms` delays
only whole requests).

Used by `bench/speed.py`; listens on 127.0.0.1 only and forwards to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager, suppress
from typing import Any


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy one direction, each chunk delivered `delay` seconds after it arrived, in order."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, chunk = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not chunk:
                break
            writer.write(chunk)
            await writer.drain()
        writer.close()

    sender = asyncio.create_task(deliver())
    try:
        while chunk := await reader.read(65536):
            queue.put_nowait((loop.time() + delay, chunk))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((loop.time() + delay, b""))
    with suppress(ConnectionError, OSError):
        await sender


class DelayProxy:
    """Forward 127.0.0.1:<listen port> to 127.0.0.1:<target port> with `rtt_ms` per round trip."""

    def __init__(self, targets: list[int], rtt_ms: float) -> None:
        self.targets, self.delay = targets, rtt_ms / 2000.0
        self.ports: dict[int, int] = {}
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="delay-proxy")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self) -> None:
        for target in self.targets:
            server = await asyncio.start_server(self._handler(target), "127.0.0.1", 0)
            self.ports[target] = server.sockets[0].getsockname()[1]

    def _handler(
        self, target: int
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]:
        async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            self.connections += 1
            # the SYN travels before the connection is there: connecting costs a round trip too
            await asyncio.sleep(2 * self.delay)
            upstream_r, upstream_w = await asyncio.open_connection("127.0.0.1", target)
            await asyncio.gather(
                _pump(client_r, upstream_w, self.delay), _pump(upstream_r, client_w, self.delay)
            )

        return handle

    def start(self) -> DelayProxy:
        """Listen (returns once every port is bound)."""
        self._thread.start()
        self._ready.wait(10)
        return self

    async def _shutdown(self) -> None:
        self._loop.set_exception_handler(lambda loop, context: None)  # connections cut on purpose
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop.stop()

    def stop(self) -> None:
        """Cancel every connection's pumps, then stop the loop."""
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop)
        self._thread.join(5)


@contextmanager
def delayed(targets: list[int], rtt_ms: float) -> Iterator[DelayProxy]:
    """A running DelayProxy for these ports, stopped after."""
    proxy = DelayProxy(targets, rtt_ms).start()
    try:
        yield proxy
    finally:
        proxy.stop()
