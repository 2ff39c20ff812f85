#!/usr/bin/env python3
"""A misbehaving InfluxDB for cdmbench push's fault tests, on loopback.

Each request gets the next behaviour of --script (the last one repeats):
  ok          204, the lines are kept
  500         500 and nothing kept
  400partial  the first 3 lines refused, the rest kept: 400 "partial write"
  401         401 unauthorized
  hang        no answer for an hour
--tls CERT KEY serves https.
Bodies of more than --max-lines lines get 413. Kept lines are appended to
--store; every request adds a line to --log ("METHOD PATH STATUS LINES AUTH").
"""
import argparse
import gzip
import http.server
import socketserver
import threading
import time

ap = argparse.ArgumentParser()
ap.add_argument("--port-file", required=True)
ap.add_argument("--script", default="ok")
ap.add_argument("--max-lines", type=int, default=0)
ap.add_argument("--store", required=True)
ap.add_argument("--log", required=True)
ap.add_argument("--delay", type=float, default=0)
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
args = ap.parse_args()
script = args.script.split(",")
lock = threading.Lock()
count = [0]


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        lines = [l for l in body.decode("utf-8", "replace").split("\n") if l]
        with lock:
            what = script[min(count[0], len(script) - 1)]
            count[0] += 1
        auth = self.headers.get("Authorization", "-")
        if args.delay:
            time.sleep(args.delay)
        keep, code, msg = [], 204, b""
        if args.max_lines and len(lines) > args.max_lines:
            code, msg = 413, b'{"error":"Request Entity Too Large"}'
        elif what == "ok":
            keep = lines
        elif what == "500":
            code, msg = 500, b'{"error":"engine: internal error"}'
        elif what == "400partial":
            keep = lines[3:]
            code = 400
            msg = b'{"error":"partial write: unable to parse points dropped=3"}'
        elif what == "401":
            code, msg = 401, b'{"error":"authorization failed"}'
        elif what == "hang":
            time.sleep(3600)
            return
        with lock:
            with open(args.store, "a") as f:
                for l in keep:
                    f.write(l + "\n")
            with open(args.log, "a") as f:
                f.write("%s %s %d %d %s\n" % (self.command, self.path, code,
                                              len(lines), auth.split(" ")[0]))
        self.reply(code, msg)


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = S(("127.0.0.1", args.port), H)
if args.tls:
    import ssl
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.tls[0], args.tls[1])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(args.port_file + ".tmp", args.port_file)
srv.serve_forever()
