#!/usr/bin/env python3
"""Independent reference for the `weblog` job and `mr report --json`, for integration tests.

Usage: weblog.py [--time log|utc] FILE...

Prints, as JSON, what `mr report --json --top 1000000` must show: the `general` totals and, per panel,
every entry's hits, bytes and exact distinct visitors, computed from the definitions in
jobs/weblog.h with the line grammar of logs.py (its regular expressions; no code shared with the
C++ job). The job's per-entry visitors are a sketch (exact up to 64, else within a few percent);
the test compares them with a tolerance, everything else exactly.
"""

import collections
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import logs  # noqa: E402  (the `logs` reference: grammar, tail, families, static files)


def main(argv):
    args = argv[1:]
    time = 'log'
    if args[:1] == ['--time']:
        time = args[1]
        args = args[2:]
    valid = failed = bandwidth = 0
    panels = collections.defaultdict(lambda: collections.defaultdict(lambda: [0, 0, set()]))
    day_visitors = collections.defaultdict(set)
    for path in args:
        for line in logs.lines_of(path):
            parsed = logs.parse(line)
            if parsed is None:
                failed += 1
                continue
            m, utc, size, local = parsed
            valid += 1
            bandwidth += size
            when = local if time == 'log' else utc
            day = '%04d-%02d-%02d' % (when.year, when.month, when.day)
            t = logs.tail(m)
            referrer, agent = t if t else (None, b'')
            agent = agent or b'-'
            visitor = None
            if not m['status'].startswith(b'4'):
                visitor = (day, m['host'], agent.replace(b' ', b''))
                day_visitors[day].add(visitor)
            request = m['method'] + b' ' + m['path'] + (b' ' + m['proto'] if m['proto'] else b'')
            if m['status'] == b'404':
                kind = 'not_found'
            elif any(m['path'].lower().endswith(e) for e in logs.STATIC):
                kind = 'static_requests'
            else:
                kind = 'requests'
            entries = [(kind, request), ('hosts', m['host']), ('os', logs.family(logs.SYSTEMS, agent)),
                       ('browsers', logs.family(logs.BROWSERS, agent)), ('visit_time', b'%02d' % when.hour),
                       ('status_codes', m['status']), ('visitors', day.encode()),
                       ('hourly', b'%sT%02d' % (day.encode(), when.hour))]
            site = logs.SITE_RE.fullmatch(referrer) if referrer is not None else None
            if site:
                entries.append(('referring_sites', site[1]))
            for panel, item in entries:
                e = panels[panel][item.decode('utf-8', 'surrogateescape')]
                e[0] += 1
                e[1] += size
                if visitor:
                    e[2].add(visitor)
    out = {'general': {
        'total_requests': valid + failed, 'valid_requests': valid, 'failed_requests': failed,
        'unique_visitors': sum(len(v) for v in day_visitors.values()),
        'unique_files': len(panels['requests']), 'unique_static_files': len(panels['static_requests']),
        'unique_not_found': len(panels['not_found']), 'unique_referring_sites': len(panels['referring_sites']),
        'bandwidth': bandwidth}}
    for panel, entries in panels.items():
        out[panel] = {item: {'hits': e[0], 'bytes': e[1],
                             'visitors': len(day_visitors[item]) if panel == 'visitors' else len(e[2])}
                      for item, e in entries.items()}
    json.dump(out, sys.stdout, ensure_ascii=True, sort_keys=True)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
