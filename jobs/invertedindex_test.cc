#include "jobs/invertedindex.h"

#include <gtest/gtest.h>

#include "jobs/job_testing.h"

namespace mr {
namespace {

using testing::MapCounters;
using testing::Piece;
using testing::RunInProcess;
using testing::VectorValues;

TEST(InvertedIndexTest, MergesSinglePathsAndListsInAnyMix) {
  std::string a = "/d1/a.txt", b = "/d2/b.txt", c = "/d1/c.txt";
  VectorValues values({b, a + '\0' + c, c, b + '\0' + c, a});
  std::vector<std::string> merged = invertedindex::MergePathLists(values);
  EXPECT_EQ(merged, (std::vector<std::string>{a, c, b}));
  std::string joined = invertedindex::JoinPaths(merged);
  EXPECT_EQ(joined, a + '\0' + c + '\0' + b);
  // Merging is idempotent: a combined list merged again with more lists gives the same result.
  VectorValues again({joined, joined, b});
  EXPECT_EQ(invertedindex::MergePathLists(again), merged);
  EXPECT_EQ(invertedindex::FormatPostings(merged), "3 a.txt,b.txt,c.txt");
}

TEST(InvertedIndexTest, SameBaseNameInTwoDirectoriesIsTwoFiles) {
  EXPECT_EQ(invertedindex::FormatPostings({"/x/README", "/y/README", "/y/Z"}), "3 README,README,Z");
  EXPECT_EQ(invertedindex::FormatPostings({"/only"}), "1 only");
  // Base names sort bytewise: uppercase before lowercase, UTF-8 after ASCII.
  EXPECT_EQ(invertedindex::FormatPostings({"/d/b", "/d/B", "/d/\xc3\xa9", "/d/a,b"}), "4 B,a,b,b,\xc3\xa9");
  // TAB, LF and backslash in a name are escaped, so the line stays one line.
  EXPECT_EQ(invertedindex::FormatPostings({"/d/a\tb", "/d/c\nd", "/d/e\\f"}), "3 a\\tb,c\\nd,e\\\\f");
}

TEST(InvertedIndexTest, EndToEndInProcess) {
  auto job = MakeJob("invertedindex", {});
  ASSERT_TRUE(job.ok());
  MapCounters counters;
  // Two mappers read pieces of the same file: the reducer still counts the file once.
  std::string out =
      RunInProcess(**job,
                   {Piece{"/in/one.txt", "the cat\nthe dog, the end\n"}, Piece{"/in/one.txt", "Cat"},
                    Piece{"/in/sub/two.txt", "cat café\n"}, Piece{"/other/two.txt", "café"}},
                   &counters);
  EXPECT_EQ(out,
            "Cat\t1 one.txt\n"
            "café\t2 two.txt,two.txt\n"
            "cat\t2 one.txt,two.txt\n"
            "dog\t1 one.txt\n"
            "end\t1 one.txt\n"
            "the\t1 one.txt\n");
  auto lower = MakeJob("invertedindex", {{"lowercase", "true"}});
  ASSERT_TRUE(lower.ok());
  std::string folded = RunInProcess(**lower, {Piece{"/a", "Cat CAT"}, Piece{"/b", "cat"}}, &counters);
  EXPECT_EQ(folded, "cat\t2 a,b\n");
  EXPECT_FALSE(MakeJob("invertedindex", {{"lowercase", "maybe"}}).ok());
  EXPECT_FALSE(MakeJob("invertedindex", {{"pattern", "x"}}).ok());
}

}  // namespace
}  // namespace mr
