#!/usr/bin/env python3
"""Independent reference word count for integration tests.

Usage: wordcount.py [--lowercase] FILE...

Prints one `word<TAB>count` line per distinct word over all FILEs, sorted bytewise by the word's
UTF-8 bytes. Computed straight from the project's definition, sharing no code with the C++ side:

  * A word is a maximal run of Unicode letters (unicodedata.category(ch) starts with 'L').
  * Each file's bytes are decoded as strict UTF-8 (Python's codec rejects overlongs, surrogates,
    code points above U+10FFFF, stray continuation bytes and truncated sequences). For an invalid
    sequence only its FIRST byte becomes a separator and decoding resumes at the next byte (the
    error handler below returns exc.start + 1, not exc.end).
  * --lowercase folds each code point of each word to its simple lowercase: ch.lower() if that is
    a single code point, else ch unchanged.

Files are streamed in chunks, so memory is bounded by the chunk size plus the counts.
"""

import codecs
import collections
import re
import sys
import unicodedata

CHUNK_BYTES = 16 << 20
SEPARATOR = ' '


def _one_byte_separator(exc):
    # Replace only the first byte of the invalid sequence and resume right after it.
    return (SEPARATOR, exc.start + 1)


codecs.register_error('mr_wordcount_separator', _one_byte_separator)


def _build_tables():
    ranges = []
    lower = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if unicodedata.category(ch).startswith('L'):
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
        folded = ch.lower()
        if len(folded) == 1 and folded != ch:
            lower[cp] = folded
    char_class = ''.join('\\U%08x-\\U%08x' % (lo, hi) for lo, hi in ranges)
    return re.compile('[%s]+' % char_class), lower


WORD_RE, LOWER_TABLE = _build_tables()
assert not WORD_RE.match(SEPARATOR)


def count_file(path, counts):
    decoder = codecs.getincrementaldecoder('utf-8')(errors='mr_wordcount_separator')
    carry = ''  # A word that may continue into the next chunk.
    with open(path, 'rb') as f:
        while True:
            data = f.read(CHUNK_BYTES)
            final = not data
            text = carry + decoder.decode(data, final=final)
            words = WORD_RE.findall(text)
            carry = ''
            if not final and words and WORD_RE.match(text, len(text) - 1):
                carry = words.pop()  # The text ends inside a word.
            counts.update(words)
            if final:
                return


def main(argv):
    args = argv[1:]
    lowercase = False
    if args and args[0] == '--lowercase':
        lowercase = True
        args = args[1:]
    if not args or any(a.startswith('--') for a in args):
        sys.stderr.write('usage: wordcount.py [--lowercase] FILE...\n')
        return 2
    counts = collections.Counter()
    for path in args:
        count_file(path, counts)
    if lowercase:
        folded = collections.Counter()
        for word, n in counts.items():
            folded[word.translate(LOWER_TABLE)] += n
        counts = folded
    out = sys.stdout.buffer
    for word, n in sorted(counts.items(), key=lambda item: item[0].encode('utf-8')):
        out.write(b'%s\t%d\n' % (word.encode('utf-8'), n))
    out.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
