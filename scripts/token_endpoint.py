#!/usr/bin/python3
"""A tiny OAuth2 token endpoint (RFC 6749 refresh_token grant) on 127.0.0.1, for XOAUTH2 refresh tests.

    scripts/token_endpoint.py [--port 0] [--refresh-token R] [--access-token secret] [--expires-in 3600]
                              [--client-id ID] [--client-secret S] [--fail-after N] [--fail-mode MODE]
                              [--log FILE] [--ready-file FILE] [--pidfile FILE]

POST / (any path) with an application/x-www-form-urlencoded body
    grant_type=refresh_token&refresh_token=R&client_id=ID[&client_secret=S]
(client credentials may also come as HTTP Basic auth) answers 200 with
    {"access_token": "<access token>", "expires_in": N, "refresh_token": "<rotated>", "token_type": "Bearer"}
The refresh token rotates on every success: the old one becomes invalid, the new one is `<initial>.<n>`. With
--no-rotate the same refresh token is returned and stays valid.

The access token is "secret" by default: the test mail stack's Dovecot accepts the password as an XOAUTH2 bearer
token. Errors follow RFC 6749 section 5.2: 400 {"error": "invalid_grant"} for an unknown, already rotated or revoked
refresh token, 400 invalid_request / unsupported_grant_type, 401 invalid_client for a wrong client id or secret.

Failure modes (for tests of loud refresh failures):
    --fail-after N        after N successful refreshes every further request fails (mode below)
    --fail-mode invalid_grant (default) | server_error (HTTP 500) | unavailable (HTTP 503) | hang (never answers
                          within 60 s) | garbage (200 with a body that is not JSON)
Control endpoints (GET): /health -> "ok"; /stats -> JSON {"requests", "successes", "failures", "current_refresh_token"};
POST /control/fail?mode=M sets failure on from now; POST /control/ok clears it.

Every request is logged as one JSON line to --log (default stderr): time, client_id, refresh_token presented, outcome
("accepted" / error code), and the issued refresh token. The port (when --port 0) is printed as "port N" on stdout and
written to --ready-file. SIGTERM stops it.
"""

import argparse
import base64
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.current = args.refresh_token
        self.rotation = 0
        self.requests = 0
        self.successes = 0
        self.failures = 0
        self.forced_mode = None
        self.log_file = open(args.log, "a", buffering=1) if args.log else sys.stderr

    def log(self, **entry):
        entry["time"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        with self.lock:
            self.log_file.write(json.dumps(entry, sort_keys=True) + "\n")
            self.log_file.flush()


class Handler(BaseHTTPRequestHandler):
    server_version = "tg-token-endpoint/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # quiet: our own log is the JSON lines
        pass

    @property
    def state(self):
        return self.server.state

    def reply(self, status, body, content_type="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Pragma", "no-cache")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="token"')
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/health":
            self.reply(200, b"ok\n", "text/plain")
        elif path == "/stats":
            s = self.state
            with s.lock:
                self.reply(
                    200,
                    {
                        "requests": s.requests,
                        "successes": s.successes,
                        "failures": s.failures,
                        "current_refresh_token": s.current,
                    },
                )
        else:
            self.reply(405, {"error": "invalid_request", "error_description": "use POST"})

    def do_POST(self):
        s = self.state
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        if url.path == "/control/fail":
            mode = parse_qs(url.query).get("mode", [s.args.fail_mode])[0]
            with s.lock:
                s.forced_mode = mode
            return self.reply(200, {"fail_mode": mode})
        if url.path == "/control/ok":
            with s.lock:
                s.forced_mode = None
            return self.reply(200, {"fail_mode": None})

        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                client_id, client_secret = user, password
            except ValueError:
                pass
        presented = form.get("refresh_token")
        entry = {"client_id": client_id, "refresh_token": presented, "grant_type": form.get("grant_type")}

        with s.lock:
            s.requests += 1
            mode = s.forced_mode
            if mode is None and s.args.fail_after is not None and s.successes >= s.args.fail_after:
                mode = s.args.fail_mode

        def error(status, code, description):
            with s.lock:
                s.failures += 1
            s.log(outcome=code, status=status, **entry)
            self.reply(status, {"error": code, "error_description": description})

        if mode == "hang":
            s.log(outcome="hang", **entry)
            time.sleep(60)
            return error(503, "temporarily_unavailable", "hung")
        if mode == "server_error":
            return error(500, "server_error", "configured to fail")
        if mode == "unavailable":
            return error(503, "temporarily_unavailable", "configured to fail")
        if mode == "garbage":
            with s.lock:
                s.failures += 1
            s.log(outcome="garbage", **entry)
            return self.reply(200, b"<html>not json</html>", "text/html")
        if mode == "invalid_grant":
            return error(400, "invalid_grant", "the refresh token is no longer valid (configured to fail)")
        if mode is not None:
            return error(400, mode, "configured to fail")

        if form.get("grant_type") != "refresh_token":
            code = "invalid_request" if not form.get("grant_type") else "unsupported_grant_type"
            return error(400, code, "only grant_type=refresh_token is supported")
        if not presented:
            return error(400, "invalid_request", "refresh_token is missing")
        if s.args.client_id is not None and client_id != s.args.client_id:
            return error(401, "invalid_client", "unknown client_id")
        if s.args.client_secret is not None and client_secret != s.args.client_secret:
            return error(401, "invalid_client", "wrong client_secret")

        with s.lock:
            if presented != s.current:
                valid = False
            else:
                valid = True
                if s.args.rotate:
                    s.rotation += 1
                    s.current = f"{s.args.refresh_token}.{s.rotation}"
                s.successes += 1
                issued = s.current
        if not valid:
            return error(400, "invalid_grant", "unknown, rotated or revoked refresh token")
        s.log(outcome="accepted", status=200, issued_refresh_token=issued, **entry)
        self.reply(
            200,
            {
                "access_token": s.args.access_token,
                "expires_in": s.args.expires_in,
                "refresh_token": issued,
                "token_type": "Bearer",
            },
        )


def write_atomically(path, text):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--refresh-token", default="refresh-0", help="the initially valid refresh token")
    parser.add_argument("--access-token", default="secret", help="issued access token (Dovecot test stack: secret)")
    parser.add_argument("--expires-in", type=int, default=3600)
    parser.add_argument("--client-id", help="required client_id (default: any)")
    parser.add_argument("--client-secret", help="required client_secret (default: none checked)")
    parser.add_argument("--no-rotate", dest="rotate", action="store_false", help="keep the refresh token")
    parser.add_argument("--fail-after", type=int, help="fail every request after N successful refreshes")
    parser.add_argument(
        "--fail-mode",
        default="invalid_grant",
        help="invalid_grant (400) | server_error (500) | unavailable (503) | hang | garbage | <any error code> (400)",
    )
    parser.add_argument("--log", help="JSON-lines log of every request (default stderr)")
    parser.add_argument("--ready-file", help="written with the port once listening")
    parser.add_argument("--pidfile")
    args = parser.parse_args()

    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    server.state = State(args)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    port = server.server_address[1]
    if args.pidfile:
        write_atomically(args.pidfile, f"{os.getpid()}\n")
    if args.ready_file:
        write_atomically(args.ready_file, f"{port}\n")
    print(f"port {port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
