#include "jobs/hyperloglog.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "common/record.h"

namespace mr {

void DistinctSketch::Add(uint64_t hash) {
  if (!registers_.empty()) return AddToRegisters(hash);
  if (hash == 0) hash = 1;  // 0 marks an empty slot
  if (!exact_.empty()) {
    const size_t mask = exact_.size() - 1;
    for (size_t i = (hash >> 40) & mask;; i = (i + 1) & mask) {
      if (exact_[i] == hash) return;
      if (exact_[i] == 0) break;
    }
  }
  if (count_ == kExactLimit) {
    ToRegisters();
    return AddToRegisters(hash);
  }
  if ((count_ + 1) * 2 > exact_.size()) GrowExact();
  const size_t mask = exact_.size() - 1;
  size_t i = (hash >> 40) & mask;
  while (exact_[i] != 0) i = (i + 1) & mask;
  exact_[i] = hash;
  count_++;
}

void DistinctSketch::GrowExact() {
  std::vector<uint64_t> old(std::max<size_t>(8, exact_.size() * 2), 0);
  old.swap(exact_);
  const size_t mask = exact_.size() - 1;
  for (uint64_t h : old) {
    if (h == 0) continue;
    size_t i = (h >> 40) & mask;
    while (exact_[i] != 0) i = (i + 1) & mask;
    exact_[i] = h;
  }
}

void DistinctSketch::AddToRegisters(uint64_t hash) {
  size_t index = hash >> (64 - kPrecision);
  uint64_t rest = hash << kPrecision;
  uint8_t rank = rest == 0 ? static_cast<uint8_t>(64 - kPrecision + 1) : static_cast<uint8_t>(__builtin_clzll(rest) + 1);
  if (rank > registers_[index]) registers_[index] = rank;
}

void DistinctSketch::ToRegisters() {
  registers_.assign(kRegisters, 0);
  for (uint64_t h : exact_) {
    if (h != 0) AddToRegisters(h);
  }
  std::vector<uint64_t>().swap(exact_);
  count_ = 0;
}

void DistinctSketch::Merge(const DistinctSketch& other) {
  if (other.registers_.empty()) {
    for (uint64_t h : other.exact_) {
      if (h != 0) Add(h);
    }
    return;
  }
  if (registers_.empty()) ToRegisters();
  for (size_t i = 0; i < kRegisters; i++) registers_[i] = std::max(registers_[i], other.registers_[i]);
}

uint64_t DistinctSketch::Estimate() const {
  if (registers_.empty()) return count_;
  const double m = static_cast<double>(kRegisters);
  double sum = 0;
  size_t zeros = 0;
  static const auto kInversePowers = [] {
    std::array<double, 66> t{};
    for (int r = 0; r < 66; r++) t[r] = std::ldexp(1.0, -r);
    return t;
  }();
  for (uint8_t r : registers_) {
    sum += kInversePowers[r];
    zeros += r == 0;
  }
  const double alpha = 0.7213 / (1 + 1.079 / m);
  double e = alpha * m * m / sum;
  if (e <= 2.5 * m && zeros > 0) e = m * std::log(m / static_cast<double>(zeros));
  return static_cast<uint64_t>(std::llround(e));
}

void DistinctSketch::Encode(std::string* out) const {
  if (registers_.empty()) {
    out->push_back('E');
    PutVarint64(out, count_);
    for (uint64_t h : exact_) {
      if (h != 0) PutFixed64BE(out, h);
    }
    return;
  }
  size_t nonzero = 0;
  for (uint8_t r : registers_) nonzero += r != 0;
  if (nonzero * 3 < kRegisters) {  // sparse: (index, rank) of the registers set, 3 bytes each
    out->push_back('S');
    PutVarint64(out, nonzero);
    for (size_t i = 0; i < kRegisters; i++) {
      if (registers_[i] == 0) continue;
      out->push_back(static_cast<char>(i >> 8));
      out->push_back(static_cast<char>(i & 0xff));
      out->push_back(static_cast<char>(registers_[i]));
    }
    return;
  }
  out->push_back('H');
  out->append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
}

bool DistinctSketch::Decode(std::string_view* in, DistinctSketch* out) {
  *out = DistinctSketch();
  if (in->empty()) return false;
  char tag = (*in)[0];
  in->remove_prefix(1);
  if (tag == 'S') {
    uint64_t n = 0;
    if (!GetVarint64(in, &n) || n > kRegisters || in->size() < n * 3) return false;
    out->registers_.assign(kRegisters, 0);
    for (uint64_t i = 0; i < n; i++) {
      const unsigned char* p = reinterpret_cast<const unsigned char*>(in->data()) + i * 3;
      size_t index = (static_cast<size_t>(p[0]) << 8) | p[1];
      if (index >= kRegisters || p[2] == 0 || p[2] > 64 - kPrecision + 1) return false;
      out->registers_[index] = p[2];
    }
    in->remove_prefix(n * 3);
    return true;
  }
  if (tag == 'H') {
    if (in->size() < kRegisters) return false;
    out->registers_.assign(in->data(), in->data() + kRegisters);
    in->remove_prefix(kRegisters);
    return true;
  }
  uint64_t n = 0;
  if (tag != 'E' || !GetVarint64(in, &n) || n > kExactLimit || in->size() < n * 8) return false;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t h = 0;
    for (int b = 0; b < 8; b++) h = (h << 8) | static_cast<unsigned char>((*in)[i * 8 + b]);
    out->Add(h);
  }
  in->remove_prefix(n * 8);
  return true;
}

}  // namespace mr
