#include "common/words.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/unicode_tables.h"

namespace mr {
namespace {

std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> words;
  ForEachWord(text, [&](std::string_view w) {
    // Views must point into the input.
    EXPECT_GE(w.data(), text.data());
    EXPECT_LE(w.data() + w.size(), text.data() + text.size());
    words.emplace_back(w);
  });
  return words;
}

std::string Lower(std::string_view word) {
  std::string out = "prefix:";
  AppendLowercase(word, &out);
  return out.substr(7);
}

using V = std::vector<std::string>;

TEST(WordsTest, Ascii) {
  EXPECT_EQ(Words("hello world"), (V{"hello", "world"}));
  EXPECT_EQ(Words("  Hello,   World!  "), (V{"Hello", "World"}));
  EXPECT_EQ(Words("x"), (V{"x"}));
  EXPECT_EQ(Words("The quick\nbrown\tfox"), (V{"The", "quick", "brown", "fox"}));
}

TEST(WordsTest, PunctuationDigitsUnderscoreSeparate) {
  EXPECT_EQ(Words("don't stop-me now_please"), (V{"don", "t", "stop", "me", "now", "please"}));
  EXPECT_EQ(Words("abc123def 42 x9"), (V{"abc", "def", "x"}));
  EXPECT_EQ(Words("a.b,c;d:e(f)g[h]i{j}k\"l'm`n~o@p#q$r%s^t&u*v+w=x<y>z|A\\B/C?D"),
            (V{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
               "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "A", "B", "C", "D"}));
  EXPECT_EQ(Words(std::string_view("a\0b", 3)), (V{"a", "b"}));
}

TEST(WordsTest, EmptyAndNoWords) {
  EXPECT_TRUE(Words("").empty());
  EXPECT_TRUE(Words(" \t\n 123 ,.;!? _ -- \u2014 \u00bf \u0660\u0661").empty());
  EXPECT_TRUE(Words("\x80\xff\xc0\xaf").empty());
}

TEST(WordsTest, AccentedLatin) {
  EXPECT_EQ(Words("café naïve"), (V{"café", "naïve"}));
  EXPECT_EQ(Words("Ærøskøbing—Straße"), (V{"Ærøskøbing", "Straße"}));
  EXPECT_EQ(Words("ªº µ"), (V{"ªº", "µ"}));  // Lo, Lo, Ll.
}

TEST(WordsTest, NonLatinLetters) {
  EXPECT_EQ(Words("Καλημέρα κόσμε"), (V{"Καλημέρα", "κόσμε"}));
  EXPECT_EQ(Words("Привет, мир!"), (V{"Привет", "мир"}));
  EXPECT_EQ(Words("日本語テキスト。中文"), (V{"日本語テキスト", "中文"}));
  EXPECT_EQ(Words("مرحبا بالعالم"), (V{"مرحبا", "بالعالم"}));
  EXPECT_EQ(Words("안녕하세요 세계"), (V{"안녕하세요", "세계"}));
  EXPECT_EQ(Words("a\U00020000b \U0002A6D6"), (V{"a\U00020000b", "\U0002A6D6"}));
  EXPECT_EQ(Words("々ʰ"), (V{"々ʰ"}));  // Lm.
}

TEST(WordsTest, NonLetterCodePointsSeparate) {
  // Mn (combining acute), Nd (Arabic-Indic digit), Nl (Roman numeral), So (emoji), Zs (NBSP).
  EXPECT_EQ(Words("e\u0301te"), (V{"e", "te"}));
  EXPECT_EQ(Words("a\u0661b\u2160c\U0001F600d\u00a0e"), (V{"a", "b", "c", "d", "e"}));
}

TEST(WordsTest, InvalidUtf8Separates) {
  // Letters next to hex escapes are chosen from g-z so that they do not extend the escape.
  EXPECT_EQ(Words("x\xC3y"), (V{"x", "y"}));              // Truncated 2-byte sequence.
  EXPECT_EQ(Words("x\x80y\xBF"), (V{"x", "y"}));          // Lone continuation bytes.
  EXPECT_EQ(Words("\xE2\x82x"), (V{"x"}));                // Truncated 3-byte sequence.
  EXPECT_EQ(Words("ab\xE2\x82"), (V{"ab"}));              // Truncated at end of text.
  EXPECT_EQ(Words("ab\xF0\x9F\x98"), (V{"ab"}));          // Truncated 4-byte at end.
  EXPECT_EQ(Words("ab\xC3"), (V{"ab"}));                  // Truncated 2-byte at end.
  EXPECT_EQ(Words("x\xC0\xAFy"), (V{"x", "y"}));          // Overlong '/'.
  EXPECT_EQ(Words("x\xC1\x81y"), (V{"x", "y"}));          // Overlong 'A' is no letter.
  EXPECT_EQ(Words("x\xE0\x81\x81y"), (V{"x", "y"}));      // Overlong 3-byte 'A'.
  EXPECT_EQ(Words("x\xF0\x80\x81\x81y"), (V{"x", "y"}));  // Overlong 4-byte 'A'.
  EXPECT_EQ(Words("x\xED\xA0\x80y"), (V{"x", "y"}));      // Surrogate U+D800.
  EXPECT_EQ(Words("x\xF4\x90\x80\x80y"), (V{"x", "y"}));  // U+110000.
  EXPECT_EQ(Words("x\xF5\x80\x80\x80y"), (V{"x", "y"}));  // F5 is never a lead byte.
  EXPECT_EQ(Words("x\xFFy\xFEz"), (V{"x", "y", "z"}));
  // Resynchronisation at the very next byte: the invalid lead byte alone is skipped, and a valid
  // letter that follows it is part of the next word.
  EXPECT_EQ(Words("\xC3\xC3\xA9t\xC3\xA9"), (V{"\xC3\xA9t\xC3\xA9"}));
  EXPECT_EQ(Words("x\xE2\xC3\xA9"), (V{"x", "\xC3\xA9"}));
}

TEST(WordsTest, DecodeUtf8) {
  char32_t cp = 0;
  size_t len = 0;
  EXPECT_TRUE(DecodeUtf8("A", 0, &cp, &len));
  EXPECT_EQ(cp, U'A');
  EXPECT_EQ(len, 1u);
  EXPECT_TRUE(DecodeUtf8("xé", 1, &cp, &len));
  EXPECT_EQ(cp, 0xE9u);
  EXPECT_EQ(len, 2u);
  EXPECT_TRUE(DecodeUtf8("\xEF\xBF\xBF", 0, &cp, &len));
  EXPECT_EQ(cp, 0xFFFFu);
  EXPECT_EQ(len, 3u);
  EXPECT_TRUE(DecodeUtf8("\xED\x9F\xBF", 0, &cp, &len));
  EXPECT_EQ(cp, 0xD7FFu);
  EXPECT_TRUE(DecodeUtf8("\xEE\x80\x80", 0, &cp, &len));
  EXPECT_EQ(cp, 0xE000u);
  EXPECT_TRUE(DecodeUtf8("\xF0\x90\x80\x80", 0, &cp, &len));
  EXPECT_EQ(cp, 0x10000u);
  EXPECT_EQ(len, 4u);
  EXPECT_TRUE(DecodeUtf8("\xF4\x8F\xBF\xBF", 0, &cp, &len));
  EXPECT_EQ(cp, 0x10FFFFu);
  EXPECT_TRUE(DecodeUtf8("\xC2\x80", 0, &cp, &len));
  EXPECT_EQ(cp, 0x80u);
  EXPECT_TRUE(DecodeUtf8("\xE0\xA0\x80", 0, &cp, &len));
  EXPECT_EQ(cp, 0x800u);

  for (std::string_view bad :
       {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xC3", "\xC3x", "\xE0\x9F\xBF", "\xED\xA0\x80",
        "\xED\xBF\xBF", "\xE2\x82", "\xF0\x8F\xBF\xBF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",
        "\xF0\x9F\x98", "\xFF", "\xE2\x28\xA1"}) {
    len = 7;
    EXPECT_FALSE(DecodeUtf8(bad, 0, &cp, &len)) << testing::PrintToString(bad);
    EXPECT_EQ(len, 1u);
  }
  EXPECT_FALSE(DecodeUtf8("ab", 2, &cp, &len));
}

TEST(WordsTest, UnicodeTables) {
  EXPECT_TRUE(IsUnicodeLetter(U'a'));
  EXPECT_TRUE(IsUnicodeLetter(U'Z'));
  EXPECT_FALSE(IsUnicodeLetter(U'0'));
  EXPECT_FALSE(IsUnicodeLetter(U'_'));
  EXPECT_FALSE(IsUnicodeLetter(0));
  EXPECT_TRUE(IsUnicodeLetter(0xAA));
  EXPECT_FALSE(IsUnicodeLetter(0xD7));  // Multiplication sign.
  EXPECT_TRUE(IsUnicodeLetter(0x20000));
  EXPECT_FALSE(IsUnicodeLetter(0x301));
  EXPECT_FALSE(IsUnicodeLetter(0xD800));
  EXPECT_FALSE(IsUnicodeLetter(0x10FFFF));
  EXPECT_FALSE(IsUnicodeLetter(0x110000));
  EXPECT_EQ(SimpleLowercase(U'A'), U'a');
  EXPECT_EQ(SimpleLowercase(U'a'), U'a');
  EXPECT_EQ(SimpleLowercase(0x100), 0x101u);  // Stride-2 run.
  EXPECT_EQ(SimpleLowercase(0x101), 0x101u);
  EXPECT_EQ(SimpleLowercase(0x130), 0x130u);  // Full lowercase has two code points.
  EXPECT_EQ(SimpleLowercase(0x212A), U'k');   // Kelvin sign.
  EXPECT_EQ(SimpleLowercase(0x1E9E), 0xDFu);  // Capital sharp s.
  EXPECT_EQ(SimpleLowercase(0x1E900), 0x1E922u);
  EXPECT_EQ(SimpleLowercase(0x10FFFF), 0x10FFFFu);
}

TEST(WordsTest, LowercaseFolding) {
  EXPECT_EQ(Lower("Hello"), "hello");
  EXPECT_EQ(Lower("ABCXYZabcxyz"), "abcxyzabcxyz");
  EXPECT_EQ(Lower("ÀÉÎ"), "àéî");
  EXPECT_EQ(Lower("ΣΑΣ"), "σασ");  // Simple mapping: no final sigma.
  EXPECT_EQ(Lower("İ"), "İ");      // U+0130 stays: Python's lower() gives two code points.
  EXPECT_EQ(Lower("İstanbul"), "İstanbul");
  EXPECT_EQ(Lower("ПРИВЕТ"), "привет");
  EXPECT_EQ(Lower("Straße"), "straße");
  EXPECT_EQ(Lower("\u212A"), "k");       // Shrinks from 3 bytes to 1.
  EXPECT_EQ(Lower("\u023A"), "\u2C65");  // Grows from 2 bytes to 3.
  EXPECT_EQ(Lower("\U0001E900"), "\U0001E922");
  EXPECT_EQ(Lower("日本"), "日本");
  EXPECT_EQ(Lower(""), "");
  EXPECT_EQ(Lower("X\xFFY"), "x\xFFy");  // Invalid bytes are copied.
}

// ---- Randomised comparison against a slow, obviously-correct reference. ----

// Decodes by computing the value first and validating it afterwards (a different shape from
// DecodeUtf8). Returns the length consumed, or 0 if invalid.
size_t SlowDecode(std::string_view s, size_t i, char32_t* cp) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(s[k])); };
  const uint32_t b0 = b(i);
  size_t len;
  uint32_t value;
  if (b0 < 0x80) {
    len = 1, value = b0;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    value = (value << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kMin[len] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) return 0;
  *cp = value;
  return len;
}

std::vector<std::string> SlowWords(std::string_view s) {
  std::vector<std::string> words;
  std::string current;
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    const size_t len = SlowDecode(s, i, &cp);
    if (len > 0 && IsUnicodeLetter(cp)) {
      current.append(s.substr(i, len));
      i += len;
      continue;
    }
    if (!current.empty()) words.push_back(current);
    current.clear();
    i += len > 0 ? len : 1;
  }
  if (!current.empty()) words.push_back(current);
  return words;
}

std::string SlowLower(std::string_view word) {
  std::string out;
  for (size_t i = 0; i < word.size();) {
    char32_t cp = 0;
    const size_t len = SlowDecode(word, i, &cp);
    EXPECT_GT(len, 0u);
    const char32_t lower = SimpleLowercase(cp);
    char32_t check = 0;
    std::string encoded;
    // Encode by trying every length: the unique valid one that decodes back to `lower`.
    for (int n = 1; n <= 4 && encoded.empty(); ++n) {
      std::string candidate(n, '\0');
      uint32_t v = lower;
      for (int k = n - 1; k >= 1; --k) {
        candidate[k] = static_cast<char>(0x80 | (v & 0x3F));
        v >>= 6;
      }
      static constexpr uint32_t kLeadMark[] = {0, 0x00, 0xC0, 0xE0, 0xF0};
      candidate[0] = static_cast<char>(kLeadMark[n] | v);
      if (SlowDecode(candidate, 0, &check) == static_cast<size_t>(n) && check == lower) {
        encoded = candidate;
      }
    }
    EXPECT_FALSE(encoded.empty());
    out += encoded;
    i += len;
  }
  return out;
}

std::string RandomText(std::mt19937& rng, int max_pieces) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   "q",
                                                   "word",
                                                   " ",
                                                   ".",
                                                   "0",
                                                   "_",
                                                   "\n",
                                                   std::string(1, '\0'),
                                                   "é",
                                                   "É",
                                                   "ß",
                                                   "Σ",
                                                   "ς",
                                                   "Ж",
                                                   "中",
                                                   "ア",
                                                   "한",
                                                   "ا",
                                                   "\U00020000",
                                                   "\U0001E900",
                                                   "İ",
                                                   "ǅ",
                                                   "\u0301",
                                                   "\u2014",
                                                   "\u00a0",
                                                   "\u0661",
                                                   "\U0001F600",
                                                   "\uFFFD",
                                                   "\u3005",
                                                   "\u02b0",
                                                   "\xC3",
                                                   "\xE2\x82",
                                                   "\xF0\x9F\x98",
                                                   "\x80",
                                                   "\xBF",
                                                   "\xC0\xAF",
                                                   "\xED\xA0\x80",
                                                   "\xF4\x90\x80\x80",
                                                   "\xFF",
                                                   "\xF8\x88\x80\x80\x80",
                                                   "\xE0\x80\x80"};
  std::uniform_int_distribution<int> length(0, max_pieces);
  std::uniform_int_distribution<int> mode(0, 3);
  std::uniform_int_distribution<size_t> piece(0, kPieces.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string text;
  const int n = length(rng);
  for (int k = 0; k < n; ++k) {
    if (mode(rng) == 0) {
      text.push_back(static_cast<char>(byte(rng)));  // Arbitrary byte.
    } else {
      text += kPieces[piece(rng)];
    }
  }
  return text;
}

