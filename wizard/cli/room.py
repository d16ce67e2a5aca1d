"""`cmk-wizard serve`: the wizard in a browser, through textual-serve, one seat (a process with its own
emulator and estate) per browser session; a room token at the door whenever it listens beyond loopback.

Emulator mode only: a seat runs `cmk-wizard seat`, which builds nothing but an embedded emulator.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import os
import secrets
import shlex
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import web
from textual_serve.server import Server

from wizard.cli.room_files import Room
from wizard.cli.wiring import OFFLINE_VARIABLE

PAGES = Path(__file__).parent / "room_pages"
COOKIE = "cmk_room_seat"
TITLE = "cmk-wizard training room"
SHUTDOWN_SECONDS = 5.0
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: only this machine can reach it."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def room_token_for(host: str) -> str | None:
    """A fresh room token when the room listens beyond this machine; none on loopback."""
    return None if is_loopback(host) else secrets.token_urlsafe(12)


def seat_command(room: Room, exercise: list[str]) -> str:
    """The shell command textual-serve runs for each browser session (this Python, this package)."""
    return shlex.join([sys.executable, "-m", "wizard", "seat", "--room", str(room.root), *exercise])


class RoomServer(Server):
    """textual-serve's server with a door: the room token (when set) is asked for by a page, checked
    in constant time, and remembered in a same-site cookie that the websocket must carry too."""

    def __init__(
        self, command: str, *, host: str, port: int, token: str | None, max_seats: int, out: TextIO
    ) -> None:
        super().__init__(command, host=host, port=port, title=TITLE, templates_path=PAGES)
        self.token = token
        self.max_seats = max_seats
        self.out = out
        self.open_seats = 0
        self._seat_tasks: set[asyncio.Task[Any]] = set()
        self._pass = (
            hmac.new(token.encode(), b"cmk-wizard room seat", hashlib.sha256).hexdigest() if token else None
        )

    def token_matches(self, offered: str) -> bool:
        """Constant-time comparison with the room token."""
        return self.token is not None and hmac.compare_digest(offered.encode(), self.token.encode())

    def admitted(self, request: web.Request) -> bool:
        """No token needed, or the request carries the cookie the token page hands out."""
        if self._pass is None:
            return True
        return hmac.compare_digest(request.cookies.get(COOKIE, "").encode(), self._pass.encode())

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.router.add_post("/enter", self.handle_enter)
        app.middlewares.append(self._door)
        return app

    @web.middleware
    async def _door(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/static/") or request.path == "/enter":
            return await handler(request)
        if not self.admitted(request):
            if request.path == "/":
                return self._token_page(request, refused=False)
            raise web.HTTPForbidden(text="this room needs its token: open the room's address first")
        if request.path == "/ws" and not _same_origin(request):
            raise web.HTTPForbidden(text="a seat opens only from the room's own page")
        return await handler(request)

    def _token_page(self, request: web.Request, *, refused: bool) -> web.Response:
        page = aiohttp_jinja2.render_template("token.html", request, {"refused": refused})
        page.set_status(403 if refused else 401)
        return page

    async def handle_enter(self, request: web.Request) -> web.StreamResponse:
        """The token page's form: the right token sets the seat cookie and goes to the room."""
        if self._pass is None:
            raise web.HTTPFound("/")
        form = await request.post()
        offered = form.get("token", "")
        if not isinstance(offered, str) or not self.token_matches(offered.strip()):
            return self._token_page(request, refused=True)
        answer = web.HTTPFound("/")
        answer.set_cookie(COOKIE, self._pass, httponly=True, samesite="Strict", path="/")
        raise answer

    async def handle_index(self, request: web.Request) -> web.Response:
        """textual-serve's page, with URLs from the address the browser used (0.0.0.0 binds too)."""
        base = f"{request.scheme}://{request.host}"
        socket_base = ("wss://" if request.scheme == "https" else "ws://") + request.host
        context = {
            "font_size": 16,
            "app_websocket_url": socket_base + str(request.app.router["websocket"].url_for()),
            "config": {"static": {"url": base + "/static/"}},
            "application": {"name": TITLE},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One seat per browser session, up to `max_seats` at once."""
        if self.open_seats >= self.max_seats:
            raise web.HTTPServiceUnavailable(text=f"the room is full ({self.max_seats} seats)")
        self.open_seats += 1
        task = asyncio.current_task()
        if task is not None:
            self._seat_tasks.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self.open_seats -= 1
            if task is not None:
                self._seat_tasks.discard(task)

    async def close_seats(self) -> None:
        """Closing the room ends every seat: textual-serve closes its websocket and tells its
        process to quit, and waits for it (rather than the server's grace period and a kill)."""
        tasks = list(self._seat_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def on_startup(self, app: web.Application) -> None:
        """Quiet: `serve` prints its own lines."""

    async def run(self, announce: Callable[[str], None], stop: asyncio.Event) -> None:
        """Listen until `stop`; `announce` gets the room's address once it listens."""
        runner = web.AppRunner(await self._make_app(), shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            port = runner.addresses[0][1]
            shown = f"[{self.host}]" if ":" in self.host else self.host
            announce(f"http://{shown}:{port}/")
            await stop.wait()
            await self.close_seats()
        finally:
            await runner.cleanup()


def _same_origin(request: web.Request) -> bool:
    """A browser's websocket names the page it came from; another site's page is refused."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def serve_room(
    exercise: list[str],
    *,
    described: str,
    host: str,
    port: int,
    room_folder: str | None,
    max_seats: int,
    out: TextIO = sys.stdout,
) -> int:
    """Open the room, print where it is (and its token), serve until Ctrl-C or SIGTERM."""
    room = Room.create(room_folder)
    token = room_token_for(host)
    os.environ[OFFLINE_VARIABLE] = "1"  # seats inherit it: no seat can reach live Azure
    server = RoomServer(
        seat_command(room, exercise), host=host, port=port, token=token, max_seats=max_seats, out=out
    )

    def announce(url: str) -> None:
        lines = [
            f"cmk-wizard serve: room open at {url} ({described}; each browser session has its own emulator)"
        ]
        if token:
            lines.append(f"room token: {token} (the page asks for it)")
        lines.append(f"room folder: {room.root} (cmk-wizard trainer --room {shlex.quote(str(room.root))})")
        lines.append("Ctrl-C closes the room")
        print("\n".join(lines), file=out, flush=True)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await server.run(announce, stop)

    try:
        asyncio.run(main())
    except OSError as exc:
        from wizard.domain.errors import BadInput

        raise BadInput(f"serve: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return 0


def exercise_args(args: Any) -> tuple[list[str], str]:
    """The seat's flags for the exercise `serve` was given, and how the room describes it."""
    if args.drill:
        seed = args.seed if args.seed is not None else secrets.randbelow(1_000_000)
        return [
            "--drill",
            "--seed",
            str(seed),
            "--level",
            str(args.level),
        ], f"drill seed {seed} level {args.level}"
    flags = ["--scenario", args.scenario, "--revalidate-seconds", f"{args.revalidate_seconds:g}"]
    return flags, f"scenario {args.scenario}"
