"""The room's door: beyond loopback a token is made, the page asks for it, a wrong one is refused,
the right one gives a cookie that the page and the websocket need; on loopback nobody is asked."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from wizard.cli.room import COOKIE, RoomServer, is_loopback, room_token_for, seat_command
from wizard.cli.room_files import Room


def _server(token: str | None) -> RoomServer:
    return RoomServer("true", host="127.0.0.1", port=0, token=token, max_seats=2, out=io.StringIO())


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("192.0.2.10", False),
        ("::", False),
        ("classroom.example", False),
    ],
)
def test_only_loopback_goes_without_a_token(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    token = room_token_for(host)
    assert (token is None) is loopback
    if token is not None:
        assert len(token) >= 16
        assert token != room_token_for(host)


async def test_the_page_asks_for_the_token_and_refuses_a_wrong_one() -> None:
    server = _server("room-secret-token")
    async with TestClient(TestServer(await server._make_app())) as client:
        page = await client.get("/")
        assert page.status == 401
        body = await page.text()
        assert "Room token" in body
        assert "data-session-websocket-url" not in body
        assert (await client.get("/ws")).status == 403
        wrong = await client.post("/enter", data={"token": "room-secret-tokeN"}, allow_redirects=False)
        assert wrong.status == 403
        assert "not this room" in await wrong.text()
        assert COOKIE not in client.session.cookie_jar.filter_cookies(client.make_url("/"))
        # Static files (the terminal's script) are open: they hold nothing of the room.
        assert (await client.get("/static/js/textual.js")).status == 200


async def test_the_right_token_opens_the_page_and_the_websocket_checks_origin() -> None:
    server = _server("room-secret-token")
    async with TestClient(TestServer(await server._make_app())) as client:
        entered = await client.post("/enter", data={"token": "room-secret-token"}, allow_redirects=False)
        assert entered.status == 302
        cookie = entered.cookies[COOKIE]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Strict"
        assert "room-secret-token" not in cookie.value
        page = await client.get("/")
        assert page.status == 200
        body = await page.text()
        host = f"{client.host}:{client.port}"
        assert f'data-session-websocket-url="ws://{host}/ws"' in body
        assert "googleapis" not in body  # a classroom network may have no internet
        other_site = await client.get("/ws", headers={"Origin": "http://evil.example"})
        assert other_site.status == 403


async def test_on_loopback_nobody_is_asked() -> None:
    async with TestClient(TestServer(await _server(None)._make_app())) as client:
        page = await client.get("/")
        assert page.status == 200
        assert "data-session-websocket-url" in await page.text()


def test_each_seat_runs_this_python_against_the_room(tmp_path: Path) -> None:
    room = Room.create(str(tmp_path))
    command = seat_command(room, ["--scenario", "key expired; rm -rf /"])
    assert command.startswith(sys.executable)
    assert " seat --room " in command
    assert "'key expired; rm -rf /'" in command  # quoted for the shell textual-serve uses


async def test_a_full_room_answers_503() -> None:
    server = _server(None)
    server.open_seats = server.max_seats
    async with TestClient(TestServer(await server._make_app())) as client:
        full = await client.get("/ws")
        assert full.status == 503
        assert "the room is full (2 seats)" in await full.text()
