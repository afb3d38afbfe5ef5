"""Starts `ember serve` on a free loopback port (--port 0) for the Python tests and the load
script, and stops it with SIGTERM. Standard library only."""
import http.client
import json
import os
import re
import signal
import subprocess
import threading
import time


class Server:
    def __init__(self, cli, model, *args):
        self.proc = subprocess.Popen([cli, "serve", "-m", model, "--port", "0", *args],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.log = []
        found = threading.Event()
        self.port = None

        def read():
            for raw in self.proc.stderr:
                line = raw.decode("utf-8", "replace")
                self.log.append(line)
                m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(60) or self.port is None:
            self.proc.kill()
            raise RuntimeError("server did not start:\n" + "".join(self.log))

    def connection(self, timeout=120):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=120):
        """(status, headers, parsed JSON or raw text)."""
        conn = self.connection(timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read().decode("utf-8", "replace")
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = data
            return r.status, dict(r.getheaders()), parsed
        finally:
            conn.close()

    def metric(self, name, headers=None):
        _, _, text = self.request("GET", "/metrics", headers=headers)
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise KeyError(name)

    def rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=60):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        finally:
            self.proc.stderr.close()


def from_env(*args):
    return Server(os.environ["EMBER_CLI"], os.environ["EMBER_MODEL"], *args)
