#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Draw one invalidation of N GPUs as an SVG timeline, from perf's trace.

Input: the text of 'perf script -F comm,cpu,time,event,trace' over the gsvm
and simgpu tracepoints (gsvm:gsvm_inval_* and simgpu:simgpu_tlb_inval_*), as
tools/bench/run-bench.sh records it. Output: an SVG with two panels on one
time axis, the first two-pass invalidation of the trace above the first
single-pass one (a start pass that deferred nothing, deferred=0). Each panel
has one lane per GPU with three bars:

  start   gsvm_inval_start_begin -> gsvm_inval_start_end (zap, submit)
  TLB     simgpu_tlb_inval_send  -> simgpu_tlb_inval_done of that seqno
  finish  gsvm_inval_finish_begin -> gsvm_inval_finish_end (wait, unmap)

An invalidation is the events from a GPU's start_begin until a GPU already
in it starts again.

Plain Python 3, no third-party module.

Usage: tools/perf-timeline.py PERF_SCRIPT.txt OUT.svg [--title TEXT]
"""

import argparse
import os
import re
import sys
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gsvm_trace import invalidations, parse  # noqa: E402

COLORS = {'start': '#4c72b0', 'tlb': '#dd8452', 'finish': '#55a868'}
LABELS = {'start': 'start pass', 'tlb': 'TLB invalidation (send to done)',
          'finish': 'finish pass'}


def devkey(dev):
    m = re.search(r'(\d+)$', dev)
    return (int(m.group(1)) if m else 0, dev)


def nice_step(span):
    """A round tick step for an axis of span microseconds."""
    raw = span / 8 if span > 0 else 1
    mag = 10 ** (len(str(int(raw))) - 1)
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def svg(panels, title):
    """panels: [(name, bars)]. Returns the SVG text."""
    lane_h, bar_h, left, right, top = 22, 14, 90, 30, 50
    width = 900
    spans = []
    for _, bars in panels:
        t0 = min(v[0] for b in bars.values() for v in b.values())
        t1 = max(v[1] for b in bars.values() for v in b.values())
        spans.append((t0, t1))
    span = max(t1 - t0 for t0, t1 in spans) or 1.0
    scale = (width - left - right) / span
    out = []
    y = top
    body = []
    for (name, bars), (t0, t1) in zip(panels, spans):
        devs = sorted(bars, key=devkey)
        body.append(f'<text x="{left}" y="{y - 8}" font-weight="bold">'
                    f'{escape(name)}: {t1 - t0:.0f} us, {len(devs)} GPUs</text>')
        for i, dev in enumerate(devs):
            ly = y + i * lane_h
            body.append(f'<text x="{left - 6}" y="{ly + bar_h - 3}" '
                        f'text-anchor="end">{escape(dev)}</text>')
            body.append(f'<line x1="{left}" y1="{ly + bar_h / 2}" '
                        f'x2="{width - right}" y2="{ly + bar_h / 2}" '
                        f'stroke="#eee"/>')
            for kind in ('start', 'finish', 'tlb'):
                if kind not in bars[dev]:
                    continue
                b0, b1 = bars[dev][kind]
                x = left + (b0 - t0) * scale
                w = max((b1 - b0) * scale, 1.0)
                h = bar_h if kind != 'tlb' else bar_h / 2
                yy = ly if kind != 'tlb' else ly + bar_h / 4
                body.append(f'<rect x="{x:.1f}" y="{yy:.1f}" width="{w:.1f}" '
                            f'height="{h:.1f}" fill="{COLORS[kind]}">'
                            f'<title>{escape(dev)} {LABELS[kind]}: '
                            f'{b1 - b0:.1f} us</title></rect>')
        y += len(devs) * lane_h
        # time axis of this panel, in microseconds from its first event
        step = nice_step(span)
        tick = 0.0
        while tick <= span + 1e-9:
            x = left + tick * scale
            body.append(f'<line x1="{x:.1f}" y1="{y}" x2="{x:.1f}" y2="{y + 4}" '
                        f'stroke="#333"/>')
            body.append(f'<text x="{x:.1f}" y="{y + 16}" text-anchor="middle">'
                        f'{tick:.0f}</text>')
            tick += step
        body.append(f'<line x1="{left}" y1="{y}" x2="{width - right}" y2="{y}" '
                    f'stroke="#333"/>')
        body.append(f'<text x="{width - right}" y="{y + 30}" text-anchor="end">'
                    f'us since the first start pass</text>')
        y += 70
    legend_y = y - 20
    x = left
    for kind in ('start', 'tlb', 'finish'):
        body.append(f'<rect x="{x}" y="{legend_y}" width="14" height="10" '
                    f'fill="{COLORS[kind]}"/>')
        body.append(f'<text x="{x + 18}" y="{legend_y + 9}">{LABELS[kind]}</text>')
        x += 230
    height = legend_y + 30
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
               f'height="{height}" font-family="sans-serif" font-size="12">')
    out.append(f'<rect width="{width}" height="{height}" fill="white"/>')
    out.append(f'<text x="{left}" y="22" font-size="14" font-weight="bold">'
               f'{escape(title)}</text>')
    out.extend(body)
    out.append('</svg>')
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('perf_script')
    ap.add_argument('svg')
    ap.add_argument('--title', default='One invalidation of a buffer mirrored by N GPUs')
    args = ap.parse_args()
    with open(args.perf_script, encoding='utf-8', errors='replace') as f:
        found = {}
        for deferred, bars in invalidations(parse(f)):
            key = 'two-pass' if deferred else 'single-pass'
            # One that invalidated something on every GPU (not, say, the
            # mprotect back to read-write, which finds nothing mapped).
            if key not in found and bars and \
               all('start' in b and 'tlb' in b for b in bars.values()):
                found[key] = bars
            if len(found) == 2:
                break
    panels = [(k, found[k]) for k in ('two-pass', 'single-pass') if k in found]
    if not panels:
        print(f'perf-timeline: no gsvm invalidation in {args.perf_script}', file=sys.stderr)
        return 1
    with open(args.svg, 'w', encoding='utf-8') as f:
        f.write(svg(panels, args.title))
    for name, bars in panels:
        print(f'perf-timeline: {name}: {len(bars)} GPUs')
    return 0


if __name__ == '__main__':
    sys.exit(main())
