// Unicode property lookups for the word tokenizer (common/words.h). The tables live in the
// generated common/unicode_tables.cc (scripts/gen_unicode_tables.py; the Unicode version is named
// in its header). Pure functions over constant tables; thread-safe.
#pragma once

namespace mr {

// True iff `cp` has general category L* (Lu, Ll, Lt, Lm, Lo). Binary search over letter ranges.
bool IsUnicodeLetter(char32_t cp);

// The simple lowercase of `cp`: Python's chr(cp).lower() when that is a single code point,
// otherwise `cp` unchanged (so U+0130 maps to itself). Binary search over mapping runs.
char32_t SimpleLowercase(char32_t cp);

}  // namespace mr
