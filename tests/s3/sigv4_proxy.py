#!/usr/bin/python3
"""A signature-checking front for s3rver, for the [s3] tests.

s3rver accepts any signature, so on its own it would not notice a request the agent signs
wrongly. This proxy recomputes the AWS Signature Version 4 of every request with botocore's
signer (the reference implementation) and the known test keys; a mismatch gets S3's 403
SignatureDoesNotMatch, otherwise the request goes to s3rver unchanged. It also checks that the
body matches x-amz-content-sha256, as S3 does.

Test hooks:
  --deny-storage-class CLASS   answer AccessDenied to writes with that x-amz-storage-class
  --log FILE                   one JSON line per request: method, path, query, x-amz-* headers
  --fail-next N                answer the next N requests with 503 SlowDown (retry tests),
                               or with 500 InternalError under --fail-status 500
  --stall-file FILE            while FILE exists, UploadPart requests are logged, then held
                               unanswered (so a test knows an upload is in flight)
  --cut-puts N, --cut-gets N   cut the connection halfway through the body of the next N PUTs
                               (read half, then close without answering) or GETs (the headers
                               with the full Content-Length, half the body, then close) of a key
                               ending in --cut-suffix (default .dump): a network that drops
                               in the middle of a transfer (retry tests)
  --stall-puts N, --stall-gets N
                               the next N PUTs of such a key are read whole and never answered;
                               the next N GETs send the headers and half the body, then nothing;
                               either holds the connection open for --stall-seconds (default 30):
                               a network that stops moving (stall timeout tests)
  --wrong-head-sizes N         the next N HEADs of such a key that find it report a
                               Content-Length one byte short (a copy that is not what was sent)

Run with Debian's /usr/bin/python3 (python3-botocore).
"""
import argparse
import hashlib
import http.client
import http.server
import json
import re
import socket
import sys
import os
import threading
import time
from xml.sax.saxutils import escape
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request,\s*"
    r"SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)")


