#!/usr/bin/python3
"""Check the deployment files against what lossd serves.

    /usr/bin/python3 tests/deploy/check_manifests.py [path/to/lossd]

Needs PyYAML (Debian: python3-yaml, `apt-get install python3-yaml`).

1. Parses every YAML file under docker/ (compose and Kubernetes) and the
   Dockerfile's HEALTHCHECK; collects every probe: Kubernetes httpGet and exec
   probes, compose healthchecks that run `lossd --probe URL`, the image's
   HEALTHCHECK. Each probe path must be a GET route of lossd (docs/api.md),
   and its port must be the port lossd is started on there. A few policy
   checks on the Kubernetes objects ride along (requests == limits, security
   context, API versions, grace period).
2. With the lossd binary as argv[1]: starts `lossd --port <free port> --bind
   127.0.0.1`, GETs every probe path found and requires 200 (retried until a
   deadline, since /readyz may be 503 while lossd starts), then stops lossd
   with SIGTERM (SIGKILL after a bounded wait). Without argv[1] only part 1
   runs.

Ends with a line 'N passed, N failed'; exit status 0 only if none failed.
"""

import glob
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

try:
    import yaml
except ImportError:  # pragma: no cover
    sys.stderr.write("check_manifests: needs PyYAML: apt-get install python3-yaml\n")
    sys.exit(2)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# GET routes of lossd (docs/api.md): exact paths and templated ones.
GET_ROUTES = {
    "/healthz", "/readyz", "/metrics", "/v1/losses",
    "/v2", "/v2/health/live", "/v2/health/ready",
}
GET_ROUTE_PATTERNS = [
    re.compile(r"^/v1/losses/[A-Za-z0-9_\-]+$"),
    re.compile(r"^/v2/models/[A-Za-z0-9_\-]+$"),
    re.compile(r"^/v2/models/[A-Za-z0-9_\-]+/ready$"),
]
DEFAULT_PORT = 8080

STARTUP_TIMEOUT_S = 15.0   # lossd must answer /healthz within this
PROBE_DEADLINE_S = 10.0    # each probe path must reach 200 within this
STOP_TIMEOUT_S = 45.0      # SIGTERM drain allowance before SIGKILL
REQUEST_TIMEOUT_S = 2.0

results = {"passed": 0, "failed": 0}


def check(ok, what):
    results["passed" if ok else "failed"] += 1
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    return ok


def is_lossd_route(path):
    path = urllib.parse.urlsplit(path).path or "/"
    return path in GET_ROUTES or any(p.match(path) for p in GET_ROUTE_PATTERNS)


def port_from_args(args, default=DEFAULT_PORT, flag="--port"):
    """The value of `flag` (--port N or --port=N) in a lossd argument list."""
    args = [str(a) for a in (args or [])]
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            return int(args[i + 1])
        if a.startswith(flag + "="):
            return int(a.split("=", 1)[1])
    return default


def lossd_ports(args, default=DEFAULT_PORT):
    """The ports a probe may use: --port, and --admin-port (health and metrics) if set."""
    admin = port_from_args(args, None, "--admin-port")
    return frozenset(p for p in (port_from_args(args, default), admin) if p is not None)


def probe_urls_in_command(cmd):
    """URLs passed to `lossd --probe` in a command (list or shell string)."""
    if isinstance(cmd, str):
        cmd = shlex.split(cmd)
    cmd = [str(c) for c in cmd]
    if not any(os.path.basename(c) == "lossd" for c in cmd):
        return None  # not a lossd probe (e.g. nginx's own health check)
    urls = []
    for i, a in enumerate(cmd):
        if a == "--probe" and i + 1 < len(cmd):
            urls.append(cmd[i + 1])
        elif a.startswith("--probe="):
            urls.append(a.split("=", 1)[1])
    return urls


# ------------------------------------------------------------------ probes
# Each probe: (where, path, port or None if not checkable, expected port)

