"""slow_clients.py — hostile and slow clients against the serve endpoint (tests/serve/security.sh).

    python slow_clients.py HOST PORT CAFILE TOKEN REQUEST_TIME IDLE MAX_CONNECTIONS METRICS_URL
Over TLS, each case on its own connection, each bounded in time:
  silent      connects, shakes hands, sends nothing: closed within idle + request_time (+ slack)
  slow-head   sends a request line, then its headers one byte every 0.2 s: closed about request_time after the line
  slow-body   sends whole headers, then the body one byte every 0.2 s: closed about request_time after the line
  too-many    once the server counts no connection open (rtml_serve_connections on METRICS_URL, the monitor's
              /metrics), MAX_CONNECTIONS idle connections, then one more whose request is answered 503 with a JSON
              error, while the last of the MAX_CONNECTIONS is still answered 200
While each slow client waits, a normal request on another connection is answered 200 within a second: slow
clients hold a connection each, never a thread. Exit 1 with a reason on any deviation."""
import json
import socket
import ssl
import sys
import time
import urllib.request

HOST, PORT, CAFILE, TOKEN = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
REQ, IDLE, MAXC, METRICS = float(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
CTX = ssl.create_default_context(cafile=CAFILE)
BODY = json.dumps({"inputs": [{"name": "records", "datatype": "BYTES", "shape": [1],
                               "data": ['{"x1": 1, "x2": 2, "x3": 3}']}]}).encode()
HEAD = (f"POST /v2/models/rtml/infer HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(BODY)}\r\n\r\n").encode()


def fail(msg):
    print(f"slow_clients: {msg}", file=sys.stderr)
    sys.exit(1)


def connect():
    s = socket.create_connection((HOST, PORT), timeout=10)
    return CTX.wrap_socket(s, server_hostname=HOST)


def read_response(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return None, data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
    while len(body) < n:
        body += s.recv(65536)
    return int(head.split()[1]), body


def normal_request_fast():
    t = time.monotonic()
    with connect() as s:
        s.sendall(HEAD + BODY)
        status, body = read_response(s)
    if status != 200 or time.monotonic() - t > 1.0:
        fail(f"a normal request beside slow clients: status {status} after {time.monotonic() - t:.2f} s")


def closed(s):
    """True when the server closed s (EOF or reset)."""
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def trickle(name, first, rest, limit):
    """Send first, then rest one byte every 0.2 s, until the server closes: it must within limit seconds."""
    s = connect()
    t = time.monotonic()
    s.sendall(first)
    s.settimeout(0.2)
    checked = False
    for b in rest:
        if time.monotonic() - t > 0.5 and not checked:
            normal_request_fast()
            checked = True
        try:
            s.sendall(bytes([b]))
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            break
        if closed(s):
            break
        if time.monotonic() - t > limit:
            fail(f"{name}: still open after {limit:.1f} s")
    else:
        fail(f"{name}: the whole request went through")
    took = time.monotonic() - t
    print(f"ok: {name}: closed after {took:.2f} s (request_time {REQ} s)")


def silent():
    s = connect()
    t = time.monotonic()
    s.settimeout(IDLE + REQ + 3)
    normal_request_fast()
    if not closed(s):
        fail("silent: not closed")
    print(f"ok: silent: closed after {time.monotonic() - t:.2f} s (idle {IDLE} s + request_time {REQ} s)")


def open_connections():
    with urllib.request.urlopen(METRICS, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("rtml_serve_connections "):
                return int(float(line.split()[1]))
    fail("no rtml_serve_connections on /metrics")


def wait_none_open(deadline_s=10):
    """Until the server has counted out every connection of the cases above (their closes reach its count
    just after the client sees them)."""
    until = time.monotonic() + deadline_s
    while (n := open_connections()) != 0:
        if time.monotonic() > until:
            fail(f"too-many: {n} connection(s) still counted open {deadline_s} s after the cases above")
        time.sleep(0.05)


def too_many():
    wait_none_open()
    held = [connect() for _ in range(MAXC)]
    with connect() as s:
        s.sendall(HEAD + BODY)
        status, body = read_response(s)
    if status != 503 or "too many connections" not in json.loads(body)["error"]:
        fail(f"too-many: {status} {body!r}")
    held[-1].sendall(HEAD + BODY)
    last, _ = read_response(held[-1])
    for h in held:
        h.close()
    if last != 200:
        fail(f"too-many: connection {MAXC} of {MAXC} answered {last}, not 200")
    print(f"ok: too-many: the connection past {MAXC} is answered 503 with a JSON error, the {MAXC}th 200")


trickle("slow-head", b"POST /v2/models/rtml/infer HTTP/1.1\r\n", HEAD.split(b"\r\n", 1)[1] * 20, REQ + 2)
trickle("slow-body", HEAD, BODY * 50, REQ + 2)
silent()
too_many()