def error_xml(code, message, extra=""):
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message>'
            '%s</Error>' % (code, message, extra)).encode()


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    options = None
    lock = threading.Lock()
    failures_left = 0
    cuts_left = {"PUT": 0, "GET": 0}

    def log_message(self, fmt, *args):  # quiet: the tests read --log instead
        pass

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def signature_problem(self, body):
        auth = self.headers.get("Authorization", "")
        m = AUTH_RE.match(auth)
        if not m:
            return "AccessDenied", "no SigV4 Authorization header"
        key_id, _date, region, signed, signature = m.groups()
        if key_id != self.options.access_key:
            return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist"
        headers = {}
        for name in signed.split(";"):
            value = self.headers.get(name)
            if value is None:
                return "AccessDenied", "signed header %s missing" % name
            headers[name] = value
        payload = self.headers.get("x-amz-content-sha256")
        if payload is None:
            return "InvalidRequest", "missing x-amz-content-sha256"
        if payload != "UNSIGNED-PAYLOAD" and payload != hashlib.sha256(body).hexdigest():
            return "XAmzContentSHA256Mismatch", "body does not match x-amz-content-sha256"
        signer = S3SigV4Auth(Credentials(self.options.access_key, self.options.secret_key), "s3",
                             region)
        url = "http://%s%s" % (self.headers.get("Host"), self.path)
        request = AWSRequest(method=self.command, url=url, headers=headers, data=b"")
        request.context["timestamp"] = self.headers.get("x-amz-date")
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != signature:
            # Like S3, say what was signed on this side, to compare with the client's.
            return "SignatureDoesNotMatch", (
                "The request signature we calculated does not match the signature you provided"), (
                "<CanonicalRequest>%s</CanonicalRequest>" % escape(canonical))
        return None

    def record(self):
        if not self.options.log:
            return
        parts = urlsplit(self.path)
        entry = {"method": self.command, "path": parts.path, "query": parts.query,
                 "headers": {k.lower(): v for k, v in self.headers.items()
                             if k.lower().startswith("x-amz-") and k.lower() != "x-amz-date"}}
        with self.lock, open(self.options.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def stall_if_asked(self):
        stall = self.options.stall_file
        if self.command == "PUT" and "partNumber=" in urlsplit(self.path).query:
            while stall and os.path.exists(stall):
                time.sleep(0.05)

    def take_cut(self, kind=None):
        """Whether this request is to be cut or falsified (and one fewer is left of `kind`)."""
        if not urlsplit(self.path).path.endswith(self.options.cut_suffix):
            return False
        with Proxy.lock:
            kind = kind or self.command
            left = Proxy.cuts_left.get(kind, 0)
            if left > 0:
                Proxy.cuts_left[kind] = left - 1
            return left > 0

    def drop_connection(self):
        self.close_connection = True
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)

    def hold_then_drop(self):
        time.sleep(self.options.stall_seconds)
        self.drop_connection()

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        cut = self.take_cut()
        if cut and self.command == "PUT":
            self.record()
            self.rfile.read(length // 2)
            return self.drop_connection()
        body = self.rfile.read(length) if length else b""
        self.record()
        if self.command == "PUT" and self.take_cut("stall PUT"):
            return self.hold_then_drop()
        stall = self.command == "GET" and self.take_cut("stall GET")
        self.stall_if_asked()
        with Proxy.lock:
            fail = Proxy.failures_left > 0
            Proxy.failures_left -= 1 if fail else 0
        if fail and self.options.fail_status == 500:
            return self.reply(500, error_xml("InternalError", "We encountered an internal error."))
        if fail:
            return self.reply(503, error_xml("SlowDown", "Please reduce your request rate."))
        problem = self.signature_problem(body)
        if problem:
            sys.stderr.write("rejected %s %s: %s\n" % (self.command, self.path, problem))
            sys.stderr.flush()
            return self.reply(403, error_xml(*problem))
        storage_class = self.headers.get("x-amz-storage-class", "")
        if storage_class and storage_class in self.options.deny_storage_class:
            return self.reply(403, error_xml("AccessDenied", "Access Denied"))
        self.forward(body, cut, stall)

    def forward(self, body, cut=False, stall=False):
        upstream = http.client.HTTPConnection("127.0.0.1", self.options.upstream, timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("expect",)}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        passed = [(k, v) for k, v in answer.getheaders()
                  if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        if self.command == "HEAD":
            length = int(answer.getheader("Content-Length", "0"))
            if answer.status == 200 and self.take_cut("wrong HEAD size"):
                length -= 1
            passed.append(("Content-Length", str(length)))
            self.send_response(answer.status)
            for name, value in passed:
                self.send_header(name, value)
            self.end_headers()
        elif (cut or stall) and answer.status == 200:
            self.send_response(answer.status)
            for name, value in passed:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            if stall:
                self.wfile.flush()
                self.hold_then_drop()
            else:
                self.drop_connection()
        else:
            self.reply(answer.status, data, passed)
        upstream.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--deny-storage-class", action="append", default=[])
    parser.add_argument("--log", default="")
    parser.add_argument("--fail-next", type=int, default=0)
    parser.add_argument("--fail-status", type=int, default=503, choices=[500, 503])
    parser.add_argument("--stall-file", default="")
    parser.add_argument("--cut-puts", type=int, default=0)
    parser.add_argument("--cut-gets", type=int, default=0)
    parser.add_argument("--cut-suffix", default=".dump")
    parser.add_argument("--wrong-head-sizes", type=int, default=0)
    parser.add_argument("--stall-puts", type=int, default=0)
    parser.add_argument("--stall-gets", type=int, default=0)
    parser.add_argument("--stall-seconds", type=float, default=30)
    Proxy.options = parser.parse_args()
    Proxy.failures_left = Proxy.options.fail_next
    Proxy.cuts_left = {"PUT": Proxy.options.cut_puts, "GET": Proxy.options.cut_gets,
                       "wrong HEAD size": Proxy.options.wrong_head_sizes,
                       "stall PUT": Proxy.options.stall_puts, "stall GET": Proxy.options.stall_gets}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", Proxy.options.port), Proxy)
    print("listening", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
