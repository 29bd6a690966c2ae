#!/usr/bin/env python3
"""Extracts the request shapes tau's cloud providers send from each API's published schema.

Sources (pinned; only PyPI is needed):
  - botocore: AWS's service models (App Runner, ECS incl. Express Mode, Secrets Manager)
  - google-api-python-client: Google's discovery documents (Cloud Run v2, Secret Manager v1)
  - azure-mgmt-appcontainers 3.1.0: the generated msrest models of the Container Apps REST API
    at api-version 2024-03-01 (the version tau calls). The wheel ships no OpenAPI JSON; the
    models' `_attribute_map` / `_validation` and enums are generated from that OpenAPI spec.

Writes crates/tau-cloud/tests/schemas/*.json in one normalized form (see README.md there):
  {"source": {...}, "operations": {NAME: {"input": SHAPE, ...}}, "shapes": {NAME: SHAPE}}
Run: python3 scripts/dev/cloud-schemas.py  (downloads into a temp dir; output is deterministic)
"""

import ast
import gzip
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

PINS = {
    "botocore": "1.44.8",
    "google-api-python-client": "2.202.0",
    "azure-mgmt-appcontainers": "3.1.0",
}
ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates/tau-cloud/tests/schemas"


def download(tmp):
    wheels = {}
    for name, version in PINS.items():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
             "-d", str(tmp), f"{name}=={version}"],
            check=True,
        )
        prefix = name.replace("-", "_") + "-" + version
        wheels[name] = zipfile.ZipFile(next(tmp.glob(prefix + "-*.whl")))
    return wheels


