#!/usr/bin/env python3
"""Offline checks of deploy/ (run by the deploy_test ctest; CI can run it alone):

- every Kubernetes manifest parses, and each object has apiVersion, kind and metadata.name;
- the kustomization lists files that exist;
- the master StatefulSet and the worker Deployment run the same flags as the systemd units
  (deploy/systemd/*.service with their shipped .env files; the token comes from MR_TOKEN in
  Kubernetes instead of --token-file) on the same ports;
- the master has a journal volume claim mounted at its --data-dir, probes on /healthz and /readyz,
  a Service for 7070 and 7071; workers advertise $(POD_IP) from the downward API; everything takes
  the token from a Secret and mounts the shared ReadWriteMany claim;
- with --mr PATH: every flag the manifests pass is one `mr COMMAND --help` lists.

Exit 0 when all hold, 1 otherwise, 77 when PyYAML is missing (apt-get install python3-yaml).
"""
import argparse
import pathlib
import re
import subprocess
import sys

try:
    import yaml
except ImportError:
    print("skipped: PyYAML is not installed (apt-get install python3-yaml)")
    sys.exit(77)

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
    return cond


def env_file(path):
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")) and "=" in line:
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip().strip('"')
    return out


def unit_command(unit, env):
    """ExecStart of a unit as systemd would expand it (specifiers left as they are)."""
    text = (DEPLOY / "systemd" / unit).read_text().replace("\\\n", " ")
    m = re.search(r"^ExecStart=(.*)$", text, re.M)
    if not check(m, f"{unit}: no ExecStart="):
        return []
    words = []
    for w in m.group(1).split():
        if re.fullmatch(r"\$[A-Za-z_][A-Za-z0-9_]*", w):
            words += env.get(w[1:], "").split()
        else:
            words.append(re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda g: env.get(g.group(1), "<unset>"), w))
    return words


def flags(args):
    return [a.split("=", 1)[0] for a in args if a.startswith("--")]


def value(args, flag):
    return args[args.index(flag) + 1] if flag in args and args.index(flag) + 1 < len(args) else None


