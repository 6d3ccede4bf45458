#!/usr/bin/env python3
"""Where a cross-node DM's time goes (issue 23), from what bench/cluster_stages.sh left in DIR:
a loopback capture (every DM's `T<ns>` stamp found at each hop), `ss -tnp` (which node owns
which Redis link), the pids and, if taken, `perf sched record` data.

Hops per DM: loadgen's schedule -> its line on the wire to node 2 (send lag) -> node 2's
PUBLISH written (sender node) -> Redis's message to node 1 (Redis) -> node 1's delivery written
(receiver node). Also: how many DMs node 1 held for its stream tail (the PUBLISH's `after` id
not yet read by node 1's tail when the message came), the longest gaps in node 2's PUBLISHes
with what node 2 did meanwhile (XADD writes, tail reads; with perf data: CPU it ran vs time it
was off the CPU), and each process's CPU time.

    bench/cluster_stages.py DIR
"""
import bisect, collections, os, re, struct, subprocess, sys

D = sys.argv[1]
rd = lambda f: open(os.path.join(D, f)).read().strip()
A1, A2, RA = int(rd('n1.port')), int(rd('n2.port')), int(rd('redis.port'))
RP = int(rd('live.port')) if os.path.exists(os.path.join(D, 'live.port')) else None
pids = dict(l.split() for l in open(os.path.join(D, 'pids')))
owner = {}  # local port of a Redis link -> node
for l in open(os.path.join(D, 'ss.txt')):
    m = re.search(r'127\.0\.0\.1:(\d+)\s+127\.0\.0\.1:(\d+)\s+users:\(\("[^"]+",pid=(\d+)', l)
    if m and int(m.group(2)) in (RA, RP):
        owner.update({int(m.group(1)): n for n, p in pids.items() if p == m.group(3)})

data = open(os.path.join(D, 'cap.pcap'), 'rb').read()
scale = 1e-9 if struct.unpack('<I', data[:4])[0] == 0xa1b23c4d else 1e-6
flows, off = collections.defaultdict(list), 24
while off + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack('<IIII', data[off:off + 16])
    pkt, off = data[off + 16:off + 16 + incl], off + 16 + incl
    ip = pkt[14:]
    tcp = ip[(ip[0] & 15) * 4:]
    sport, dport = struct.unpack('>HH', tcp[:4])
    payload = tcp[(tcp[12] >> 4) * 4:]
    if payload:
        flows[(sport, dport)].append((sec + frac * scale, payload))

def link(node_port, redis_port):
    """What a node's Redis link is, from what the node sent on it during the capture."""
    sent = b''.join(p for _, p in flows.get((node_port, redis_port), [])[:50])
    kind = next((k for k in ('PUBLISH', 'XREAD', 'XADD') if k.encode() in sent), 'CMD')
    return f"{owner.get(node_port, '?')}>{kind if sent else 'SUBSCRIBE'}"

def name(sport, dport):
    if dport == A2: return 'sent'
    if sport == A1: return 'delivered'
    if dport in (RA, RP): return link(sport, dport)
    if sport in (RA, RP): return 'R>' + link(dport, sport)
    return None

STAMP = re.compile(rb'T(\d{4,12})(?!\d)')
seen, text = collections.defaultdict(dict), collections.defaultdict(list)
for (sp, dp), segs in list(flows.items()):
    n = name(sp, dp)
    if n is None: continue
    buf, starts = b''.join(p for _, p in segs), []
    for _, p in segs: starts.append((starts[-1] + len(segs[len(starts) - 1][1])) if starts else 0)
    at = lambda end: segs[bisect.bisect_right(starts, end - 1) - 1][0]
    for m in STAMP.finditer(buf):
        seen[n].setdefault(int(m.group(1)), at(m.end()))
    text[n].append((buf, at))

