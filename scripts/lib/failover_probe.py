"""Watches the inventory stream of a failover run on every live node of the local cluster and
records when its last sequence advances: the longest time without a new commit while the sale runs
is the command side's pause. Stops when the file argv[3] exists; writes its timeline to argv[4].

    python3 failover_probe.py STREAM MONITOR_PORTS(comma-separated) STOP_FILE OUT_JSON
"""
import json
import os
import sys
import time
import urllib.request

stream, ports, stop_file, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4]


def last_sequence():
    best = None
    for port in ports:
        url = f"http://127.0.0.1:{port}/jsz?streams=true"
        try:
            with urllib.request.urlopen(url, timeout=0.3) as response:
                jsz = json.load(response)
        except Exception:
            continue  # a killed or frozen node
        for account in jsz.get("account_details") or []:
            for detail in account.get("stream_detail") or []:
                if detail.get("name") == stream:
                    seq = detail.get("state", {}).get("last_seq", 0)
                    best = seq if best is None else max(best, seq)
    return best


advances = []  # (time, last sequence) whenever it grew
last = None
while not os.path.exists(stop_file):
    seq = last_sequence()
    now = time.time()
    if seq is not None and (last is None or seq > last):
        advances.append((now, seq))
        last = seq
    time.sleep(0.05)

with open(out, "w") as f:
    json.dump({"stream": stream, "advances": advances}, f)
