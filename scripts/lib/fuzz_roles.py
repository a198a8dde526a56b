#!/usr/bin/env python3
"""After scripts/fuzz: every answer agrees with the roles its operation admits.

Each OpenAPI operation that needs a bearer token names the roles it admits in `x-roles` (for
example `["operator"]` on `POST /events`). scripts/lib/fuzz_hooks.py sent every fuzzed request with
a valid token of one role set (customer, operator, or both) and recorded which one with the answer.
This checks, per service:

- a valid token is never answered 401 (the services verify what they were configured to trust);
- a token without any of an operation's roles is never answered 2xx (the role check holds whatever
  the body, path or query);
- each role set got past the role checks somewhere (a 2xx on an operation it is admitted to), and
  each operation with `x-roles` answered an admitted caller with something other than 401/403: the
  fuzzing reached the handlers, not only the doors.

Usage: fuzz_roles.py --record answers.jsonl --openapi command-svc=command-svc.json [--openapi ...]
"""

import argparse
import collections
import json
import sys


def admitted_roles(spec):
    """{"POST /events": {"operator"}, ...} for the operations that name their roles."""
    roles = {}
    for path, operations in spec.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "x-roles" in operation:
                roles[f"{method.upper()} {path}"] = set(operation["x-roles"])
    return roles


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--record", required=True)
    parser.add_argument("--openapi", action="append", default=[], metavar="SERVICE=FILE")
    args = parser.parse_args()

    admits = {}
    for item in args.openapi:
        service, _, path = item.partition("=")
        with open(path, encoding="utf-8") as document:
            admits[service] = admitted_roles(json.load(document))

    failures = []
    refused = collections.Counter()  # (service, operation, roles) answered without a 2xx
    reached_roles = collections.defaultdict(set)  # service -> role sets with a 2xx somewhere guarded
    reached_operations = collections.defaultdict(set)  # service -> guarded operations past the doors
    asked = collections.defaultdict(set)  # service -> operations with at least one answer
    answers = 0
    with open(args.record, encoding="utf-8") as record:
        for line in record:
            answer = json.loads(line)
            service, operation = answer.get("service", "?"), answer["operation"]
            if service not in admits:
                continue
            answers += 1
            asked[service].add(operation)
            roles, status = answer.get("roles", "none"), answer["status"]
            held = set(roles.split("+")) if roles != "none" else set()
            if held and status == 401:
                failures.append(f"{service}: {operation} answered 401 to a valid {roles} token")
            needed = admits[service].get(operation)
            if needed is None or not held:
                continue
            if held & needed:
                if status not in (401, 403):
                    reached_operations[service].add(operation)
                if 200 <= status < 300:
                    reached_roles[service].add(roles)
            elif 200 <= status < 300:
                failures.append(f"{service}: {operation} answered {status} to a {roles} token (it admits {sorted(needed)})")
            else:
                refused[(service, operation, roles)] += 1

    for service, operations in admits.items():
        # Operations the run left out (event streams) have no answers to judge.
        for operation in sorted(set(operations) & asked[service] - reached_operations[service]):
            failures.append(f"{service}: no admitted caller of {operation} got past the role checks")
        role_sets = {"+".join(sorted(r)) for r in operations.values()}
        for needed in sorted(role_sets):
            if not any(set(held.split("+")) & set(needed.split("+")) for held in reached_roles[service]):
                failures.append(f"{service}: no token with the roles {needed} was ever served a 2xx")

    print(f"fuzz roles: {answers} answers checked against x-roles of {', '.join(sorted(admits))}")
    for (service, operation, roles), count in sorted(refused.items()):
        print(f"    {service:13} {operation:45} {roles:18} refused x{count}")
    for failure in failures[:40]:
        print(f"fuzz roles: FAILED: {failure}", file=sys.stderr)
    if len(failures) > 40:
        print(f"fuzz roles: ... and {len(failures) - 40} more", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
