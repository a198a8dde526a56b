"""Checks deploy/kubernetes/ against the code, after scripts/check-kubernetes validated the core
kinds with kubernetes-validate.

    check_kubernetes.py ROOT

What the services read is taken from their sources, so that a flag added, renamed or removed in
the code fails here until the manifests follow:

- environment variables: the `env = "…"` of the clap struct a binary parses, through every
  `#[command(flatten)]` field; for a binary without clap, the `std::env::var("…")` of its own
  file; and what its workspace libraries read from the environment (`…_VAR` constants, literal
  `std::env::var("…")`, `EnvFilter`'s RUST_LOG);
- listening ports: the default of the binary's `…_ADDR` / `…_BIND` variable;
- probe paths: the routes in its sources; stream and consumer names: the naming rule
  (`<PREFIX>_<STREAM>`) and the consumer-name constants.

Every variable a container sets is one its binary reads (or one only expanded into another's
value, `$(NAME)`), and every variable its binary reads is set or listed as left unset on purpose
(annotation `ticketview.dev/unset-env`). Settings come from ConfigMaps or Secrets; a value written
in the manifest is allowed only for a listening address, a NATS user, the path of a mounted secret
file, or an expansion. Prints one line per check and a count; exits non-zero on any failure.
"""

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

UNSET_ANNOTATION = "ticketview.dev/unset-env"
# The services that must be deployed, and which get a request-rate autoscaler or KEDA.
SERVICES = ("command-svc", "query-svc", "waiting-room", "projector", "notifier")
HPA_SERVICES = ("command-svc", "query-svc", "waiting-room")
KEDA_SERVICES = ("notifier",)
# Files of deploy/kubernetes that are Helm values, not manifests.
VALUES_FILES = ("nats-values.yaml", "prometheus-adapter-values.yaml")
# The Helm release the NATS values are installed as (README.md).
NATS_RELEASE = "nats"
# Keys of the Secret CloudNativePG creates for a cluster's application user (`<cluster>-app`).
CNPG_APP_KEYS = ("username", "password", "host", "port", "dbname", "uri", "jdbc-uri", "pgpass")
REQUEST_HISTOGRAM = "tv_http_request_seconds"

results = {"passed": 0, "failed": 0}


def check(ok, what, detail=""):
    results["passed" if ok else "failed"] += 1
    line = f"{'ok  ' if ok else 'FAIL'} {what}"
    if detail and not ok:
        line += f"\n       {detail}"
    print(line)
    return ok


# --------------------------------------------------------------------------- the code


def workspace(root):
    """Binary name -> (package, its source file), and package -> (dir, workspace deps)."""
    meta = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline",
         "--manifest-path", str(root / "Cargo.toml")],
        capture_output=True, text=True, check=True).stdout)
    bins, deps = {}, {}
    for package in meta["packages"]:
        directory = Path(package["manifest_path"]).parent
        for target in package["targets"]:
            if "bin" in target["kind"]:
                bins[target["name"]] = (package["name"], Path(target["src_path"]))
        deps[package["name"]] = (directory, [d["name"] for d in package["dependencies"]
                                             if d.get("path")])
    return bins, deps


def without_tests(text):
    """A source file without its `#[cfg(test)]` module (the project puts it last)."""
    match = re.search(r"^#\[cfg\(test\)\]\s*\n\s*mod \w+", text, re.M)
    return text[:match.start()] if match else text


def closure(package, deps):
    """The packages `package` builds on, itself included."""
    seen, todo = [], [package]
    while todo:
        name = todo.pop()
        if name in seen or name not in deps:
            continue
        seen.append(name)
        todo.extend(deps[name][1])
    return seen


def library_sources(packages, deps):
    """The library sources of `packages` (binaries' own files and tests left out)."""
    texts = []
    for name in packages:
        src = deps[name][0] / "src"
        for path in src.rglob("*.rs"):
            if "bin" in path.relative_to(src).parts or path.name == "main.rs":
                continue
            texts.append(without_tests(path.read_text()))
    return texts


