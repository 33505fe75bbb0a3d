#include "common/failpoint.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace mr {
namespace {

// These tests exercise the mechanism with names of their own.
constexpr std::string_view kTestPoints[] = {"a", "b", "c", "d", "p", "a.b", "other", "anything"};

Status ConfigureFailpoints(const std::string& spec, uint64_t seed) {
  return mr::ConfigureFailpoints(spec, seed, kTestPoints);
}

Status Failpoint(std::string_view name) { return mr::Failpoint(FailpointName::Unchecked(name)); }

class FailpointTest : public ::testing::Test {
 protected:
  void TearDown() override { ASSERT_TRUE(ConfigureFailpoints("", 0).ok()); }
};

TEST_F(FailpointTest, OffByDefault) { EXPECT_TRUE(Failpoint("anything").ok()); }

TEST_F(FailpointTest, ErrorWithCount) {
  ASSERT_TRUE(ConfigureFailpoints("a.b=2*error", 0).ok());
  EXPECT_FALSE(Failpoint("a.b").ok());
  EXPECT_FALSE(Failpoint("a.b").ok());
  EXPECT_TRUE(Failpoint("a.b").ok());  // the count is used up
  EXPECT_TRUE(Failpoint("other").ok());
}

TEST_F(FailpointTest, ProbabilityIsSeededAndReproducible) {
  auto run = [](uint64_t seed) {
    EXPECT_TRUE(ConfigureFailpoints("p=error@0.3", seed).ok());
    std::string pattern;
    for (int i = 0; i < 200; i++) pattern += Failpoint("p").ok() ? '.' : 'x';
    return pattern;
  };
  std::string a = run(7), b = run(7), c = run(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  size_t fired = std::count(a.begin(), a.end(), 'x');
  EXPECT_GT(fired, 30u);
  EXPECT_LT(fired, 90u);
}

TEST_F(FailpointTest, DelayAndCrashInAChild) {
  ASSERT_TRUE(ConfigureFailpoints("d=delay(20ms)", 0).ok());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(Failpoint("d").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  ASSERT_TRUE(ConfigureFailpoints("c=crash", 0).ok());
  EXPECT_EXIT((void)Failpoint("c"), ::testing::ExitedWithCode(137), "");
}

TEST_F(FailpointTest, BadSpecsAreRejected) {
  EXPECT_FALSE(ConfigureFailpoints("noequals", 0).ok());
  EXPECT_FALSE(ConfigureFailpoints("a=explode", 0).ok());
  EXPECT_FALSE(ConfigureFailpoints("a=error@2", 0).ok());
  EXPECT_FALSE(ConfigureFailpoints("a=delay(soon)", 0).ok());
  EXPECT_TRUE(ConfigureFailpoints("a=off;b=hang;c=1*crash@0.5", 0).ok());
}

TEST_F(FailpointTest, UnknownNamesAreRejected) {
  Status s = mr::ConfigureFailpoints("map.start=error;map.strat=crash", 0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown failpoint 'map.strat'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("known: map.start, map.after_read,"), std::string::npos) << s.message();
  EXPECT_TRUE(mr::Failpoint("map.start").ok());  // a rejected configuration changes nothing
  // Every declared point is accepted.
  for (std::string_view name : kFailpointNames) {
    EXPECT_TRUE(mr::ConfigureFailpoints(std::string(name) + "=off", 0).ok()) << name;
  }
}

// The README's list of points is written by hand: it must name every declared point.
TEST(FailpointListTest, TheReadmeNamesEveryPoint) {
  const char* source = std::getenv("MR_SOURCE_DIR");
  if (source == nullptr) GTEST_SKIP() << "MR_SOURCE_DIR is not set";
  std::ifstream in(std::string(source) + "/README.md");
  ASSERT_TRUE(in.good());
  std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (std::string_view name : kFailpointNames) {
    EXPECT_NE(readme.find("`" + std::string(name) + "`"), std::string::npos) << name;
  }
}

static_assert(IsKnownFailpoint("reduce.after_fetch"));
static_assert(!IsKnownFailpoint("reduce.after_fetched"));

}  // namespace
}  // namespace mr
