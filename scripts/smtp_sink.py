#!/usr/bin/python3
"""SMTP sink for Ticketgate's tests and demo (aiosmtpd, Debian's python3-aiosmtpd).

Run with Debian's /usr/bin/python3. Listens on 127.0.0.1 only. Every accepted
message is written atomically into --dir as

    <ns-timestamp>-<seq>.eml    the DATA bytes exactly as received (CRLF, dot-unstuffed)
    <ns-timestamp>-<seq>.json   {"mail_from", "rcpt_tos", "received_at", ...}

The .eml file is renamed into place first and the .json file last, so a reader
that sees a .json file can rely on its .eml being complete. A message to several
recipients is ONE pair of files; rcpt_tos lists the recipients that were accepted.

Behaviour hooks, chosen by the recipient's local part (case-insensitive):
    reject-...      RCPT answered "550 5.1.1 User unknown" (other recipients still accepted)
    tempfail-...    RCPT answered "451 4.3.0 Try again later" the first time this sink
                    process sees that address, accepted afterwards
    datafail-...    accepted at RCPT, but the message is answered after DATA with
                    "554 5.6.0 Message content rejected" and not stored

With --deliver-domain DOMAIN --lmtp HOST:PORT, accepted recipients in DOMAIN are
additionally delivered over LMTP (one transaction per recipient) before the
message is acknowledged; an LMTP failure answers "451 4.3.0" and stores nothing.

AUTH PLAIN and LOGIN are offered (also without TLS) and accept any credentials;
AUTH is never required. With --cert/--key, STARTTLS is offered on --port and
--tls-port (if given) speaks implicit TLS (SMTPS).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import smtplib
import ssl
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger("smtp_sink")


def local_part(address: str) -> str:
    return address.rsplit("@", 1)[0].lower() if "@" in address else address.lower()


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[1].lower() if "@" in address else ""


class SinkHandler:
    def __init__(self, sink_dir: Path, tmp_dir: Path, deliver_domains: set[str], lmtp: tuple[str, int] | None):
        self.sink_dir = sink_dir
        self.tmp_dir = tmp_dir
        self.deliver_domains = deliver_domains
        self.lmtp = lmtp
        self.seq = 0
        self.tempfailed: set[str] = set()

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]) -> str:
        lp = local_part(address)
        if lp.startswith("reject-"):
            log.info("RCPT %s -> 550 (reject- hook)", address)
            return "550 5.1.1 User unknown"
        if lp.startswith("tempfail-"):
            key = address.lower()
            if key not in self.tempfailed:
                self.tempfailed.add(key)
                log.info("RCPT %s -> 451 (tempfail- hook, first time)", address)
                return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw: bytes = envelope.original_content or b""
        mail_from = "" if envelope.mail_from in (None, "", "<>") else envelope.mail_from
        rcpts = list(envelope.rcpt_tos)
        if any(local_part(r).startswith("datafail-") for r in rcpts):
            log.info("DATA from=%r rcpts=%r -> 554 (datafail- hook)", envelope.mail_from, rcpts)
            return "554 5.6.0 Message content rejected"

        delivered: list[str] = []
        if self.lmtp is not None:
            local = [r for r in rcpts if domain_of(r) in self.deliver_domains]
            if local:
                loop = asyncio.get_running_loop()
                try:
                    await loop.run_in_executor(None, self.deliver_lmtp, mail_from, local, raw)
                except Exception as error:  # noqa: BLE001 - any failure is a temporary failure here
                    log.error("LMTP delivery to %r failed: %s", local, error)
                    return "451 4.3.0 Local delivery failed, try again later"
                delivered = local

        self.seq += 1
        name = f"{time.time_ns():020d}-{self.seq:06d}"
        auth = session.auth_data
        meta = {
            "mail_from": mail_from,
            "rcpt_tos": rcpts,
            "received_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "helo": session.host_name,
            "auth_login": auth.login.decode("utf-8", "replace") if isinstance(auth, LoginPassword) else None,
            "tls": uses_tls(server),
            "size": len(raw),
            "lmtp_delivered": delivered,
        }
        self.write_atomic(f"{name}.eml", raw)
        self.write_atomic(f"{name}.json", (json.dumps(meta, indent=2) + "\n").encode())
        log.info("stored %s from=%r rcpts=%r size=%d lmtp=%r", name, mail_from, rcpts, len(raw), delivered)
        return "250 2.0.0 OK queued as " + name

    def write_atomic(self, name: str, data: bytes) -> None:
        tmp = self.tmp_dir / name
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
        os.chmod(tmp, 0o644)
        os.replace(tmp, self.sink_dir / name)

    def deliver_lmtp(self, mail_from: str, rcpts: list[str], raw: bytes) -> None:
        assert self.lmtp is not None
        host, port = self.lmtp
        with smtplib.LMTP(host, port, timeout=30) as lmtp:
            # One transaction per recipient: smtplib reads a single reply after DATA,
            # while LMTP answers once per recipient.
            for rcpt in rcpts:
                refused = lmtp.sendmail(mail_from, [rcpt], raw)
                if refused:
                    raise RuntimeError(f"LMTP refused {refused!r}")
                log.info("LMTP delivered to %s", rcpt)


def uses_tls(server: SMTP) -> bool:
    try:
        if getattr(server, "_tls_protocol", None) is not None:  # after STARTTLS
            return True
        transport = server.transport
        return transport is not None and transport.get_extra_info("ssl_object") is not None  # SMTPS
    except Exception:  # noqa: BLE001 - metadata only
        return False


def accept_any(server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object) -> AuthResult:
    log.info("AUTH %s accepted (any credentials)", mechanism)
    return AuthResult(success=True, auth_data=auth_data)


async def serve(args: argparse.Namespace) -> None:
    sink_dir = Path(args.dir).resolve()
    sink_dir.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(args.tmp_dir).resolve() if args.tmp_dir else sink_dir.parent / ".sink-tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    lmtp = None
    if args.lmtp:
        host, _, port = args.lmtp.rpartition(":")
        lmtp = (host, int(port))
    handler = SinkHandler(sink_dir, tmp_dir, {d.lower() for d in args.deliver_domain}, lmtp)

    tls_context = None
    if args.cert and args.key:
        tls_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls_context.load_cert_chain(args.cert, args.key)

    loop = asyncio.get_running_loop()

    def factory() -> SMTP:
        return SMTP(
            handler,
            hostname="localhost",
            ident="Ticketgate test sink",
            enable_SMTPUTF8=True,
            tls_context=tls_context,
            auth_require_tls=False,
            authenticator=accept_any,
            loop=loop,
        )

    servers = [await loop.create_server(factory, host=args.host, port=args.port)]
    if args.tls_port and tls_context is not None:
        servers.append(await loop.create_server(factory, host=args.host, port=args.tls_port, ssl=tls_context))

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if args.pidfile:
        Path(args.pidfile).write_text(f"{os.getpid()}\n")
    log.info("listening on %s:%s%s (deliver %s via %s)", args.host, args.port,
             f" and SMTPS {args.tls_port}" if len(servers) > 1 else "", sorted(handler.deliver_domains) or "-", args.lmtp or "-")
    await stop.wait()
    log.info("stopping")
    for server in servers:
        server.close()
        await server.wait_closed()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tls-port", type=int, default=0, help="implicit-TLS (SMTPS) port; needs --cert/--key")
    parser.add_argument("--cert", help="PEM server certificate (enables STARTTLS)")
    parser.add_argument("--key", help="PEM private key for --cert")
    parser.add_argument("--dir", required=True, help="where accepted messages are written")
    parser.add_argument("--tmp-dir", help="scratch dir on the same filesystem (default: DIR/../.sink-tmp)")
    parser.add_argument("--pidfile")
    parser.add_argument("--log", help="log file (default: stderr)")
    parser.add_argument("--deliver-domain", action="append", default=[], help="also deliver this domain's recipients over LMTP")
    parser.add_argument("--lmtp", help="HOST:PORT of the LMTP server for --deliver-domain")
    args = parser.parse_args()
    if args.deliver_domain and not args.lmtp:
        parser.error("--deliver-domain needs --lmtp HOST:PORT")

    logging.basicConfig(
        filename=args.log,
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    try:
        asyncio.run(serve(args))
    finally:
        if args.pidfile:
            try:
                Path(args.pidfile).unlink()
            except FileNotFoundError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
