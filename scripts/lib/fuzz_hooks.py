"""Schemathesis hooks for scripts/fuzz (loaded through SCHEMATHESIS_HOOKS=fuzz_hooks).

- Every `POST /events` without an `Idempotency-Key` gets a fresh, valid one, as a real operator's
  client would send (holds declare the header as required, so schemathesis generates it there, and
  leaves it out on purpose in negative cases).
- Every request carries a valid bearer token of one of the role sets in the file named by
  TV_FUZZ_TOKENS (`{"customer+operator": "<jwt>", "customer": "<jwt>", "operator": "<jwt>"}`), drawn
  at random (half of them with both roles, so that most requests get past the role checks), so that
  each role reaches every operation.
- Every answer is recorded as one JSON line `{"service": "command-svc", "operation": "POST /events",
  "roles": "operator", "status": 201}` in the file named by TV_FUZZ_RECORD, so that
  tv-fuzz-audit (loadgen/src/bin) can compare the streams with the number of accepted requests and
  scripts/lib/fuzz_roles.py can check each answer against the roles its operation admits.
- Failures of a KNOWN bug are dropped (and counted in the file TV_FUZZ_KNOWN) so that the run keeps
  finding new ones; TV_FUZZ_STRICT=1 keeps them. Each known bug has an ignored Rust test that
  fails until it is fixed (tests/tests/fault_bad_input.rs); remove its entry here with the fix.
"""

import json
import os
import random
import threading
import uuid

import schemathesis

_LOCK = threading.Lock()
_RECORD = os.environ.get("TV_FUZZ_RECORD")
_SERVICE = os.environ.get("TV_FUZZ_SERVICE", "?")


def _tokens():
    path = os.environ.get("TV_FUZZ_TOKENS")
    if not path:
        return []
    with open(path, encoding="utf-8") as tokens:
        return sorted(json.load(tokens).items())


_TOKENS = _tokens()
# Both roles half of the time: most requests should reach the handlers, not only the role checks.
_WEIGHTS = [2 if "+" in roles else 1 for roles, _ in _TOKENS]
# A generator of its own: hypothesis seeds the global one per test, which would give every example
# of an operation the same token.
_RANDOM = random.SystemRandom()


def _label(case):
    operation = case.operation
    return f"{operation.method.upper()} {operation.path}"


def _roles(case):
    """The role set whose token `case` carries (a header schemathesis generated counts as none)."""
    sent = (case.headers or {}).get("Authorization", "")
    for roles, token in _TOKENS:
        if sent == f"Bearer {token}":
            return roles
    return "none"


def _drops_authorization(case):
    """Whether `case` leaves out the Authorization header on purpose (the missing-header check)."""
    data = getattr(getattr(getattr(case, "meta", None), "phase", None), "data", None)
    parameter = getattr(data, "parameter", None) or ""
    scenario = str(getattr(data, "scenario", "")).upper()
    return parameter.lower() == "authorization" and "MISSING" in scenario


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = case.headers if case.headers is not None else {}
    if _TOKENS and not _drops_authorization(case):
        _, token = _RANDOM.choices(_TOKENS, weights=_WEIGHTS)[0]
        headers["Authorization"] = f"Bearer {token}"
    if _label(case) == "POST /events" and not any(
        name.lower() == "idempotency-key" for name in headers
    ):
        headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4().hex}"
    case.headers = headers


@schemathesis.hook
def after_call(context, case, response):
    if not _RECORD:
        return
    answer = {
        "service": _SERVICE,
        "operation": _label(case),
        "roles": _roles(case),
        "status": response.status_code,
    }
    if response.status_code >= 400:
        try:
            answer["code"] = response.json()["error"]["code"]
        except Exception:  # not the JSON error shape: the schema checks report it
            pass
    line = json.dumps(answer)
    with _LOCK:
        with open(_RECORD, "a", encoding="utf-8") as record:
            record.write(line + "\n")


# Known bugs: (failure code, predicate on the case and response, ignored test that reproduces it).
KNOWN_BUGS: list = [
    # None at present. An entry is (failure code, predicate on the case and response, the ignored
    # Rust test that reproduces it), so that a run keeps finding new failures while one is open.
]

_KNOWN = os.environ.get("TV_FUZZ_KNOWN")
_STRICT = os.environ.get("TV_FUZZ_STRICT") == "1"


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if _STRICT:
        return True
    for code, matches, test in KNOWN_BUGS:
        if getattr(failure, "code", None) == code and matches(case, response):
            if _KNOWN:
                line = json.dumps({"operation": _label(case), "code": code, "test": test})
                with _LOCK:
                    with open(_KNOWN, "a", encoding="utf-8") as known:
                        known.write(line + "\n")
            return False
    return True