def port(endpoint):
    return endpoint.rsplit(":", 1)[-1] if endpoint else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mr", help="the mr binary, to check flags against its --help")
    opts = ap.parse_args()

    objects = []
    for path in sorted((DEPLOY / "kubernetes").rglob("*.yaml")):
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except yaml.YAMLError as e:
            check(False, f"{path.relative_to(ROOT)}: does not parse: {e}")
            continue
        for d in docs:
            ok = isinstance(d, dict) and d.get("apiVersion") and d.get("kind")
            if ok and d["kind"] == "Kustomization":
                d.setdefault("metadata", {}).setdefault("name", "kustomization")  # needs no name
            ok = ok and (d.get("metadata") or {}).get("name")
            check(ok, f"{path.relative_to(ROOT)}: an object without apiVersion, kind or metadata.name")
            if ok:
                objects.append((path, d))
    by_kind = {}
    for path, d in objects:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d

    kust = (by_kind.get("Kustomization") or {})
    for d in kust.values():
        for r in d.get("resources", []):
            check((DEPLOY / "kubernetes" / r).exists(), f"kustomization.yaml lists {r}, which does not exist")

    def container(kind, name, cname):
        obj = (by_kind.get(kind) or {}).get(name)
        if not check(obj, f"no {kind} {name}"):
            return None, None
        spec = obj["spec"]["template"]["spec"]
        c = next((c for c in spec.get("containers", []) if c.get("name") == cname), None)
        check(c, f"{kind} {name}: no container {cname}")
        return obj, c

    def token_from_secret(c, where):
        env = {e["name"]: e for e in c.get("env", [])}
        ok = "secretKeyRef" in (env.get("MR_TOKEN", {}).get("valueFrom") or {})
        check(ok, f"{where}: MR_TOKEN does not come from a Secret")

    def mounts_shared(obj, c, where):
        vols = {v["name"]: v for v in obj["spec"]["template"]["spec"].get("volumes", [])}
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in vols.values() if "persistentVolumeClaim" in v}
        shared = [m for m in c.get("volumeMounts", []) if claims.get(m["name"]) == "mr-shared"]
        check(shared, f"{where}: does not mount the shared claim mr-shared")

    pvc = (by_kind.get("PersistentVolumeClaim") or {}).get("mr-shared")
    if check(pvc, "no PersistentVolumeClaim mr-shared"):
        check("ReadWriteMany" in pvc["spec"].get("accessModes", []), "mr-shared is not ReadWriteMany")

    # The master.
    master_env = env_file(DEPLOY / "systemd" / "master.env")
    unit_master = unit_command("mr-master.service", master_env)
    obj, c = container("StatefulSet", "mr-master", "master")
    if c:
        args = c.get("args", [])
        check(args[:1] == ["master"], "mr-master: args do not start with the master command")
        check(sorted(set(flags(args))) == sorted(set(flags(unit_master)) - {"--token-file"}),
              f"mr-master flags {sorted(set(flags(args)))} differ from mr-master.service's "
              f"{sorted(set(flags(unit_master)) - {'--token-file'})}")
        for f in ("--listen", "--http"):
            check(port(value(args, f)) == port(value(unit_master, f)),
                  f"mr-master {f} {value(args, f)} is not on the unit's port ({value(unit_master, f)})")
        http_port = port(value(args, "--http"))
        probes = {k: (c.get(k) or {}).get("httpGet", {}) for k in ("livenessProbe", "readinessProbe")}
        check(probes["livenessProbe"].get("path") == "/healthz", "mr-master: no liveness probe on /healthz")
        check(probes["readinessProbe"].get("path") == "/readyz", "mr-master: no readiness probe on /readyz")
        named = {p.get("name"): str(p["containerPort"]) for p in c.get("ports", [])}
        for k, p in probes.items():
            check(named.get(p.get("port"), str(p.get("port"))) == http_port, f"mr-master {k} is not on the --http port")
        claims = [t["metadata"]["name"] for t in obj["spec"].get("volumeClaimTemplates", [])]
        journal = [m for m in c.get("volumeMounts", []) if m["name"] in claims]
        check(any(m["mountPath"] == value(args, "--data-dir") for m in journal),
              "mr-master: --data-dir is not on a volume claim template (the journal would not survive)")
        token_from_secret(c, "mr-master")
        mounts_shared(obj, c, "mr-master")
    svc = (by_kind.get("Service") or {}).get("mr-master")
    if check(svc, "no Service mr-master"):
        ports = {int(p["port"]) for p in svc["spec"].get("ports", [])}
        check({7070, 7071} <= ports, f"Service mr-master exposes {sorted(ports)}, not 7070 and 7071")

    # The workers.
    worker_env = env_file(DEPLOY / "systemd" / "worker.env")
    unit_worker = unit_command("mr-worker.service", worker_env)
    obj, c = container("Deployment", "mr-worker", "worker")
    if c:
        args = [str(a) for a in c.get("args", [])]
        check(args[:1] == ["worker"], "mr-worker: args do not start with the worker command")
        check(sorted(set(flags(args))) == sorted(set(flags(unit_worker)) - {"--token-file"}),
              f"mr-worker flags {sorted(set(flags(args)))} differ from mr-worker.service's "
              f"{sorted(set(flags(unit_worker)) - {'--token-file'})}")
        check(port(value(args, "--listen")) == port(value(unit_worker, "--listen")),
              "mr-worker --listen is not on the unit's shuffle port")
        check(value(args, "--advertise") == "$(POD_IP)", "mr-worker does not --advertise $(POD_IP)")
        env = {e["name"]: e for e in c.get("env", [])}
        field = ((env.get("POD_IP", {}).get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
        check(field == "status.podIP", "mr-worker: POD_IP does not come from status.podIP")
        master = value(args, "--master") or ""
        check(master.split(":")[0] == "mr-master" and port(master) == "7070", "mr-worker: --master is not mr-master:7070")
        token_from_secret(c, "mr-worker")
        mounts_shared(obj, c, "mr-worker")

    # Every flag is one mr knows.
    if opts.mr:
        helps = {}
        for path, d in objects:
            spec = (d.get("spec") or {}).get("template", {}).get("spec") or {}
            for c in spec.get("containers", []):
                args = [str(a) for a in c.get("args", [])]
                if not args:
                    continue
                cmd = args[0]
                if cmd not in helps:
                    helps[cmd] = subprocess.run([opts.mr, cmd, "--help"], capture_output=True, text=True).stdout
                for f in flags(args):
                    check(re.search(re.escape(f) + r"\b", helps[cmd]),
                          f"{path.relative_to(ROOT)}: {f} is not a flag of `mr {cmd}`")

    for p in problems:
        print("deploy:", p)
    print(f"deploy: {len(objects)} Kubernetes objects, 2 units checked; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
