"""Checks compose.yaml, the Dockerfile and the collector's configuration against the code.

Run by scripts/check-compose, which first validates the files with real tools (docker-compose's
schema and interpolation, dclint's compose-spec schema, hadolint) and then calls this with:

    check_compose.py ROOT BIN_DIR RESOLVED_YAML RESOLVED_WITH_OTEL_YAML NATS_SERVER

RESOLVED_*: `docker-compose config` of compose.yaml with every profile on (interpolation done by
compose itself), without and with OTEL_EXPORTER_OTLP_ENDPOINT set on the host. BIN_DIR holds the
workspace's binaries, whose `--help` is the truth about commands, flags, environment variables and
listening addresses. NATS_SERVER is the pinned nats-server (its `--help` lists the flags compose
gives the nats image), or "" to skip that check.

Prints one line per check and a closing count; exits non-zero when any check fails.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import yaml

OTLP_ENDPOINT = "http://otel-collector:4318"
NATS_MIN = (2, 12)
PROFILES = {"loadgen": "demo", "otel-collector": "otel", "jaeger": "otel",
            "nats-1": "cluster", "nats-2": "cluster", "nats-3": "cluster"}
JAEGER_UI_PORT = 16686

results = {"passed": 0, "failed": 0}


def check(ok, what, detail=""):
    results["passed" if ok else "failed"] += 1
    line = f"{'ok  ' if ok else 'FAIL'} {what}"
    if detail and not ok:
        line += f"\n       {detail}"
    print(line)
    return ok


def run(args):
    return subprocess.run(args, capture_output=True, text=True, check=False)


def version_tuple(text):
    return tuple(int(part) for part in text.split("."))


# --------------------------------------------------------------------------- the workspace


def workspace(root):
    """Binary name -> (package name, package dir), and package name -> its workspace deps."""
    meta = json.loads(
        run(["cargo", "metadata", "--format-version", "1", "--no-deps", "--offline",
             "--manifest-path", str(root / "Cargo.toml")]).stdout
    )
    bins, deps = {}, {}
    for package in meta["packages"]:
        directory = Path(package["manifest_path"]).parent
        for target in package["targets"]:
            if "bin" in target["kind"]:
                bins[target["name"]] = (package["name"], directory)
        deps[package["name"]] = (
            directory,
            [d["name"] for d in package["dependencies"] if d.get("path")],
        )
    return bins, deps


def closure_sources(package, deps):
    """The Rust sources of `package` and of every workspace crate it depends on."""
    seen, todo, files = set(), [package], []
    while todo:
        name = todo.pop()
        if name in seen or name not in deps:
            continue
        seen.add(name)
        directory, children = deps[name]
        files.extend((directory / "src").rglob("*.rs"))
        todo.extend(children)
    return "\n".join(f.read_text() for f in files)


def help_of(bin_dir, binary, *args):
    out = run([str(bin_dir / binary), *args, "--help"])
    return out.stdout + out.stderr


def env_in_help(text):
    return set(re.findall(r"\[env: ([A-Z0-9_]+)=", text))


def env_default(text, name):
    """The default of the option read from `name`, as --help prints it."""
    match = re.search(r"\[env: " + name + r"=[^\]]*\]\s*\[default: ([^\]]+)\]", text)
    return match.group(1) if match else None


def reads_env(name, help_text, sources):
    if name in env_in_help(help_text):
        return True
    if name == "RUST_LOG":  # tracing-subscriber's EnvFilter reads it by default.
        return "from_default_env" in sources
    return f'"{name}"' in sources


# --------------------------------------------------------------------------- compose helpers


def container_ports(service):
    ports = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.append((int(port["published"]), int(port["target"])))
        else:
            parts = str(port).split("/")[0].split(":")
            ports.append((int(parts[-2]), int(parts[-1])))
    return ports


def command_of(service):
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else list(command)


def health_url(service):
    test = service.get("healthcheck", {}).get("test", [])
    return next((t for t in test if str(t).startswith("http://")), None)


def platform_ports(root):
    """Each service's port under scripts/platform's default `--port-base` (`PORT_BASE=8080`, and
    `[name]="http://127.0.0.1:$PORT_BASE"` or `...:$((PORT_BASE + k))`)."""
    text = (root / "scripts" / "platform").read_text()
    base = re.search(r"^PORT_BASE=(\d+)$", text, re.M)
    base = int(base.group(1)) if base else None
    ports = {}
    for name, port in re.findall(r'\[([a-z-]+)\]="http://127\.0\.0\.1:([^"]+)"', text):
        offset = re.fullmatch(r"\$\(\(PORT_BASE \+ (\d+)\)\)", port)
        if port.isdigit():
            ports[name] = int(port)
        elif port == "$PORT_BASE" and base is not None:
            ports[name] = base
        elif offset and base is not None:
            ports[name] = base + int(offset.group(1))
    return ports


def mounts(service):
    """A service's volumes as (source, target), whether written short (`src:dst[:ro]`) or long
    (`docker-compose config` writes `{type, source, target, read_only}`)."""
    found = []
    for volume in service.get("volumes", []):
        if isinstance(volume, dict):
            found.append((str(volume.get("source", "")), str(volume.get("target", ""))))
        else:
            parts = str(volume).split(":")
            found.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return found


# --------------------------------------------------------------------------- the checks


# Binaries for measuring and testing, never deployed: the hello baseline of the read benchmarks
# (kit) and the fuzz run's stream audit (loadgen).
DEVELOPMENT_BINARIES = {"tv-hello", "tv-fuzz-audit"}


def check_dockerfile(root, bins):
    text = (root / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M)
    check(len(stages) == 2, "Dockerfile: two stages (builder, runtime)", str(stages))
    builder, runtime = stages[0][0], stages[-1][0]

    rustc = run(["rustc", "--version"]).stdout.split()[1]
    match = re.fullmatch(r"rust:(\d+\.\d+)(?:\.\d+)?-(\w+)", builder)
    check(bool(match), f"Dockerfile: builder is the official Rust image ({builder})")
    if match:
        check(rustc.startswith(match.group(1) + "."),
              f"Dockerfile: builder's Rust {match.group(1)} is the toolchain in use ({rustc})")
        minimum = re.search(r'rust-version\s*=\s*"([\d.]+)"',
                            (root / "Cargo.toml").read_text())
        check(minimum is None
              or version_tuple(match.group(1)) >= version_tuple(minimum.group(1))[:2],
              "Dockerfile: builder meets the workspace's rust-version")
        check(runtime == f"debian:{match.group(2)}-slim",
              f"Dockerfile: runtime is slim Debian of the builder's release ({runtime})")

    build = re.search(r"RUN (--mount[^\n]*\n(?:.*\\\n)*.*)", text)
    build_text = build.group(1) if build else ""
    check("cargo build --release --locked" in build_text,
          "Dockerfile: release build with --locked")
    for target in ("/usr/local/cargo/registry", "/src/target"):
        check(f"--mount=type=cache,target={target}" in build_text,
              f"Dockerfile: cache mount on {target}")

    user = re.findall(r"^USER\s+(\S+)", text, re.M)
    uid = user[-1].split(":")[0] if user else "0"
    check(uid.isdigit() and int(uid) != 0, f"Dockerfile: runs as a non-root user ({uid})")

    # The runtime's environment: every variable it sets is read by one of the binaries.
    runtime_env = re.search(r"^ENV ((?:.*\\\n)*.*)", text.split("AS runtime", 1)[-1], re.M)
    names = re.findall(r"([A-Z][A-Z0-9_]*)=", runtime_env.group(1)) if runtime_env else []
    sources = "\n".join(f.read_text() for f in root.glob("*/src/**/*.rs"))
    for name in names:
        check((name == "RUST_LOG" and "from_default_env" in sources) or f'"{name}"' in sources,
              f"Dockerfile: the runtime's {name} is read by the code")

    listed = re.search(r'ARG BINARIES="([^"]+)"', text)
    listed = set(listed.group(1).split()) if listed else set()
    shipped = set(bins) - DEVELOPMENT_BINARIES
    check(listed == shipped,
          "Dockerfile: the image holds every binary of the workspace but the development ones",
          f"Dockerfile has {sorted(listed)}, the workspace ships {sorted(shipped)}")
    return listed


def check_dockerignore(root, bins, deps):
    patterns = [line.strip().rstrip("/") for line in
                (root / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for needed in ("target", ".git", ".data", ".tools"):
        check(needed in patterns, f".dockerignore: leaves out {needed}")
    crate_dirs = {directory.relative_to(root).parts[0] for directory, _ in deps.values()}
    kept = {"Cargo.toml", "Cargo.lock"} | crate_dirs
    check(not kept & set(patterns), ".dockerignore: keeps the manifests and every crate",
          f"ignored: {sorted(kept & set(patterns))}")


def check_services(root, compose, raw, bin_dir, bins, deps, image_binaries):
    services = compose["services"]
    shared_env = set(raw.get("x-tv-env", {}))
    built = {n: s for n, s in services.items() if "build" in s}
    check(len({s.get("image") for s in built.values()}) == 1,
          "compose: every TicketView service runs the one image",
          str({n: s.get("image") for n, s in built.items()}))

    listening = {"nats": 4222, "postgres": 5432}
    helps = {}
    for name, service in built.items():
        command = command_of(service)
        binary = command[0] if command else None
        if not check(binary in image_binaries and binary in bins,
                     f"{name}: runs a binary of the image ({binary})"):
            continue
        if not check((bin_dir / binary).is_file(), f"{name}: {binary} is built in {bin_dir}"):
            continue
        subcommands = [a for a in command[1:] if not a.startswith("-")]
        top_help = help_of(bin_dir, binary)
        # Options of the binary (env variables included) and of its subcommand.
        help_text = top_help + (help_of(bin_dir, binary, *subcommands) if subcommands else "")
        helps[name] = help_text
        for sub in subcommands:
            check(re.search(rf"^\s+{re.escape(sub)}\s", top_help, re.M) is not None,
                  f"{name}: `{binary} {sub}` is a subcommand")
        for flag in (a.split("=")[0] for a in command[1:] if a.startswith("--")):
            check(re.search(rf"{re.escape(flag)}\b", help_text) is not None,
                  f"{name}: `{binary}` takes {flag}")

        package = bins[binary][0]
        sources = closure_sources(package, deps)
        env = service.get("environment", {}) or {}
        for var in sorted(env):
            if var in shared_env:
                continue
            check(reads_env(var, help_text, sources), f"{name}: `{binary}` reads {var}")

        # The listening address: all interfaces, the port compose publishes and health-checks,
        # and the binary's own default port (the one scripts/platform uses).
        addr_vars = [v for v in env if re.fullmatch(r"TV_[A-Z_]+_(ADDR|BIND)", v)]
        ports = container_ports(service)
        if not ports:
            continue
        if not check(len(addr_vars) == 1, f"{name}: one listening address in its environment",
                     str(addr_vars)):
            continue
        var = addr_vars[0]
        host, _, port = str(env[var]).rpartition(":")
        port = int(port)
        listening[name] = port
        check(host == "0.0.0.0", f"{name}: {var} listens on every interface ({env[var]})")
        check(port in [target for _, target in ports],
              f"{name}: publishes the port it listens on ({port})", str(ports))
        default = env_default(help_text, var)
        check(default is not None and default.endswith(f":{port}"),
              f"{name}: {var} keeps the binary's default port ({default})")
        expected_host_port = platform_ports(root).get(name)
        check(expected_host_port in [published for published, _ in ports],
              f"{name}: published on the host port scripts/platform uses ({expected_host_port})",
              str(ports))
        url = health_url(service)
        check(url == f"http://127.0.0.1:{port}/healthz",
              f"{name}: health check calls its /healthz ({url})")

    for var in sorted(shared_env):
        readers = [name for name, text in helps.items()
                   if reads_env(var, text, closure_sources(
                       bins[command_of(services[name])[0]][0], deps))]
        # A setting a workspace crate defines that no service links yet (a library on its way
        # in) is noted, not failed: compose passes it ahead of the code.
        definers = [name for name, (directory, _) in deps.items()
                    if any(f'"{var}"' in f.read_text() for f in (directory / "src").rglob("*.rs"))]
        if not readers and definers:
            print(f"note shared setting {var} is read by no service yet "
                  f"(defined in {', '.join(definers)})")
            continue
        check(bool(readers), f"shared setting {var} is read by a service ({', '.join(readers)})")
    return listening


def check_urls(compose, listening, collector_ports):
    """Every URL a service is given names a compose service and the port that one listens on."""
    services = compose["services"]
    ports_of = {name: [port] for name, port in listening.items()}
    ports_of["otel-collector"] = collector_ports
    for name, service in services.items():
        for var, value in sorted((service.get("environment") or {}).items()):
            if not isinstance(value, str) or "://" not in value:
                continue
            # The web pages' URLs and origins are called by a browser on the host, at the ports
            # compose publishes there, not on the compose network.
            if var.startswith("TV_WEB_"):
                for url in value.split(","):
                    parts = urlsplit(url)
                    check(parts.hostname in ("127.0.0.1", "localhost") and parts.port is not None,
                          f"{name}: {var} is a URL of this host for a browser ({url})")
                continue
            parts = urlsplit(value)
            target = parts.hostname
            check(target in services, f"{name}: {var} names a compose service ({target})")
            check(parts.port in ports_of.get(target, []),
                  f"{name}: {var} uses the port {target} listens on ({parts.port})",
                  f"{target} listens on {ports_of.get(target)}")


def check_dependencies(compose):
    services = compose["services"]
    for name, service in services.items():
        depends = service.get("depends_on", {}) or {}
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        for other, how in depends.items():
            if how.get("condition") == "service_healthy":
                check("healthcheck" in services.get(other, {}),
                      f"{name}: waits for {other}, which has a health check")


def check_profiles(compose):
    services = compose["services"]
    for name, service in services.items():
        want = PROFILES.get(name)
        have = service.get("profiles", [])
        check(have == ([want] if want else []),
              f"{name}: profile {want or '(none: always on)'}", str(have))
    loadgen = command_of(services.get("loadgen", {}))
    check("--demo" in loadgen, "loadgen: the demo profile runs the demo sale")


def check_otel(compose, with_otel):
    built = [n for n, s in compose["services"].items() if "build" in s]
    # A variable without a value is taken from the host, and left out when the host has none.
    unset = [n for n in built
             if (compose["services"][n].get("environment") or {})
             .get("OTEL_EXPORTER_OTLP_ENDPOINT") is not None]
    check(not unset, "otel: without OTEL_EXPORTER_OTLP_ENDPOINT on the host, no service exports",
          str(unset))
    missing = [n for n in built
               if (with_otel["services"][n].get("environment") or {})
               .get("OTEL_EXPORTER_OTLP_ENDPOINT") != OTLP_ENDPOINT]
    check(not missing, f"otel: with it set, every service exports to {OTLP_ENDPOINT}",
          str(missing))


def check_collector(root, compose):
    path = root / "deploy" / "otel-collector.yaml"
    mounted = [v for v in compose["services"]["otel-collector"].get("volumes", [])
               if "otel-collector.yaml" in str(v)]
    check(bool(mounted), "otel-collector: mounts deploy/otel-collector.yaml")
    config = yaml.safe_load(path.read_text())
    sections = {kind: set(config.get(kind) or {}) for kind in
                ("receivers", "processors", "exporters", "extensions")}
    for pipeline, spec in config["service"]["pipelines"].items():
        for kind in ("receivers", "processors", "exporters"):
            unknown = set(spec.get(kind, [])) - sections[kind]
            check(not unknown, f"otel-collector: pipeline {pipeline} defines its {kind}",
                  str(unknown))
    unknown = set(config["service"].get("extensions", [])) - sections["extensions"]
    check(not unknown, "otel-collector: its extensions are defined", str(unknown))
    ports = []
    for protocol in (config["receivers"]["otlp"]["protocols"] or {}).values():
        ports.append(int(protocol["endpoint"].rsplit(":", 1)[1]))
    check(urlsplit(OTLP_ENDPOINT).port in ports,
          f"otel-collector: receives OTLP over HTTP on {urlsplit(OTLP_ENDPOINT).port}")
    for name, exporter in config["exporters"].items():
        host = exporter["endpoint"].split("://")[-1].split(":")[0]
        check(host in compose["services"], f"otel-collector: exporter {name} reaches {host}")
    jaeger_ports = [target for _, target in container_ports(compose["services"]["jaeger"])]
    check(JAEGER_UI_PORT in jaeger_ports, f"jaeger: UI published ({JAEGER_UI_PORT})")
    return ports


def check_nats(root, compose, nats_server):
    service = compose["services"]["nats"]
    image = service["image"]
    match = re.fullmatch(r"nats:(\d+\.\d+\.\d+)-alpine", image)
    pinned = re.search(r'TV_NATS_VERSION="([\d.]+)"',
                       (root / "scripts" / "lib" / "infra.sh").read_text()).group(1)
    check(bool(match) and match.group(1) == pinned,
          f"nats: the official image of the pinned version ({image}, pinned {pinned})")
    check(bool(match) and version_tuple(match.group(1))[:2] >= NATS_MIN,
          "nats: 2.12 or newer (atomic batches, message schedules)")
    command = command_of(service)
    check("--jetstream" in command or "-js" in command, "nats: JetStream on")
    store = command[command.index("--store_dir") + 1] if "--store_dir" in command else None
    volumes = [v.get("target") if isinstance(v, dict) else str(v).split(":")[1]
               for v in service.get("volumes", []) if isinstance(v, dict) or ":" in str(v)]
    check(store in volumes,
          f"nats: its store ({store}) is a volume")
    if nats_server:
        text = run([nats_server, "--help"])
        text = text.stdout + text.stderr
        for flag in (a for a in command if a.startswith("-")):
            check(re.search(rf"\s{re.escape(flag)}\b", text) is not None,
                  f"nats: nats-server {pinned} takes {flag}")


def check_nats_cluster(root, compose, nats_server):
    """The cluster profile: three nodes, each with its own config, store volume and name, routed
    to every node on the cluster port; each config accepted by the pinned nats-server (`-t`)."""
    nodes = sorted(n for n, s in compose["services"].items() if "cluster" in s.get("profiles", []))
    check(nodes == ["nats-1", "nats-2", "nats-3"], "nats cluster: three nodes in the cluster profile",
          str(nodes))
    routes_wanted = {f"nats-route://{n}:6222" for n in nodes}
    single = compose["services"]["nats"]
    for name in nodes:
        service = compose["services"][name]
        check(service["image"] == single["image"], f"{name}: the image of the single server")
        command = command_of(service)
        conf = command[command.index("--config") + 1] if "--config" in command else ""
        path = root / "deploy" / "nats" / Path(conf).name
        check(conf.startswith("/etc/nats/") and path.is_file(),
              f"{name}: its config {conf} is in deploy/nats/", str(path))
        if not path.is_file():
            continue
        text = path.read_text()
        check(re.search(rf"^server_name:\s*{name}$", text, re.M) is not None,
              f"{name}: server_name {name}")
        routes = set(re.findall(r"nats-route://[\w.-]+:\d+", text))
        check(routes == routes_wanted, f"{name}: routes to every node", str(routes))
        check('include "auth.conf"' in text, f"{name}: the users of auth.conf")
        check(re.search(r'store_dir:\s*"/data"', text) is not None
              and any(target == "/data" for _, target in mounts(service)),
              f"{name}: JetStream in its own volume")
        check((service.get("environment") or {}).keys() == (single.get("environment") or {}).keys(),
              f"{name}: the password variables of the single server")
        check("healthcheck" in service, f"{name}: a health check")
        if nats_server:
            env = dict(os.environ, **{k: "check" for k in (single.get("environment") or {})})
            tested = subprocess.run([nats_server, "-c", str(path), "-t"], capture_output=True,
                                    text=True, env=env, cwd=path.parent)
            check(tested.returncode == 0, f"{name}: nats-server -t accepts {path.name}",
                  (tested.stdout + tested.stderr).strip()[-300:])


def check_postgres(compose):
    env = compose["services"]["postgres"]["environment"]
    for name, service in compose["services"].items():
        url = (service.get("environment") or {}).get("DATABASE_URL")
        if not url:
            continue
        parts = urlsplit(url)
        check(parts.password == env["POSTGRES_PASSWORD"] and parts.username == env["POSTGRES_USER"]
              and parts.path.lstrip("/") == env["POSTGRES_DB"],
              f"{name}: DATABASE_URL matches the postgres service's user, password and database")


def check_nats_users(root, compose):
    """nats runs deploy/nats/auth.conf with every user's password, and each service connects as a
    user of it with that password (the admin user only to provision); no password has a default."""
    services = compose["services"]
    nats = services["nats"]
    command = command_of(nats)
    check("--config" in command and command[command.index("--config") + 1] == "/etc/nats/nats.conf",
          "nats: runs deploy/nats/nats.conf", str(command))
    check(any(source.rstrip("/").endswith("deploy/nats") and target == "/etc/nats"
              for source, target in mounts(nats)),
          "nats: mounts deploy/nats (nats.conf, auth.conf)", str(mounts(nats)))
    auth = (root / "deploy" / "nats" / "auth.conf").read_text()
    users = {var[len("TV_NATS_"):-len("_PASSWORD")].lower().replace("_", "-"): var
             for var in set(re.findall(r"\$(TV_NATS_[A-Z_]+_PASSWORD)", auth))}
    env = nats.get("environment") or {}
    missing = sorted(var for var in users.values() if not env.get(var))
    check(not missing, f"nats: is given the password of every user ({', '.join(sorted(users))})",
          f"missing: {missing}")
    for name, service in services.items():
        url = (service.get("environment") or {}).get("NATS_URL")
        if not url:
            continue
        parts = urlsplit(url)
        user = parts.username
        check(user in users and parts.password == env.get(users[user]),
              f"{name}: NATS_URL names a user of auth.conf with its password ({user})")
        check((user == "admin") == (name == "provision"),
              f"{name}: connects as admin only to provision ({user})")
    raw = (root / "compose.yaml").read_text()
    defaults = re.findall(r"\$\{([A-Z_]*PASSWORD[A-Z_]*):-", raw)
    check(not defaults, "compose: no password has a default", str(defaults))



# The token settings: the verifying services hold the public keys, the one issuer (loadgen) the
# private key, command-svc and the waiting room the admission secret; none has a default.
TOKEN_VARIABLES = ("TV_JWT_PUBLIC_KEYS", "TV_JWT_PRIVATE_KEY", "TV_ADMISSION_SECRET",
                   "TV_JWT_SECRET", "TV_TICKET_SECRET")
VERIFIERS = ("command-svc", "query-svc", "waiting-room")
ISSUERS = ("loadgen",)
ADMISSION = ("command-svc", "waiting-room")
# A published secret shorter than this is a common word ("test" is also a gateway's name): it is
# looked for as a whole value, not inside other values.
KNOWN_INSIDE_MIN = 12


def known_secrets(root):
    """KNOWN_SECRETS and PLACEHOLDER_WORDS of auth/src/known_secrets.rs: the one list."""
    text = (root / "auth" / "src" / "known_secrets.rs").read_text()
    lists = {}
    for name in ("KNOWN_SECRETS", "PLACEHOLDER_WORDS"):
        body = re.search(rf"pub const {name}: &\[&str\] = &\[(.*?)\];", text, re.S)
        lists[name] = re.findall(r'"([^"\\]+)"', body.group(1)) if body else []
    return lists["KNOWN_SECRETS"], lists["PLACEHOLDER_WORDS"]


def raw_environments(raw):
    """(where, variable, value) of every environment entry of compose.yaml as written."""
    entries = [("x-tv-env", k, v) for k, v in (raw.get("x-tv-env") or {}).items()]
    for name, service in (raw.get("services") or {}).items():
        env = service.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        entries.extend((name, k, v) for k, v in env.items() if k != "<<")
    return entries


def check_token_keys(root, raw, compose):
    known, words = known_secrets(root)
    check(len(known) > 2 and len(words) > 2,
          "token keys: the list of published secrets is read from auth/src/known_secrets.rs")
    published = []
    for where, var, value in raw_environments(raw):
        text = "" if value is None else str(value)
        if re.sub(r"_FILE$", "", var) in TOKEN_VARIABLES:
            check(re.fullmatch(r"\$\{" + var + r":\?[^}]+\}", text) is not None,
                  f"{where}: {var} is required, with no default (${{{var}:?...}})", text)
        lowered = text.lower()
        published += [f"{where} {var}: {k}" for k in known
                      if lowered == k or (len(k) >= KNOWN_INSIDE_MIN and k in lowered)]
        published += [f"{where} {var}: {w}" for w in words if w in lowered]
    check(not published, "compose.yaml: no setting ships a published secret or a placeholder",
          "; ".join(published))

    for name, service in compose["services"].items():
        if "build" not in service:
            continue
        holds = {v for v in (service.get("environment") or {})
                 if re.sub(r"_FILE$", "", v) in TOKEN_VARIABLES}
        check(not holds & {"TV_JWT_SECRET", "TV_JWT_SECRET_FILE"},
              f"{name}: no shared HS256 token secret (keys instead)")
        if name in VERIFIERS:
            check(bool(holds & {"TV_JWT_PUBLIC_KEYS", "TV_JWT_PUBLIC_KEYS_FILE"}),
                  f"{name}: verifies tokens with the issuers' public keys")
        private = bool(holds & {"TV_JWT_PRIVATE_KEY", "TV_JWT_PRIVATE_KEY_FILE"})
        check(private == (name in ISSUERS),
              f"{name}: {'holds' if name in ISSUERS else 'never holds'} the private signing key")
        admission = bool(holds & {"TV_ADMISSION_SECRET", "TV_ADMISSION_SECRET_FILE"})
        check(admission == (name in ADMISSION),
              f"{name}: {'holds' if name in ADMISSION else 'does not hold'} the admission secret")


def main():
    root, bin_dir = Path(sys.argv[1]), Path(sys.argv[2])
    compose = yaml.safe_load(Path(sys.argv[3]).read_text())
    with_otel = yaml.safe_load(Path(sys.argv[4]).read_text())
    nats_server = sys.argv[5]
    raw = yaml.safe_load((root / "compose.yaml").read_text())

    bins, deps = workspace(root)
    image_binaries = check_dockerfile(root, bins)
    check_dockerignore(root, bins, deps)
    listening = check_services(root, compose, raw, bin_dir, bins, deps, image_binaries)
    collector_ports = check_collector(root, compose)
    check_urls(compose, listening, collector_ports)
    check_dependencies(compose)
    check_profiles(compose)
    check_otel(compose, with_otel)
    check_nats(root, compose, nats_server)
    check_nats_cluster(root, compose, nats_server)
    check_postgres(compose)
    check_nats_users(root, compose)
    check_token_keys(root, raw, compose)

    print(f"check-compose: {results['passed']} passed, {results['failed']} failed")
    sys.exit(1 if results["failed"] else 0)


if __name__ == "__main__":
    main()
