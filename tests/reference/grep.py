#!/usr/bin/env python3
"""Independent reference for the `grep` job, for integration tests.

Usage: grep.py PATTERN FILE...

Prints `FILE:OFFSET<TAB>LINE` for every line of every FILE in which PATTERN matches anywhere,
sorted bytewise (the order of the job's keys within a part file). Computed from DESIGN §4:

  * FILE is the file's absolute, normalized path (what the engine hands the job); OFFSET the byte
    offset of the line's first byte, zero-padded to 12 digits;
  * lines are cut at '\n'; the line (and the value) is without its '\n' and one trailing '\r'; a
    final line without '\n' counts, an empty file has no line;
  * matching uses Python's `re` on the line decoded as UTF-8 (invalid bytes kept as lone surrogates)
    with re.ASCII, which agrees with RE2's default syntax for the patterns the tests use: literals
    (also non-ASCII), classes, `.`, anchors, alternation, repetition, \\d \\w \\s \\b, (?i). It is
    NOT a general RE2 implementation: RE2-only syntax (\\pL, \\C, [[:alpha:]]) is not accepted.
"""

import os
import re
import sys


def main(argv):
    if len(argv) < 3:
        sys.stderr.write('usage: grep.py PATTERN FILE...\n')
        return 2
    pattern = re.compile(argv[1], re.ASCII)
    results = []
    for name in argv[2:]:
        path = os.path.abspath(name).encode('utf-8', 'surrogateescape')
        with open(name, 'rb') as f:
            data = f.read()
        offset = 0
        while offset < len(data):
            end = data.find(b'\n', offset)
            if end < 0:
                end = len(data)
            line = data[offset:end]
            if line.endswith(b'\r'):
                line = line[:-1]
            if pattern.search(line.decode('utf-8', 'surrogateescape')):
                results.append(b'%s:%012d\t%s\n' % (path, offset, line))
            offset = end + 1
    results.sort()
    out = sys.stdout.buffer
    out.writelines(results)
    out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
