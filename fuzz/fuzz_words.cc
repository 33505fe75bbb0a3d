// The UTF-8 word tokenizer (64-byte blocks, SIMD masks) against a slow reference that decodes one
// code point at a time: the same words, in order, at the same places. AppendLowercase must not
// crash either, and must keep a pure-ASCII word's length.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/unicode_tables.h"
#include "common/words.h"

using namespace mr;

static std::vector<std::string_view> Reference(std::string_view text) {
  std::vector<std::string_view> words;
  size_t pos = 0, start = std::string_view::npos;
  while (pos < text.size()) {
    char32_t cp;
    size_t len;
    bool letter = DecodeUtf8(text, pos, &cp, &len) && IsUnicodeLetter(cp);
    if (letter && start == std::string_view::npos) start = pos;
    if (!letter && start != std::string_view::npos) {
      words.push_back(text.substr(start, pos - start));
      start = std::string_view::npos;
    }
    pos += len;
  }
  if (start != std::string_view::npos) words.push_back(text.substr(start));
  return words;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> got;
  ForEachWord(text, [&](std::string_view w) { got.push_back(w); });
  std::vector<std::string_view> want = Reference(text);
  if (got.size() != want.size()) std::abort();
  for (size_t i = 0; i < got.size(); i++) {
    if (got[i].data() != want[i].data() || got[i].size() != want[i].size()) std::abort();
    std::string lower;
    AppendLowercase(got[i], &lower);
    bool ascii = true;
    for (unsigned char c : got[i]) ascii &= c < 0x80;
    if (ascii && lower.size() != got[i].size()) std::abort();
  }
  return 0;
}
