#!/usr/bin/env python3
"""Generates `src/generated.rs`, the schema tables the protobuf decoder walks.

The Kubernetes protobuf encoding is driven by two sources that both live in the
published API packages:

* `generated.proto` gives every message, its field numbers and wire types;
* the Go `types.go` files give the JSON side: the JSON name, whether the field is
  a pointer (a zero value on the wire is then meaningful), `omitempty`, and
  whether an embedded struct is inlined into its parent's JSON object.

Both are joined on (package, message, field number) and written out as static
Rust tables. Run it with checkouts of k8s.io/api and k8s.io/apimachinery:

    python3 tools/gen_schema.py --api PATH/TO/api --apimachinery PATH/TO/apimachinery \
        --api-rev REV --apimachinery-rev REV > src/generated.rs

Only the standard library is used.
"""

import argparse
import os
import re
import sys

SCALARS = {
    "string": "Str",
    "bytes": "Bytes",
    "bool": "Bool",
    "int32": "I32",
    "int64": "I64",
    "uint32": "U32",
    "uint64": "U64",
    "float": "F32",
    "double": "F64",
}

META = "k8s.io.apimachinery.pkg.apis.meta.v1."
SPECIALS = {
    META + "Time": "Time",
    META + "MicroTime": "MicroTime",
    META + "Duration": "Duration",
    META + "FieldsV1": "RawJson",
    "k8s.io.apimachinery.pkg.runtime.RawExtension": "RawJson",
    "k8s.io.apimachinery.pkg.api.resource.Quantity": "Quantity",
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
}

FIELD_RE = re.compile(r"^\s+(optional|repeated) ([.A-Za-z0-9_]+) ([A-Za-z0-9_]+) = ([0-9]+);$")
MAP_RE = re.compile(r"^\s+map<([A-Za-z0-9_.]+), ?([.A-Za-z0-9_]+)> ([A-Za-z0-9_]+) = ([0-9]+);$")
MESSAGE_RE = re.compile(r"^message ([A-Za-z0-9_]+) \{$")
PACKAGE_RE = re.compile(r"^package ([a-z0-9.]+);$")


def fail(msg):
    print("gen_schema: " + msg, file=sys.stderr)
    sys.exit(1)


def find_protos(root):
    out = []
    for dirpath, _dirs, files in os.walk(root):
        if "generated.proto" in files and "testapigroup" not in dirpath:
            out.append(os.path.join(dirpath, "generated.proto"))
    return sorted(out)


def parse_proto(path):
    """Returns (package, {message: [(label, type, name, tag)]})."""
    package = None
    messages = {}
    current = None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip() or line.strip().startswith("//"):
                continue
            m = PACKAGE_RE.match(line)
            if m:
                package = m.group(1)
                continue
            m = MESSAGE_RE.match(line)
            if m:
                current = m.group(1)
                messages[current] = []
                continue
            if line == "}":
                current = None
                continue
            m = FIELD_RE.match(line)
            if m and current is not None:
                messages[current].append((m.group(1), m.group(2), m.group(3), int(m.group(4))))
                continue
            m = MAP_RE.match(line)
            if m and current is not None:
                if m.group(1) != "string":
                    fail(f"{path}: map key {m.group(1)} is not a string")
                messages[current].append(("map", m.group(2), m.group(3), int(m.group(4))))
                continue
    if package is None:
        fail(f"{path}: no package line")
    return package, messages


