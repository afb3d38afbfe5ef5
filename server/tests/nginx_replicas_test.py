"""Two `ember serve` replicas behind nginx, configured by server/deploy/nginx-ember.conf (the
file docs/deploy.md tells users to install), all on free loopback ports: requests through
nginx spread over both replicas, streams pass through unbuffered, and after one replica is
killed (SIGKILL: a crash, not a drain) every request still succeeds on the other.

Run: EMBER_CLI=... EMBER_MODEL=... python3 nginx_replicas_test.py
nginx: $EMBER_NGINX, else `nginx` on PATH or in /usr/sbin (Debian's package, installed by
scripts/setup.sh). Without it the test exits 77 (ctest: skipped); with EMBER_REQUIRE_NGINX=1
a missing nginx is a failure instead. No root needed: nginx runs in the foreground with its
own prefix, configuration, logs and temporary folders under a temporary directory.
"""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_harness  # noqa: E402

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SITE_CONF = os.path.join(HERE, "..", "deploy", "nginx-ember.conf")
CHAT_OK = 'ember_requests_total{route="/v1/chat/completions",code="200"}'


def find_nginx():
    if os.environ.get("EMBER_NGINX"):
        return os.environ["EMBER_NGINX"]
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_config(listen_port, replica_ports):
    """The shipped site file with the test's ports in place of the example ones."""
    text = open(SITE_CONF).read()
    servers = re.findall(r"^ *server 127\.0\.0\.1:\d+ (.*);$", text, re.M)
    assert len(servers) >= 1, "no `server 127.0.0.1:PORT ...;` line in " + SITE_CONF
    options = servers[0]
    lines = "".join(f"    server 127.0.0.1:{p} {options};\n" for p in replica_ports)
    text = re.sub(r"(^ *server 127\.0\.0\.1:\d+ .*;\n)+", lines, text, count=1, flags=re.M)
    text, n = re.subn(r"^( *)listen 127\.0\.0\.1:\d+;$", rf"\g<1>listen 127.0.0.1:{listen_port};", text, flags=re.M)
    assert n == 1, "no `listen 127.0.0.1:PORT;` line in " + SITE_CONF
    return text


