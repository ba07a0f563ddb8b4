#!/usr/bin/env python3
"""End-to-end monitoring chain: PostgreSQL 15 -> pgbackup-agent -> Prometheus (the real rules,
`for:` shortened to 1s) -> Alertmanager -> a webhook receiver, plus every Grafana dashboard
query evaluated against that Prometheus.

Two targets: `healthy` (a real database) and `down` (a port where nothing listens).
Checks:
  1. an alert about target="down" reaches the webhook through Alertmanager;
  2. once `healthy` has a good backup, Prometheus has no firing alert for target="healthy";
  3. every panel query of grafana/pgbackup-overview.json returns data (a few are skipped by
     name, with the reason, in DASHBOARD_SKIP).

python3 stdlib only. Everything lives in a temp dir that is removed at exit; every child
process is stopped, also on failure and on SIGTERM/SIGINT (ctest timeout).
"""
import argparse
import ctypes
import http.server
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

PG_BIN = "/usr/lib/postgresql/15/bin"
PASSWORD = "e2e-password"
ALERT_DEADLINE = 60  # seconds for an alert about target="down" to reach the webhook
BACKUP_DEADLINE = 60  # seconds for target="healthy" to have a good backup
SETTLE_DEADLINE = 15  # seconds for healthy's "never backed up" alerts to resolve
DASHBOARD_DEADLINE = 20  # seconds of retries for dashboard queries without data yet

# Dashboard queries that cannot return data in this setup, keyed by (panel title, refId).
# Keep this minimal; each entry says why.
DASHBOARD_SKIP = {
    # `(time() - offsite_last_success) and ... > 0`: off-site copies are not configured.
    ("Off-site state", "C"):
        "no off-site upload has ever succeeded (timestamp 0, filtered with > 0)",
    # The WAL archive's series exist only for a target whose engine keeps one (pgBackRest);
    # this chain runs a pg_dump target. alerts/tests/archive.yml and the golden exposition
    # "archive" (tests/unit/collectors) cover them.
    ("RPO exposure vs target", "A"): "a pg_dump target has no WAL archive",
    ("RPO exposure vs target", "B"): "a pg_dump target has no WAL archive",
    ("WAL archiving", "A"): "a pg_dump target has no WAL archive",
    ("WAL archiving", "B"): "a pg_dump target has no WAL archive",
    ("Unarchived WAL and gaps", "A"): "a pg_dump target has no WAL archive",
    ("Unarchived WAL and gaps", "B"): "a pg_dump target has no WAL archive",
    ("Engine, verify and stanza", "E"): "a pg_dump target has no pgBackRest stanza",
    ("Engine, verify and stanza", "D"):
        "no verify run has ever passed (timestamp 0, filtered with > 0)",
}

CHILDREN = []  # subprocess.Popen objects, stopped in reverse order at exit
CLEANUPS = []  # callables run at exit (after the children)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def is_root():
    return os.geteuid() == 0


def as_postgres(argv):
    return (["runuser", "-u", "postgres", "--"] + argv) if is_root() else argv


def _die_with_parent():
    # The children die with this script even if it is SIGKILLed (Linux PR_SET_PDEATHSIG).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except Exception:  # noqa: BLE001 - best effort
        pass


def spawn(name, argv, logdir, env=None):
    logf = open(os.path.join(logdir, f"{name}.log"), "wb")
    p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, preexec_fn=_die_with_parent)
    p.e2e_name = name
    p.e2e_log = logf.name
    CHILDREN.append(p)
    return p


def stop_children():
    for p in reversed(CHILDREN):
        if p.poll() is None:
            p.terminate()
    for p in reversed(CHILDREN):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    CHILDREN.clear()


def tail(path, n=40):
    try:
        with open(path, "r", errors="replace") as f:
            return "".join(f.readlines()[-n:])
    except OSError as e:
        return f"({e})"


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def wait_http(url, proc, what, deadline=30):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"{what} exited with {proc.returncode}:\n{tail(proc.e2e_log)}")
        try:
            http_get(url, timeout=2)
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise Failure(f"{what} not ready at {url} within {deadline}s")


class Failure(Exception):
    pass


