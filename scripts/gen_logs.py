#!/usr/bin/env python3
"""Writes about SIZE_MB megabytes of realistic web access logs to stdout, for the `logs` job.

Usage: gen_logs.py SIZE_MB [--seed N] [--clean]

SIZE_MB may be fractional (0.25). The output is deterministic for a given size and seed.
What it contains:
  * Common (`HOST IDENT USER [TIME] "REQUEST" STATUS BYTES`) and Combined (plus "referrer" "agent")
    lines, some with extra trailing fields (response time, upstream);
  * long-tailed (Zipf) paths and hosts: a few hot pages and clients, a long tail of rare ones;
    IPv4, IPv6 and host-name clients; query strings, percent escapes and raw UTF-8 in paths;
  * many status codes and methods, `-` sizes (304, 204, some errors), requests without a protocol;
  * time stamps in several zones (-0800 .. +1345), starting on 28 Feb 2024 so that they cross the
    leap day and the month boundary, in UTC and in local time;
  * about 1% malformed lines: truncated, text garbage, binary garbage, impossible dates (31/Feb,
    29/Feb/2023, hour 24, minute 60, unknown month), bad zones, bad status or size fields, and `"-"`
    requests. (A truncated line can happen to still be a valid line, e.g. cut inside BYTES.)
  * about 2% of lines in Apache's vhost_combined layout (a "VHOST:PORT " prefix);
  * user agents of many browser and OS families (bots, tools, Edge, Opera, Android, iPad, old IE),
    agents with escaped quotes, referrers with ports, without a scheme, empty or relative, static
    files in upper case or followed by a query string.
--clean writes what every log analyser reads the same way (for comparisons with GoAccess): only
valid Combined lines from IP-address clients, with a protocol, no escaped quotes in agents.
"""

import argparse
import bisect
import datetime
import itertools
import random
import sys

MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

# (offset in minutes east of UTC, weight)
ZONES = [(0, 30), (-480, 15), (-420, 5), (-300, 15), (60, 12), (120, 5), (330, 8), (345, 2),
         (540, 5), (600, 2), (-210, 1), (825, 0.5)]
STATUSES = [(200, 700), (304, 80), (404, 70), (302, 40), (301, 30), (206, 10), (201, 10), (204, 10),
            (403, 15), (401, 10), (400, 10), (500, 10), (502, 5), (503, 5), (499, 3), (418, 0.2)]
METHODS = [('GET', 850), ('POST', 80), ('HEAD', 30), ('PUT', 15), ('DELETE', 10), ('OPTIONS', 10),
           ('PATCH', 5)]
PROTOCOLS = [('HTTP/1.1', 70), ('HTTP/2.0', 25), ('HTTP/1.0', 4), (None, 1)]
USERS = ['alice', 'bob', 'carol', 'dave', 'eve', 'frank', 'zoë']
AGENTS = [
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36',
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15',
    'Mozilla/5.0 (X11; Linux x86_64; rv:122.0) Gecko/20100101 Firefox/122.0',
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_3 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148',
    'Googlebot/2.1 (+http://www.google.com/bot.html)',
    'curl/8.5.0', 'python-requests/2.31.0', 'Wget/1.21.4', '-',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0',
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 OPR/106.0',
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Mobile Safari/537.36',
    'Mozilla/5.0 (iPad; CPU OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0 Mobile/15E148',
    'Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)',
    'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
    'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36',
    'Go-http-client/1.1', '',
]
TRAP_AGENTS = ['Mozilla/5.0 \\"quoted\\" Firefox/1.0', 'back\\\\slash spider']
REFERRERS = ['-', 'https://www.google.com/', 'https://example.com/', 'https://example.com/blog/',
             'https://news.ycombinator.com/', 'android-app://com.google.android.gm/',
             'http://localhost:8080/admin?x=1', 'https://www.bing.com/search?q=a', 'https://t.co',
             'https://user@example.org:8443#frag']
TRAP_REFERRERS = ['', 'www.example.com/no-scheme', '/relative/path', '://no-scheme', 'https:///empty-host']
NOT_NEWLINE = [b for b in range(256) if b != 10]
WORDS = ['alpha', 'beta', 'gamma', 'delta', 'zeta', 'kappa', 'sigma', 'omega', 'café', 'naïve',
         '東京', 'münchen', 'hello%20world', 'a+b', 'x']


def cumulative(weights):
    return list(itertools.accumulate(weights))


def zipf_cum(n, s=1.1):
    return cumulative(1.0 / (k ** s) for k in range(1, n + 1))


