#!/usr/bin/python3
"""Independent reader for a safetensors file written by latflow (tests/nn/safetensors.c).

Usage: read_safetensors.py FILE EXPECTED.json
Parses the header with json and the data with numpy (no latflow code), and compares
every tensor with the values listed in EXPECTED.json ({"name": {"shape": [...],
"values": [...]}, "__metadata__": {...}}). Exit 0 if all agree exactly, 1 otherwise,
77 if numpy is missing (the caller reports a skip).
"""
import json
import struct
import sys

try:
    import numpy as np
except ImportError:
    print("numpy not available")
    sys.exit(77)


def main():
    path, exp_path = sys.argv[1], sys.argv[2]
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert 8 + n <= len(raw), "header length beyond file"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    expected = json.load(open(exp_path))
    ok = True
    meta = header.pop("__metadata__", {})
    for k, v in expected.pop("__metadata__", {}).items():
        if meta.get(k) != v:
            print(f"metadata {k}: got {meta.get(k)!r} want {v!r}")
            ok = False
    if set(header) != set(expected):
        print("tensor names differ:", sorted(header), sorted(expected))
        return 1
    end = 0
    for name, info in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        a, b = info["data_offsets"]
        if info["dtype"] != "F64" or a != end:
            print(f"{name}: dtype {info['dtype']} offsets {a},{b} (expected F64 from {end})")
            ok = False
        end = b
        arr = np.frombuffer(data[a:b], dtype="<f8").reshape(info["shape"])
        want = np.array(expected[name]["values"], dtype=np.float64).reshape(expected[name]["shape"])
        if arr.shape != want.shape or not np.array_equal(arr, want):
            print(f"{name}: values or shape differ {arr.shape} vs {want.shape}")
            ok = False
        else:
            print(f"ok {name} shape {list(arr.shape)} sum {arr.sum():.17g}")
    if end != len(data):
        print(f"data section has {len(data)} bytes, tensors cover {end}")
        ok = False
    return 0 if ok else 1


sys.exit(main())