class Webhook:
    """Records every alert Alertmanager posts (webhook payload v4)."""

    def __init__(self):
        self.alerts = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    payload = json.loads(body)
                    with outer.lock:
                        outer.alerts.extend(payload.get("alerts", []))
                except ValueError:
                    pass
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = None
        CLEANUPS.append(self.close)

    def start(self):
        # Started after the last spawn(): preexec_fn is not safe once threads exist.
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        if self.thread:
            self.server.shutdown()
        self.server.server_close()

    def snapshot(self):
        with self.lock:
            return list(self.alerts)


class Prom:
    def __init__(self, base):
        self.base = base

    def query(self, expr):
        url = f"{self.base}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        try:
            doc = json.loads(http_get(url))
        except urllib.error.HTTPError as e:
            raise Failure(f"query {expr!r} rejected: {e.code} {e.read().decode()}") from e
        if doc.get("status") != "success":
            raise Failure(f"query {expr!r} failed: {doc}")
        return doc["data"]["result"]

    def alerts(self):
        return json.loads(http_get(f"{self.base}/api/v1/alerts"))["data"]["alerts"]


def start_postgres(tmp):
    pgdir = os.path.join(tmp, "pg")
    os.mkdir(pgdir)
    pwfile = os.path.join(pgdir, "pwfile")
    with open(pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    if is_root():
        pw = pwd.getpwnam("postgres")
        for p in (pgdir, pwfile):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    data = os.path.join(pgdir, "data")
    subprocess.run(as_postgres([f"{PG_BIN}/initdb", "-D", data, "-U", "postgres",
                                "--auth=scram-sha-256", f"--pwfile={pwfile}", "--no-sync",
                                "-E", "UTF8", "--locale=C"]),
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    port = free_port()
    pg_ctl = [f"{PG_BIN}/pg_ctl", "-D", data, "-l", os.path.join(pgdir, "log"), "-w"]
    CLEANUPS.append(lambda: subprocess.run(
        as_postgres([f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30))
    r = subprocess.run(as_postgres(pg_ctl + ["-o", f"-c listen_addresses=127.0.0.1 -p {port} "
                                             f"-k {pgdir} -c fsync=off", "start"]),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise Failure(f"pg_ctl start failed: {r.stdout.decode()}\n"
                      f"{tail(os.path.join(pgdir, 'log'))}")
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    psql = [f"{PG_BIN}/psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
            str(port), "-U", "postgres"]
    subprocess.run(psql + ["-c", "CREATE DATABASE e2e", "postgres"], check=True, env=env)
    subprocess.run(psql + ["-c", "CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL);"
                           "INSERT INTO items SELECT g, 'item ' || g "
                           "FROM generate_series(1, 1000) g;", "e2e"], check=True, env=env)
    log(f"PostgreSQL 15 on 127.0.0.1:{port}, database e2e with 1000 rows")
    return port


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def labels_str(labels):
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def dashboard_queries(path):
    with open(path) as f:
        dash = json.load(f)
    panels = []
    for p in dash.get("panels", []):
        panels.append(p)
        panels.extend(p.get("panels", []))  # collapsed rows
    out = []
    for p in panels:
        for t in p.get("targets", []):
            if t.get("expr"):
                out.append((p.get("title", "?"), t.get("refId", "?"), t["expr"]))
    return out


def substitute(expr, variables):
    def repl(m):
        name = m.group(1) or m.group(2)
        if name not in variables:
            raise Failure(f"unknown template variable ${name} in {expr!r}")
        return variables[name]
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", repl, expr)


def run(args, tmp):
    agent_bin = os.path.abspath(args.agent)
    logdir = os.path.join(tmp, "logs")
    os.mkdir(logdir)

    pg_port = start_postgres(tmp)
    down_port = free_port()  # bound and released: nothing listens there

    # --- the agent -----------------------------------------------------------------------
    agent_addr = f"127.0.0.1:{free_port()}"
    cfg = write(os.path.join(tmp, "pgbackup.yml"), f"""\
targets:
  - name: healthy
    database: {{host: 127.0.0.1, port: {pg_port}, user: postgres, dbname: e2e,
               password_env: E2E_PGPASSWORD, connect_timeout: 3s}}
    backup:
      dir: {tmp}/backups/healthy
      schedule: "0 2 * * *"
    restore_test:                     # never tested: runs right after the first backup
      schedule: "0 4 * * 0"
      database: {{host: 127.0.0.1, port: {pg_port}, user: postgres, dbname: e2e_restore_test,
                 password_env: E2E_PGPASSWORD, connect_timeout: 3s}}
  - name: down
    database: {{host: 127.0.0.1, port: {down_port}, user: postgres, dbname: e2e,
               password_env: E2E_PGPASSWORD, connect_timeout: 3s}}
    backup:
      dir: {tmp}/backups/down
      schedule: "0 2 * * *"
""")
    # An empty web config (plain HTTP, no auth), so that the dashboard's "Web config reload"
    # panel has its metric to show.
    web_cfg = os.path.join(tmp, "web.yml")
    with open(web_cfg, "w", encoding="utf-8") as f:
        f.write("# plain HTTP, no authentication\n")
    agent = spawn("agent", [agent_bin, "--config", cfg, "run", "--web.listen-address",
                            agent_addr, "--web.config.file", web_cfg], logdir,
                  env=dict(os.environ, E2E_PGPASSWORD=PASSWORD))
    wait_http(f"http://{agent_addr}/-/ready", agent, "the agent")
    log(f"agent on {agent_addr} (targets healthy -> :{pg_port}, down -> :{down_port})")

    # --- webhook, Alertmanager, Prometheus ----------------------------------------------
    hook = Webhook()
    am_addr = f"127.0.0.1:{free_port()}"
    am_cfg = write(os.path.join(tmp, "alertmanager.yml"), f"""\
route:
  receiver: webhook
  group_by: [alertname, target]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: webhook
    webhook_configs:
      - url: http://127.0.0.1:{hook.port}/
        send_resolved: true
""")
    am = spawn("alertmanager", ["prometheus-alertmanager", f"--config.file={am_cfg}",
                                f"--storage.path={tmp}/am", f"--web.listen-address={am_addr}",
                                "--cluster.listen-address="], logdir)

    with open(os.path.join(args.source_dir, "alerts", "pgbackup.rules.yml")) as f:
        rules_text = f.read()
    rules_text, n_for = re.subn(r"^(\s*for:\s*)\S+", r"\g<1>1s", rules_text, flags=re.M)
    if n_for == 0:
        raise Failure("no `for:` found in alerts/pgbackup.rules.yml")
    rules = write(os.path.join(tmp, "pgbackup.rules.yml"), rules_text)

    prom_addr = f"127.0.0.1:{free_port()}"
    prom_cfg = write(os.path.join(tmp, "prometheus.yml"), f"""\
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [{rules}]
alerting:
  alertmanagers:
    - static_configs: [{{targets: ["{am_addr}"]}}]
scrape_configs:
  - job_name: pgbackup
    static_configs: [{{targets: ["{agent_addr}"]}}]
""")
    prom = spawn("prometheus", ["prometheus", f"--config.file={prom_cfg}",
                                f"--storage.tsdb.path={tmp}/prom",
                                f"--web.listen-address={prom_addr}"], logdir)
    hook.start()
    wait_http(f"http://{am_addr}/-/ready", am, "Alertmanager")
    wait_http(f"http://{prom_addr}/-/ready", prom, "Prometheus")
    log(f"Alertmanager on {am_addr}, Prometheus on {prom_addr} ({n_for} `for:` set to 1s), "
        f"webhook on :{hook.port}")
    P = Prom(f"http://{prom_addr}")

    def diagnostics():
        parts = [f"--- agent log (tail) ---\n{tail(agent.e2e_log)}"]
        try:
            parts.append(f"--- last scrape of {agent_addr}/metrics (pgbackup_* lines) ---\n" +
                         "\n".join(line for line in http_get(f"http://{agent_addr}/metrics")
                                   .splitlines() if not line.startswith("#")))
        except Exception as e:  # noqa: BLE001
            parts.append(f"--- last scrape: {e}")
        try:
            parts.append("--- Prometheus /api/v1/alerts ---\n" +
                         json.dumps(P.alerts(), indent=1))
            parts.append("--- Prometheus targets ---\n" + http_get(
                f"http://{prom_addr}/api/v1/targets"))
        except Exception as e:  # noqa: BLE001
            parts.append(f"--- Prometheus: {e}")
        parts.append(f"--- webhook received ---\n{json.dumps(hook.snapshot(), indent=1)}")
        for p in (prom, am):
            parts.append(f"--- {p.e2e_name} log (tail) ---\n{tail(p.e2e_log, 15)}")
        return "\n".join(parts)

    try:
        check_chain(P, hook, agent, prom, am)
        check_dashboard(P, args, agent_addr)
        check_coverage(args, agent_addr, tmp)
    except Failure as e:
        raise Failure(f"{e}\n\n{diagnostics()}") from None


HOST_DEPENDENT = {"PgBackupRepositoryFillingUp", "PgBackupRepositorySpaceLow"}


def healthy_alerts(P):
    """(firing alerts for target="healthy", the HOST_DEPENDENT ones among them)."""
    firing = [a for a in P.alerts()
              if a["labels"].get("target") == "healthy" and a["state"] == "firing"]
    return ([a for a in firing if a["labels"].get("alertname") not in HOST_DEPENDENT],
            [a for a in firing if a["labels"].get("alertname") in HOST_DEPENDENT])


def check_chain(P, hook, *procs):
    t0 = time.monotonic()
    end = t0 + ALERT_DEADLINE
    down_alerts = []
    while time.monotonic() < end:
        for p in procs:
            if p.poll() is not None:
                raise Failure(f"{p.e2e_name} exited with {p.returncode}:\n{tail(p.e2e_log)}")
        down_alerts = [a for a in hook.snapshot()
                       if a.get("labels", {}).get("target") == "down" and a.get("status") ==
                       "firing"]
        if down_alerts:
            break
        time.sleep(0.5)
    if not down_alerts:
        raise Failure(f"no firing alert with target=\"down\" reached the webhook within "
                      f"{ALERT_DEADLINE}s")
    log(f"webhook got an alert for target=\"down\" after {time.monotonic() - t0:.1f}s")

    end = time.monotonic() + BACKUP_DEADLINE
    while time.monotonic() < end:
        if P.query('pgbackup_backup_last_run_success{job="pgbackup",target="healthy"} == 1'):
            break
        time.sleep(0.5)
    else:
        raise Failure(f"target healthy has no good backup (last_run_success == 1) within "
                      f"{BACKUP_DEADLINE}s")
    log("Prometheus: pgbackup_backup_last_run_success{target=\"healthy\"} == 1")

    end = time.monotonic() + BACKUP_DEADLINE
    while not P.query('pgbackup_restore_test_last_run_success{job="pgbackup",target="healthy"} == 1'):
        if time.monotonic() > end:
            raise Failure(f"target healthy has no passed restore test within {BACKUP_DEADLINE}s")
        time.sleep(0.5)
    log("Prometheus: pgbackup_restore_test_last_run_success{target=\"healthy\"} == 1")

    # The alerts of the time before the first backup (PgBackupTooOld: never backed up) must
    # resolve within a few evaluation cycles, and so must the restore-test alerts of the time
    # before its first restore test.
    # HOST_DEPENDENT alerts are ignored: they judge the filesystem of the temp dir, i.e. the
    # test machine's disk, not the target. PgBackupRepositoryFillingUp in particular fires on a
    # busy machine whose disk is < 40 % free: predict_linear over the few seconds of history
    # there are extrapolates any write (our own dump, parallel builds) to "full within 24 h",
    # and the shortened `for: 1s` no longer holds it back (the real rule waits 1 h).
    end = time.monotonic() + SETTLE_DEADLINE
    while True:
        healthy, ignored = healthy_alerts(P)
        if not healthy:
            break
        if time.monotonic() >= end:
            raise Failure("firing alerts for target=\"healthy\" after its good backup:\n" +
                          "\n".join(f"  {labels_str(a['labels'])}" for a in healthy))
        time.sleep(0.5)
    # Stay clean for a few more evaluations (a flapping alert would show up here).
    time.sleep(3)
    healthy, ignored = healthy_alerts(P)
    if healthy:
        raise Failure("an alert for target=\"healthy\" fired again after resolving:\n" +
                      "\n".join(f"  {labels_str(a['labels'])}" for a in healthy))
    for a in ignored:
        log(f"ignored (host disk, not the target): {labels_str(a['labels'])}")
    log("Prometheus: no firing alert for target=\"healthy\"")

    firing = sorted({(a["labels"].get("alertname"), a["labels"].get("target", ""))
                     for a in hook.snapshot() if a.get("status") == "firing"})
    print("Alerts that reached the webhook (firing, at least once):")
    for name, target in firing:
        print(f"  {name:32} target={target}")
    print("Alerts firing in Prometheus now:")
    for a in P.alerts():
        if a["state"] == "firing":
            print(f"  {a['labels'].get('alertname'):32} target={a['labels'].get('target', '')}"
                  f" severity={a['labels'].get('severity', '')}")


def check_dashboard(P, args, agent_addr):
    variables = {"job": "pgbackup", "instance": agent_addr, "target": "healthy",
                 "datasource": "prometheus", "__rate_interval": "1m", "__interval": "1m",
                 "__range": "1m"}
    queries = dashboard_queries(os.path.join(args.source_dir, "grafana",
                                             "pgbackup-overview.json"))
    if not queries:
        raise Failure("no panel queries found in the dashboard")
    for key in DASHBOARD_SKIP:
        if key not in {(t, r) for t, r, _ in queries}:
            raise Failure(f"DASHBOARD_SKIP names {key}, which is not in the dashboard any more")
    pending = {}
    for title, ref, expr in queries:
        if (title, ref) in DASHBOARD_SKIP:
            print(f"  skip  {title} [{ref}]: {DASHBOARD_SKIP[(title, ref)]}")
            continue
        pending[(title, ref)] = substitute(expr, variables)
    end = time.monotonic() + DASHBOARD_DEADLINE
    while True:
        for key, expr in list(pending.items()):
            if P.query(expr):
                del pending[key]
        if not pending or time.monotonic() >= end:
            break
        time.sleep(1)
    if pending:
        raise Failure(f"{len(pending)} dashboard quer(y/ies) returned no data:\n" +
                      "\n".join(f"  {t} [{r}]: {e}" for (t, r), e in pending.items()))
    log(f"dashboard: {len(queries) - len(DASHBOARD_SKIP)} queries returned data, "
        f"{len(DASHBOARD_SKIP)} skipped")


def check_coverage(args, agent_addr, tmp):
    """The dashboard lint's coverage rule with a live scrape as what the agent exports: every
    DESIGN metric in it is on a panel or in an alert."""
    scrape = os.path.join(tmp, "scrape.prom")
    with open(scrape, "w", encoding="utf-8") as f:
        f.write(http_get(f"http://{agent_addr}/metrics"))
    lint = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lint_dashboard.py")
    done = subprocess.run([sys.executable, lint, "grafana/pgbackup-overview.json",
                           "--rules", "alerts/pgbackup.rules.yml",
                           "--design", "tests/monitoring/design_metrics.prom",
                           "--exported", scrape],
                          cwd=args.source_dir, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise Failure(f"the dashboard lint's coverage rule fails on a live scrape:\n{done.stderr}")
    log("coverage: every DESIGN metric of a live scrape is on a panel or in an alert")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agent", required=True, help="path of the pgbackup-agent binary")
    ap.add_argument("--source-dir", default=os.getcwd(),
                    help="the source tree (alerts/, grafana/); default: the working directory")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir (debugging)")
    args = ap.parse_args()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    start = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="pgbackup-e2e-")
    os.chmod(tmp, 0o755)  # the postgres user walks into tmp/pg
    rc = 1
    try:
        run(args, tmp)
        rc = 0
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
    except subprocess.CalledProcessError as e:
        print(f"FAIL: {e}\n{(e.stderr or b'').decode(errors='replace')}", file=sys.stderr)
    finally:
        stop_children()
        for c in reversed(CLEANUPS):
            try:
                c()
            except Exception as e:  # noqa: BLE001
                print(f"cleanup: {e}", file=sys.stderr)
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'PASS' if rc == 0 else 'FAIL'} in {time.monotonic() - start:.1f}s")
    return rc


if __name__ == "__main__":
    sys.exit(main())
