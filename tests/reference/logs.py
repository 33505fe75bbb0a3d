#!/usr/bin/env python3
"""Independent reference for the `logs` job, for integration tests.

Usage: logs.py [--by KEY] [--metric requests|bytes] [--time utc|log] [--status NNN|Nxx]
               [--method M] [--path-prefix P] FILE...
KEY: status path host method hour day visitors referrer agent browser os file (default status)

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
  * lines are cut at '\\n'; one trailing '\\r' is dropped; a final line without '\\n' counts;
  * a line that does not match but is "VHOST:PORT " (VHOST field bytes, PORT 1-5 digits) followed
    by a line that does is read as that line (Apache's vhost_combined).

The newer keys and filters, from the same definitions (jobs/logs.h, jobs/user_agent.h):
  * Combined tail: what follows BYTES is `"REF" "AGENT"` then the end or a space; inside the quotes
    a backslash escapes any non-control byte, other bytes are anything but '"', backslash and the
    controls. Lines without such a tail have no referrer and no agent (not counted by referrer,
    agent, browser, os);
  * referrer: SCHEME://AUTHORITY..., the authority up to the first '/', '?' or '#', if non-empty;
  * browser/os: the first matching rule of the tables in jobs/user_agent.h (typed again below);
  * file: the path ends, case-insensitively, with one of GoAccess's default static extensions;
  * visitors: per day, the number of distinct (host, agent) pairs over lines whose status is not
    4xx, the agent without spaces, "-" if missing or empty (GoAccess 1.7's unique visitors);
  * filters: exact status or its class (4xx), exact method, byte prefix of the path; --time log
    keys hours and days by the time as written instead of UTC.
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
    rb'(?P<status>[0-9]{3}) (?P<bytes>-|[0-9]+)(?: (?P<rest>.*))?',
    re.DOTALL)
VHOST_RE = re.compile(rb'[^\x00-\x20"\x7f]+:[0-9]{1,5} (?P<line>.*)', re.DOTALL)
MONTHS = {m.encode(): i + 1 for i, m in enumerate(
    ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'])}
BYS = ('status', 'path', 'host', 'method', 'hour', 'day', 'visitors', 'referrer', 'agent', 'browser', 'os',
       'file')
METRICS = ('requests', 'bytes')

QUOTED = rb'"((?:[^"\\\x00-\x1f\x7f]|\\[^\x00-\x1f\x7f])*)"'
TAIL_RE = re.compile(QUOTED + b' ' + QUOTED + rb'(?: .*)?', re.DOTALL)
SITE_RE = re.compile(rb'[A-Za-z][A-Za-z0-9+.\-]*://([^/?#]+)(?:[/?#].*)?', re.DOTALL)
STATIC = [e.encode() for e in (
    '.css .js .jpg .png .gif .ico .jpeg .pdf .csv .mpeg .mpg .swf .woff .woff2 .xls .xlsx .doc .docx .ppt '
    '.pptx .txt .zip .ogg .mp3 .mp4 .exe .iso .gz .rar .svg .bmp .tar .tgz .tiff .tif .ttf .flv .dmg .xz '
    '.zst').split()]
CRAWLER = ['bot', 'Bot', 'spider', 'Spider', 'crawl', 'Crawl', 'Slurp']
BROWSERS = [(CRAWLER, 'Crawlers'),
            (['curl/', 'Wget/', 'python-requests/', 'Go-http-client/', 'libwww-perl/', 'okhttp/'], 'Tools'),
            (['Edg/', 'Edge/'], 'Edge'), (['OPR/', 'Opera'], 'Opera'), (['Chrome/', 'CriOS/'], 'Chrome'),
            (['Firefox/', 'FxiOS/'], 'Firefox'), (['MSIE ', 'Trident/'], 'Internet Explorer'),
            (['Safari/', 'AppleWebKit/'], 'Safari')]
SYSTEMS = [(CRAWLER, 'Crawlers'), (['Android'], 'Android'), (['iPhone', 'iPad', 'iPod'], 'iOS'),
           (['CrOS'], 'Chrome OS'), (['Windows'], 'Windows'), (['Macintosh', 'Mac OS X'], 'macOS'),
           (['Linux', 'X11'], 'Linux')]


def family(table, agent):
    for needles, name in table:
        if any(n.encode() in agent for n in needles):
            return name.encode()
    return b'Unknown'


def tail(m):
    """(referrer, agent) of a parsed line, or None."""
    if m['rest'] is None:
        return None
    t = TAIL_RE.fullmatch(m['rest'])
    return (t[1], t[2]) if t else None


def parse(line):
    """Returns (match, utc datetime, bytes, local datetime) or None for a malformed line."""
    m = LINE_RE.fullmatch(line)
    if not m:
        v = VHOST_RE.fullmatch(line)  # "VHOST:PORT " then a log line (Apache's vhost_combined)
        m = LINE_RE.fullmatch(v['line']) if v else None
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
    return m, utc, size, local


def key_of(by, m, when):
    """The line's key, or None when the line is not counted under `by`."""
    if by in ('status', 'path', 'host', 'method'):
        return m[by]
    if by in ('hour', 'day', 'visitors'):
        text = '%04d-%02d-%02d' % (when.year, when.month, when.day)
        if by == 'hour':
            text += 'T%02d' % when.hour
        return text.encode()
    if by == 'file':
        return m['path'] if any(m['path'].lower().endswith(e) for e in STATIC) else None
    t = tail(m)
    if t is None:
        return None
    if by == 'referrer':
        site = SITE_RE.fullmatch(t[0])
        return site[1] if site else None
    if by == 'agent':
        return t[1]
    return family(BROWSERS if by == 'browser' else SYSTEMS, t[1])


