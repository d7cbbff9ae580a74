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
# Envelope members no event reads, which are checked all the same (found by the fuzzer): a
# number out of range, a lone surrogate, with and without a key with an escape.
for member in [b'"x":1e400', b'"x":[{"a":1e400}]', b'"x":"\\ud800"']:
    for escape in [b"", b',"c\\t":1']:
        corpora["inbound"].add(b'{"batch":[' + dump(events[0]) + b"]," + member + escape + b"}")

# mapping: transform cases, render cases (template text on the left), schema fixtures.
for c in kit["transform_cases"]:
    corpora["mapping"].add(dump(c["mapping"]) + SEP + dump(c.get("payload", {})))
for c in kit["render_cases"]["cases"]:
    corpora["mapping"].add(c["template"].encode() + SEP + dump(c["data"]))
for c in kit["validate_fixtures"]["valid"] + kit["validate_fixtures"]["invalid"]:
    corpora["mapping"].add(dump(c["mapping"]) + SEP + dump(events[0]))
corpora["mapping"].add(dump({"metric_value": {"@path": "$.properties.revenue"},
                             "event_name": {"@template": "{{event}}"}}) + SEP + dump(events[0]))

# mapping: extreme numbers and operators whose arguments come from the event (Liquid filters,
# @replace substitutions, repeated placeholders), for overflow, NaN casts and output budgets.
EXTREME = {"sku": "abcdef", "s": "a" * 600, "r": "b" * 40, "items": ["x", None, 1, [2, "y"]] * 8,
           "len": 1e19, "huge": 9223372036854775807, "min": -9223372036854775808,
           "umax": 18446744073709551615, "neg": -1e308, "big": 1e308, "tiny": 5e-324,
           "nan": "not a number", "zero": 0, "html": "<a href=\"x\">&'</a>" * 8, "sigma": "ΣΑΣ ß ǅ", "astral": "𐐨😀x😃"}
extreme_payloads = [dump({"event": "E", "properties": EXTREME})]
# serde_json refuses these numbers, so the fuzz target falls back to its default payload.
extreme_payloads += [b'{"properties":{"len":1e400,"sku":"abc"}}', b'{"properties":{"len":-1e400}}']
liquid = [
    "{{ properties.sku | slice: 1, properties.len }}",
    "{{ properties.astral | slice: -3, 2 }}{{ properties.astral | truncate: 3 }}{{ properties.astral | capitalize }}",
    "{{ properties.sku | slice: 1, 9223372036854775807 }}",
    "{{ properties.sku | slice: -9223372036854775808, properties.huge }}",
    "{{ properties.sku | slice: properties.neg, properties.big }}",
    "{{ properties.sku | slice: properties.nan, properties.tiny }}",
    "{{ properties.items | slice: properties.min, properties.len | join: properties.r }}",
    "{{ properties.sku | truncate: properties.min, properties.s }}",
    "{{ properties.sku | truncate: -9223372036854775808 }}",
    "{{ properties.s | truncatewords: properties.len, properties.r }}",
    "{{ properties.s | replace: 'a', properties.r }}",
    "{{ properties.s | replace: '', properties.r }}",
    "{{ properties.s | replace_first: properties.sku, properties.s | replace_last: 'a', properties.s }}",
    "{{ properties.s | remove: properties.nan | remove_first: 'a' | remove_last: 'a' | size }}",
    "{{ properties.s | append: properties.s | prepend: properties.s | size }}",
    "{% assign x = properties.s %}" + "{% assign x = x | append: x %}" * 20 + "{{ x | size }}",
    "{% assign x = properties.s %}" + "{% capture x %}{{x}}{{x}}{% endcapture %}" * 12,
    "{{ properties.items | join: properties.s }}",
    "{{ properties.html | escape | escape | url_encode | url_encode | escape_once }}",
    "{{ properties.sigma | upcase | downcase | capitalize }}",
    "{{ properties.s | split: '' | size }}{{ properties.s | split: properties.nan | json }}",
    "{{ properties.len | round: properties.huge }}{{ properties.big | times: properties.big }}",
    "{{ properties.huge | plus: properties.umax | divided_by: properties.zero }}",
    "{{ properties.neg | modulo: properties.zero | abs | ceil | floor | round: -9223372036854775808 }}",
    "{{ properties.items[properties.len] }}{{ properties.items[properties.min] }}{{ properties.items[properties.nan] }}",
    "{{ properties.items[-9223372036854775808] }}{{ properties.items.size }}{{ properties.items.last }}",
    "{% assign r = (properties.min..properties.huge) %}{{ r | size }}",
    "{% if (1..properties.len) contains 5 %}y{% endif %}",
    "{% if properties.len > properties.huge and properties.nan < properties.neg %}y{% endif %}",
    "{{ 9223372036854775807 | plus: 9223372036854775807 }}{{ -9223372036854775808 | minus: 1 }}",
    "{{ 99999999999999999999 }}{{ 1e400 }}{{ 1.7976931348623157e308 | times: 10 }}",
    "{{ properties.s | json | json | size }}{{ properties.items | compact | first | last }}",
    "{{ properties.nan | default: properties.s | truncate: properties.huge }}",
]
for t in liquid:
    for payload in extreme_payloads[:2]:
        corpora["mapping"].add(dump({"v": {"@liquid": t}}) + SEP + payload)
replace_opts = [
    {"pattern": "a", "replacement": "$'"},
    {"pattern": "a", "replacement": "$`$&$'"},
    {"pattern": "A", "replacement": "$&$&$&", "ignorecase": True},
    {"pattern": "a", "replacement": "$$'", "global": False},
    {"pattern": "a", "replacement": "$'", "pattern2": "b", "replacement2": "$`"},
    {"pattern": "Σ", "replacement": "$'", "ignorecase": True},
]
for opts in replace_opts:
    for value in ["$.properties.s", "$.properties.sigma", "$.properties.len"]:
        m = {"v": {"@replace": dict(opts, value={"@path": value})}}
        corpora["mapping"].add(dump(m) + SEP + extreme_payloads[0])
for m in [
    {"v": {"@template": "{{properties.s}}" * 150}},
    {"v": {"@template": "{{{properties.s}}}{{properties.len}}{{properties.huge}}{{properties.neg}}"}},
    {"v": {"@json": {"mode": "encode", "value": [{"@path": "$.properties.s"}] * 100}}},
    {"v": {"@json": {"mode": "encode", "value": {"@path": "$.properties"}}}},
    {"v": {"@case": {"operator": "upper", "value": {"@path": "$.properties.sigma"}}}},
    {"v": {"@case": {"operator": "lower", "value": {"@liquid": "{{ properties.s | append: properties.sigma }}"}}}},
    {"v": {"@flatten": {"separator": {"@path": "$.properties.s"}, "value": {"@path": "$.properties"}}}},
    {"v": {"@merge": {"direction": "left", "objects": [{"@path": "$.properties.s"}, {"@path": "$.properties"}]}}},
    {"v": {"@arrayPath": ["$.properties.items", {"x": {"@template": "{{properties.s}}"}}]}},
    {"metric_value": {"@path": "$.properties.len"}, "timestamp": {"@path": "$.properties.huge"}},
]:
    for payload in extreme_payloads:
        corpora["mapping"].add(dump(m) + SEP + payload)

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