sent, pub, sub, dl = seen['sent'], seen['n2>PUBLISH'], seen['R>n1>SUBSCRIBE'], seen['delivered']
t0 = min(sent[s] - s * 1e-9 for s in sent)
dms = [s for s in dl if s in sent and s in pub and s in sub and s >= 1e9]  # after the warm-up
pct = lambda v, p: sorted(v)[min(len(v) - 1, int((len(v) - 1) * p))]
hops = {
    'loadgen send lag': lambda s: sent[s] - (t0 + s * 1e-9),
    'sender node (line read -> PUBLISH written)': lambda s: pub[s] - sent[s],
    'Redis (PUBLISH -> message to node 1)': lambda s: sub[s] - pub[s],
    'receiver node (message -> delivery written)': lambda s: dl[s] - sub[s],
    'end to end (scheduled -> delivery written)': lambda s: dl[s] - (t0 + s * 1e-9),
}
print(f'{len(dms)} DMs seen at every hop (of {len(dl)} delivered)')
print(f"| hop, us | p50 | p90 | p99 | p99.9 | max |\n|---|---:|---:|---:|---:|---:|")
for k, f in hops.items():
    v = [f(s) for s in dms]
    print(f'| {k} | ' + ' | '.join(f'{pct(v, p) * 1e6:,.0f}' for p in (.5, .9, .99, .999, 1)) + ' |')
worst = sorted(dms, key=hops['end to end (scheduled -> delivery written)'])[int(len(dms) * .99):]
blame = collections.Counter(max(list(hops)[:4], key=lambda k: hops[k](s)) for s in worst)
print('the slowest 1%, by their longest hop:', dict(blame))

# Held for the tail: the PUBLISH's `after` against the entries node 1's tail had read by then.
after = {}
for buf, _ in text['n2>PUBLISH']:
    for m in re.finditer(rb'\r\n(\d{13})-(\d+)\tn2\n(.*?)(?=\*3\r\n|\Z)', buf, re.S):
        for st in STAMP.findall(m.group(3)): after[int(st)] = (int(m.group(1)), int(m.group(2)))
reads = sorted((at(m.end()), (int(m.group(1)), int(m.group(2))))
               for buf, at in text['R>n1>XREAD'] for m in re.finditer(rb'\r\n(\d{13})-(\d+)\r\n', buf))
times, best, top = [t for t, _ in reads], [], (0, 0)
for _, i in reads: top = max(top, i); best.append(top)
had = lambda t: best[bisect.bisect_right(times, t) - 1] if times and times[0] <= t else None
known = [s for s in dms if s in after and had(sub[s]) is not None]  # a tail read seen before
held = sum(1 for s in known if after[s] > had(sub[s]))
print(f'held for node 1\'s tail: {held} of {len(known)} DMs whose tail position the capture shows '
      f'({len(set(after.values()))} distinct `after` ids)')

# The longest gaps in node 2's PUBLISHes, and what node 2 did meanwhile.
sched = []
if os.path.exists(os.path.join(D, 'sched.data')):
    wall, mono = map(float, rd('clock').split())
    out = subprocess.run(['perf', 'sched', 'timehist', '-i', os.path.join(D, 'sched.data'), '-p', pids['n2']],
                         capture_output=True, text=True).stdout.splitlines()[3:]
    for l in out:
        f = l.split()
        try: sched.append((float(f[0]) - mono + wall, float(f[-3]), float(f[-1])))
        except (ValueError, IndexError): pass
segs_of = lambda n: sorted(t for (sp, dp), s in flows.items() if name(sp, dp) == n for t, _ in s)
xadds, tails = segs_of('n2>XADD'), segs_of('R>n2>XREAD')
pt = sorted(pub.values())
for g, a, b in sorted(((b - a, a, b) for a, b in zip(pt, pt[1:])), reverse=True)[:5]:
    inside = lambda ts: [round((t - a) * 1e3, 1) for t in ts if a <= t <= b]
    line = f'PUBLISH gap {g * 1e3:.1f} ms at {a - t0:.3f} s: n2 wrote XADDs at +{inside(xadds)[:3]} ms, read its tail at +{inside(tails)[:3]} ms'
    if sched:
        ev = [e for e in sched if a <= e[0] <= b + .002]
        line += f'; n2 ran {sum(e[2] for e in ev):.1f} ms, off the CPU {sum(e[1] for e in ev):.1f} ms'
    print(line)
c0, c1 = (dict(l.split() for l in open(os.path.join(D, f))) for f in ('cpu0', 'cpu1'))
print('CPU seconds during the run:', {n: (int(c1[p]) - int(c0[p])) / 100 for n, p in pids.items() if p in c1})
