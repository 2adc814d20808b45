"""A JSON chat server on Python's websockets (Debian python3-websockets
10.4), written as its tutorial writes one: every message is parsed with
json.loads and re-broadcast to every client as a new JSON object. A
message that is not JSON raises in the handler, and websockets closes that
connection with 1011 (internal error), which is what loadgen's binary
payload used to meet.

    /usr/bin/python3 server.py [--port 8765] [--host 127.0.0.1]

loadgen/run/world_integration_test.go loads it with
--template '{"user":"u{{client}}","text":"{{token}}"}'.
"""
import argparse
import asyncio
import json
import signal

import websockets

CLIENTS = set()


async def handler(websocket, path=None):
    CLIENTS.add(websocket)
    try:
        async for message in websocket:
            event = json.loads(message)
            websockets.broadcast(CLIENTS, json.dumps({"type": "message", "user": event.get("user"), "text": event["text"]}))
    finally:
        CLIENTS.discard(websocket)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(handler, args.host, args.port, max_size=16 << 20) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"python-websockets-chat server listening on {host}:{port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