def k8s_probes(doc, where):
    probes = []
    if not isinstance(doc, dict):
        return probes
    spec = doc.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    containers = list(template.get("containers") or []) + list(template.get("initContainers") or [])
    for c in containers:
        env = {e.get("name"): e.get("value") for e in c.get("env") or [] if isinstance(e, dict)}
        default = int(env.get("LOSSD_PORT") or DEFAULT_PORT)
        lport = lossd_ports(list(c.get("command") or [])[1:] + list(c.get("args") or []), default)
        named = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            pr = c.get(kind)
            if not pr:
                continue
            tag = "%s: container %s %s" % (where, c.get("name"), kind)
            if "httpGet" in pr:
                hg = pr["httpGet"]
                port = hg.get("port")
                if isinstance(port, str) and not port.isdigit():
                    port = named.get(port)
                probes.append((tag, hg.get("path", "/"), int(port) if port is not None else None, lport))
            elif "exec" in pr:
                urls = probe_urls_in_command(pr["exec"].get("command") or [])
                for u in urls or []:
                    s = urllib.parse.urlsplit(u)
                    probes.append((tag, s.path or "/", s.port, lport))
                check(urls is not None and len(urls) > 0, "%s: exec probe runs lossd --probe" % tag)
            else:
                check(False, "%s: probe is httpGet or exec lossd --probe" % tag)
    return probes


def compose_probes(doc, where):
    probes = []
    for name, svc in ((doc or {}).get("services") or {}).items():
        hc = (svc or {}).get("healthcheck")
        if not hc or hc.get("disable"):
            continue
        test = hc.get("test")
        replicas = ((svc.get("deploy") or {}).get("replicas")) or 1
        check(not (isinstance(test, list) and replicas > 1),
              "%s: service %s: a list-form healthcheck with %d replicas crashes Debian 12's "
              "podman-compose 1.0.3 (it pops the list on the first replica); use the string "
              "form" % (where, name, replicas))
        if isinstance(test, list) and test and test[0] in ("CMD", "CMD-SHELL"):
            test = test[1:] if test[0] == "CMD" else test[1]
        urls = probe_urls_in_command(test or [])
        if urls is None:
            continue  # not lossd
        lport = lossd_ports(svc.get("command") or [])
        tag = "%s: service %s healthcheck" % (where, name)
        check(len(urls) > 0, "%s: runs lossd --probe URL" % tag)
        for u in urls:
            s = urllib.parse.urlsplit(u)
            probes.append((tag, s.path or "/", s.port or 80, lport))
    return probes


def dockerfile_probes(path):
    probes = []
    text = open(path, encoding="utf-8").read().replace("\\\n", " ")
    cmd_port = DEFAULT_PORT
    m = re.search(r"^CMD\s+(\[.*\])\s*$", text, re.M)
    if m:
        cmd_port = port_from_args(yaml.safe_load(m.group(1)))
    for m in re.finditer(r"^HEALTHCHECK\b(.*)$", text, re.M):
        line = m.group(1)
        if re.search(r"\bNONE\s*$", line):
            continue
        cm = re.search(r"\bCMD\s+(\[.*\]|.*)$", line)
        cmd = yaml.safe_load(cm.group(1)) if cm and cm.group(1).startswith("[") else (cm.group(1) if cm else "")
        urls = probe_urls_in_command(cmd)
        tag = "Dockerfile HEALTHCHECK"
        if check(bool(urls), "%s runs lossd --probe URL" % tag):
            for u in urls:
                s = urllib.parse.urlsplit(u)
                probes.append((tag, s.path or "/", s.port or 80, cmd_port))
    return probes


# ------------------------------------------------------------------ policy
def k8s_policy(doc, where):
    kind = doc.get("kind")
    api = doc.get("apiVersion")
    want = {"Deployment": "apps/v1", "Service": "v1",
            "HorizontalPodAutoscaler": "autoscaling/v2", "PodDisruptionBudget": "policy/v1"}
    if kind in want:
        check(api == want[kind], "%s: %s apiVersion %s" % (where, kind, want[kind]))
    if kind == "HorizontalPodAutoscaler":
        metrics = doc["spec"].get("metrics") or []
        check(any((m.get("resource") or {}).get("name") == "cpu" for m in metrics),
              "%s: HPA scales on CPU" % where)
    if kind != "Deployment":
        return
    pod = doc["spec"]["template"]["spec"]
    grace = pod.get("terminationGracePeriodSeconds", 30)
    for c in pod.get("containers") or []:
        tag = "%s: container %s" % (where, c.get("name"))
        res = c.get("resources") or {}
        req, lim = res.get("requests") or {}, res.get("limits") or {}
        check("cpu" in lim and str(req.get("cpu")) == str(lim.get("cpu")),
              "%s: CPU requests == limits" % tag)
        sc = c.get("securityContext") or {}
        psc = pod.get("securityContext") or {}
        check(sc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True, "%s: runAsNonRoot" % tag)
        check(sc.get("readOnlyRootFilesystem") is True, "%s: readOnlyRootFilesystem" % tag)
        check(sc.get("allowPrivilegeEscalation") is False, "%s: allowPrivilegeEscalation false" % tag)
        check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), "%s: capabilities drop ALL" % tag)
        env = {e.get("name"): e.get("value") for e in c.get("env") or []}
        check(env.get("LOSSD_LOG_FORMAT") == "json", "%s: LOSSD_LOG_FORMAT=json" % tag)
        for kind_ in ("readinessProbe", "livenessProbe", "startupProbe"):
            check(kind_ in c, "%s: has %s" % (tag, kind_))
        rp = c.get("readinessProbe") or {}
        unready_after = rp.get("periodSeconds", 10) * rp.get("failureThreshold", 3)
        check(grace > unready_after + 10,
              "%s: terminationGracePeriodSeconds %s > readiness removal %ss + drain" % (tag, grace, unready_after))


