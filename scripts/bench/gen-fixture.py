#!/usr/bin/env python3
"""Writes a deployment fixture with N cases spread over 64 blueprints, for the runner benchmark.

Cases cycle through every supported target/runtime pair plus a rejected one, so the benchmark
exercises applied and rejected paths, all four artifact kinds and the channel store. Output is
deterministic for a given N. The WASM modules the cases name are copied into `modules/` beside
the fixture: a missing artifact is refused, not deployed.
"""
import json
import os
import shutil
import sys

n = int(sys.argv[1])
out = sys.argv[2]
# Optional: the first case number, so several fixtures can have disjoint case ids.
first = int(sys.argv[3]) if len(sys.argv) > 3 else 0
shapes = [
    ("container", "native", {"container_image": "ghcr.io/tau/svc:1.0.0"}, "success", 202, ""),
    ("kubernetes", "native", {"container_image": "ghcr.io/tau/svc:1.0.0"}, "success", 202, ""),
    ("wasm", "wasm_wasi", {"wasm_module": "modules/edge-runtime.wasm"}, "success", 201, ""),
    ("wasm", "channel_automation_wasi", {"wasm_module": "modules/channel.wasm"}, "success", 201, ""),
    ("mainframe", "native", {"container_image": "ghcr.io/tau/svc:1.0.0"}, "malformed_input", 400,
     "deployment_invalid_blueprint"),
]
with open(out, "w") as f:
    f.write('{"schema_version":1,"name":"bench-%d","cases":[\n' % n)
    for i in range(n):
        target, runtime, artifact, outcome, status, code = shapes[i % len(shapes)]
        case = {
            "case_id": "case-%08d" % (first + i),
            "deploy_target": target,
            "runtime_profile": runtime,
            "blueprint_id": "blueprint-%02d" % (i % 64),
            "environment": "staging" if i % 2 else "production",
            "region": "us-east-1",
            **artifact,
            "expected": {"outcome": outcome, "status_code": status, "error_code": code,
                         "response_body": {"status": "accepted" if outcome == "success" else "rejected"},
                         "response_body_match": "subset"},
        }
        f.write(("," if i else "") + json.dumps(case, separators=(",", ":")) + "\n")
    f.write("]}\n")

repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
modules = os.path.join(os.path.dirname(os.path.abspath(out)), "modules")
os.makedirs(modules, exist_ok=True)
for source, name in [("edge-runtime.wasm", "edge-runtime.wasm"), ("channel-automation.wasm", "channel.wasm")]:
    shutil.copyfile(os.path.join(repo, "testdata/deployment-contract/modules", source),
                    os.path.join(modules, name))
