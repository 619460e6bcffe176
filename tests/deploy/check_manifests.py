#!/usr/bin/env python3
"""Checks Kubernetes manifests against the vendored schemas in tests/deploy/schemas/ and against
each other (selectors, ports and names that must agree).

  check_manifests.py DIR                 every *.yaml in DIR must pass
  check_manifests.py --expect-fail F...  every file F must be refused (each holds one mistake)

Schemas are JSON Schema (draft 7) in YAML; 'common.yaml#/definitions/X' refers to
schemas/common.yaml and is inlined here, so any jsonschema version (Debian's python3-jsonschema)
resolves it. Exit status 0 on success, 1 with the problems printed.
"""
import copy
import os
import sys

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "schemas")
# (apiVersion, kind) -> schema file
KINDS = {
    ("apps/v1", "Deployment"): "deployment.yaml",
    ("v1", "Service"): "service.yaml",
    ("inference.networking.k8s.io/v1", "InferencePool"): "inferencepool.yaml",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "httproute.yaml",
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.yaml",
}


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def inline_common(node):
    if isinstance(node, dict):
        return {k: ("#/definitions/" + v.split("#/definitions/", 1)[1]
                    if k == "$ref" and isinstance(v, str) and v.startswith("common.yaml#") else inline_common(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [inline_common(v) for v in node]
    return node


def load_schema(name):
    common = load_yaml(os.path.join(SCHEMAS, "common.yaml"))
    schema = inline_common(load_yaml(os.path.join(SCHEMAS, name)))
    defs = copy.deepcopy(common["definitions"])
    for k in defs:
        assert k not in schema.get("definitions", {}), "definition %s in both %s and common.yaml" % (k, name)
    defs.update(schema.get("definitions", {}))
    schema["definitions"] = defs
    schema.pop("$id", None)
    jsonschema.Draft7Validator.check_schema(schema)
    return schema


def documents(path):
    with open(path, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if doc is not None:
                yield doc


def schema_errors(doc, where):
    if not isinstance(doc, dict):
        return ["%s: not a mapping" % where]
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in KINDS:
        return ["%s: no schema for apiVersion %r kind %r" % (where, key[0], key[1])]
    v = jsonschema.Draft7Validator(load_schema(KINDS[key]))
    return ["%s: %s at %s: %s" % (where, key[1], "/".join(str(p) for p in e.absolute_path) or "(root)", e.message)
            for e in sorted(v.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def cross_errors(docs):
    """The manifests as one application: what refers to what must exist and agree."""
    errs = []
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    deployments = by_kind.get("Deployment", [])
    services = by_kind.get("Service", [])
    pools = by_kind.get("InferencePool", [])

    def pods():
        for d in deployments:
            t = d["spec"]["template"]
            yield d, t.get("metadata", {}).get("labels", {}), t["spec"]["containers"]

    for d, labels, containers in pods():
        if not matches(d["spec"]["selector"].get("matchLabels", {}), labels):
            errs.append("Deployment %s: selector does not match its pod labels" % d["metadata"]["name"])
        for c in containers:
            ready = c.get("readinessProbe", {}).get("httpGet", {})
            if ready.get("path") != "/health":
                errs.append("Deployment %s: readiness probe is not GET /health" % d["metadata"]["name"])
            names = {p.get("name") for p in c.get("ports", [])}
            for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                port = c.get(probe, {}).get("httpGet", {}).get("port")
                if isinstance(port, str) and port not in names:
                    errs.append("Deployment %s: %s port %r is not a container port" % (d["metadata"]["name"], probe, port))
    container_ports = {p["containerPort"] for _, _, cs in pods() for c in cs for p in c.get("ports", [])}
    port_names = {p.get("name") for _, _, cs in pods() for c in cs for p in c.get("ports", [])}
    for s in services:
        if not any(matches(s["spec"].get("selector", {}), labels) for _, labels, _ in pods()):
            errs.append("Service %s: selector matches no Deployment's pods" % s["metadata"]["name"])
        for p in s["spec"].get("ports", []):
            t = p.get("targetPort", p["port"])
            if (isinstance(t, str) and t not in port_names) or (isinstance(t, int) and t not in container_ports):
                errs.append("Service %s: targetPort %r is no container port" % (s["metadata"]["name"], t))
    for p in pools:
        if not any(matches(p["spec"]["selector"]["matchLabels"], labels) for _, labels, _ in pods()):
            errs.append("InferencePool %s: selector matches no Deployment's pods" % p["metadata"]["name"])
        for t in p["spec"]["targetPorts"]:
            if t["number"] not in container_ports:
                errs.append("InferencePool %s: target port %d is no container port" % (p["metadata"]["name"], t["number"]))
    pool_names = {p["metadata"]["name"] for p in pools}
    for r in by_kind.get("HTTPRoute", []):
        for rule in r["spec"].get("rules", []):
            for b in rule.get("backendRefs", []):
                if b.get("kind") == "InferencePool" and b["name"] not in pool_names:
                    errs.append("HTTPRoute %s: backend InferencePool %r is not defined" % (r["metadata"]["name"], b["name"]))
    for m in by_kind.get("ServiceMonitor", []):
        sel = m["spec"]["selector"].get("matchLabels", {})
        targets = [s for s in services if matches(sel, s["metadata"].get("labels", {}))]
        if not targets:
            errs.append("ServiceMonitor %s: selector matches no Service's labels" % m["metadata"]["name"])
        svc_ports = {p.get("name") for s in targets for p in s["spec"].get("ports", [])}
        for e in m["spec"]["endpoints"]:
            if "port" in e and e["port"] not in svc_ports:
                errs.append("ServiceMonitor %s: port %r is no named Service port" % (m["metadata"]["name"], e["port"]))
    return errs


def check_files(paths):
    docs, errs = [], []
    for path in paths:
        try:
            for i, doc in enumerate(documents(path)):
                where = "%s[%d]" % (os.path.basename(path), i)
                e = schema_errors(doc, where)
                errs += e
                if not e:
                    docs.append(doc)
        except yaml.YAMLError as ex:
            errs.append("%s: %s" % (path, ex))
    if not errs:
        errs = cross_errors(docs)
    return errs, len(docs)


def main(argv):
    if len(argv) >= 2 and argv[0] == "--expect-fail":
        ok = True
        for path in argv[1:]:
            errs, _ = check_files([path])
            if errs:
                print("refused as expected: %s\n  %s" % (os.path.basename(path), errs[0]))
            else:
                print("NOT refused: %s" % path)
                ok = False
        return 0 if ok else 1
    if len(argv) != 1:
        print(__doc__)
        return 2
    paths = sorted(os.path.join(argv[0], f) for f in os.listdir(argv[0]) if f.endswith(".yaml"))
    errs, n = check_files(paths)
    for e in errs:
        print(e)
    if errs:
        return 1
    print("%d manifests in %d files valid" % (n, len(paths)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
