#include "jobs/key_fields.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace mr {
namespace {

// Keys in the order the engine would sort their encodings (bytes), decoded back.
std::vector<std::string> Sorted(const KeySpec& spec, std::vector<std::string> keys) {
  std::vector<std::string> stored;
  for (const std::string& k : keys) {
    std::string s;
    EncodeKey(spec, k, &s);
    stored.push_back(s);
  }
  std::sort(stored.begin(), stored.end());
  std::vector<std::string> out;
  for (const std::string& s : stored) out.emplace_back(DecodeKey(spec, s));
  return out;
}

KeySpec Spec(JobArgs args) {
  auto spec = ParseKeySpec(args);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return spec.ok() ? *spec : KeySpec{};
}

TEST(KeyFieldsTest, PlainByDefault) {
  KeySpec spec = Spec({});
  EXPECT_TRUE(spec.plain());
  std::string_view k, v;
  SplitLine(spec, "a\tb\tc", &k, &v);
  EXPECT_EQ(k, "a");
  EXPECT_EQ(v, "b\tc");
  SplitLine(spec, "no tab", &k, &v);
  EXPECT_EQ(k, "no tab");
  EXPECT_EQ(v, "");
  std::string stored;
  EncodeKey(spec, "word", &stored);
  EXPECT_EQ(stored, "word");  // nothing paid
}

TEST(KeyFieldsTest, TheFirstNFieldsAreTheKey) {
  KeySpec spec = Spec({{kKeyFieldsProperty, "2"}, {kFieldSeparatorProperty, "."}});
  std::string_view k, v;
  SplitLine(spec, "a.b.c\tx", &k, &v);
  EXPECT_EQ(k, "a.b");
  EXPECT_EQ(v, "c\tx");
  SplitLine(spec, "a.b", &k, &v);  // fewer fields than N: all key
  EXPECT_EQ(k, "a.b");
  EXPECT_EQ(v, "");
}

TEST(KeyFieldsTest, SecondarySortNumericAndReverse) {
  // Users by name, then their events newest first, numerically (10 after 9).
  KeySpec spec = Spec({{kKeyFieldsProperty, "2"}, {kSortProperty, "-k1,1 -k2,2nr"}});
  EXPECT_EQ(Sorted(spec, {"bob\t9", "amy\t10", "bob\t10", "amy\t9", "amy\t100", "bob\t-1"}),
            (std::vector<std::string>{"amy\t100", "amy\t10", "amy\t9", "bob\t10", "bob\t9", "bob\t-1"}));
  // Numbers as numbers, with decimals and signs; non-numbers as 0.
  KeySpec n = Spec({{kSortProperty, "-k1n"}});
  EXPECT_EQ(Sorted(n, {"10", "9.5", "-3", "x", "1e3", "0.25"}),
            (std::vector<std::string>{"-3", "x", "0.25", "9.5", "10", "1e3"}));
  // Text reversed; a prefix sorts before its extensions, reversed after; NUL bytes kept in order.
  KeySpec r = Spec({{kSortProperty, "-k1r"}});
  EXPECT_EQ(Sorted(r, {"ab", "a", "b", std::string("a\0b", 3)}),
            (std::vector<std::string>{"b", "ab", std::string("a\0b", 3), "a"}));
}

TEST(KeyFieldsTest, CharacterPositionsAndOtherSeparators) {
  KeySpec spec = Spec({{kKeySeparatorProperty, "."}, {kSortProperty, "-k2.2,2.3"}});
  // Field 2's characters 2 and 3: "x.a13" -> "13", "y.b02" -> "02".
  EXPECT_EQ(Sorted(spec, {"x.a13", "y.b02", "z.c99"}), (std::vector<std::string>{"y.b02", "x.a13", "z.c99"}));
  EXPECT_EQ(Sorted(Spec({{kSortProperty, "-n -r"}}), {"2", "10", "1"}), (std::vector<std::string>{"10", "2", "1"}));
}

TEST(KeyFieldsTest, PartitionByAFieldKeepsItsKeysTogether) {
  KeySpec spec = Spec({{kKeyFieldsProperty, "2"}, {kPartitionProperty, "-k1,1"}});
  for (uint32_t r : {2u, 7u, 31u}) {
    EXPECT_EQ(PartitionKey(spec, "amy\t1", r), PartitionKey(spec, "amy\t999", r));
    EXPECT_EQ(PartitionKey(spec, "bob\t1", r), PartitionKey(spec, "bob\tx", r));
  }
  // Some pair of users is split across reducers: the partitioner is not constant.
  bool differs = false;
  for (int i = 0; i < 20 && !differs; i++) differs = PartitionKey(spec, "u" + std::to_string(i) + "\t1", 4) != PartitionKey(spec, "u0\t1", 4);
  EXPECT_TRUE(differs);
}

TEST(KeyFieldsTest, BadSpecsAreNamed) {
  EXPECT_NE(ParseKeySpec({{kSortProperty, "-k0,1"}}).status().message().find("'-k0,1': want -kF1"), std::string::npos);
  EXPECT_NE(ParseKeySpec({{kSortProperty, "-k1x"}}).status().message().find(kSortProperty), std::string::npos);
  EXPECT_NE(ParseKeySpec({{kKeyFieldsProperty, "0"}}).status().message().find("want a number of fields"),
            std::string::npos);
  EXPECT_NE(ParseKeySpec({{kFieldSeparatorProperty, "ab"}}).status().message().find("want one character"),
            std::string::npos);
  EXPECT_TRUE(ParseKeySpec({{kSortProperty, "k1,1 k2,2nr"}}).ok());  // as --sort-by gives it
}

}  // namespace
}  // namespace mr
