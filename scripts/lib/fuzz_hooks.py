"""Schemathesis hooks for scripts/fuzz (loaded through SCHEMATHESIS_HOOKS=fuzz_hooks).

- Every `POST /events` without an `Idempotency-Key` gets a fresh, valid one, as a real operator's
  client would send (holds declare the header as required, so schemathesis generates it there, and
  leaves it out on purpose in negative cases).
- Every answer is recorded as one JSON line `{"operation": "POST /events", "status": 201}` in the
  file named by TV_FUZZ_RECORD, so that scripts/lib/fuzz_audit.py can compare the streams with the
  number of accepted requests afterwards.
- Failures of a KNOWN bug are dropped (and counted in the file TV_FUZZ_KNOWN) so that the run keeps
  finding new ones; TV_FUZZ_STRICT=1 keeps them. Each known bug has an ignored Rust test that
  fails until it is fixed (tests/tests/fault_bad_input.rs); remove its entry here with the fix.
"""

import json
import os
import threading
import uuid

import schemathesis

_LOCK = threading.Lock()
_RECORD = os.environ.get("TV_FUZZ_RECORD")


def _label(case):
    operation = case.operation
    return f"{operation.method.upper()} {operation.path}"


@schemathesis.hook
def before_call(context, case, **kwargs):
    if _label(case) != "POST /events":
        return
    headers = case.headers if case.headers is not None else {}
    if not any(name.lower() == "idempotency-key" for name in headers):
        headers["Idempotency-Key"] = f"fuzz-{uuid.uuid4().hex}"
        case.headers = headers


@schemathesis.hook
def after_call(context, case, response):
    if not _RECORD:
        return
    line = json.dumps({"operation": _label(case), "status": response.status_code})
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
