#!/usr/bin/python3
"""An Autobahn-style test driver for Python's websockets client (10.4,
Debian's python3-websockets; run it with /usr/bin/python3): it asks
/getCaseCount, echoes every message of /runCase?case=N&agent=A for each
case, then calls /updateReports?agent=A. Works against conformance serve
(conformance/serve/peers_test.go) and the Autobahn fuzzingserver alike.

  /usr/bin/python3 autobahn-client.py ws://127.0.0.1:9001 [AGENT]
"""
import asyncio
import re
import sys
import urllib.parse

import websockets


async def main(base, agent):
    async with websockets.connect(base + "/getCaseCount") as ws:
        count = int(await ws.recv())
    q = urllib.parse.quote(agent)
    for i in range(1, count + 1):
        try:
            async with websockets.connect(f"{base}/runCase?case={i}&agent={q}", max_size=2**26) as ws:
                async for msg in ws:
                    await ws.send(msg)
        except (websockets.WebSocketException, OSError) as e:
            print(f"case {i}: {e!r}", file=sys.stderr)
    async with websockets.connect(f"{base}/updateReports?agent={q}") as ws:
        await ws.wait_closed()
    print(f"autobahn-client: ran {count} cases", file=sys.stderr)
    return 0


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or not re.match(r"^wss?://[^/]+$", sys.argv[1]):
        print("usage: autobahn-client.py ws://HOST:PORT [AGENT]", file=sys.stderr)
        sys.exit(2)
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "python-websockets")))