def struct_bodies(texts):
    """Struct name -> body text, for every braced struct in `texts`."""
    bodies = {}
    for text in texts:
        for match in re.finditer(r"\bstruct\s+(\w+)\s*\{", text):
            depth, i = 1, match.end()
            while depth and i < len(text):
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                i += 1
            bodies.setdefault(match.group(1), text[match.end():i - 1])
    return bodies


def clap_env(root_struct, bodies):
    """Every `env = "…"` of `root_struct` and of the structs it flattens, with their defaults."""
    found, todo, seen = {}, [root_struct], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in bodies:
            continue
        seen.add(name)
        body = "\n".join(line for line in bodies[name].splitlines()
                         if not line.strip().startswith("//"))
        for attribute in re.finditer(r"#\[arg\((.*?)\)\]\s*pub\s+\w+\s*:", body, re.S):
            env = re.search(r'env\s*=\s*"([A-Z0-9_]+)"', attribute.group(1))
            if env:
                default = re.search(r'default_value\s*=\s*"([^"]*)"', attribute.group(1))
                found[env.group(1)] = default.group(1) if default else None
        todo.extend(re.findall(r"#\[command\(flatten\)\]\s*pub\s+\w+\s*:\s*(?:[\w]+::)*(\w+)",
                               body))
    return found


def environment_of(binary, bins, deps):
    """(variables the binary reads -> clap default or None, its package's sources)."""
    package, main = bins[binary]
    packages = closure(package, deps)
    libraries = library_sources(packages, deps)
    own = [without_tests(p.read_text()) for p in (deps[package][0] / "src").rglob("*.rs")
           if "bin" not in p.parts or p == main]
    variables = {}
    parsers = [m.group(1) for text in own for m in re.finditer(
        r"#\[derive\([^)]*\bclap::Parser\b[^)]*\)\]\s*(?:#\[[^\]]*\]\s*)*pub struct (\w+)",
        text, re.S)]
    if parsers:
        bodies = struct_bodies(own + libraries)
        for parser in parsers:
            variables.update(clap_env(parser, bodies))
    else:
        for name in re.findall(r'std::env::var\("([A-Z0-9_]+)"\)', main.read_text()):
            variables[name] = None
    for text in libraries:
        for name in re.findall(r'const \w+_VAR: &str = "([A-Z0-9_]+)"', text):
            variables.setdefault(name, None)
        for name in re.findall(r'std::env::var\("([A-Z0-9_]+)"\)', text):
            variables.setdefault(name, None)
        if re.search(r"EnvFilter::(try_)?from_default_env", text):
            variables.setdefault("RUST_LOG", None)
    return variables, "\n".join(own + libraries)


# --------------------------------------------------------------------------- the manifests


def load_manifests(directory):
    documents = []
    for path in sorted(directory.glob("*.yaml")):
        if path.name in VALUES_FILES or path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents.append((path.name, document))
    return documents


def by_kind(documents, kind):
    return {d["metadata"]["name"]: d for _, d in documents if d.get("kind") == kind}


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def mounted_secret_files(spec, container):
    """Path of every file a container sees from a Secret volume -> (secret, key)."""
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    files = {}
    for mount in container.get("volumeMounts", []):
        secret = volumes.get(mount["name"], {}).get("secret")
        if not secret:
            continue
        for item in secret.get("items", []):
            files[f"{mount['mountPath']}/{item['path']}"] = (secret["secretName"], item["key"])
    return files


def documented_secrets(readme):
    """Secret name -> keys, from README.md's table `| secret | keys | … |`."""
    secrets = {}
    for name, keys in re.findall(r"^\|\s*`([a-z0-9-]+)`\s*\|\s*([^|]+)\|", readme, re.M):
        secrets[name] = set(re.findall(r"`([^`]+)`", keys))
    return secrets


