// The scheduler's indexes alone (master/scheduler_index.h), checked against brute force.
#include "master/scheduler_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace mr {
namespace {

TEST(FreeSlotsTest, MostFreeFirstThenLowestIdAndZeroLeaves) {
  FreeSlots f;
  f.Set("w2", 3);
  f.Set("w1", 1);
  f.Set("w3", 3);
  auto any = [](const std::string&) { return true; };
  EXPECT_EQ(*f.Find(any), "w2");  // 3 free, and "w2" < "w3"
  f.Set("w2", 2);                  // one slot taken: w3 leads now
  EXPECT_EQ(*f.Find(any), "w3");
  EXPECT_EQ(*f.Find([](const std::string& id) { return id != "w3"; }), "w2");
  f.Set("w3", 0);
  f.Erase("w2");
  EXPECT_EQ(f.size(), 1u);
  EXPECT_EQ(*f.Find(any), "w1");
  EXPECT_EQ(f.Find([](const std::string& id) { return id != "w1"; }), nullptr);
  f.Erase("w1");
  f.Erase("w1");  // twice is harmless
  EXPECT_TRUE(f.empty());
}

TEST(IdleQueueTest, LowestIdleFirstIncludingTasksThatBecameIdleAgain) {
  IdleQueue q;
  q.Reset(5);
  EXPECT_EQ(q.count(), 5u);
  EXPECT_EQ(q.Next(), 0u);
  q.MarkBusy(0);
  q.MarkBusy(1);
  EXPECT_EQ(q.Next(), 2u);  // the cursor moves past 0 and 1
  q.MarkIdle(1);             // below the cursor: found again
  EXPECT_EQ(q.Next(), 1u);
  EXPECT_EQ(q.count(), 4u);
  q.MarkIdle(1);             // already idle: no double count
  EXPECT_EQ(q.count(), 4u);
  for (uint32_t i : {1u, 2u, 3u, 4u}) q.MarkBusy(i);
  EXPECT_EQ(q.Next(), std::nullopt);
  EXPECT_EQ(q.count(), 0u);
  q.MarkIdle(4);
  EXPECT_EQ(q.Next(), 4u);
  q.MarkIdle(9);  // out of range: ignored
  EXPECT_EQ(q.count(), 1u);
}

TEST(IdleQueueTest, AgreesWithAScanUnderRandomChanges) {
  std::mt19937 rng(7);
  IdleQueue q;
  std::vector<bool> idle(300, true);
  q.Reset(300);
  for (int step = 0; step < 20000; step++) {
    uint32_t i = rng() % 300;
    if (rng() % 3 == 0) {
      q.MarkIdle(i);
      idle[i] = true;
    } else {
      q.MarkBusy(i);
      idle[i] = false;
    }
    auto first = std::find(idle.begin(), idle.end(), true);
    std::optional<uint32_t> want;
    if (first != idle.end()) want = static_cast<uint32_t>(first - idle.begin());
    ASSERT_EQ(q.Next(), want) << "step " << step;
    ASSERT_EQ(q.count(), static_cast<uint32_t>(std::count(idle.begin(), idle.end(), true)));
  }
}

TEST(MedianTrackerTest, AgreesWithNthElementUnderInsertsAndErases) {
  std::mt19937 rng(11);
  MedianTracker m;
  std::vector<int64_t> values;
  EXPECT_TRUE(m.empty());
  EXPECT_FALSE(m.Erase(5));
  for (int step = 0; step < 5000; step++) {
    if (values.empty() || rng() % 3 != 0) {
      int64_t v = rng() % 50;  // many duplicates
      m.Insert(v);
      values.push_back(v);
    } else {
      size_t i = rng() % values.size();
      ASSERT_TRUE(m.Erase(values[i]));
      values.erase(values.begin() + static_cast<std::ptrdiff_t>(i));
    }
    ASSERT_EQ(m.size(), values.size());
    if (values.empty()) continue;
    std::vector<int64_t> sorted = values;
    std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
    ASSERT_EQ(m.Median(), sorted[sorted.size() / 2]) << "step " << step;
  }
}

TEST(LivenessTest, OldestFirstAndBeforeReturnsOnlyTheExpired) {
  Liveness l;
  EXPECT_TRUE(l.empty());
  EXPECT_TRUE(l.Before(1000).empty());
  l.Touch("b", 100);
  l.Touch("a", 100);
  l.Touch("c", 50);
  EXPECT_EQ(l.OldestMs(), 50);
  EXPECT_EQ(l.Before(100), (std::vector<std::string>{"c"}));              // strictly before
  EXPECT_EQ(l.Before(101), (std::vector<std::string>{"c", "a", "b"}));    // ties by id
  EXPECT_TRUE(l.Refresh("c", 200));  // a heartbeat moves it to the end
  EXPECT_FALSE(l.Refresh("nobody", 200));  // an unknown worker is not added
  EXPECT_EQ(l.size(), 3u);
  EXPECT_EQ(l.LastMs("c"), 200);
  EXPECT_EQ(l.LastMs("nobody"), 0);
  EXPECT_EQ(l.OldestMs(), 100);
  EXPECT_EQ(l.Before(150), (std::vector<std::string>{"a", "b"}));
  l.Touch("a", 90);   // an older time (not from the master's clock, but allowed) moves it back
  EXPECT_EQ(l.Before(95), (std::vector<std::string>{"a"}));
  l.Erase("a");
  l.Erase("nobody");  // ignored
  EXPECT_EQ(l.size(), 2u);
  EXPECT_EQ(l.Before(1000), (std::vector<std::string>{"b", "c"}));
}

TEST(LivenessTest, AgreesWithAScanUnderRandomChanges) {
  std::mt19937 rng(13);
  Liveness l;
  std::map<std::string, int64_t> last;
  int64_t now = 0;
  for (int step = 0; step < 20000; step++) {
    now += rng() % 3;
    std::string id = "w" + std::to_string(rng() % 200);
    if (rng() % 10 == 0) {
      l.Erase(id);
      last.erase(id);
    } else {
      int64_t at = now - static_cast<int64_t>(rng() % 5);  // mostly newest, sometimes a little older
      if (rng() % 2) {
        l.Touch(id, at);
        last[id] = at;
      } else {
        ASSERT_EQ(l.Refresh(id, at), last.contains(id));
        if (last.contains(id)) last[id] = at;
      }
    }
    ASSERT_EQ(l.LastMs(id), last.contains(id) ? last[id] : 0);
    ASSERT_EQ(l.size(), last.size());
    int64_t cutoff = now - static_cast<int64_t>(rng() % 40);
    std::vector<std::pair<int64_t, std::string>> want;
    for (const auto& [w, t] : last) {
      if (t < cutoff) want.push_back({t, w});
    }
    std::sort(want.begin(), want.end());
    std::vector<std::string> ids;
    for (const auto& [t, w] : want) ids.push_back(w);
    ASSERT_EQ(l.Before(cutoff), ids) << "step " << step;
    if (!last.empty()) {
      int64_t oldest = INT64_MAX;
      for (const auto& [w, t] : last) oldest = std::min(oldest, t);
      ASSERT_EQ(l.OldestMs(), oldest);
    }
  }
}

}  // namespace
}  // namespace mr
