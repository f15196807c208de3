#!/usr/bin/env python3
"""Dump what llama.cpp's gguf-py GGUFReader sees in GGUF files, as JSON.

Usage: PYTHONPATH=/path/to/llama.cpp/gguf-py python3 ggufpy_dump.py FILE... > ggufpy.json

For each file: every key with its value type (and element type for
arrays), array length and first elements; every tensor with its ggml type
code, dims (ne order, as stored), absolute data offset and byte size.
"""
import gzip
import json
import os
import sys
import tempfile

import numpy as np
from gguf import GGUFReader, GGUFValueType


def plain(x):
    if isinstance(x, (bytes, bytearray, memoryview)):
        return bytes(x).decode("utf-8", "surrogateescape")
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, list):
        return [plain(e) for e in x]
    return x


def dump(path):
    src = path
    if path.endswith(".gz"):
        tmp = tempfile.NamedTemporaryFile(delete=False, suffix=".gguf")
        tmp.write(gzip.open(path).read())
        tmp.close()
        src = tmp.name
    r = GGUFReader(src)
    kvs = []
    for name, f in r.fields.items():
        if name.startswith("GGUF."):
            continue
        e = {"key": name, "type": f.types[0].name}
        v = plain(f.contents())
        if f.types[0] == GGUFValueType.ARRAY:
            e["elem"] = f.types[-1].name if len(f.types) > 1 else None
            e["nested"] = len(f.types) > 2
            e["length"] = len(v)
            e["first"] = v[:8]
        else:
            e["value"] = v
        kvs.append(e)
    tensors = [
        {"name": t.name, "type": int(t.tensor_type), "dims": [int(d) for d in t.shape],
         "offset": int(t.data_offset), "bytes": int(t.n_bytes)}
        for t in r.tensors
    ]
    if src != path:
        os.unlink(src)
    return {"kv": kvs, "tensors": tensors}


print(json.dumps({os.path.basename(p): dump(p) for p in sys.argv[1:]}, indent=1, ensure_ascii=False))
