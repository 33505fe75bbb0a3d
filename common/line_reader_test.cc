#include "common/line_reader.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace mr {
namespace {

struct Line {
  uint64_t offset;
  std::string text;
  bool operator==(const Line&) const = default;
};

std::vector<Line> ReadSplits(const std::string& data, uint64_t split) {
  std::vector<Line> out;
  for (uint64_t b = 0; b < data.size(); b += split) {
    ForEachOwnedLine(data, b, b + split, [&](uint64_t off, std::string_view l) {
      out.push_back({off, std::string(l)});
    });
  }
  return out;
}

// The lines of `data` computed the obvious way, for comparison.
std::vector<Line> AllLines(const std::string& data) {
  std::vector<Line> out;
  uint64_t start = 0;
  for (uint64_t i = 0; i <= data.size(); i++) {
    if (i == data.size() || data[i] == '\n') {
      if (i == data.size() && start == data.size()) break;
      std::string l = data.substr(start, i - start);
      if (!l.empty() && l.back() == '\r') l.pop_back();
      out.push_back({start, l});
      start = i + 1;
    }
  }
  return out;
}

TEST(LineReaderTest, EmptyFileHasNoLines) {
  EXPECT_TRUE(ReadSplits("", 4).empty());
  EXPECT_TRUE(OwnedRange("", 0, 10).empty());
}

TEST(LineReaderTest, FinalLineWithoutNewline) {
  auto lines = ReadSplits("ab\ncd", 100);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1], (Line{3, "cd"}));
}

TEST(LineReaderTest, LineSpanningManySplitsIsReadOnceByTheSplitItStartsIn) {
  std::string data = "x\n" + std::string(50, 'a') + "\nz\n";
  for (uint64_t split = 1; split < 60; split++) {
    EXPECT_EQ(ReadSplits(data, split), AllLines(data)) << "split " << split;
  }
}

TEST(LineReaderTest, SplitBoundaryExactlyAtLineStart) {
  // "abc\n" is 4 bytes: the split [4, 8) starts exactly at the second line.
  std::string data = "abc\ndef\nghi\n";
  std::vector<Line> second;
  ForEachOwnedLine(data, 4, 8, [&](uint64_t o, std::string_view l) { second.push_back({o, std::string(l)}); });
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0], (Line{4, "def"}));
}

TEST(LineReaderTest, CrlfIsStripped) {
  auto lines = ReadSplits("a\r\nb\r\n\r\n", 2);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "a");
  EXPECT_EQ(lines[1].text, "b");
  EXPECT_EQ(lines[2].text, "");
}

TEST(LineReaderTest, EmptyLinesAreLines) {
  EXPECT_EQ(ReadSplits("\n\n\n", 1).size(), 3u);
}

TEST(LineReaderTest, RandomTextsAndSplitSizes) {
  std::mt19937 rng(42);
  for (int iter = 0; iter < 500; iter++) {
    std::string data;
    int n = rng() % 200;
    for (int i = 0; i < n; i++) {
      int r = rng() % 10;
      data += r == 0 ? '\n' : r == 1 ? '\r' : static_cast<char>('a' + r);
    }
    uint64_t split = 1 + rng() % 40;
    ASSERT_EQ(ReadSplits(data, split), AllLines(data)) << "data '" << data << "' split " << split;
  }
}

}  // namespace
}  // namespace mr