# ------------------------------------------------------------------ parse
def parse_all():
    probes = []
    files = sorted(glob.glob(os.path.join(REPO, "docker", "**", "*.yaml"), recursive=True) +
                   glob.glob(os.path.join(REPO, "docker", "**", "*.yml"), recursive=True))
    check(len(files) > 0, "YAML files found under docker/")
    for f in files:
        rel = os.path.relpath(f, REPO)
        try:
            docs = [d for d in yaml.safe_load_all(open(f, encoding="utf-8")) if d is not None]
        except yaml.YAMLError as e:
            check(False, "%s parses as YAML (%s)" % (rel, e))
            continue
        check(len(docs) > 0, "%s parses as YAML" % rel)
        for i, d in enumerate(docs):
            where = rel if len(docs) == 1 else "%s[%d]" % (rel, i)
            if not isinstance(d, dict):
                check(False, "%s: document is a mapping" % where)
            elif "services" in d:
                probes += compose_probes(d, where)
            elif "kind" in d and "apiVersion" in d:
                probes += k8s_probes(d, where)
                k8s_policy(d, where)
            else:
                check(False, "%s: is a compose file or a Kubernetes object" % where)
    df = os.path.join(REPO, "Dockerfile")
    if os.path.exists(df):
        probes += dockerfile_probes(df)
    check(len(probes) > 0, "probes found (%d)" % len(probes))
    for where, path, port, lport in probes:
        check(is_lossd_route(path), "%s: path %s is a lossd GET route" % (where, path))
        ports = lport if isinstance(lport, frozenset) else {lport}
        check(port in ports, "%s: probe port %s is lossd's --port or --admin-port %s"
              % (where, port, sorted(ports)))
    return sorted({urllib.parse.urlsplit(p[1]).path or "/" for p in probes})


# ------------------------------------------------------------------ HTTP
def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Loopback only: never through an http_proxy from the environment.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_get(url):
    try:
        with OPENER.open(url, timeout=REQUEST_TIMEOUT_S) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


def start_lossd(binary):
    """Start lossd on a free loopback port; returns (proc, base URL) or (None, None)."""
    for _attempt in range(3):
        port = free_port()
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        base = "http://127.0.0.1:%d" % port
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline and proc.poll() is None:
            if http_get(base + "/healthz") is not None:
                return proc, base
            time.sleep(0.1)
        if proc.poll() is None:
            stop_lossd(proc, timeout=5)
            return None, None  # running but not answering: do not retry
        err = proc.stderr.read().decode(errors="replace")[-2000:]
        sys.stderr.write("lossd exited %s on port %d:\n%s\n" % (proc.returncode, port, err))
    return None, None


def stop_lossd(proc, timeout=STOP_TIMEOUT_S):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    if proc.stderr:
        proc.stderr.close()
    return proc.returncode


def http_checks(binary, paths):
    if not check(os.path.isfile(binary) and os.access(binary, os.X_OK),
                 "lossd binary %s is executable" % binary):
        return
    proc, base = start_lossd(binary)
    if not check(proc is not None, "lossd starts and answers on a free loopback port"):
        return
    try:
        for path in paths:
            deadline = time.monotonic() + PROBE_DEADLINE_S
            status = http_get(base + path)
            while status != 200 and time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.2)
                status = http_get(base + path)
            check(status == 200, "GET %s -> %s (want 200)" % (path, status))
    finally:
        rc = stop_lossd(proc)
    check(rc == 0, "lossd exits 0 on SIGTERM (exit status %s)" % rc)


def main():
    paths = parse_all()
    if len(sys.argv) > 1:
        http_checks(sys.argv[1], paths)
    else:
        print("SKIP HTTP checks: no lossd binary given (argv[1])")
    print("%d passed, %d failed" % (results["passed"], results["failed"]))
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
