#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Add the per-GPU CPU cost of each pass to a gsvm-bench CSV.

From the 'perf script' text of the gsvm and simgpu tracepoints recorded
during the same gsvm-bench run (see tools/gsvm_trace.py), for each
invalidation that reached every GPU's TLB:

  two-pass      start  = start_end - start_begin (zap, submit)
                finish = finish_end - max(finish_begin, TLB done):
                         the finish pass less its wait for the TLB
  single-pass   start  = start_end - start_begin - (TLB done - TLB send):
                         the one pass less its wait for the TLB

averaged over the GPUs of the invalidation and over the invalidations of
each (GPU count, mode). The columns start_us_per_gpu and
finish_us_per_gpu are added to the userptr rows (modes two-pass and
single-pass; the SVM path has no begin/end tracepoints); bare_us, the
median of the run's '0,bare' row (the same mprotect, nothing bound), to
every row. The CSV header gains the three names at its end.

Usage: tools/perf-pass-costs.py PERF_SCRIPT.txt IN.csv OUT.csv
"""

import os
import sys
from statistics import mean

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gsvm_trace import invalidations, parse  # noqa: E402

COLUMNS = 'start_us_per_gpu,finish_us_per_gpu,bare_us'


def pass_costs(events):
    """{(gpus, mode): (start_us, finish_us or None, invalidations)}"""
    acc = {}
    for deferred, bars in invalidations(events):
        if not bars or not all('start' in b and 'tlb' in b for b in bars.values()):
            continue
        starts, finishes = [], []
        for b in bars.values():
            s0, s1 = b['start']
            t0, t1 = b['tlb']
            if deferred:
                if 'finish' not in b:
                    break
                starts.append(s1 - s0)
                f0, f1 = b['finish']
                finishes.append(f1 - max(f0, t1))
            else:
                starts.append(s1 - s0 - (t1 - t0))
        else:
            key = (len(bars), 'two-pass' if deferred else 'single-pass')
            a = acc.setdefault(key, ([], []))
            a[0].append(mean(starts))
            if finishes:
                a[1].append(mean(finishes))
    return {k: (mean(s), mean(f) if f else None, len(s)) for k, (s, f) in acc.items()}


def fmt(v):
    return '' if v is None else f'{v:.1f}'


def main():
    if len(sys.argv) != 4:
        print(__doc__.split('\n\n')[-1].strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding='utf-8', errors='replace') as f:
        costs = pass_costs(parse(f))
    with open(sys.argv[2], encoding='utf-8') as f:
        lines = [l.rstrip('\n') for l in f if l.strip()]
    if not lines or not lines[0].startswith('gpus,mode,'):
        print(f'perf-pass-costs: {sys.argv[2]} is not a gsvm-bench CSV', file=sys.stderr)
        return 1
    bare = None
    for l in lines[1:]:
        c = l.split(',')
        if c[0] == '0' and c[1] == 'bare':
            bare = float(c[2])
    out = [lines[0] + ',' + COLUMNS]
    for l in lines[1:]:
        c = l.split(',')
        start = finish = None
        if c[0].isdigit() and (int(c[0]), c[1]) in costs:
            start, finish, _ = costs[(int(c[0]), c[1])]
        out.append(f'{l},{fmt(start)},{fmt(finish)},{fmt(bare)}')
    with open(sys.argv[3], 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')
    print(f'{"gpus":>5s}  {"mode":<12s} {"median_us":>10s} {"vs N=1":>7s} '
          f'{"start_us/GPU":>13s} {"finish_us/GPU":>14s} {"invalidations":>13s}')
    first = {}
    for l in lines[1:]:
        c = l.split(',')
        if not c[0].isdigit() or (int(c[0]), c[1]) not in costs:
            continue
        n, mode, med = int(c[0]), c[1], float(c[2])
        first.setdefault(mode, med)
        s, fi, k = costs[(n, mode)]
        print(f'{n:5d}  {mode:<12s} {med:10.1f} {med / first[mode]:6.2f}x '
              f'{s:13.1f} {fmt(fi):>14s} {k:13d}')
    if bare is not None:
        print(f'bare mprotect, nothing bound: {bare:.1f} us')
    return 0


if __name__ == '__main__':
    sys.exit(main())
