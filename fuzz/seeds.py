#!/usr/bin/env python3
"""Writes the seed corpora fuzz/corpus/{inbound,mapping,trigger}/ from the conformance
fixtures (tests/vectors/*.json, or the directory given as the first argument).
Seeds are named by the SHA-1 of their content, as libFuzzer names corpus files; rerunning
replaces the directories. Input formats are those of fuzz/fuzz_targets/*.rs:
  inbound: a request body;  mapping: <mapping JSON> 0xFF <payload JSON>;
  trigger: <trigger text or parse-tree JSON> 0xFF <event JSON>."""
import hashlib, json, os, shutil, sys

here = os.path.dirname(os.path.abspath(__file__))
fixtures = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "vectors")
load = lambda name: json.load(open(os.path.join(fixtures, name), encoding="utf-8"))
dump = lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode()
SEP = b"\xff"
corpora = {"inbound": set(), "mapping": set(), "trigger": set()}

dest = load("segment-launchdarkly-destination.json")
fql = load("segment-fql.json")
kit = load("segment-mapping-kit.json")

# inbound: single events, arrays, {"batch": [...]} envelopes with write keys, a few bad bodies.
events = [c["event"] for c in dest["cases"]]
events += [c["event"] for c in fql["evaluate_fql_cases"][:20] if isinstance(c.get("event"), dict)]
events.append(fql["segment_docs_full_fql_examples"]["event"])
for e in events:
    corpora["inbound"].add(dump(e))
corpora["inbound"].add(dump(events[:3]))
corpora["inbound"].add(dump({"batch": events[:4], "writeKey": "wk", "context": {"ip": "1.2.3.4"},
                             "integrations": {"All": True}}))
corpora["inbound"].add(dump({"batch": [dict(events[0], type="identify"), {"type": "alias"}, 1, None]}))
corpora["inbound"].add(dump(dict(events[0], writeKey="wk", properties={"revenue": 9.5})))
corpora["inbound"].add(json.dumps(events[:2], indent=1).encode())
for bad in [b"", b"[]", b"{}", b"null", b"[1,", b'{"batch":{}}', b"\xef\xbb\xbf{}"]:
    corpora["inbound"].add(bad)

# mapping: transform cases, render cases (template text on the left), schema fixtures.
for c in kit["transform_cases"]:
    corpora["mapping"].add(dump(c["mapping"]) + SEP + dump(c.get("payload", {})))
for c in kit["render_cases"]["cases"]:
    corpora["mapping"].add(c["template"].encode() + SEP + dump(c["data"]))
for c in kit["validate_fixtures"]["valid"] + kit["validate_fixtures"]["invalid"]:
    corpora["mapping"].add(dump(c["mapping"]) + SEP + dump(events[0]))
corpora["mapping"].add(dump({"metric_value": {"@path": "$.properties.revenue"},
                             "event_name": {"@template": "{{event}}"}}) + SEP + dump(events[0]))

# trigger: text with events, parse trees with events, parse errors.
for c in fql["evaluate_fql_cases"]:
    corpora["trigger"].add(c["fql"].encode() + SEP + dump(c.get("event")))
for c in fql["parse_cases"]["cases"]:
    corpora["trigger"].add(c["fql"].encode())
    corpora["trigger"].add(dump(c["ast"]))
for c in fql["parse_error_cases"]["cases"] + fql["parse_error_cases"]["extra_from_destination_kit_test"]:
    if isinstance(c.get("fql"), str):
        corpora["trigger"].add(c["fql"].encode())
for c in fql["evaluate_ast_cases"]["cases"] + fql["ast_only_cases_without_fql_equivalent"]:
    corpora["trigger"].add(dump(c["ast"]) + SEP + dump(c.get("event")))
docs = fql["segment_docs_full_fql_examples"]
for c in docs["cases"]:
    corpora["trigger"].add(c["fql"].encode() + SEP + dump(docs["event"]))

for target, seeds in corpora.items():
    out = os.path.join(here, "corpus", target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for seed in seeds:
        with open(os.path.join(out, hashlib.sha1(seed).hexdigest()), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(seeds)} seeds, {sum(map(len, seeds))} bytes")