def closure(roots, refs_of):
    """Every shape reachable from `roots` through `refs_of(name)`."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(refs_of(name))
    return seen


# ---------------------------------------------------------------- AWS (botocore service-2.json)

def botocore_shape(s):
    t = s["type"]
    out = {}
    if t == "structure":
        out = {"type": "structure", "members": {k: v["shape"] for k, v in s["members"].items()}}
        if s.get("required"):
            out["required"] = s["required"]
    elif t == "string":
        out = {"type": "string"}
        if "enum" in s:
            out["enum"] = s["enum"]
        if "pattern" in s:
            out["pattern"] = s["pattern"]
        if "min" in s:
            out["min_length"] = s["min"]
        if "max" in s:
            out["max_length"] = s["max"]
    elif t in ("integer", "long"):
        out = {"type": "integer"}
        for k in ("min", "max"):
            if k in s:
                out[k] = s[k]
    elif t in ("float", "double"):
        out = {"type": "number"}
    elif t == "boolean":
        out = {"type": "boolean"}
    elif t == "timestamp":
        out = {"type": "timestamp"}
    elif t == "list":
        out = {"type": "list", "member": s["member"]["shape"]}
        if "min" in s:
            out["min_items"] = s["min"]
        if "max" in s:
            out["max_items"] = s["max"]
    elif t == "map":
        out = {"type": "map", "key": s["key"]["shape"], "value": s["value"]["shape"]}
    else:
        out = {"type": "any"}
    return out


def botocore_refs(s):
    if s["type"] == "structure":
        return [m["shape"] for m in s["members"].values()]
    if s["type"] == "list":
        return [s["member"]["shape"]]
    if s["type"] == "map":
        return [s["key"]["shape"], s["value"]["shape"]]
    return []


def aws(wheel, service, api_version, operations):
    path = f"botocore/data/{service}/{api_version}/service-2.json.gz"
    model = json.loads(gzip.decompress(wheel.read(path)))
    shapes = model["shapes"]
    ops = {}
    for op in operations:
        o = model["operations"][op]
        ops[op] = {
            "input": o["input"]["shape"],
            "http": {"method": o["http"]["method"], "path": o["http"]["requestUri"]},
            "target": f'{model["metadata"]["targetPrefix"]}.{op}',
        }
    names = closure([o["input"] for o in ops.values()], lambda n: botocore_refs(shapes[n]))
    return {
        "source": {"package": "botocore", "version": PINS["botocore"], "file": path,
                   "api_version": model["metadata"]["apiVersion"], "protocol": model["metadata"]["protocol"]},
        "operations": ops,
        "shapes": {n: botocore_shape(shapes[n]) for n in sorted(names)},
    }


# ---------------------------------------------------------------- Google (discovery documents)

def discovery_shape(schemas, prop, path, extra):
    """A shape for a discovery property; nested anonymous objects get a synthesized name."""
    if "$ref" in prop:
        return prop["$ref"]
    t = prop.get("type")
    fmt = prop.get("format")
    if t == "string":
        shape = {"type": "int64" if fmt in ("int64", "uint64") else "string"}
        if "enum" in prop:
            shape["enum"] = prop["enum"]
    elif t == "integer":
        shape = {"type": "integer"}
    elif t == "number":
        shape = {"type": "number"}
    elif t == "boolean":
        shape = {"type": "boolean"}
    elif t == "array":
        shape = {"type": "list", "member": discovery_shape(schemas, prop["items"], path + ".items", extra)}
    elif t == "object" and "additionalProperties" in prop:
        shape = {"type": "map", "key": "_string",
                 "value": discovery_shape(schemas, prop["additionalProperties"], path + ".value", extra)}
    elif t == "object" and "properties" in prop:
        extra[path] = discovery_object(schemas, prop, path, extra)
        return path
    else:
        shape = {"type": "any"}
    name = path
    extra[name] = shape
    return name


def discovery_object(schemas, schema, name, extra):
    members, required, read_only = {}, [], []
    for field, prop in sorted(schema.get("properties", {}).items()):
        members[field] = discovery_shape(schemas, prop, f"{name}.{field}", extra)
        doc = prop.get("description", "")
        # Google's field_behavior annotations surface as these description prefixes.
        if doc.startswith("Required."):
            required.append(field)
        if prop.get("readOnly") or doc.startswith("Output only."):
            read_only.append(field)
    out = {"type": "structure", "members": members}
    if required:
        out["required"] = required
    if read_only:
        out["read_only"] = read_only
    return out


def google(wheel, doc_name, resource_path, methods):
    path = f"googleapiclient/discovery_cache/documents/{doc_name}"
    doc = json.loads(wheel.read(path))
    schemas = doc["schemas"]
    res = doc
    for part in resource_path:
        res = res["resources"][part]
    ops, roots = {}, []
    for m in methods:
        meth = res["methods"][m]
        op = {"http": {"method": meth["httpMethod"], "path": meth["path"]},
              "query": {k: {"type": v["type"]} for k, v in sorted(meth["parameters"].items())
                        if v["location"] == "query"},
              "path_params": sorted(k for k, v in meth["parameters"].items() if v["location"] == "path")}
        if "request" in meth:
            op["input"] = meth["request"]["$ref"]
            roots.append(op["input"])
        ops[meth["id"]] = op

    def refs(name):
        found = []

        def walk(p):
            if "$ref" in p:
                found.append(p["$ref"])
            for k in ("items", "additionalProperties"):
                if k in p:
                    walk(p[k])
            for q in p.get("properties", {}).values():
                walk(q)
        walk(schemas[name])
        return found

    shapes, extra = {"_string": {"type": "string"}}, {}
    for n in sorted(closure(roots, refs)):
        shapes[n] = discovery_object(schemas, schemas[n], n, extra)
    shapes.update(extra)
    return {
        "source": {"package": "google-api-python-client", "version": PINS["google-api-python-client"],
                   "file": path, "api_version": doc["version"], "revision": doc["revision"]},
        "operations": ops,
        "shapes": dict(sorted(shapes.items())),
    }


# ---------------------------------------------------------------- Azure (msrest generated models)

MSREST_SCALARS = {"str": "string", "int": "integer", "long": "integer", "float": "number",
                  "bool": "boolean", "iso-8601": "timestamp", "object": "any", "duration": "string"}


def azure(wheel):
    base = "azure/mgmt/appcontainers/"
    config = wheel.read(base + "_configuration.py").decode()
    api_version = re.search(r'kwargs.pop\("api_version", "([^"]+)"\)', config).group(1)
    models = ast.parse(wheel.read(base + "models/_models_py3.py").decode())
    enum_tree = ast.parse(wheel.read(base + "models/_container_apps_api_client_enums.py").decode())
    enums = {}
    for node in enum_tree.body:
        if isinstance(node, ast.ClassDef):
            enums[node.name] = [ast.literal_eval(s.value) for s in node.body
                                if isinstance(s, ast.Assign) and isinstance(s.value, ast.Constant)]
    classes = {}
    for node in models.body:
        if not isinstance(node, ast.ClassDef):
            continue
        c = {"bases": [ast.unparse(b) for b in node.bases], "_validation": {}, "_attribute_map": {}, "enums": {}}
        for st in node.body:
            if isinstance(st, ast.Assign) and isinstance(st.targets[0], ast.Name) \
                    and st.targets[0].id in ("_validation", "_attribute_map"):
                c[st.targets[0].id] = ast.literal_eval(st.value)
            if isinstance(st, ast.FunctionDef) and st.name == "__init__":
                for a in st.args.kwonlyargs:
                    hint = ast.unparse(a.annotation) if a.annotation else ""
                    m = re.search(r'_models\.(\w+)', hint)
                    if m and m.group(1) in enums:
                        c["enums"][a.arg] = m.group(1)
        classes[node.name] = c

    shapes = {}

    def type_ref(t):
        if t.startswith("[") and t.endswith("]"):
            name = f"[{t[1:-1]}]"
            shapes[name] = {"type": "list", "member": type_ref(t[1:-1])}
            return name
        if t.startswith("{") and t.endswith("}"):
            name = f"{{{t[1:-1]}}}"
            shapes[name] = {"type": "map", "key": "str", "value": type_ref(t[1:-1])}
            return name
        if t in MSREST_SCALARS:
            shapes.setdefault(t, {"type": MSREST_SCALARS[t]})
            return t
        model(t)
        return t

    def model(name):
        if name in shapes:
            return
        shapes[name] = None  # reserve against cycles
        c = classes[name]
        # Flattened members ("properties.environmentId") become nested structures.
        tree = {"members": {}, "required": [], "read_only": []}
        for attr, spec in c["_attribute_map"].items():
            keys = [k.replace("\\.", ".") for k in re.split(r"(?<!\\)\.", spec["key"])]
            node = tree
            for k in keys[:-1]:
                node = node["members"].setdefault(k, {"members": {}, "required": [], "read_only": []})
            leaf = keys[-1]
            v = c["_validation"].get(attr, {})
            ref = type_ref(spec["type"])
            if MSREST_SCALARS.get(ref) == "string" and (attr in c["enums"] or any(
                    k in v for k in ("pattern", "max_length", "min_length"))):
                ref = f"{name}.{'.'.join(keys)}"
                s = {"type": "string"}
                if attr in c["enums"]:
                    s["enum"] = enums[c["enums"][attr]]
                    s["enum_case_insensitive"] = True
                if "pattern" in v:
                    s["pattern"] = v["pattern"]
                if "max_length" in v:
                    s["max_length"] = v["max_length"]
                if "min_length" in v:
                    s["min_length"] = v["min_length"]
                shapes[ref] = s
            elif MSREST_SCALARS.get(ref) in ("integer", "number") and any(k in v for k in ("minimum", "maximum")):
                r = f"{name}.{'.'.join(keys)}"
                s = {"type": MSREST_SCALARS[ref]}
                if "minimum" in v:
                    s["min"] = v["minimum"]
                if "maximum" in v:
                    s["max"] = v["maximum"]
                shapes[r] = s
                ref = r
            node["members"][leaf] = ref
            if v.get("required"):
                node["required"].append(leaf)
            if v.get("readonly"):
                node["read_only"].append(leaf)

        def emit(shape_name, node):
            out = {"type": "structure", "members": {}}
            for k, v in node["members"].items():
                if isinstance(v, dict):
                    sub = f"{shape_name}.{k}"
                    emit(sub, v)
                    out["members"][k] = sub
                else:
                    out["members"][k] = v
            if node["required"]:
                out["required"] = node["required"]
            if node["read_only"]:
                out["read_only"] = node["read_only"]
            shapes[shape_name] = out
        emit(name, tree)

    model("ContainerApp")
    resource = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.App/containerApps/{containerAppName}"
    return {
        "source": {"package": "azure-mgmt-appcontainers", "version": PINS["azure-mgmt-appcontainers"],
                   "file": "azure/mgmt/appcontainers/models/_models_py3.py (msrest _attribute_map/_validation, generated from the Microsoft.App OpenAPI spec)",
                   "api_version": api_version},
        "operations": {
            "ContainerApps_CreateOrUpdate": {"input": "ContainerApp", "http": {"method": "PUT", "path": resource}},
            "ContainerApps_Get": {"http": {"method": "GET", "path": resource}},
            "ContainerApps_Delete": {"http": {"method": "DELETE", "path": resource}},
        },
        "shapes": dict(sorted(shapes.items())),
    }


def merged(first, second):
    """Two extractions from one document, as one file: operations and shapes side by side."""
    out = dict(first)
    out["operations"] = {**first["operations"], **second["operations"]}
    out["shapes"] = {**first["shapes"], **second["shapes"]}
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as t:
        w = download(pathlib.Path(t))
        files = {
            "aws-apprunner.json": aws(w["botocore"], "apprunner", "2020-05-15",
                                      ["CreateService", "UpdateService", "DescribeService", "DeleteService"]),
            "aws-ecs-express.json": aws(w["botocore"], "ecs", "2014-11-13",
                                        ["CreateExpressGatewayService", "UpdateExpressGatewayService",
                                         "DescribeExpressGatewayService", "DeleteExpressGatewayService"]),
            "aws-secretsmanager.json": aws(w["botocore"], "secretsmanager", "2017-10-17",
                                           ["CreateSecret", "PutSecretValue", "DeleteSecret",
                                            "GetSecretValue", "DescribeSecret"]),
            "gcp-run-v2.json": google(w["google-api-python-client"], "run.v2.json",
                                      ["projects", "locations", "services"], ["create", "patch", "get", "delete"]),
            "gcp-secretmanager-v1.json": merged(
                google(w["google-api-python-client"], "secretmanager.v1.json",
                       ["projects", "secrets"], ["create", "addVersion", "delete"]),
                google(w["google-api-python-client"], "secretmanager.v1.json",
                       ["projects", "secrets", "versions"], ["access", "get"])),
            "azure-containerapps.json": azure(w["azure-mgmt-appcontainers"]),
        }
    for name, doc in files.items():
        (OUT / name).write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
        print(f"{name}: {len(doc['operations'])} operations, {len(doc['shapes'])} shapes")


if __name__ == "__main__":
    main()
