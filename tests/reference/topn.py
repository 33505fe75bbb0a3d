#!/usr/bin/env python3
"""Independent reference for the `topn` job, for integration tests.

Usage: topn.py N FILE...

Prints the N lines with the largest numbers among all `KEY<TAB>NUMBER` lines of the FILEs, as
`KEY<TAB>NUMBER`, largest first, equal numbers by KEY bytewise ascending; writes `topn.malformed M`
to stderr. From DESIGN §4 and the input rules documented in jobs/topn.h:

  * lines are cut at '\n', without one trailing '\r'; a final line without '\n' counts;
  * a line splits at its LAST tab; NUMBER must match -?[0-9]+ and fit in a signed 64-bit integer;
    it is printed in canonical form (no leading zeros, no "-0"); anything else is malformed;
  * duplicate lines are separate candidates.
"""

import re
import sys

NUMBER_RE = re.compile(rb'-?[0-9]+')


def main(argv):
    if len(argv) < 2 or not argv[1].isdigit():
        sys.stderr.write('usage: topn.py N FILE...\n')
        return 2
    n = int(argv[1])
    entries = []
    malformed = 0
    for name in argv[2:]:
        with open(name, 'rb') as f:
            lines = f.read().split(b'\n')
        if lines and lines[-1] == b'':
            lines.pop()
        for line in lines:
            if line.endswith(b'\r'):
                line = line[:-1]
            key, tab, number = line.rpartition(b'\t')
            if not tab or not NUMBER_RE.fullmatch(number) or not -2 ** 63 <= int(number) < 2 ** 63:
                malformed += 1
                continue
            entries.append((-int(number), key))
    entries.sort()
    out = sys.stdout.buffer
    for negative, key in entries[:n]:
        out.write(b'%s\t%d\n' % (key, -negative))
    out.flush()
    sys.stderr.write('topn.malformed %d\n' % malformed)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
