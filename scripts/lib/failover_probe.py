"""Watches the inventory stream of a failover run on every live node of the local cluster and
records when its last sequence advances: the longest time without a new commit while the sale runs
is the command side's pause. It also records which node leads the stream (as that node itself says),
so that a kill's election can be told apart from the command side's own share of the pause. Stops
when the file argv[3] exists; writes its timelines to argv[4].

    python3 failover_probe.py STREAM MONITOR_PORTS(comma-separated) STOP_FILE OUT_JSON
"""
import json
import os
import sys
import time
import urllib.request

stream, ports, stop_file, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3], sys.argv[4]


def poll():
    """The stream's highest last sequence over the live nodes, and the node that says it leads."""
    best, leader = None, None
    for index, port in enumerate(ports, start=1):
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
                    if (detail.get("cluster") or {}).get("leader") == f"n{index}":
                        leader = f"n{index}"
    return best, leader


advances = []  # (time, last sequence) whenever it grew
leaders = []  # (time, leading node or None) whenever it changed
last, last_leader = None, "?"
while not os.path.exists(stop_file):
    seq, leader = poll()
    now = time.time()
    if seq is not None and (last is None or seq > last):
        advances.append((now, seq))
        last = seq
    if leader != last_leader:
        leaders.append((now, leader))
        last_leader = leader
    time.sleep(0.05)

with open(out, "w") as f:
    json.dump({"stream": stream, "advances": advances, "leaders": leaders}, f)
