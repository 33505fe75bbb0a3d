#include "master/scheduler_compact.h"

namespace mr {

uint32_t NamePool::Intern(const std::string& name) {
  if (name.empty()) return 0;
  auto [it, added] = ids_.try_emplace(name, static_cast<uint32_t>(names_.size()));
  if (added) names_.push_back(name);
  return it->second;
}

SplitTable::Row SplitTable::MakeRow(const proto::InputSplit& s, std::unordered_map<std::string, uint32_t>* index) {
  Row r;
  if (!s.path().empty() || s.file_size() != 0) {
    std::string key = s.path();
    key.push_back('\0');
    key += std::to_string(s.file_size());
    auto [it, added] = index->try_emplace(std::move(key), static_cast<uint32_t>(files_.size()));
    if (added) files_.push_back({s.path(), s.file_size()});
    r.file = it->second;
  }
  r.offset = s.offset();
  r.length = s.length();
  return r;
}

SplitTable::SplitTable(proto::JobPlan* plan) {
  std::unordered_map<std::string, uint32_t> index;
  rows_.reserve(plan->splits_size());
  for (const proto::InputSplit& s : plan->splits()) {
    Row r = MakeRow(s, &index);
    r.parts_begin = static_cast<uint32_t>(parts_.size());
    r.parts_count = static_cast<uint32_t>(s.parts_size());
    for (const proto::InputSplit& p : s.parts()) parts_.push_back(MakeRow(p, &index));
    rows_.push_back(r);
  }
  // Not Clear(): a cleared repeated field keeps its elements allocated for reuse.
  *plan = proto::JobPlan();
  files_.shrink_to_fit();
  parts_.shrink_to_fit();
}

void SplitTable::Fill(const Row& r, proto::InputSplit* out) const {
  const File& f = files_[r.file];
  if (!f.path.empty()) out->set_path(f.path);
  if (f.size != 0) out->set_file_size(f.size);
  if (r.offset != 0) out->set_offset(r.offset);
  if (r.length != 0) out->set_length(r.length);
}

proto::InputSplit SplitTable::Get(size_t i) const {
  proto::InputSplit s;
  const Row& r = rows_[i];
  Fill(r, &s);
  for (uint32_t p = 0; p < r.parts_count; p++) Fill(parts_[r.parts_begin + p], s.add_parts());
  return s;
}

size_t SplitTable::Bytes() const {
  size_t n = (rows_.capacity() + parts_.capacity()) * sizeof(Row) + files_.capacity() * sizeof(File);
  for (const File& f : files_) n += f.path.capacity() > 15 ? f.path.capacity() + 1 : 0;
  return n;
}

}  // namespace mr
