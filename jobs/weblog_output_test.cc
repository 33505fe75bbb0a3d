// The weblog output format: what a reducer writes is what `mr report` reads back.
#include "jobs/weblog_output.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

WeblogReport Partition(int64_t scale) {
  WeblogReport r;
  r.valid_requests = 10 * scale;
  r.failed_requests = scale;
  r.bandwidth = 1000 * scale;
  r.day_visitors = {{"2024-02-28", 3 * scale}};
  r.unique_visitors = 3 * scale;
  r.counts = {{"hosts", 2}};
  r.panels["hosts"] = {{"10.0.0." + std::to_string(scale), 7 * scale, 2, 700}, {"h:" + std::to_string(scale), 3, 1, 300}};
  // Every entry is in one partition, but the visitors of a day are counted in several.
  if (scale == 1) r.panels["visitors"] = {{"2024-02-28", 30, 0, 3000}};
  return r;
}

TEST(WeblogOutputTest, WhatAReducerWritesMergesBackExactly) {
  WeblogReport merged;
  for (int64_t p : {1, 2}) {
    for (auto& [k, v] : WeblogOutputLines(static_cast<uint32_t>(p), Partition(p))) {
      EXPECT_TRUE(MergeWeblogOutputLine(k + "\t" + v, &merged)) << k << " " << v;
    }
  }
  FinishWeblogMerge(&merged);
  EXPECT_EQ(merged.valid_requests, 30);
  EXPECT_EQ(merged.failed_requests, 3);
  EXPECT_EQ(merged.bandwidth, 3000);
  EXPECT_EQ(merged.unique_visitors, 9);
  EXPECT_EQ(merged.counts.at("hosts"), 4);
  std::vector<std::string> hosts;  // by hits, then item
  for (const WeblogRow& row : merged.panels.at("hosts")) hosts.push_back(row.item);
  EXPECT_EQ(hosts, (std::vector<std::string>{"10.0.0.2", "10.0.0.1", "h:1", "h:2"}));
  EXPECT_EQ(merged.panels.at("hosts")[0].hits, 14);
  ASSERT_EQ(merged.panels.at("visitors").size(), 1u);
  EXPECT_EQ(merged.panels.at("visitors")[0].visitors, 9);  // the exact count replaces the row's
}

TEST(WeblogOutputTest, ARequestItemSplitsIntoMethodPathAndProtocol) {
  RequestItem r = SplitRequestItem("GET /a b.html HTTP/1.1");
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/a b.html");
  EXPECT_EQ(r.protocol, "HTTP/1.1");
  r = SplitRequestItem("GET /x");
  EXPECT_EQ(r.path, "/x");
  EXPECT_EQ(r.protocol, "");
  r = SplitRequestItem("-");
  EXPECT_EQ(r.method, "-");
  EXPECT_EQ(r.path, "");
}

TEST(WeblogOutputTest, OtherLinesAreRefusedAndChangeNothing) {
  WeblogReport r;
  for (const char* line : {"", "word\t3", "general:00000:valid_requests\tx", "general:00000:other\t1",
                           "count:00000:nopanel\t1", "hosts:00000:h\t1\t2", "hosts:00000:h\t1\t2\t3\t4",
                           "nopanel:00000:h\t1\t2\t3", "hosts:00000\t1\t2\t3", "day_visitors:00000:d\t-"}) {
    EXPECT_FALSE(MergeWeblogOutputLine(line, &r)) << line;
  }
  EXPECT_EQ(r.valid_requests, 0);
  EXPECT_TRUE(r.panels.empty() && r.counts.empty() && r.day_visitors.empty());
}

}  // namespace
}  // namespace mr