TEST(WordsTest, MatchesSlowReferenceOnRandomBytes) {
  std::mt19937 rng(20240607);
  for (int iter = 0; iter < 5000; ++iter) {
    // Mostly short texts, some spanning several 64-byte blocks.
    const std::string text = RandomText(rng, iter % 10 == 0 ? 400 : 40);
    const std::vector<std::string> expected = SlowWords(text);
    const std::vector<std::string> actual = Words(text);
    ASSERT_EQ(actual, expected) << "input: " << testing::PrintToString(text);
    for (const std::string& w : actual) {
      ASSERT_EQ(Lower(w), SlowLower(w)) << "word: " << testing::PrintToString(w);
    }
  }
}

TEST(WordsTest, BlockBoundaries) {
  // The tokenizer works on 64-byte blocks: slide every kind of sequence across the boundaries.
  const std::vector<std::string> probes = {
      "a",    "é",        "中",           "\U00020000", "\u0301",       "\U0001F600",
      "\xC3", "\xE2\x82", "\xF0\x9F\x98", "\x80",       "\xED\xA0\x80", "\xF4\x90\x80\x80",
      " "};
  for (size_t offset = 0; offset < 140; ++offset) {
    for (const std::string& probe : probes) {
      for (const char* filler : {"x", " ", "é"}) {
        std::string text;
        while (text.size() < offset) text += filler;
        text += probe;
        ASSERT_EQ(Words(text), SlowWords(text)) << testing::PrintToString(text);
        text += "yz";
        ASSERT_EQ(Words(text), SlowWords(text)) << testing::PrintToString(text);
        text += std::string(70, 'w') + probe + " ";
        ASSERT_EQ(Words(text), SlowWords(text)) << testing::PrintToString(text);
      }
    }
  }
  for (size_t size : {63, 64, 65, 127, 128, 129, 1000}) {
    EXPECT_EQ(Words(std::string(size, 'q')), (V{std::string(size, 'q')}));
    EXPECT_TRUE(Words(std::string(size, '.')).empty());
  }
}

TEST(WordsTest, ExhaustiveTwoAndThreeByteSequences) {
  // Every 1-3 byte prefix drawn from interesting byte values, surrounded by letters.
  const std::vector<int> bytes = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                  0xC0, 0xC1, 0xC2, 0xC3, 0xDF, 0xE0, 0xE1, 0xEC, 0xED,
                                  0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
  for (int a : bytes) {
    for (int b : bytes) {
      for (int c : bytes) {
        std::string text = "x";
        text.push_back(static_cast<char>(a));
        text.push_back(static_cast<char>(b));
        text.push_back(static_cast<char>(c));
        ASSERT_EQ(Words(text), SlowWords(text)) << testing::PrintToString(text);
        text += "\x80\x80y";
        ASSERT_EQ(Words(text), SlowWords(text)) << testing::PrintToString(text);
      }
    }
  }
}

}  // namespace
}  // namespace mr
