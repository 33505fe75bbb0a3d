// The word tokenizer of the `wordcount` job.
//
// Contract: a word is a maximal run of Unicode letters (general category L*: Lu, Ll, Lt, Lm, Lo)
// in UTF-8 text; any other code point, and every byte of invalid UTF-8, separates words. Decoding
// is strict UTF-8 (RFC 3629): overlong encodings, surrogates (U+D800..U+DFFF), code points above
// U+10FFFF, stray continuation bytes and truncated sequences are invalid. For an invalid sequence
// the first byte is a one-byte separator and decoding resumes at the next byte (so "a\xC3b" gives
// "a" and "b"). Words are case-sensitive; AppendLowercase optionally folds a word by replacing each
// code point with its simple lowercase (see SimpleLowercase in common/unicode_tables.h).
//
// Pure functions with no shared mutable state; thread-safe.
//
// Implementation: ForEachWord classifies the text 64 bytes at a time into a bit mask of "letter
// bytes" (ASCII letters by a table or SSE2 compare; bytes >= 0x80 by the strict decoder plus
// IsUnicodeLetter, out of line), then reports words at the 0->1 and 1->0 transitions of the mask.
// Pure ASCII text never touches the decoder and costs no branch per byte.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace mr {

// Strictly decodes the UTF-8 sequence starting at s[pos]. On success stores the code point and its
// encoded length (1..4) and returns true. On failure (invalid or truncated sequence, or
// pos >= s.size()) returns false and sets *len = 1, the width of the resulting separator.
bool DecodeUtf8(std::string_view s, size_t pos, char32_t* cp, size_t* len);

// Calls fn(std::string_view word) for each word of `text`, in order. The views point into `text`.
template <class Fn>
void ForEachWord(std::string_view text, Fn&& fn);

// Appends to *out the word with each code point replaced by its simple lowercase. Meant for words
// produced by ForEachWord; bytes of invalid UTF-8, should any be present, are copied unchanged.
void AppendLowercase(std::string_view word, std::string* out);

// ---- Implementation details. ----

namespace words_internal {

inline constexpr size_t kBlock = 64;  // Bytes per mask; bit k stands for byte k of the block.
inline constexpr size_t kNoWord = ~size_t{0};

constexpr std::array<bool, 256> MakeAsciiLetterTable() {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  return table;
}

inline constexpr std::array<bool, 256> kIsAsciiLetter = MakeAsciiLetterTable();

struct BlockMasks {
  uint64_t ascii_letters;  // Bytes that are ASCII letters.
  uint64_t non_ascii;      // Bytes >= 0x80.
};

// Classifies the 64 bytes at p.
inline BlockMasks ClassifyBlock(const unsigned char* p) {
  BlockMasks m{0, 0};
#if defined(__SSE2__)
  // c is a letter iff (c | 0x20) - 'a' <= 25 as an unsigned byte; bytes >= 0x80 never are.
  const __m128i case_bit = _mm_set1_epi8(0x20);
  const __m128i a = _mm_set1_epi8('a');
  const __m128i max = _mm_set1_epi8(25);
  for (int k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    const __m128i t = _mm_sub_epi8(_mm_or_si128(v, case_bit), a);
    const __m128i letter = _mm_cmpeq_epi8(_mm_min_epu8(t, max), t);
    m.ascii_letters |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(letter))} << (16 * k);
    m.non_ascii |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(v))} << (16 * k);
  }
#else
  for (size_t k = 0; k < kBlock; ++k) {
    m.ascii_letters |= uint64_t{kIsAsciiLetter[p[k]]} << k;
    m.non_ascii |= static_cast<uint64_t>(p[k] >> 7) << k;
  }
#endif
  return m;
}

// A multi-byte sequence that starts in one block and ends in the next.
struct Spill {
  uint64_t bytes = 0;   // Its bytes in the next block (low bits).
  bool letter = false;  // Whether it is a letter.
};

// Returns the mask of bytes of the block at text[start..start+64) that belong to non-ASCII letters.
// `non_ascii` marks the block's bytes >= 0x80 (none at or past text.size()). *spill describes the
// sequence spilling into this block on entry and the one spilling out of it on return.
uint64_t NonAsciiLetters(std::string_view text, size_t start, uint64_t non_ascii, Spill* spill);

}  // namespace words_internal

template <class Fn>
void ForEachWord(std::string_view text, Fn&& fn) {
  using namespace words_internal;
  const char* const base = text.data();
  const size_t n = text.size();
  size_t word_start = kNoWord;  // Start of a word that runs into the current block.
  Spill spill;
  unsigned char last_block[kBlock];
  for (size_t i = 0; i < n; i += kBlock) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(base + i);
    if (n - i < kBlock) {  // Pad the final partial block with NULs, which are separators.
      std::memset(last_block, 0, kBlock);
      std::memcpy(last_block, p, n - i);
      p = last_block;
    }
    const BlockMasks m = ClassifyBlock(p);
    uint64_t letters = m.ascii_letters;
    if (m.non_ascii != 0) letters |= NonAsciiLetters(text, i, m.non_ascii, &spill);

    // A word starts at a letter byte whose predecessor is not one, and ends before a non-letter
    // byte whose predecessor is one. Starts and ends alternate.
    const uint64_t in_word = word_start != kNoWord ? 1 : 0;
    const uint64_t after_letter = (letters << 1) | in_word;
    uint64_t starts = letters & ~after_letter;
    uint64_t ends = ~letters & after_letter;
    if (in_word && ends != 0) {
      const size_t end = i + std::countr_zero(ends);
      fn(std::string_view(base + word_start, end - word_start));
      ends &= ends - 1;
      word_start = kNoWord;
    }
    while (ends != 0) {
      const size_t start = i + std::countr_zero(starts);
      const size_t end = i + std::countr_zero(ends);
      fn(std::string_view(base + start, end - start));
      starts &= starts - 1;
      ends &= ends - 1;
    }
    if (starts != 0) word_start = i + std::countr_zero(starts);  // Runs past this block.
  }
  if (word_start != kNoWord) fn(std::string_view(base + word_start, n - word_start));
}

}  // namespace mr
