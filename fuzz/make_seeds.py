#!/usr/bin/env python3
"""Writes the seed corpora of the text targets (fuzz/corpus/{template,tokenizer}/) from the
project's own sources and ../shared, and leaves the hand-written seeds of the other targets alone.
Run from the repository root: python3 fuzz/make_seeds.py [SHARED_DIR]
"""
import hashlib
import os
import re
import sys

SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared")


def put(target, data, name=None):
    d = os.path.join("fuzz", "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    # Templates: every builtin template (raw strings in builtin_templates.cc) and the templates
    # in the template tests' string literals that contain an action.
    src = open("src/templates/builtin_templates.cc", encoding="utf-8").read()
    for i, m in enumerate(re.finditer(r'R"tmpl\((.*?)\)tmpl"', src, re.S)):
        put("template", m.group(1), f"builtin_{i}")
    seen = 0
    for fn in sorted(os.listdir("tests/templates")):
        text = open(os.path.join("tests/templates", fn), encoding="utf-8").read()
        for m in re.finditer(r'"((?:[^"\\\n]|\\.)*\{\{(?:[^"\\\n]|\\.)*)"', text):
            lit = m.group(1).encode().decode("unicode_escape", errors="ignore")
            if len(lit) > 6 and seen < 150:
                put("template", lit)
                seen += 1
    # Tokenizer: the first byte picks the vocabulary and flags (fuzz_tokenizer.cc); the texts
    # are llama.cpp's tokenizer test inputs.
    inp = open(os.path.join(SHARED, "vocab", "ggml-vocab-llama-spm.gguf.inp"), encoding="utf-8").read()
    cases = [c.strip("\n") for c in inp.split("__ggml_vocab_test__")]
    for i, c in enumerate(c for c in cases if c):
        put("tokenizer", bytes([(i * 37) & 0xFF]) + c.encode(), f"vocab_inp_{i}")
    for sel, text in [(0x20, "<s>[INST] hi [/INST]</s>"), (0x23, "<|begin_of_text|><|eot_id|>hello"),
                      (0x25, "<|im_start|>user\nhi<|im_end|>"), (0x07, "  multiple   spaces\t\ttabs\n\n"),
                      (0x44, "\xf0\x9f\x98\x80 emoji \u00e9\u00e8 \u4f60\u597d"), (0x02, "Once upon a time")]:
        put("tokenizer", bytes([sel]) + text.encode())


if __name__ == "__main__":
    main()
