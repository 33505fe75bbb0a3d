#include "worker/task_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>
#include <vector>

#include "jobs/attempt_log.h"
#include "worker/counters.h"

namespace mr {
namespace {

bool IsBuiltinCounter(std::string_view name) {
  static constexpr std::string_view kBuiltin[] = {
      counter::kMapInputRecords,     counter::kMapInputBytes,     counter::kMapOutputRecords,
      counter::kCombineOutputRecords, counter::kSpillBytes,        counter::kSpills,
      counter::kShuffleBytes,        counter::kReduceInputGroups, counter::kReduceInputRecords,
      counter::kReduceOutputRecords, counter::kReduceOutputBytes, counter::kReportCountersDropped,
      counter::kMapOutputBytes,      counter::kMapOutputCompressedBytes, counter::kShuffleRawBytes};
  return std::find(std::begin(kBuiltin), std::end(kBuiltin), name) != std::end(kBuiltin);
}

// Keeps the first `keep` bytes of *s, noting how many went.
void KeepHead(std::string* s, size_t keep) {
  if (s->size() <= keep) return;
  size_t cut = s->size() - keep;
  s->resize(keep);
  *s += fmt::format(" [{} more bytes cut]", cut);
}

void KeepTail(std::string* s, size_t keep) {
  if (s->size() > keep) s->erase(0, s->size() - keep);
}

template <typename List>
size_t Truncate(List* list, size_t keep) {
  if (static_cast<size_t>(list->size()) <= keep) return 0;
  size_t cut = list->size() - keep;
  list->erase(list->begin() + static_cast<int>(keep), list->end());
  return cut;
}

// Keeps at most `keep` counters (built-in ones first, then by name) whose names fit; the number
// dropped becomes a counter of its own.
size_t BoundCounters(proto::TaskReport* r, size_t keep) {
  auto* counters = r->mutable_counters();
  size_t dropped = 0;
  std::vector<std::string> names;
  for (auto& [name, value] : *counters) {
    if (name.size() > kReportCounterNameBytes) dropped++;
    else names.push_back(name);
  }
  if (dropped == 0 && names.size() <= keep) return 0;
  std::sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    bool ba = IsBuiltinCounter(a), bb = IsBuiltinCounter(b);
    return ba != bb ? ba : a < b;
  });
  if (names.size() > keep) {
    dropped += names.size() - keep;
    names.resize(keep);
  }
  google::protobuf::Map<std::string, int64_t> kept;
  for (const std::string& n : names) kept[n] = (*counters)[n];
  kept[counter::kReportCountersDropped] += static_cast<int64_t>(dropped);
  counters->swap(kept);
  return dropped;
}

}  // namespace

std::string BoundTaskReport(proto::TaskReport* r, size_t max_bytes) {
  std::vector<std::string> cut;
  if (r->error().size() > kReportErrorBytes) {
    cut.push_back(fmt::format("error of {} bytes", r->error().size()));
    KeepHead(r->mutable_error(), kReportErrorBytes);
  }
  if (r->log().size() > kAttemptLogBytes) KeepTail(r->mutable_log(), kAttemptLogBytes);
  if (r->user_stderr().size() > kAttemptLogBytes) {
    KeepTail(r->mutable_user_stderr(), kAttemptLogBytes);
    r->set_stderr_truncated(true);
  }
  if (size_t n = BoundCounters(r, kReportCounters)) {
    cut.push_back(fmt::format("{} counters (at most {} per attempt, names of at most {} bytes)", n,
                              kReportCounters, kReportCounterNameBytes));
  }
  size_t fetches = Truncate(r->mutable_failed_maps(), kReportFailedFetches) +
                   Truncate(r->mutable_failed_fetches(), kReportFailedFetches);
  if (fetches) cut.push_back(fmt::format("{} failed fetches", fetches));
  // Still too big (only a tiny max_bytes gets here with the bounds above): the biggest fields go.
  if (r->ByteSizeLong() > max_bytes) {
    cut.push_back("the attempt log and stderr");
    r->clear_log();
    r->clear_user_stderr();
  }
  if (r->ByteSizeLong() > max_bytes) {
    size_t n = BoundCounters(r, 16);
    if (n) cut.push_back(fmt::format("{} more counters", n));
  }
  if (r->ByteSizeLong() > max_bytes) {
    cut.push_back("the failed fetch lists");
    r->clear_failed_maps();
    r->clear_failed_fetches();
  }
  if (r->ByteSizeLong() > max_bytes) KeepHead(r->mutable_error(), 256);
  if (cut.empty()) return "";
  std::string note = "the report was too big to send; cut: ";
  for (size_t i = 0; i < cut.size(); i++) note += (i ? ", " : "") + cut[i];
  return note;
}

}  // namespace mr
