#!/usr/bin/env python3
"""Writes the GGUF target's seed corpus (fuzz/corpus/gguf/): small, valid GGUF files.

Each seed keeps the real metadata of a shared test model or vocabulary (its tokenizer arrays
included, so Tokenizer::from_gguf runs on real data) but replaces the tensors with a few tiny
ones of assorted types, so no seed is more than a few tens of KiB. Plus hand-made files that use
every metadata type, nested arrays and a v2 header. Run from the repository root:
    python3 fuzz/make_gguf_seeds.py [SHARED_DIR]
"""
import os
import struct
import sys

SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared")
OUT = os.path.join("fuzz", "corpus", "gguf")

SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


def read_str(b, o):
    n = struct.unpack_from("<Q", b, o)[0]
    return b[o + 8:o + 8 + n], o + 8 + n


def read_val(b, o, t):
    if t in SCALAR:
        fmt = SCALAR[t]
        return struct.unpack_from(fmt, b, o)[0], o + struct.calcsize(fmt)
    if t == 8:
        return read_str(b, o)
    if t == 9:
        et, n = struct.unpack_from("<IQ", b, o)
        o += 12
        items = []
        for _ in range(n):
            v, o = read_val(b, o, et)
            items.append(v)
        return (et, items), o
    raise ValueError(f"value type {t}")


def read_metadata(path):
    with open(path, "rb") as f:
        b = f.read(16 << 20)  # metadata of every shared file fits well inside 16 MiB
    magic, version, n_tensors, n_kv = struct.unpack_from("<IIQQ", b, 0)
    assert magic == 0x46554747, path
    o = 24
    kv = []
    for _ in range(n_kv):
        k, o = read_str(b, o)
        t = struct.unpack_from("<I", b, o)[0]
        v, o = read_val(b, o + 4, t)
        kv.append((k, t, v))
    return kv


def w_str(s):
    if isinstance(s, str):
        s = s.encode()
    return struct.pack("<Q", len(s)) + s


def w_val(t, v):
    if t in SCALAR:
        return struct.pack(SCALAR[t], v)
    if t == 8:
        return w_str(v)
    et, items = v
    return struct.pack("<IQ", et, len(items)) + b"".join(w_val(et, x) for x in items)


# Tiny tensors: (name, ggml type, ne, bytes).
TENSORS = [
    ("token_embd.weight", 0, [4, 2], bytes(32)),          # F32 4x2
    ("output_norm.weight", 1, [8], bytes(16)),            # F16 8
    ("blk.0.attn_q.weight", 8, [32, 1], bytes(34)),       # Q8_0: one block of 32
    ("blk.0.ffn_up.weight", 12, [256, 1], bytes(144)),    # Q4_K: one super-block of 256
]


def write_gguf(path, kv, tensors=TENSORS, version=3, alignment=32):
    head = struct.pack("<IIQQ", 0x46554747, version, len(tensors), len(kv))
    head += b"".join(w_str(k) + struct.pack("<I", t) + w_val(t, v) for k, t, v in kv)
    data = b""
    infos = b""
    for name, typ, ne, raw in tensors:
        pad = (-len(data)) % alignment
        data += bytes(pad)
        infos += w_str(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        infos += struct.pack("<IQ", typ, len(data))
        data += raw
    blob = head + infos
    blob += bytes((-len(blob)) % alignment)
    with open(path, "wb") as f:
        f.write(blob + data)


def main():
    os.makedirs(OUT, exist_ok=True)
    for rel in ["models/stories260K.gguf", "vocab/ggml-vocab-syn-gptoss.gguf", "vocab/ggml-vocab-syn-qwen3.gguf",
                "vocab/ggml-vocab-syn-gemma3.gguf", "vocab/ggml-vocab-syn-phi3.gguf",
                "vocab/ggml-vocab-syn-nomic-bert.gguf", "models/synthetic/syn-llama-q4_k_m.gguf"]:
        kv = read_metadata(os.path.join(SHARED, rel))
        name = os.path.basename(rel).replace(".gguf", "")
        # Big vocabularies are cut to their first 300 tokens (scores/types/merges alike).
        cut = []
        for k, t, v in kv:
            if t == 9 and len(v[1]) > 300:
                v = (v[0], v[1][:300])
            cut.append((k, t, v))
        write_gguf(os.path.join(OUT, name + ".gguf"), cut)
    every = [
        (b"general.architecture", 8, "llama"), (b"u8", 0, 255), (b"i8", 1, -1), (b"u16", 2, 65535), (b"i16", 3, -2),
        (b"u32", 4, 7), (b"i32", 5, -3), (b"f32", 6, 1.5), (b"bool", 7, True), (b"u64", 10, 1 << 40),
        (b"i64", 11, -(1 << 40)), (b"f64", 12, 2.25), (b"general.alignment", 4, 64),
        (b"arr.nested", 9, (9, [(4, [1, 2]), (8, [b"a", b"b"])])), (b"arr.f32", 9, (6, [0.5, -1.0])),
        (b"general.file_type", 4, 15),
    ]
    write_gguf(os.path.join(OUT, "every_type.gguf"), every, alignment=64)
    write_gguf(os.path.join(OUT, "v2_empty.gguf"), [], tensors=[], version=2)
    write_gguf(os.path.join(OUT, "no_tensors.gguf"), every[:3], tensors=[])


if __name__ == "__main__":
    main()
