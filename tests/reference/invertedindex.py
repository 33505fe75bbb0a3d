#!/usr/bin/env python3
"""Independent reference for the `invertedindex` job, for integration tests.

Usage: invertedindex.py [--lowercase] FILE...

Prints `WORD<TAB>N NAMES` for every word of the FILEs, sorted bytewise by the word: N is the
number of FILEs that contain the word, NAMES their base names sorted bytewise and joined with ','
(two files with the same base name in different directories are two files, and the name is listed
twice). Words and case folding are those of the word count reference (wordcount.py, itself written
from DESIGN §4): a word is a maximal run of Unicode letters in strict UTF-8. The same file named
twice (by the same absolute path) counts once, as the engine reads it once.
"""

import collections
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wordcount  # noqa: E402  (the reference tokenizer)


def main(argv):
    args = argv[1:]
    lowercase = False
    if args and args[0] == '--lowercase':
        lowercase = True
        args = args[1:]
    if not args or any(a.startswith('--') for a in args):
        sys.stderr.write('usage: invertedindex.py [--lowercase] FILE...\n')
        return 2
    files = {}  # word -> set of absolute paths
    for path in sorted(set(os.path.abspath(a) for a in args)):
        counts = collections.Counter()
        wordcount.count_file(path, counts)
        for word in counts:
            if lowercase:
                word = word.translate(wordcount.LOWER_TABLE)
            files.setdefault(word.encode('utf-8'), set()).add(path)
    out = sys.stdout.buffer
    for word in sorted(files):
        names = sorted(os.fsencode(os.path.basename(p)) for p in files[word])
        out.write(b'%s\t%d %s\n' % (word, len(names), b','.join(names)))
    out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
