#!/usr/bin/python3
"""A reconnecting client on Python's websockets (10.4, Debian's
python3-websockets; run it with /usr/bin/python3), the kind a Python service
writes around the library: full-jitter exponential backoff (the n-th delay
uniform in [0, min(cap, base*2^n)]), the attempt counter reset after a
stable connection, Retry-After honoured on a 503, the library's ping
keepalive to notice a silent link, no reconnect after its own close or a
close 4000-4099. It knows nothing of conformance serve; the tests point it
at the session URL (conformance/serve/peers_test.go).

  /usr/bin/python3 reconnect-client.py URL [--base MS] [--cap MS]
      [--stable MS] [--hb MS] [--hb-timeout MS] [--close-on TEXT] [--seed N]
"""
import argparse
import asyncio
import random
import sys
import time

import websockets


def parse():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("--base", type=float, default=500, help="backoff base (ms)")
    p.add_argument("--cap", type=float, default=30000, help="backoff cap (ms)")
    p.add_argument("--stable", type=float, default=10000, help="uptime that resets the backoff (ms)")
    p.add_argument("--hb", type=float, default=10000, help="ping period (ms); 0 disables")
    p.add_argument("--hb-timeout", type=float, default=5000, help="pong wait (ms)")
    p.add_argument("--close-on", default=None, help="close (1000) when a text message equals this")
    p.add_argument("--seed", type=int, default=0, help="reproducible jitter")
    a = p.parse_args()
    if not a.url.startswith(("ws://", "wss://")):
        p.error("give a ws:// or wss:// URL")
    if not (0 < a.base <= a.cap) or a.hb < 0 or a.hb_timeout <= 0 or a.stable < 0:
        p.error("need 0 < --base <= --cap, --hb >= 0, --hb-timeout > 0, --stable >= 0")
    return a


async def main(a):
    rnd = random.Random(a.seed) if a.seed else random.Random()
    attempt = 0
    while True:
        retry_after = 0.0
        opened = None
        try:
            async with websockets.connect(
                a.url,
                ping_interval=a.hb / 1000 or None,
                ping_timeout=a.hb_timeout / 1000,
                close_timeout=1,
                open_timeout=5,
                compression=None,
            ) as ws:
                opened = time.monotonic()
                async for msg in ws:
                    if a.close_on is not None and msg == a.close_on:
                        await ws.close(1000, "leaving")
                        print("reconnect-client: closed on purpose", file=sys.stderr)
                        return 0
            # The loop ends quietly after a close 1000/1001 from the server.
            if ws.close_code is not None and 4000 <= ws.close_code <= 4099:
                print(f"reconnect-client: close {ws.close_code}, not retrying", file=sys.stderr)
                return 0
        except websockets.InvalidStatusCode as e:
            if e.status_code == 503:
                try:
                    retry_after = float(e.headers.get("Retry-After", "0"))
                except ValueError:
                    retry_after = 0.0
        except websockets.ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else None
            if code is not None and 4000 <= code <= 4099:
                print(f"reconnect-client: close {code}, not retrying", file=sys.stderr)
                return 0
        except (OSError, asyncio.TimeoutError, websockets.WebSocketException) as e:
            print(f"reconnect-client: {e!r}", file=sys.stderr)
        if opened is not None and time.monotonic() - opened >= a.stable / 1000:
            attempt = 0
        delay = rnd.random() * min(a.cap, a.base * 2**attempt) / 1000
        attempt += 1
        await asyncio.sleep(max(delay, retry_after))


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
