#!/usr/bin/env python3
"""Weight bytes a decode step reads from a GGUF model, from its tensor table (no data read).

One token reads every matrix once except token_embd (one row; all of it when the embeddings are
tied, since it is then the output matrix too) and, in a MoE model, only expert_used_count of the
expert_count experts of each *_exps tensor. Prints one JSON object:
  file_bytes, weight_bytes (all tensors), expert_bytes (all *_exps tensors), n_expert,
  n_expert_used, tied, read_bytes_per_token, and with --bandwidth GB/s also roofline_tps
  (bandwidth / read bytes per token: the decode speed if only weight reads took time).
Usage: gguf_read_bytes.py MODEL.gguf [--bandwidth GBS]
"""
import json
import os
import struct
import sys

# ggml type id -> (values per block, bytes per block), for the types corral reads.
BLOCKS = {0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34),
          10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210),
          20: (32, 18), 23: (256, 136), 30: (1, 2), 39: (32, 17)}
SCALARS = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?', 10: 'Q', 11: 'q', 12: 'd'}


class Reader:
    def __init__(self, f):
        self.f = f

    def get(self, fmt):
        return struct.unpack('<' + fmt, self.f.read(struct.calcsize('<' + fmt)))[0]

    def string(self):
        return self.f.read(self.get('Q')).decode('utf-8', 'replace')

    def value(self, t):
        if t == 8:
            return self.string()
        if t == 9:  # arrays are skipped (tokenizer lists), only their length kept
            at, n = self.get('I'), self.get('Q')
            for _ in range(n):
                self.value(at)
            return n
        return self.get(SCALARS[t])


def main():
    args = sys.argv[1:]
    bandwidth = None
    if '--bandwidth' in args:
        i = args.index('--bandwidth')
        bandwidth = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1:
        sys.exit(__doc__)
    path = args[0]
    with open(path, 'rb') as f:
        r = Reader(f)
        if f.read(4) != b'GGUF':
            sys.exit(f'{path}: not a GGUF file')
        r.get('I')
        n_tensors, n_kv = r.get('Q'), r.get('Q')
        meta = {}
        for _ in range(n_kv):
            key = r.string()
            meta[key] = r.value(r.get('I'))
        tensors = {}
        for _ in range(n_tensors):
            name = r.string()
            ne = [r.get('Q') for _ in range(r.get('I'))]
            t = r.get('I')
            r.get('Q')  # offset
            if t not in BLOCKS:
                sys.exit(f'{path}: tensor {name} has type id {t} this script does not know')
            n = 1
            for d in ne:
                n *= d
            block, size = BLOCKS[t]
            tensors[name] = n // block * size
    arch = meta.get('general.architecture', '')
    n_expert = int(meta.get(f'{arch}.expert_count', 0))
    n_used = int(meta.get(f'{arch}.expert_used_count', 0))
    total = sum(tensors.values())
    experts = sum(b for name, b in tensors.items() if '_exps.' in name)
    tied = 'output.weight' not in tensors
    read = total - (0 if tied else tensors.get('token_embd.weight', 0))
    if n_expert > 0:
        read -= experts * (n_expert - n_used) / n_expert
    out = {'file': os.path.basename(path), 'arch': arch, 'file_bytes': os.path.getsize(path), 'weight_bytes': total,
           'expert_bytes': experts, 'n_expert': n_expert, 'n_expert_used': n_used, 'tied': tied,
           'read_bytes_per_token': int(read)}
    if bandwidth:
        out['bandwidth_gbs'] = bandwidth
        out['roofline_tps'] = bandwidth * 1e9 / read
    print(json.dumps(out))


if __name__ == '__main__':
    main()
