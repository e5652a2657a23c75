"""kafka_proxy.py — a TCP proxy in front of a broker that cuts a client's connection at a chosen request.

    python kafka_proxy.py LISTEN_PORT BROKER_PORT --cut API_KEY [--after N] [--times M | --for SECONDS [--also KEY]]

The broker must advertise LISTEN_PORT for the listener on BROKER_PORT (scripts/kafka.sh --proxied), so that a
client bootstrapping here reaches every broker connection through here. Requests from clients are read frame
by frame (a 4-byte big-endian size, then the request header: api_key, api_version, correlation id); answers
are passed through as they come. The (N+1)-th request with API_KEY, and each one after it until M connections
were cut (or, with --for, until SECONDS passed since the first cut), is not forwarded: both sides of that
connection are closed, as a broker dying or a network failing at that moment would do. Each cut is printed
("cut: api_key K request #I"), and "listening" once ready. With --for, --also KEY cuts the requests with that
API key too while the window is open (from the first cut on).
Kafka's API keys: 25 AddOffsetsToTxn, 26 EndTxn, 28 TxnOffsetCommit, 24 AddPartitionsToTxn."""
import argparse
import asyncio
import struct
import sys
import time


class Proxy:
    def __init__(self, broker_port, cut, after, times, window, also=None):
        self.broker_port, self.cut, self.after, self.times, self.window = broker_port, cut, after, times, window
        self.also = also
        self.seen = self.cuts = 0
        self.first_cut = None

    def cutting(self):
        if self.seen <= self.after:
            return False
        if self.window is None:
            return self.cuts < self.times
        self.first_cut = self.first_cut or time.monotonic()
        return self.window_open()

    async def serve(self, client_r, client_w):
        try:
            broker_r, broker_w = await asyncio.open_connection("127.0.0.1", self.broker_port)
        except OSError:
            client_w.close()
            return
        down = asyncio.ensure_future(self.requests(client_r, broker_w))
        up = asyncio.ensure_future(self.copy(broker_r, client_w))
        await asyncio.wait([down, up], return_when=asyncio.FIRST_COMPLETED)
        for t in (down, up):
            t.cancel()
        for w in (client_w, broker_w):
            w.close()

    async def requests(self, src, dst):
        while True:
            head = await src.readexactly(4)
            (size,) = struct.unpack(">i", head)
            body = await src.readexactly(size)
            api_key = struct.unpack(">h", body[:2])[0] if size >= 2 else -1
            if api_key == self.cut:
                self.seen += 1
                if self.cutting():
                    self.cuts += 1
                    print(f"cut: api_key {api_key} request #{self.seen}", flush=True)
                    return  # closes both sides
            elif api_key == self.also and self.window_open():
                print(f"cut: api_key {api_key} (also)", flush=True)
                return
            dst.write(head + body)
            await dst.drain()

    def window_open(self):
        return self.first_cut is not None and time.monotonic() - self.first_cut < self.window

    @staticmethod
    async def copy(src, dst):
        while True:
            data = await src.read(65536)
            if not data:
                return
            dst.write(data)
            await dst.drain()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("listen_port", type=int)
    ap.add_argument("broker_port", type=int)
    ap.add_argument("--cut", type=int, required=True, help="the API key of the request to cut at")
    ap.add_argument("--after", type=int, default=0, help="forward this many such requests first")
    ap.add_argument("--times", type=int, default=1, help="cut this many connections in all")
    ap.add_argument("--for", dest="window", type=float, help="cut every such request for this many seconds")
    ap.add_argument("--also", type=int, help="with --for: cut requests with this API key too while cutting")
    a = ap.parse_args()
    if a.also is not None and a.window is None:
        ap.error("--also needs --for")
    proxy = Proxy(a.broker_port, a.cut, a.after, a.times, a.window, a.also)

    async def serve(r, w):
        try:
            await proxy.serve(r, w)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            w.close()

    server = await asyncio.start_server(serve, "127.0.0.1", a.listen_port)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