class Picker:
    """Weighted choice by bisection over cumulative weights (fast, deterministic)."""

    def __init__(self, rng, items, weights):
        self.rng, self.items, self.cum = rng, items, cumulative(weights)
        self.total = self.cum[-1]

    def __call__(self):
        return self.items[bisect.bisect_right(self.cum, self.rng.random() * self.total)]


def make_paths(rng, n):
    paths = ['/', '/index.html', '/favicon.ico', '/robots.txt', '/login', '/cart', '/api/v1/health',
             '/static/css/site.css', '/static/js/app.js', '/wp-login.php', '/café/menu', '/wiki/東京',
             '/img/LOGO.PNG', '/app.js?v=3', '/fonts/a.woff2', '/report.tar.gz', '/api/v2/items.json']
    while len(paths) < n:
        kind = rng.randrange(8)
        word = rng.choice(WORDS)
        if kind == 0:
            p = '/products/%d' % rng.randrange(100000)
        elif kind == 1:
            p = '/api/v1/users/%d/orders' % rng.randrange(5000)
        elif kind == 2:
            p = '/images/%s-%d.png' % (word, rng.randrange(1000))
        elif kind == 3:
            p = '/blog/%d/%02d/%s-%d' % (rng.randrange(2015, 2025), rng.randrange(1, 13), word, rng.randrange(99))
        elif kind == 4:
            p = '/search?q=%s&page=%d' % (word, rng.randrange(1, 20))
        elif kind == 5:
            p = '/static/js/chunk.%08x.js' % rng.getrandbits(32)
        elif kind == 6:
            p = '/docs/%s/%s.html?lang=%s' % (word, rng.choice(WORDS), rng.choice(['en', 'de', 'fr', 'ja']))
        else:
            p = '/download/file%%20%d.tar.gz' % rng.randrange(300)
        paths.append(p)
    return paths


def make_hosts(rng, n):
    hosts = []
    while len(hosts) < n:
        kind = rng.randrange(10)
        if kind < 6:
            hosts.append('%d.%d.%d.%d' % (rng.randrange(1, 224), rng.randrange(256), rng.randrange(256),
                                          rng.randrange(1, 255)))
        elif kind < 8:
            groups = ['%x' % rng.getrandbits(16) for _ in range(rng.randrange(2, 6))]
            hosts.append('2001:db8:' + ':'.join(groups[:1]) + '::' + ':'.join(groups[1:]))
        elif kind == 8:
            hosts.append('crawl-66-249-%d-%d.googlebot.com' % (rng.randrange(256), rng.randrange(256)))
        else:
            hosts.append('host%d.%s' % (rng.randrange(10000), rng.choice(['example.net', 'isp.example', 'corp.lan'])))
    hosts[:3] = ['::1', '127.0.0.1', 'localhost']
    return hosts