def check_container(where, spec, container, binary, bins, deps, config_maps, secrets,
                    annotations, nats_users, cnpg_app):
    variables, sources = environment_of(binary, bins, deps)
    env = {e["name"]: e for e in container.get("env", [])}
    check(len(env) == len(container.get("env", [])), f"{where}: no variable is set twice")
    check("envFrom" not in container, f"{where}: every variable is named (no envFrom)")
    expanded = {name for e in env.values() for name in re.findall(r"\$\((\w+)\)",
                                                                  str(e.get("value", "")))}
    unset = set((annotations.get(UNSET_ANNOTATION) or "").split())
    for name in sorted(env):
        check(name in variables or (name in expanded and name not in variables),
              f"{where}: `{binary}` reads {name}")
    missing = sorted(set(variables) - set(env) - unset)
    check(not missing, f"{where}: every variable `{binary}` reads is set or left unset on purpose",
          f"neither set nor in {UNSET_ANNOTATION}: {missing}")
    unknown = sorted(unset - set(variables))
    check(not unknown, f"{where}: the variables left unset are ones `{binary}` reads",
          str(unknown))
    both = sorted(unset & set(env))
    check(not both, f"{where}: no variable is both set and left unset", str(both))

    files = mounted_secret_files(spec, container)
    addr_vars = [n for n in variables if re.fullmatch(r"TV_[A-Z_]+_(ADDR|BIND)", n)]
    for name, entry in sorted(env.items()):
        source = entry.get("valueFrom", {})
        if "value" in entry:
            value = str(entry["value"])
            if name.endswith("_FILE"):
                check(value in files, f"{where}: {name} is a file of a mounted Secret ({value})",
                      f"mounted secret files: {sorted(files)}")
            elif name == "TV_NATS_USER":
                check(value in nats_users, f"{where}: NATS user {value} is in deploy/nats/auth.conf")
                password = files.get(str(env.get("TV_NATS_PASSWORD_FILE", {}).get("value")))
                check(password == ("ticketview-nats", value),
                      f"{where}: its NATS password is key `{value}` of the Secret ticketview-nats",
                      str(password))
            else:
                check(name in addr_vars or "$(" in value,
                      f"{where}: {name} is written in the manifest only as an address or expansion",
                      "settings come from a ConfigMap or a Secret")
        elif "configMapKeyRef" in source:
            ref = source["configMapKeyRef"]
            present = ref["key"] in (config_maps.get(ref["name"], {}).get("data") or {})
            check(ref["name"] in config_maps and (present or ref.get("optional") is True),
                  f"{where}: {name} from ConfigMap {ref['name']} key {ref['key']}"
                  + ("" if present else " (optional)"))
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            if ref["name"] == cnpg_app:
                ok = ref["key"] in CNPG_APP_KEYS
            else:
                ok = ref["key"] in secrets.get(ref["name"], set())
            check(ok, f"{where}: {name} from Secret {ref['name']} key {ref['key']}, which "
                      "README.md or CloudNativePG provides")
        else:
            check("fieldRef" in source and name in expanded,
                  f"{where}: {name} comes from the pod itself and feeds another variable")
    for name, (secret, key) in sorted(files.items()):
        check(key in secrets.get(secret, set()),
              f"{where}: mounted file {name} is key {key} of Secret {secret} (README.md)")

    # Listening address, ports and probes.
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    if ports or addr_vars:
        if check(len(addr_vars) == 1 and addr_vars[0] in env,
                 f"{where}: sets its listening address ({', '.join(addr_vars)})"):
            var = addr_vars[0]
            host, _, port = str(env[var].get("value", "")).rpartition(":")
            default = variables[var] or ""
            check(host == "0.0.0.0", f"{where}: {var} listens on every interface")
            check(port.isdigit() and int(port) in ports.values(),
                  f"{where}: {var}'s port {port} is a container port", str(ports))
            check(default.endswith(f":{port}"),
                  f"{where}: {var} keeps the binary's default port ({default})")
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container.get(probe, {}).get("httpGet", {})
            check(get.get("path") == path and get.get("port") in ports,
                  f"{where}: {probe} on {path} at a container port", str(get))
            check(f'"{path}"' in sources, f"{where}: `{binary}` serves {path}")
        startup = container.get("startupProbe", {}).get("httpGet", {})
        if startup:
            check(f'"{startup.get("path")}"' in sources and startup.get("port") in ports,
                  f"{where}: startupProbe on a path `{binary}` serves ({startup.get('path')})")
    requests = container.get("resources", {}).get("requests", {})
    check("cpu" in requests and "memory" in requests, f"{where}: requests CPU and memory")
    return ports