def parse_go_dir(dirpath):
    """Returns ({struct: {tag: info}}, kinds, list_wrappers, group) for one Go package."""
    structs = {}
    kinds = set()
    wrappers = set()
    group = None
    for name in sorted(os.listdir(dirpath)):
        if not name.endswith(".go") or name.endswith("_test.go"):
            continue
        if name.startswith("zz_generated") or name.startswith("generated.") or "swagger_doc" in name:
            continue
        current = None
        with open(os.path.join(dirpath, name), encoding="utf-8") as fh:
            for line in fh:
                line = line.rstrip("\n")
                m = re.match(r'^const GroupName = "([^"]*)"', line)
                if m:
                    group = m.group(1)
                m = re.match(r"^type (\w+) \[\](\w+)\s*$", line)
                if m:
                    wrappers.add(m.group(1))
                m = re.match(r"^type (\w+) struct \{", line)
                if m:
                    current = m.group(1)
                    structs.setdefault(current, {})
                    continue
                if line.startswith("}"):
                    current = None
                    continue
                if current is None or "`" not in line or line.strip().startswith("//"):
                    continue
                head, tag = line.split("`", 1)
                tag = tag.rsplit("`", 1)[0]
                tokens = head.split()
                if len(tokens) == 1:
                    embedded, field_name, go_type = True, None, tokens[0]
                elif len(tokens) == 2:
                    embedded, field_name, go_type = False, tokens[0], tokens[1]
                else:
                    continue
                json_m = re.search(r'json:"([^"]*)"', tag)
                json_name, json_opts = "", []
                if json_m:
                    parts = json_m.group(1).split(",")
                    json_name, json_opts = parts[0], parts[1:]
                if embedded and go_type in ("metav1.TypeMeta", "TypeMeta", "runtime.TypeMeta"):
                    if json_name == "":
                        kinds.add(current)
                    continue
                pb = re.search(r'protobuf:"([^"]*)"', tag)
                if not pb or pb.group(1) == "-":
                    continue
                pb_parts = pb.group(1).split(",")
                try:
                    number = int(pb_parts[1])
                except (IndexError, ValueError):
                    fail(f"{dirpath}/{name}: bad protobuf tag in {line!r}")
                pb_name = ""
                for part in pb_parts:
                    if part.startswith("name="):
                        pb_name = part[5:]
                inline = embedded and (json_name == "" or "inline" in json_opts) and json_name != "-"
                if not embedded and json_name == "" and not json_m:
                    json_name = field_name
                structs[current][number] = {
                    "json": json_name if json_name and json_name != "-" else pb_name,
                    "pointer": go_type.startswith("*"),
                    "omitempty": "omitempty" in json_opts,
                    "inline": inline,
                    "pb_name": pb_name,
                }
    return structs, kinds, wrappers, group


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--api", required=True)
    ap.add_argument("--apimachinery", required=True)
    ap.add_argument("--api-rev", default="unknown")
    ap.add_argument("--apimachinery-rev", default="unknown")
    args = ap.parse_args()

    packages = []  # (package, go_dir, messages)
    for root in (args.api, os.path.join(args.apimachinery, "pkg")):
        for proto in find_protos(root):
            package, messages = parse_proto(proto)
            packages.append((package, os.path.dirname(proto), messages))

    all_messages = {}
    for package, _dir, messages in packages:
        for name, fields in messages.items():
            all_messages[package + "." + name] = (package, fields)
    names = sorted(all_messages)
    index = {n: i for i, n in enumerate(names)}
    if len(names) > 65535:
        fail("too many messages for u16 indices")

    go_info = {}
    kinds = []  # (api_version, kind, full message name)
    wrappers = set()
    for package, go_dir, messages in packages:
        structs, pkg_kinds, pkg_wrappers, group = parse_go_dir(go_dir)
        for name in messages:
            go_info[package + "." + name] = structs.get(name)
        for w in pkg_wrappers:
            if w in messages:
                wrappers.add(package + "." + w)
        if group is None:
            continue
        version = os.path.basename(go_dir)
        api_version = f"{group}/{version}" if group else version
        for kind in pkg_kinds:
            if kind in messages:
                kinds.append((api_version, kind, package + "." + kind))

    def resolve(package, ty):
        if ty in SCALARS:
            return SCALARS[ty]
        full = ty[1:] if ty.startswith(".") else package + "." + ty
        if full not in index:
            fail(f"unknown message type {ty} in {package}")
        return f"Msg({index[full]})"

    out = []
    w = out.append
    w("// @generated by tools/gen_schema.py; do not edit by hand.")
    w(f"// Sources: k8s.io/api {args.api_rev}, k8s.io/apimachinery {args.apimachinery_rev}.")
    w("//! Static schema tables: every Kubernetes protobuf message with its fields' numbers,")
    w("//! wire types and JSON names, generated from the published API definitions.")
    w("")
    w("use crate::schema::Special::*;")
    w("use crate::schema::Ty::*;")
    w("use crate::schema::{INLINE, Kind, MessageSchema, OMITEMPTY, POINTER, REPEATED, f};")
    w("")
    w("/// All known messages, sorted by full protobuf name.")
    w("pub(crate) static MESSAGES: &[MessageSchema] = &[")
    mismatches = []
    for i, full in enumerate(names):
        package, fields = all_messages[full]
        special = SPECIALS.get(full)
        if special is None and full in wrappers:
            if [f[2] for f in fields] != ["items"]:
                fail(f"list wrapper {full} does not have a single items field")
            special = "List"
        special = special or "Plain"
        info = go_info.get(full)
        if info is None:
            if special == "Plain":
                mismatches.append(f"{full}: no Go struct found; protobuf names used")
            info = {}
        rows = []
        for label, ty, name, tag in fields:
            gi = info.get(tag)
            json_name = name
            flags = []
            if gi is None and info and special == "Plain":
                mismatches.append(f"{full}.{name}: no Go field with protobuf tag {tag}; protobuf name used")
            if gi is not None:
                if gi["inline"]:
                    flags.append("INLINE")
                else:
                    if gi["json"] != name:
                        mismatches.append(f"{full}.{name}: JSON name is {gi['json']}")
                    json_name = gi["json"]
                if gi["pointer"]:
                    flags.append("POINTER")
                if gi["omitempty"]:
                    flags.append("OMITEMPTY")
            if label == "repeated":
                flags.append("REPEATED")
            if label == "map":
                rust_ty = f"Map(&{resolve(package, ty)})"
            else:
                rust_ty = resolve(package, ty)
            rows.append(f"f({tag}, {rust_str(json_name)}, {rust_ty}, {'|'.join(flags) or '0'})")
        body = ", ".join(rows)
        w(f"    MessageSchema {{ name: {rust_str(full)}, special: {special}, fields: &[{body}] }}, // {i}")
    w("];")
    w("")
    # WatchEvent has no TypeMeta of its own but is registered as a kind in every group version.
    kinds.append(("meta.k8s.io/v1", "WatchEvent", META + "WatchEvent"))
    kinds.sort()
    w("/// Top-level kinds (types that embed TypeMeta), sorted by (apiVersion, kind).")
    w("pub(crate) static KINDS: &[Kind] = &[")
    for api_version, kind, full in kinds:
        w(f"    Kind {{ api_version: {rust_str(api_version)}, kind: {rust_str(kind)}, message: {index[full]} }},")
    w("];")
    for m in mismatches:
        print("gen_schema: note: " + m, file=sys.stderr)
    print("\n".join(out))


if __name__ == "__main__":
    main()
