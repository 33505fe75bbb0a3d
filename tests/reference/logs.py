#!/usr/bin/env python3
"""Independent reference for the `logs` job, for integration tests.

Usage: logs.py [--by status|path|host|method|hour|day] [--metric requests|bytes] FILE...

Prints one `KEY<TAB>N` line per key over all FILEs, sorted bytewise by key, and writes
`logs.malformed N` to stderr. Computed straight from the definition in DESIGN §4 and the grammar
documented in jobs/log_line.h, with a regular expression and Python's datetime, sharing no code with
the C++ parser:

  HOST IDENT USER [dd/Mon/yyyy:HH:MM:SS +zzzz] "METHOD PATH[ PROTOCOL]" STATUS BYTES[ anything]

  * fields are separated by exactly one space; HOST, IDENT, USER, PATH and PROTOCOL are runs of
    "field bytes" (anything but space, '"' and the ASCII controls 0x00-0x1F, 0x7F); METHOD is an
    RFC 9110 token; STATUS is three digits; BYTES is '-' (0) or digits with a value below 2^63;
  * the time must be a real date and time (datetime accepts it: day within the month, leap years,
    hour < 24, minute and second < 60, year >= 1), Mon an English abbreviation with that exact
    capitalisation, and the zone hours < 24 and minutes < 60; UTC = local time - offset, which
    must stay within datetime's years 1..9999;
  * lines are cut at '\n'; one trailing '\r' is dropped; a final line without '\n' counts.
"""

import datetime
import re
import sys

FIELD = rb'[^\x00-\x20"\x7f]+'
TOKEN = rb"[A-Za-z0-9!#$%&'*+\-.^_`|~]+"
LINE_RE = re.compile(
    rb'(?P<host>' + FIELD + rb') (?P<ident>' + FIELD + rb') (?P<user>' + FIELD + rb') '
    rb'\[(?P<day>[0-9]{2})/(?P<mon>[A-Za-z]{3})/(?P<year>[0-9]{4}):(?P<H>[0-9]{2}):(?P<M>[0-9]{2}):(?P<S>[0-9]{2}) '
    rb'(?P<sign>[+-])(?P<zh>[0-9]{2})(?P<zm>[0-9]{2})\] '
    rb'"(?P<method>' + TOKEN + rb') (?P<path>' + FIELD + rb')(?: (?P<proto>' + FIELD + rb'))?" '
    rb'(?P<status>[0-9]{3}) (?P<bytes>-|[0-9]+)(?: .*)?',
    re.DOTALL)
MONTHS = {m.encode(): i + 1 for i, m in enumerate(
    ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'])}
BYS = ('status', 'path', 'host', 'method', 'hour', 'day')
METRICS = ('requests', 'bytes')


def parse(line):
    """Returns (match, utc datetime, bytes) or None for a malformed line."""
    m = LINE_RE.fullmatch(line)
    if not m:
        return None
    month = MONTHS.get(m['mon'])
    zh, zm = int(m['zh']), int(m['zm'])
    size = 0 if m['bytes'] == b'-' else int(m['bytes'])
    if month is None or zh > 23 or zm > 59 or size >= 2 ** 63:
        return None
    try:
        local = datetime.datetime(int(m['year']), month, int(m['day']), int(m['H']), int(m['M']), int(m['S']))
        offset = datetime.timedelta(hours=zh, minutes=zm)
        utc = local - offset if m['sign'] == b'+' else local + offset
    except (ValueError, OverflowError):
        return None
    return m, utc, size


def key_of(by, m, utc):
    if by in ('status', 'path', 'host', 'method'):
        return m[by]
    text = '%04d-%02d-%02d' % (utc.year, utc.month, utc.day)
    if by == 'hour':
        text += 'T%02d' % utc.hour
    return text.encode()


def lines_of(path):
    with open(path, 'rb') as f:
        data = f.read()
    lines = data.split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()
    for line in lines:
        yield line[:-1] if line.endswith(b'\r') else line


def main(argv):
    by, metric, files = 'status', 'requests', []
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == '--by' and args and args[0] in BYS:
            by = args.pop(0)
        elif a == '--metric' and args and args[0] in METRICS:
            metric = args.pop(0)
        elif a.startswith('--'):
            sys.stderr.write(__doc__)
            return 2
        else:
            files.append(a)
    totals = {}
    malformed = 0
    for path in files:
        for line in lines_of(path):
            parsed = parse(line)
            if parsed is None:
                malformed += 1
                continue
            m, utc, size = parsed
            key = key_of(by, m, utc)
            totals[key] = totals.get(key, 0) + (1 if metric == 'requests' else size)
    out = sys.stdout.buffer
    for key in sorted(totals):
        out.write(b'%s\t%d\n' % (key, totals[key]))
    out.flush()
    sys.stderr.write('logs.malformed %d\n' % malformed)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
