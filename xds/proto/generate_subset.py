#!/usr/bin/env python3
"""Generates weir's trimmed, wire-compatible subset of Envoy's v3 API from the field tables in
envoy-compat.md (which were themselves printed from the compiled descriptors of
envoyproxy/data-plane-api; see that document's section 0). Nothing in the .proto files is typed by
hand: package, message and enum names, field numbers, labels, oneofs and wrapper types come from
the tables. A field whose type is not in the tables is left out: it then parses as an unknown field
(binary xDS keeps it as such; YAML/JSON bootstrap reports it with its path).

Usage: xds/proto/generate_subset.py <envoy-compat.md> <output dir>
The generated files are committed; rerun only when the reference tables change.
"""
import collections
import os
import re
import sys

SCALARS = {"double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64",
           "fixed32", "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes"}
WELL_KNOWN = {
    "google.protobuf.Any": "google/protobuf/any.proto",
    "google.protobuf.Duration": "google/protobuf/duration.proto",
    "google.protobuf.Timestamp": "google/protobuf/timestamp.proto",
    "google.protobuf.Struct": "google/protobuf/struct.proto",
    "google.protobuf.Value": "google/protobuf/struct.proto",
    "google.protobuf.ListValue": "google/protobuf/struct.proto",
    "google.protobuf.Empty": "google/protobuf/empty.proto",
}
for w in ("UInt32Value", "UInt64Value", "Int32Value", "Int64Value", "BoolValue", "DoubleValue",
          "FloatValue", "StringValue", "BytesValue"):
    WELL_KNOWN["google.protobuf." + w] = "google/protobuf/wrappers.proto"

# The gRPC services are not in the tables (they are RPC definitions, not messages); their names
# and paths are in envoy-compat.md section 1.13.
SERVICES = {
    "envoy/service/discovery/v3/ads.proto": (
        "envoy.service.discovery.v3",
        ["envoy/service/discovery/v3/discovery.proto"],
        """service AggregatedDiscoveryService {
  rpc StreamAggregatedResources(stream DiscoveryRequest) returns (stream DiscoveryResponse);
  rpc DeltaAggregatedResources(stream DeltaDiscoveryRequest)
      returns (stream DeltaDiscoveryResponse);
}
"""),
}


# Messages and fields beyond the reference tables, typed from envoyproxy/data-plane-api
# (envoy/config/listener/v3/api_listener.proto; listener.proto: `ApiListener api_listener = 19`).
# gRPC's own xDS client needs them: it reads its routes from a Listener's api_listener.
EXTRA_MESSAGES = {
    "envoy.config.listener.v3.ApiListener": {
        "file": "envoy/config/listener/v3/api_listener.proto",
        "fields": [{"number": 1, "name": "api_listener", "type": "google.protobuf.Any",
                    "oneof": "", "deprecated": False}],
    },
}
EXTRA_FIELDS = {
    "envoy.config.listener.v3.Listener": [
        {"number": 19, "name": "api_listener", "type": "envoy.config.listener.v3.ApiListener",
         "oneof": "", "deprecated": False},
    ],
}


