# SPDX-License-Identifier: GPL-2.0
"""Read the gsvm and simgpu tracepoints out of 'perf script' text.

Shared by tools/perf-timeline.py (the SVG picture) and
tools/perf-pass-costs.py (the per-GPU CPU cost columns of the benchmark).
The text is that of 'perf script -F comm,cpu,time,event,trace' over
gsvm:gsvm_inval_* and simgpu:simgpu_tlb_inval_*, as tools/bench/run-bench.sh
records it. Plain Python 3, no third-party module.
"""

import re

LINE = re.compile(r'^\s*(?P<comm>.+?)\s+\[(?P<cpu>\d+)\]\s+(?P<time>\d+\.\d+):\s+'
                  r'(?P<sys>\w+):(?P<event>\w+):\s+(?P<trace>.*)$')
FIELD = re.compile(r'(\w+)=([^,\s]+)')


def parse(lines):
    """Yield (time_us, event, fields) for each tracepoint line."""
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        fields = dict(FIELD.findall(m.group('trace')))
        yield float(m.group('time')) * 1e6, m.group('event'), fields


def invalidations(events):
    """Yield (deferred, bars) for each invalidation, in trace order.

    bars: {dev: {'start': (t0, t1), 'tlb': (t0, t1), 'finish': (t0, t1)}}
    An invalidation ends where a GPU already in it starts again.
    """
    cur = None          # dev -> bars of the invalidation being read
    pending = {}        # (dev, seqno) -> send time
    deferred = False

    def done():
        return deferred, {d: {k: tuple(v) for k, v in b.items() if v[1] is not None}
                          for d, b in cur.items()}

    for t, ev, f in events:
        dev = f.get('dev')
        if ev == 'gsvm_inval_start_begin':
            if cur is not None and dev in cur:
                yield done()
                cur = None
            if cur is None:
                cur, deferred = {}, False
                pending.clear()
            cur[dev] = {'start': [t, None]}
        elif cur is None or dev not in cur:
            continue
        elif ev == 'gsvm_inval_start_end':
            cur[dev]['start'][1] = t
            deferred = deferred or f.get('deferred') == '1'
        elif ev == 'simgpu_tlb_inval_send':
            pending[(dev, f.get('seqno'))] = t
        elif ev in ('simgpu_tlb_inval_done', 'simgpu_tlb_inval_timeout'):
            t0 = pending.pop((dev, f.get('seqno')), None)
            if t0 is not None and 'tlb' not in cur[dev]:
                cur[dev]['tlb'] = [t0, t]
        elif ev == 'gsvm_inval_finish_begin':
            cur[dev]['finish'] = [t, None]
        elif ev == 'gsvm_inval_finish_end' and 'finish' in cur[dev]:
            cur[dev]['finish'][1] = t
    if cur:
        yield done()
