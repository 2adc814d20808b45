"""A chat-room broadcast server on Python's websockets (Debian
python3-websockets 10.4, run by /usr/bin/python3): every message a client
sends goes to every open connection of its room (the request path), the
sender included, byte for byte and with its opcode (websockets hands text
over as str and binary as bytes, and broadcast() sends each back as it
came). wsbench benches it as the peer "python" (harness/BENCH.md).

    /usr/bin/python3 server.py --port 8181 [--host 127.0.0.1]

Bounded: websockets.broadcast() has no backpressure (its documentation:
messages pile up in a slow connection's write buffer until it times out),
so before each broadcast a connection whose transport holds more than
--max-buffer unsent bytes is aborted; incoming messages are limited by
websockets' own max_size (--max-message) and max_queue (32 messages).
"""
import argparse
import asyncio
import signal

import websockets

ROOMS = {}  # path -> set of open connections


async def handler(websocket, path):
    name = path.split("?", 1)[0]
    room = ROOMS.setdefault(name, set())
    room.add(websocket)
    try:
        async for message in websocket:
            for member in room:
                if member.transport.get_write_buffer_size() > MAX_BUFFER:
                    member.transport.abort()  # slow consumer
            websockets.broadcast(room, message)
    except websockets.ConnectionClosed:
        pass
    finally:
        room.discard(websocket)
        if not room and ROOMS.get(name) is room:
            del ROOMS[name]


MAX_BUFFER = 1 << 20


async def main():
    global MAX_BUFFER
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8181)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--max-buffer", type=int, default=MAX_BUFFER, help="abort a connection with more unsent bytes than this")
    parser.add_argument("--max-message", type=int, default=1 << 20, help="largest message in bytes")
    args = parser.parse_args()
    if args.max_buffer < 1 or args.max_message < 1:
        parser.error("--max-buffer and --max-message want a positive number of bytes")
    MAX_BUFFER = args.max_buffer
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(handler, args.host, args.port, max_size=args.max_message) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"python-websockets-broadcast listening on {host}:{port}", flush=True)
        await stop


if __name__ == "__main__":
    asyncio.run(main())