def parse(path):
    messages = collections.OrderedDict()
    enums = collections.OrderedDict()
    current = None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"^\*\*`([\w.]+)`\*\* — `([\w/.]+)`", line)
        if m:
            current = m.group(1)
            messages[current] = {"file": m.group(2), "fields": []}
            continue
        m = re.match(r"^\*\*enum `([\w.]+)`\*\* \(`([\w/.]+)`\): (.*)$", line)
        if m:
            enums[m.group(1)] = {"file": m.group(2),
                                 "values": re.findall(r"`(\w+)`=(\d+)", m.group(3))}
            current = None
            continue
        if current and line.startswith("| ") and not line.startswith("| #"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            number, name, type_, oneof, notes = cells[:5]
            messages[current]["fields"].append({
                "number": int(number), "name": name.strip("`"), "type": type_.strip("`"),
                "oneof": oneof.strip("`"), "deprecated": "deprecated" in notes})
        elif current and line.startswith("**"):
            current = None
    return messages, enums


def package_of(file):
    return ".".join(os.path.dirname(file).split("/"))


def base_type(type_):
    type_ = re.sub(r"^repeated ", "", type_)
    m = re.match(r"map<(\w+), ([\w.]+)>", type_)
    return m.group(2) if m else type_


def main():
    reference, out_dir = sys.argv[1], sys.argv[2]
    messages, enums = parse(reference)
    messages.update(EXTRA_MESSAGES)
    for name, fields in EXTRA_FIELDS.items():
        messages[name]["fields"] = sorted(messages[name]["fields"] + fields,
                                          key=lambda f: f["number"])
    defined = {**{k: v["file"] for k, v in messages.items()},
               **{k: v["file"] for k, v in enums.items()}}

    def known(t):
        return t in SCALARS or t in WELL_KNOWN or t in defined

    # Group top-level and nested definitions by file.
    files = collections.defaultdict(lambda: {"messages": [], "enums": []})
    for name, m in messages.items():
        files[m["file"]]["messages"].append(name)
    for name, e in enums.items():
        files[e["file"]]["enums"].append(name)

    written = []
    for file, contents in sorted(files.items()):
        package = package_of(file)
        names = set(contents["messages"]) | set(contents["enums"])

        def parent(name):
            p = name.rsplit(".", 1)[0]
            return p if p in messages and messages[p]["file"] == file else None

        imports = set()
        dropped = []
        for name in contents["messages"]:
            for f in messages[name]["fields"]:
                t = base_type(f["type"])
                if not known(t):
                    dropped.append(f"{name}.{f['name']} ({t})")
                    continue
                if t in WELL_KNOWN:
                    imports.add(WELL_KNOWN[t])
                elif t in defined and defined[t] != file:
                    imports.add(defined[t])

        def field_type(type_):
            repeated = type_.startswith("repeated ")
            t = base_type(type_)
            ref = t if t in SCALARS else "." + t
            m = re.match(r"map<(\w+), ([\w.]+)>", type_)
            if m:
                return f"map<{m.group(1)}, {ref}>"
            return ("repeated " if repeated else "") + ref

        def emit_enum(name, indent):
            short = name.rsplit(".", 1)[1]
            lines = [f"{indent}enum {short} {{"]
            for value, number in enums[name]["values"]:
                lines.append(f"{indent}  {value} = {number};")
            lines.append(f"{indent}}}")
            return lines

        def emit_message(name, indent):
            short = name.rsplit(".", 1)[1]
            lines = [f"{indent}message {short} {{"]
            for child in contents["enums"]:
                if child.rsplit(".", 1)[0] == name:
                    lines += emit_enum(child, indent + "  ")
            for child in contents["messages"]:
                if parent(child) == name:
                    lines += emit_message(child, indent + "  ")
            oneofs = collections.OrderedDict()
            for f in messages[name]["fields"]:
                if not known(base_type(f["type"])):
                    continue
                # The deprecated option lets the bootstrap reader warn as Envoy does.
                deprecated = " [deprecated = true]" if f["deprecated"] else ""
                decl = f"{field_type(f['type'])} {f['name']} = {f['number']}{deprecated};"
                if f["oneof"]:
                    oneofs.setdefault(f["oneof"], []).append(decl)
                    if len(oneofs[f["oneof"]]) == 1:
                        lines.append(("ONEOF", f["oneof"]))
                else:
                    lines.append(f"{indent}  {decl}")
            out = []
            for line in lines:
                if isinstance(line, tuple):
                    out.append(f"{indent}  oneof {line[1]} {{")
                    out += [f"{indent}    {d}" for d in oneofs[line[1]]]
                    out.append(f"{indent}  }}")
                else:
                    out.append(line)
            out.append(f"{indent}}}")
            return out

        body = []
        for name in contents["enums"]:
            if name.rsplit(".", 1)[0] == package:
                body += emit_enum(name, "") + [""]
        for name in contents["messages"]:
            if parent(name) is None:
                body += emit_message(name, "") + [""]

        header = [
            "// GENERATED by xds/proto/generate_subset.py from the Envoy v3 field tables in",
            "// envoy-compat.md. Do not edit: names, numbers and types must stay wire-compatible.",
        ]
        if dropped:
            header.append("// Fields left out (their types are outside weir's subset):")
            header += [f"//   {d}" for d in dropped]
        text = "\n".join(header + ["", 'syntax = "proto3";', "", f"package {package};", ""] +
                         [f'import "{i}";' for i in sorted(imports)] + [""] + body)
        path = os.path.join(out_dir, file)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as out:
            out.write(text.rstrip("\n") + "\n")
        written.append(file)

    for file, (package, deps, body) in SERVICES.items():
        text = "\n".join([
            "// GENERATED by xds/proto/generate_subset.py (services: envoy-compat.md section 1.13).",
            "", 'syntax = "proto3";', "", f"package {package};", ""] +
            [f'import "{d}";' for d in deps] + ["", body])
        path = os.path.join(out_dir, file)
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
        written.append(file)

    # The field table the wire-compatibility test compares the compiled descriptors with.
    with open(os.path.join(out_dir, "envoy_fields.tsv"), "w", encoding="utf-8") as out:
        out.write("message\tfield\tnumber\ttype\toneof\n")
        for name, m in messages.items():
            for f in m["fields"]:
                if known(base_type(f["type"])):
                    out.write(f"{name}\t{f['name']}\t{f['number']}\t{f['type']}\t{f['oneof']}\n")
    print("\n".join(sorted(written)))


if __name__ == "__main__":
    main()
