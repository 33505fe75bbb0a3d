#include "common/words.h"

#include <array>
#include <bit>
#include <cstdint>

#include "common/unicode_tables.h"

namespace mr {
namespace {

constexpr std::array<char, 128> MakeAsciiLower() {
  std::array<char, 128> table{};
  for (int c = 0; c < 128; ++c) {
    table[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  }
  return table;
}

constexpr std::array<char, 128> kAsciiLower = MakeAsciiLower();

// Appends the UTF-8 encoding of a valid scalar value.
void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    const char bytes[] = {static_cast<char>(0xC0 | (cp >> 6)),
                          static_cast<char>(0x80 | (cp & 0x3F))};
    out->append(bytes, 2);
  } else if (cp < 0x10000) {
    const char bytes[] = {static_cast<char>(0xE0 | (cp >> 12)),
                          static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                          static_cast<char>(0x80 | (cp & 0x3F))};
    out->append(bytes, 3);
  } else {
    const char bytes[] = {
        static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
        static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
    out->append(bytes, 4);
  }
}

}  // namespace

bool DecodeUtf8(std::string_view s, size_t pos, char32_t* cp, size_t* len) {
  *len = 1;
  if (pos >= s.size()) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data()) + pos;
  const size_t avail = s.size() - pos;
  const uint32_t b0 = p[0];
  if (b0 < 0x80) {
    *cp = b0;
    return true;
  }
  if (b0 < 0xC2) return false;  // Stray continuation byte, or overlong 2-byte lead (C0, C1).
  if (b0 < 0xE0) {
    if (avail < 2 || (p[1] & 0xC0) != 0x80) return false;
    *cp = ((b0 & 0x1F) << 6) | (p[1] & 0x3F);
    *len = 2;
    return true;
  }
  if (b0 < 0xF0) {
    if (avail < 3) return false;
    // E0 needs A0..BF (no overlongs); ED needs 80..9F (no surrogates).
    const uint32_t lo = b0 == 0xE0 ? 0xA0 : 0x80;
    const uint32_t hi = b0 == 0xED ? 0x9F : 0xBF;
    if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80) return false;
    *cp = ((b0 & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F);
    *len = 3;
    return true;
  }
  if (b0 < 0xF5) {
    if (avail < 4) return false;
    // F0 needs 90..BF (no overlongs); F4 needs 80..8F (nothing above U+10FFFF).
    const uint32_t lo = b0 == 0xF0 ? 0x90 : 0x80;
    const uint32_t hi = b0 == 0xF4 ? 0x8F : 0xBF;
    if (p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return false;
    *cp = ((b0 & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F);
    *len = 4;
    return true;
  }
  return false;  // F5..FF never appear in UTF-8.
}

namespace words_internal {

uint64_t NonAsciiLetters(std::string_view text, size_t start, uint64_t non_ascii, Spill* spill) {
  // Bytes continuing a sequence decoded in the previous block are already classified.
  uint64_t letters = spill->letter ? spill->bytes : 0;
  uint64_t pending = non_ascii & ~spill->bytes;
  *spill = Spill{};
  while (pending != 0) {
    const int pos = std::countr_zero(pending);
    char32_t cp;
    size_t len;
    const bool letter = DecodeUtf8(text, start + pos, &cp, &len) && IsUnicodeLetter(cp);
    const uint64_t sequence = ((uint64_t{1} << len) - 1) << pos;  // Bits past 63 fall off.
    pending &= ~sequence;
    if (letter) letters |= sequence;
    if (pos + len > kBlock) {
      spill->bytes = (uint64_t{1} << (pos + len - kBlock)) - 1;
      spill->letter = letter;
    }
  }
  return letters;
}

}  // namespace words_internal

void AppendLowercase(std::string_view word, std::string* out) {
  const size_t n = word.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path: fold a whole run of ASCII bytes in place.
    size_t run_end = i;
    while (run_end < n && static_cast<unsigned char>(word[run_end]) < 0x80) ++run_end;
    if (run_end > i) {
      const size_t old_size = out->size();
      out->resize(old_size + (run_end - i));
      char* dst = out->data() + old_size;
      for (size_t j = i; j < run_end; ++j) {
        *dst++ = kAsciiLower[static_cast<unsigned char>(word[j])];
      }
      i = run_end;
      if (i == n) break;
    }
    char32_t cp;
    size_t len;
    if (DecodeUtf8(word, i, &cp, &len)) {
      AppendUtf8(SimpleLowercase(cp), out);
    } else {
      out->push_back(word[i]);
    }
    i += len;
  }
}

}  // namespace mr