def selected(m, status, method, prefix):
    if status is not None:
        if status.endswith('xx'):
            if m['status'][:1] != status[:1].encode():
                return False
        elif m['status'] != status.encode():
            return False
    if method is not None and m['method'] != method.encode():
        return False
    return prefix is None or m['path'].startswith(prefix.encode())


def lines_of(path):
    with open(path, 'rb') as f:
        data = f.read()
    lines = data.split(b'\n')
    if lines and lines[-1] == b'':
        lines.pop()
    for line in lines:
        yield line[:-1] if line.endswith(b'\r') else line


def main(argv):
    by, metric, time, files = 'status', 'requests', 'utc', []
    status = method = prefix = None
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == '--by' and args and args[0] in BYS:
            by = args.pop(0)
        elif a == '--metric' and args and args[0] in METRICS:
            metric = args.pop(0)
        elif a == '--time' and args and args[0] in ('utc', 'log'):
            time = args.pop(0)
        elif a == '--status' and args:
            status = args.pop(0)
        elif a == '--method' and args:
            method = args.pop(0)
        elif a == '--path-prefix' and args:
            prefix = args.pop(0)
        elif a.startswith('--'):
            sys.stderr.write(__doc__)
            return 2
        else:
            files.append(a)
    totals, visitors = {}, {}
    malformed = 0
    for path in files:
        for line in lines_of(path):
            parsed = parse(line)
            if parsed is None:
                malformed += 1
                continue
            m, utc, size, local = parsed
            if not selected(m, status, method, prefix):
                continue
            key = key_of(by, m, local if time == 'log' else utc)
            if key is None:
                continue
            if by == 'visitors':
                if m['status'].startswith(b'4'):
                    continue
                t = tail(m)
                agent = t[1] if t and t[1] else b'-'
                visitors.setdefault(key, set()).add((m['host'], agent.replace(b' ', b'')))
            else:
                totals[key] = totals.get(key, 0) + (1 if metric == 'requests' else size)
    for day, pairs in visitors.items():
        totals[day] = len(pairs)
    out = sys.stdout.buffer
    for key in sorted(totals):
        out.write(b'%s\t%d\n' % (key, totals[key]))
    out.flush()
    sys.stderr.write('logs.malformed %d\n' % malformed)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
