// Indexes the Scheduler keeps so that one event costs O(log n), not a scan of every worker or task
// (docs/scale.md):
//  - FreeSlots: workers with a free slot, most free slots first (ties: lowest id);
//  - IdleQueue: a job's idle tasks of one kind, lowest index first, with a forward cursor for the
//    tasks never started and a small set for those that became idle again below it;
//  - MedianTracker: the median of a multiset of durations under inserts and erases;
//  - Liveness: live workers by last heartbeat, oldest first, so the dead-worker sweep costs the
//    workers it finds silent, not the whole table.
// Thread-safety: none; the Scheduler's thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mr {

class FreeSlots {
 public:
  // The worker has `free` free slots now (0: it is dropped from the index).
  void Set(const std::string& id, uint32_t free) {
    Erase(id);
    if (free == 0) return;
    free_[id] = free;
    order_.emplace(free, id);
  }
  void Erase(const std::string& id) {
    auto it = free_.find(id);
    if (it == free_.end()) return;
    order_.erase({it->second, id});
    free_.erase(it);
  }
  // The first worker, most free slots first, that `ok` accepts; nullptr when none does. Costs the
  // number of workers `ok` refuses on the way (excluded or blacklisted ones: few).
  const std::string* Find(const std::function<bool(const std::string&)>& ok) const {
    for (const auto& [free, id] : order_) {
      if (ok(id)) return &id;
    }
    return nullptr;
  }
  bool empty() const { return order_.empty(); }
  size_t size() const { return order_.size(); }

 private:
  struct MostFreeFirst {
    bool operator()(const std::pair<uint32_t, std::string>& a, const std::pair<uint32_t, std::string>& b) const {
      return a.first != b.first ? a.first > b.first : a.second < b.second;
    }
  };
  std::set<std::pair<uint32_t, std::string>, MostFreeFirst> order_;
  std::unordered_map<std::string, uint32_t> free_;
};

class IdleQueue {
 public:
  // n tasks, all idle.
  void Reset(uint32_t n) {
    idle_.assign(n, true);
    cursor_ = 0;
    below_.clear();
    count_ = n;
  }
  void MarkIdle(uint32_t i) {
    if (i >= idle_.size() || idle_[i]) return;
    idle_[i] = true;
    count_++;
    if (i < cursor_) below_.insert(i);
  }
  void MarkBusy(uint32_t i) {
    if (i >= idle_.size() || !idle_[i]) return;
    idle_[i] = false;
    count_--;
    below_.erase(i);
  }
  // The lowest idle index (amortized O(log n): the cursor only moves forward).
  std::optional<uint32_t> Next() {
    while (cursor_ < idle_.size() && !idle_[cursor_]) cursor_++;
    if (!below_.empty()) return *below_.begin();  // below the cursor, so lower
    if (cursor_ < idle_.size()) return cursor_;
    return std::nullopt;
  }
  bool IsIdle(uint32_t i) const { return i < idle_.size() && idle_[i]; }
  uint32_t count() const { return count_; }

 private:
  std::vector<bool> idle_;
  uint32_t cursor_ = 0;      // every idle task below it is in below_
  std::set<uint32_t> below_;
  uint32_t count_ = 0;
};

class MedianTracker {
 public:
  void Insert(int64_t v) {
    if (!high_.empty() && v >= *high_.begin()) high_.insert(v);
    else low_.insert(v);
    Balance();
  }
  // Erases one copy of v; false when there is none.
  bool Erase(int64_t v) {
    if (auto it = high_.find(v); it != high_.end()) high_.erase(it);
    else if (auto jt = low_.find(v); jt != low_.end()) low_.erase(jt);
    else return false;
    Balance();
    return true;
  }
  // The element at index size/2 of the sorted values (the upper median); requires !empty().
  int64_t Median() const { return *high_.begin(); }
  bool empty() const { return high_.empty(); }
  size_t size() const { return low_.size() + high_.size(); }

 private:
  // low_ holds the size/2 smallest values, high_ the rest.
  void Balance() {
    while (low_.size() > high_.size()) {
      high_.insert(*std::prev(low_.end()));
      low_.erase(std::prev(low_.end()));
    }
    while (high_.size() > low_.size() + 1) {
      low_.insert(*high_.begin());
      high_.erase(high_.begin());
    }
  }
  std::multiset<int64_t> low_, high_;
};

// Live workers ordered by (last heartbeat, id): the one home of a worker's last-heartbeat time. A
// heartbeat moves its worker to the end: a hash lookup, an erase by iterator and an insert at the
// end (O(1) amortized while times only grow, as the master's steady clock does; O(log n) else), so
// it costs no walk of the order by name. The oldest is the first.
class Liveness {
 public:
  // The worker's last heartbeat is now at_ms (it is added if new).
  void Touch(const std::string& id, int64_t at_ms) {
    auto [it, added] = at_.try_emplace(id);
    if (!added) {
      if (it->second->first == at_ms) return;
      order_.erase(it->second);
    }
    it->second = order_.emplace_hint(order_.end(), at_ms, id);
  }
  // A known worker's heartbeat; false (and nothing changes) when the worker is not in the index.
  bool Refresh(const std::string& id, int64_t at_ms) {
    auto it = at_.find(id);
    if (it == at_.end()) return false;
    if (it->second->first != at_ms) {
      order_.erase(it->second);
      it->second = order_.emplace_hint(order_.end(), at_ms, id);
    }
    return true;
  }
  void Erase(const std::string& id) {
    auto it = at_.find(id);
    if (it == at_.end()) return;
    order_.erase(it->second);
    at_.erase(it);
  }
  // The worker's last heartbeat; 0 when it is not in the index.
  int64_t LastMs(const std::string& id) const {
    auto it = at_.find(id);
    return it == at_.end() ? 0 : it->second->first;
  }
  // The workers whose last heartbeat is before before_ms, oldest first: costs what it returns.
  std::vector<std::string> Before(int64_t before_ms) const {
    std::vector<std::string> out;
    for (auto it = order_.begin(); it != order_.end() && it->first < before_ms; ++it) out.push_back(it->second);
    return out;
  }
  // The oldest last heartbeat; requires !empty().
  int64_t OldestMs() const { return order_.begin()->first; }
  bool empty() const { return order_.empty(); }
  size_t size() const { return order_.size(); }

 private:
  using Order = std::set<std::pair<int64_t, std::string>>;
  Order order_;
  std::unordered_map<std::string, Order::iterator> at_;
};

}  // namespace mr
