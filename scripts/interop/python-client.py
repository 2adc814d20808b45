"""A chat client on the Python `websockets` package, for the interop test
(server/chatserver/interop_test.go): it joins a room, waits until every named
peer is present, sends its messages and prints, as one JSON object, every
data message it received.

    python3 python-client.py URL NAME COUNT PEER...
"""
import asyncio
import json
import sys

import websockets


async def chat(url, name, count, peers):
    everyone = set([name, *peers])
    want = len(everyone) * count
    seen, received = set(), []
    async with websockets.connect(url) as ws:
        async def say_hello():
            # Repeated: a hello sent before a peer joined is lost to it.
            while True:
                await ws.send(f"hello {name}")
                await asyncio.sleep(0.1)

        hello = asyncio.ensure_future(say_hello())
        sending = False
        try:
            while len(received) < want:
                msg = await ws.recv()
                binary = isinstance(msg, bytes)
                text = msg.decode() if binary else msg
                if text.startswith("hello "):
                    seen.add(text[6:])
                    if not sending and everyone <= seen:
                        sending = True
                        for i in range(count):
                            await ws.send(f"{name} {i}")
                    continue
                received.append({"text": text, "binary": binary})
        finally:
            hello.cancel()
        await ws.close(code=1000, reason="done")
        return ws.close_code, received


def main():
    if len(sys.argv) < 5:
        print("usage: python3 python-client.py URL NAME COUNT PEER...", file=sys.stderr)
        sys.exit(2)
    url, name, count, peers = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    try:
        code, received = asyncio.run(asyncio.wait_for(chat(url, name, count, peers), 20))
    except asyncio.TimeoutError:
        print(f"{name}: timed out", file=sys.stderr)
        sys.exit(1)
    print(json.dumps({"name": name, "close": code, "received": received}))


if __name__ == "__main__":
    main()