def fmt_time(local, offset):
    sign = '+' if offset >= 0 else '-'
    off = abs(offset)
    return '%02d/%s/%04d:%02d:%02d:%02d %s%02d%02d' % (
        local.day, MONTHS[local.month - 1], local.year, local.hour, local.minute, local.second, sign,
        off // 60, off % 60)


class Generator:
    def __init__(self, seed, clean=False):
        self.clean = clean
        rng = self.rng = random.Random(seed)
        self.paths = make_paths(rng, 3000)
        self.hosts = make_hosts(rng, 1500)
        if clean:
            self.hosts = [h for h in self.hosts if h.replace('.', '').isdigit() or ':' in h]
        self.path_cum = zipf_cum(len(self.paths))
        self.host_cum = zipf_cum(len(self.hosts), 0.9)
        self.zone = Picker(rng, *zip(*ZONES))
        self.status = Picker(rng, *zip(*STATUSES))
        self.method = Picker(rng, *zip(*METHODS))
        self.protocol = Picker(rng, *zip(*PROTOCOLS))
        self.now = datetime.datetime(2024, 2, 28, 20, 0, 0)  # UTC

    def zipf(self, items, cum):
        return items[bisect.bisect_right(cum, self.rng.random() * cum[-1])]

    def valid_line(self):
        rng = self.rng
        self.now += datetime.timedelta(seconds=int(rng.expovariate(1 / 10.0)))
        offset = self.zone()
        local = self.now + datetime.timedelta(minutes=offset)
        status = self.status()
        if status in (304, 204) or (status >= 400 and rng.random() < 0.3) or rng.random() < 0.02:
            size = '-'
        else:
            size = str(min(int(rng.lognormvariate(8, 1.6)), 50_000_000))
        protocol = self.protocol() or ('HTTP/1.1' if self.clean else None)
        request = '%s %s' % (self.method(), self.zipf(self.paths, self.path_cum))
        if protocol:
            request += ' ' + protocol
        user = '-' if rng.random() < 0.95 else rng.choice(USERS)
        line = '%s - %s [%s] "%s" %d %s' % (self.zipf(self.hosts, self.host_cum), user, fmt_time(local, offset),
                                            request, status, size)
        if not self.clean and rng.random() < 0.02:  # Apache's vhost_combined
            line = rng.choice(['shop.example:443 ', 'www.example.com:80 ', 'api.example:8080 ']) + line
        r = rng.random()
        if self.clean:
            return (line + ' "%s" "%s"' % (rng.choice(REFERRERS), rng.choice(AGENTS))).encode('utf-8')
        if r < 0.7:
            referrer = rng.choice(REFERRERS) if rng.random() < 0.97 else rng.choice(TRAP_REFERRERS)
            agent = rng.choice(AGENTS) if rng.random() < 0.98 else rng.choice(TRAP_AGENTS)
            line += ' "%s" "%s"' % (referrer, agent)
            if r < 0.03:
                line += ' "only-one-more"'
            elif r < 0.07:
                line += ' %.3f upstream=10.0.%d.%d:8080' % (rng.random(), rng.randrange(4), rng.randrange(1, 20))
        return line.encode('utf-8')

    def malformed_line(self):
        rng = self.rng
        line = self.valid_line()
        kind = rng.randrange(10)
        if kind == 0:  # truncated
            return line[:rng.randrange(len(line))]
        if kind == 1:  # text garbage
            return ' '.join(rng.choice(WORDS) for _ in range(rng.randrange(1, 12))).encode('utf-8')
        if kind == 2:  # binary garbage, no newline
            return bytes(rng.choice(NOT_NEWLINE) for _ in range(rng.randrange(1, 200)))
        if kind == 3:  # impossible dates and times
            bad = rng.choice([b'31/Feb/2024', b'30/Feb/2024', b'29/Feb/2023', b'31/Apr/2024', b'00/Mar/2024',
                              b'32/Jan/2024'])
            start = line.index(b'[') + 1
            return line[:start] + bad + line[start + 11:]
        if kind == 4:  # hour 24, minute 60, second 60
            start = line.index(b'[') + 12
            field = rng.choice([(1, b'24'), (4, b'60'), (7, b'60')])
            return line[:start + field[0]] + field[1] + line[start + field[0] + 2:]
        if kind == 5:  # unknown month
            start = line.index(b'[') + 4
            return line[:start] + rng.choice([b'Foo', b'feb', b'MAR', b'Sept'[:3] + b'x']) + line[start + 3:]
        if kind == 6:  # bad zone
            start = line.index(b']') - 5
            return line[:start] + rng.choice([b'+2500', b'+0075', b' 0800', b'+08:0']) + line[start + 5:]
        if kind == 7:  # bad status or size
            tail = line.index(b'" ', line.index(b'"') + 1) + 2
            rest = line[tail:].split(b' ', 2)
            if rng.random() < 0.5:
                rest[0] = rng.choice([b'2000', b'20', b'2x0'])
            else:
                rest[1] = rng.choice([b'12k', b'-1', b'', b'1.5'])
            return line[:tail] + b' '.join(rest)
        if kind == 8:  # a "-" request, as servers log for junk connections
            return line[:line.index(b'"')] + b'"-" 400 0'
        return line.replace(b' ', b'  ', 1)  # a doubled space


def main(argv):
    parser = argparse.ArgumentParser(description='Writes realistic web access logs to stdout.')
    parser.add_argument('size_mb', type=float, help='megabytes to write (MiB, may be fractional)')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--clean', action='store_true', help='only valid Combined lines from IP clients')
    args = parser.parse_args(argv[1:])
    target = int(args.size_mb * 1024 * 1024)
    gen = Generator(args.seed, args.clean)
    rng = gen.rng
    out = sys.stdout.buffer
    written = 0
    chunk = []
    while written < target:
        line = gen.malformed_line() if not args.clean and rng.random() < 0.01 else gen.valid_line()
        chunk.append(line)
        written += len(line) + 1
        if len(chunk) >= 4096:
            out.write(b'\n'.join(chunk) + b'\n')
            chunk = []
    if chunk:
        out.write(b'\n'.join(chunk) + b'\n')
    out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
