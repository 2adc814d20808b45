"""An echo server on Python's `websockets` (Debian python3-websockets 10.4,
importable by /usr/bin/python3): every message goes back to its sender
only, as the library's README example does. The conformance suite runs
against it with --profile echo (conformance/cases/thirdparty_test.go).

    /usr/bin/python3 server.py [--port 9002] [--host 127.0.0.1] [--max-message 16777216]
"""
import argparse
import asyncio
import signal

import websockets


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=9002)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--max-message", type=int, default=16 << 20)
    a = p.parse_args()
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    # Library defaults otherwise (its own keepalive pings every 20 s).
    async with websockets.serve(echo, a.host, a.port, max_size=a.max_message) as server:
        host, port = server.sockets[0].getsockname()[:2]
        print(f"python-websockets echo server listening on {host}:{port}", flush=True)
        await stop


asyncio.run(main())