def check_subcommands(where, command, binary, bins, deps):
    package, _ = bins[binary]
    text = "\n".join(p.read_text() for p in (deps[package][0] / "src").rglob("*.rs"))
    for word in command[1:]:
        if word.startswith("-"):
            check(re.search(rf'long\s*=\s*"{re.escape(word.lstrip("-"))}"', text) is not None
                  or f"pub {word.lstrip('-').replace('-', '_')}:" in text,
                  f"{where}: `{binary}` takes {word}")
            continue
        variant = "".join(part.capitalize() for part in word.split("-"))
        check(re.search(rf"#\[derive\([^)]*clap::Subcommand[^)]*\)\]\s*pub enum \w+\s*\{{[^}}]*?"
                        rf"\b{variant}\b", text, re.S) is not None,
              f"{where}: `{binary} {word}` is a subcommand")


def main(root):
    directory = root / "deploy" / "kubernetes"
    bins, deps = workspace(root)
    documents = load_manifests(directory)
    readme = (directory / "README.md").read_text()
    secrets = documented_secrets(readme)
    config_maps = by_kind(documents, "ConfigMap")
    shared = config_maps.get("ticketview-shared", {}).get("data", {})

    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    files = {path for path, _ in documents}
    listed = set(kustomization.get("resources", []))
    check(files == listed, "kustomization.yaml lists every manifest",
          f"manifests {sorted(files)}, listed {sorted(listed)}")
    namespaces = by_kind(documents, "Namespace")
    namespace = kustomization.get("namespace")
    check(namespace in namespaces, f"kustomization.yaml's namespace is created ({namespace})")

    # The one image, built by ./Dockerfile with every binary.
    dockerfile = (root / "Dockerfile").read_text()
    image_binaries = set(re.search(r'ARG BINARIES="([^"]+)"', dockerfile).group(1).split())
    images = {i["name"]: i for i in kustomization.get("images", [])}
    check(list(images) == ["ticketview"] and images["ticketview"].get("newTag")
          and images["ticketview"].get("newName"),
          "kustomization.yaml sets the TicketView image's name and tag, once", str(images))

    nats_auth = (root / "deploy" / "nats" / "auth.conf").read_text()
    nats_users = set(re.findall(r'user:\s*"?([a-z-]+)"?', nats_auth))
    clusters = by_kind(documents, "Cluster")
    check(len(clusters) == 1, "one CloudNativePG Cluster", str(list(clusters)))
    cnpg_app = f"{next(iter(clusters), '')}-app"

    workloads = {}
    for kind in ("Deployment", "StatefulSet", "Job"):
        for name, workload in by_kind(documents, kind).items():
            workloads[name] = (kind, workload)
    ports_of = {}
    for name, (kind, workload) in sorted(workloads.items()):
        spec = pod_spec(workload)
        annotations = workload["spec"]["template"]["metadata"].get("annotations") or {}
        security = spec.get("securityContext", {})
        check(security.get("runAsNonRoot") is True, f"{name}: runs as a non-root user")
        for container in spec["containers"]:
            where = f"{name}/{container['name']}"
            command = container.get("command", [])
            binary = command[0] if command else None
            check(container.get("image") == "ticketview",
                  f"{where}: runs the TicketView image ({container.get('image')})")
            if not check(binary in bins and binary in image_binaries,
                         f"{where}: runs a binary of the image ({binary})"):
                continue
            check_subcommands(where, command, binary, bins, deps)
            ports_of[name] = check_container(where, spec, container, binary, bins, deps,
                                             config_maps, secrets, annotations, nats_users,
                                             cnpg_app)
            labels = workload["spec"]["template"]["metadata"].get("labels", {})
            selector = workload["spec"].get("selector", {}).get("matchLabels", {})
            check(all(labels.get(k) == v for k, v in selector.items()),
                  f"{name}: its selector matches its pods' labels")
    for service in SERVICES:
        check(any(c.get("command", [None])[0] == service
                  for _, (_, w) in workloads.items() for c in pod_spec(w)["containers"]),
              f"{service} is deployed")
    check(any(c.get("command", [None])[0] == "tv-provision"
              for _, (_, w) in workloads.items() for c in pod_spec(w)["containers"]),
          "tv-provision runs as a Job")

    # Services, disruption budgets, autoscalers.
    for name, service in by_kind(documents, "Service").items():
        selector = service["spec"].get("selector", {})
        targets = [w for w, (_, d) in workloads.items()
                   if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v
                          for k, v in selector.items())]
        check(len(targets) == 1, f"Service {name}: selects one workload", str(targets))
        for port in service["spec"]["ports"]:
            target = port.get("targetPort")
            check(bool(targets) and (target in ports_of.get(targets[0], {})
                                     or target in ports_of.get(targets[0], {}).values()),
                  f"Service {name}: port {port['port']} goes to a container port ({target})")
            check(bool(targets) and port["port"] in ports_of.get(targets[0], {}).values(),
                  f"Service {name}: serves on the port the container listens on ({port['port']})")
    budgets = by_kind(documents, "PodDisruptionBudget")
    for name, (kind, workload) in workloads.items():
        if kind == "Job":
            continue
        labels = workload["spec"]["template"]["metadata"]["labels"]
        check(any(all(labels.get(k) == v for k, v in b["spec"]["selector"]["matchLabels"].items())
                  for b in budgets.values()), f"{name}: has a PodDisruptionBudget")

    adapter = yaml.safe_load((directory / "prometheus-adapter-values.yaml").read_text())
    rule = adapter["rules"]["custom"][0]
    rate_metric = rule["name"]["as"]
    telemetry = "\n".join(p.read_text() for p in (root / "telemetry" / "src").rglob("*.rs"))
    check(f'"{REQUEST_HISTOGRAM}"' in telemetry
          and rule["seriesQuery"].startswith(f"{REQUEST_HISTOGRAM}_count{{"),
          f"prometheus-adapter: {rate_metric} comes from the services' {REQUEST_HISTOGRAM}")
    autoscalers = by_kind(documents, "HorizontalPodAutoscaler")
    for service in HPA_SERVICES:
        hpa = next((h for h in autoscalers.values()
                    if h["spec"]["scaleTargetRef"]["name"] == service), None)
        if not check(hpa is not None and service in workloads,
                     f"{service}: has a HorizontalPodAutoscaler"):
            continue
        metrics = hpa["spec"]["metrics"]
        check(any(m["type"] == "Resource" and m["resource"]["name"] == "cpu" for m in metrics),
              f"{service}: scales on CPU")
        check(any(m["type"] == "Pods" and m["pods"]["metric"]["name"] == rate_metric
                  for m in metrics), f"{service}: scales on {rate_metric}")

    # KEDA on JetStream consumer lag.
    nats_values = yaml.safe_load((directory / "nats-values.yaml").read_text())
    prefix = shared.get("TV_PREFIX", "")
    stream_tokens = re.findall(r"^\s+(\w+),", re.search(
        r"pub enum Stream \{(.*?)\}", (root / "nats" / "src" / "naming.rs").read_text(),
        re.S).group(1), re.M)
    streams = {f"{prefix.upper().replace('-', '_')}_{t.upper()}" for t in stream_tokens}
    monitor_port = nats_values["config"]["monitor"]["port"]
    scaled = by_kind(documents, "ScaledObject")
    for service in KEDA_SERVICES:
        objects = [s for s in scaled.values() if s["spec"]["scaleTargetRef"]["name"] == service]
        if not check(len(objects) == 1 and service in workloads,
                     f"{service}: has a KEDA ScaledObject"):
            continue
        package = bins[service][0]
        source = "\n".join(p.read_text() for p in (deps[package][0] / "src").rglob("*.rs"))
        durables = set(re.findall(r'const \w*DURABLE\w*: &str = "([^"]+)"', source))
        triggers = objects[0]["spec"]["triggers"]
        check(objects[0]["spec"].get("minReplicaCount", 0) >= 1,
              f"{service}: KEDA keeps at least one instance")
        for trigger in triggers:
            meta = trigger["metadata"]
            endpoint = urlsplit("//" + meta["natsServerMonitoringEndpoint"])
            check(trigger["type"] == "nats-jetstream", f"{service}: scales on JetStream lag")
            check(meta["stream"] in streams, f"{service}: stream {meta['stream']} exists")
            check(meta["consumer"] in durables,
                  f"{service}: consumer {meta['consumer']} is one `{service}` creates",
                  f"its consumers: {sorted(durables)}")
            check(endpoint.hostname == f"{NATS_RELEASE}-headless.{namespace}.svc.cluster.local"
                  and endpoint.port == monitor_port,
                  f"{service}: KEDA reads NATS's monitoring port through its headless Service")
        check({t["metadata"]["consumer"] for t in triggers} == durables,
              f"{service}: every consumer it shares is watched", str(sorted(durables)))

    # NATS (Helm values) against the project's pinned server and its configuration.
    infra = (root / "scripts" / "lib" / "infra.sh").read_text()
    version = re.search(r'^TV_NATS_VERSION="([\d.]+)"', infra, re.M).group(1)
    image = nats_values["container"]["image"]
    check(image.get("repository") == "nats" and image.get("tag") == f"{version}-alpine",
          f"NATS: the official image of the pinned server ({version})", str(image))
    config = nats_values["config"]
    check(config["cluster"]["enabled"] and config["cluster"]["replicas"] == 3,
          "NATS: a cluster of three servers")
    store = config["jetstream"]
    check(store["enabled"] and store["fileStore"]["enabled"] and store["fileStore"]["pvc"]["enabled"]
          and not store.get("memoryStore", {}).get("enabled"),
          "NATS: JetStream on file storage, on persistent volumes")
    check(shared.get("TV_STREAM_REPLICAS") == str(config["cluster"]["replicas"]),
          "NATS: streams are created with a replica on every server (TV_STREAM_REPLICAS)")
    conf = (root / "deploy" / "nats" / "nats.conf").read_text()
    payload = re.search(r"^max_payload:\s*(\S+)", conf, re.M).group(1)
    check(config["merge"].get("max_payload") == f"<< {payload} >>",
          f"NATS: max_payload as deploy/nats/nats.conf ({payload})")
    check(any(k.endswith("$include") and v == "auth.conf" for k, v in config["merge"].items()),
          "NATS: includes deploy/nats/auth.conf")
    check("--set-file 'configMap.merge.data.auth\\.conf=deploy/nats/auth.conf'" in readme,
          "README.md installs NATS with deploy/nats/auth.conf itself (--set-file)")
    env = nats_values["container"]["env"]
    for variable in sorted(set(re.findall(r"\$(TV_NATS_[A-Z_]+_PASSWORD)", nats_auth))):
        user = variable[len("TV_NATS_"):-len("_PASSWORD")].lower().replace("_", "-")
        ref = (env.get(variable) or {}).get("valueFrom", {}).get("secretKeyRef", {})
        check(ref == {"name": "ticketview-nats", "key": user},
              f"NATS: {variable} from Secret ticketview-nats key {user}")
    url = urlsplit(shared.get("NATS_URL", ""))
    check(url.hostname == NATS_RELEASE and url.port == 4222 and not url.username,
          "NATS_URL names the chart's client Service, without credentials")
    for name, cluster in clusters.items():
        tag = cluster["spec"].get("imageName", "").rpartition(":")[2]
        check(bool(re.fullmatch(r"\d+(\.\d+)*", tag)), f"PostgreSQL: a pinned image ({tag})")
        check(cluster["spec"].get("instances", 1) >= 3, "PostgreSQL: a primary and two replicas")

    print(f"{results['passed']} passed, {results['failed']} failed")
    return 1 if results["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve()))