class Nginx:
    """nginx in the foreground under `prefix`, serving the site file on a free loopback port."""

    def __init__(self, binary, prefix, replica_ports):
        self.prefix = prefix
        os.chmod(prefix, 0o755)  # when run as root, the workers (nobody) need to reach their temp folders
        for attempt in range(5):
            self.port = free_port()
            with open(os.path.join(prefix, "ember.conf"), "w") as f:
                f.write(site_config(self.port, replica_ports))
            temp_paths = "".join(f"    {kind}_temp_path {prefix}/{kind}_temp;\n"
                                 for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
            with open(os.path.join(prefix, "nginx.conf"), "w") as f:
                f.write(f"""daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$request_method $uri $status upstream=$upstream_addr';
    access_log {prefix}/access.log upstream;
{temp_paths}    include {prefix}/ember.conf;
}}
""")
            self.proc = subprocess.Popen([binary, "-p", prefix, "-e", f"{prefix}/error.log",
                                          "-c", f"{prefix}/nginx.conf"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         start_new_session=True)  # kill() reaches the workers too
            if self._wait_listening():
                return
            self.proc.wait()
            log = self.error_log()
            if "Address already in use" not in log:
                raise RuntimeError("nginx did not start:\n" + log)
            # Another process took the port between free_port() and nginx's bind: pick again.
        raise RuntimeError("nginx found no free port")

    def _wait_listening(self):
        while self.proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def error_log(self):
        stderr = self.proc.stderr.read().decode("utf-8", "replace") if self.proc.poll() is not None else ""
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                return stderr + f.read()
        except OSError:
            return stderr

    def request(self, method, path, body=None, timeout=120):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None,
                         headers={"Content-Type": "application/json"} if body is not None else {})
            r = conn.getresponse()
            return r.status, r.getheader("Content-Type", ""), r.read().decode("utf-8", "replace")
        finally:
            conn.close()

    def kill(self):
        """Master and workers at once (killing only the master would orphan its workers)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)  # graceful: finish open requests, then exit
        try:
            code = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        finally:
            self.proc.stderr.close()
        assert code == 0, f"nginx exited with {code}:\n{self.error_log()}"


def chat(nginx, n_tokens=4):
    status, ctype, body = nginx.request("POST", "/v1/chat/completions",
                                        {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": n_tokens})
    assert status == 200, f"HTTP {status}: {body}"
    reply = json.loads(body)
    assert reply["usage"]["completion_tokens"] == n_tokens, reply
    return reply


def stream(nginx):
    """A streamed chat through nginx: event framing intact, text, finish reason, [DONE] last.
    (How many events carry the text depends on timing: the replica writes what it has.)"""
    status, ctype, body = nginx.request("POST", "/v1/chat/completions",
                                        {"messages": [{"role": "user", "content": "Hello"}], "max_tokens": 8,
                                         "stream": True})
    assert status == 200, f"HTTP {status}: {body}"
    assert ctype.startswith("text/event-stream"), ctype
    assert body.endswith("data: [DONE]\n\n"), repr(body[-60:])
    events = body.split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""], repr(body[-60:])
    assert all(e.startswith("data: ") and "\n" not in e for e in events[:-2]), repr(body)
    chunks = [json.loads(e[len("data: "):]) for e in events[:-2]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks), chunks
    assert [c["choices"][0]["finish_reason"] for c in chunks][-1] == "length", chunks


def chat_count(replica):
    try:
        return replica.metric(CHAT_OK)
    except KeyError:
        return 0.0  # no chat request served yet


def main():
    binary = find_nginx()
    if not binary:
        message = "nginx replicas test: no nginx (install Debian's `nginx`: scripts/setup.sh does, or set EMBER_NGINX)"
        if os.environ.get("EMBER_REQUIRE_NGINX") == "1":
            raise SystemExit("FAIL: " + message)
        print("SKIPPED: " + message)
        return SKIP

    replicas = [serve_harness.from_env("-t", "1"), serve_harness.from_env("-t", "1")]
    prefix = tempfile.mkdtemp(prefix="ember-nginx-")
    nginx = None
    try:
        nginx = Nginx(binary, prefix, [r.port for r in replicas])

        status, _, body = nginx.request("GET", "/health")
        assert status == 200 and json.loads(body)["status"] == "ok", (status, body)
        status, _, _ = nginx.request("GET", "/metrics")
        assert status == 404, f"/metrics through the balancer: HTTP {status}"

        # Spread: sequential requests alternate (least_conn with ties going round robin); each
        # replica's own counter shows its share, and the shares add up to what was sent.
        sent = 8
        for _ in range(sent):
            chat(nginx)
        stream(nginx)
        sent += 1
        counts = [chat_count(r) for r in replicas]
        assert all(c >= 1 for c in counts), f"requests did not spread: {counts}"
        assert sum(counts) == sent, f"{sent} sent, replicas counted {counts}"
        print(f"spread over two replicas: {counts}")

        # One replica dies. Every request still succeeds, on the survivor.
        dead, alive = replicas
        dead.proc.kill()
        dead.proc.wait()
        dead.proc.stderr.close()
        before = chat_count(alive)
        after_death = 8
        for _ in range(after_death):
            chat(nginx)
        stream(nginx)
        after_death += 1
        served = chat_count(alive) - before
        assert served == after_death, f"{after_death} sent after the kill, survivor served {served}"
        print(f"after one replica's death: {after_death}/{after_death} served by the survivor")

        nginx.stop()
        nginx = None
        assert alive.stop() == 0, "".join(alive.log)
        print("nginx_replicas_test: ok")
        return 0
    finally:
        if nginx is not None:
            nginx.kill()
        for r in replicas:
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()
        shutil.rmtree(prefix, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
