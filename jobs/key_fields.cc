#include "jobs/key_fields.h"

#include <fmt/format.h>

#include <bit>
#include <cstdlib>
#include <cstring>

#include "common/hash.h"

namespace mr {
namespace {

// The first of `names` that is set, or nullptr.
const std::string* Property(const JobArgs& args, std::initializer_list<const char*> names, std::string* which) {
  for (const char* n : names) {
    if (auto it = args.find(n); it != args.end()) {
      *which = n;
      return &it->second;
    }
  }
  return nullptr;
}

Result<char> Separator(const std::string& name, const std::string& value) {
  if (value.size() == 1) return value[0];
  if (value == "\\t") return '\t';
  return Status::InvalidArgument(fmt::format("{}={}: want one character", name, value));
}

// F[.C][opts] at *p; advances it.
bool ParsePosition(std::string_view text, size_t* p, uint32_t* field, uint32_t* chr, KeyField* opts) {
  auto number = [&](uint32_t* out) {
    size_t b = *p;
    uint64_t v = 0;
    while (*p < text.size() && text[*p] >= '0' && text[*p] <= '9' && v < 1000000) v = v * 10 + (text[(*p)++] - '0');
    *out = static_cast<uint32_t>(v);
    return *p > b;
  };
  if (!number(field)) return false;
  if (*p < text.size() && text[*p] == '.') {
    ++*p;
    if (!number(chr)) return false;
  }
  while (*p < text.size() && (text[*p] == 'n' || text[*p] == 'r')) {
    (text[*p] == 'n' ? opts->numeric : opts->reverse) = true;
    ++*p;
  }
  return true;
}

// The bytes of `key` a KeyField covers (empty when it starts past the key).
std::string_view Extract(const KeySpec& spec, std::string_view key, const KeyField& f) {
  // Field i spans [starts[i], ends[i]).
  auto field_bounds = [&](uint32_t n, size_t* b, size_t* e) {
    size_t pos = 0;
    for (uint32_t i = 1; i < n; i++) {
      size_t s = key.find(spec.key_separator, pos);
      if (s == std::string_view::npos) return false;
      pos = s + 1;
    }
    size_t s = key.find(spec.key_separator, pos);
    *b = pos;
    *e = s == std::string_view::npos ? key.size() : s;
    return true;
  };
  size_t sb, se;
  if (!field_bounds(f.start_field, &sb, &se)) return {};
  size_t begin = f.start_char == 0 ? sb : std::min(se, sb + f.start_char - 1);
  size_t end = key.size();
  if (f.end_field != 0) {
    size_t eb, ee;
    if (field_bounds(f.end_field, &eb, &ee)) end = f.end_char == 0 ? ee : std::min(ee, eb + f.end_char);
  }
  if (end <= begin) return {};
  return key.substr(begin, end - begin);
}

void AppendText(std::string_view text, bool reverse, std::string* out) {
  const unsigned char flip = reverse ? 0xff : 0x00;
  for (char c : text) {
    out->push_back(static_cast<char>(static_cast<unsigned char>(c) ^ flip));
    if (c == '\0') out->push_back(static_cast<char>(0x01 ^ flip));  // 00 -> 00 01: 00 00 ends the field
  }
  out->push_back(static_cast<char>(flip));
  out->push_back(static_cast<char>(flip));
}

void AppendNumber(std::string_view text, bool reverse, std::string* out) {
  // The field's leading number, as sort -n reads one (none: 0).
  std::string s(text.substr(0, 64));
  double v = std::strtod(s.c_str(), nullptr);
  if (v != v) v = 0;  // NaN
  uint64_t bits = std::bit_cast<uint64_t>(v == 0 ? 0.0 : v);
  bits = (bits >> 63) ? ~bits : bits | (1ull << 63);  // IEEE order as unsigned order
  if (reverse) bits = ~bits;
  for (int i = 7; i >= 0; i--) out->push_back(static_cast<char>(bits >> (8 * i)));
}

}  // namespace

Result<std::vector<KeyField>> ParseKeyFieldOptions(std::string_view text) {
  std::vector<KeyField> fields;
  bool all_numeric = false, all_reverse = false;
  size_t p = 0;
  while (p < text.size()) {
    if (text[p] == ' ') {
      p++;
      continue;
    }
    size_t b = p;
    if (text[p] == '-') p++;
    if (p < text.size() && (text[p] == 'n' || text[p] == 'r') && (p + 1 == text.size() || text[p + 1] == ' ')) {
      (text[p] == 'n' ? all_numeric : all_reverse) = true;
      p++;
      continue;
    }
    KeyField f;
    bool ok = p < text.size() && text[p] == 'k';
    if (ok) {
      p++;
      ok = ParsePosition(text, &p, &f.start_field, &f.start_char, &f) && f.start_field >= 1;
    }
    if (ok && p < text.size() && text[p] == ',') {
      p++;
      ok = ParsePosition(text, &p, &f.end_field, &f.end_char, &f) && f.end_field >= 1;
    }
    ok = ok && (p == text.size() || text[p] == ' ');
    if (!ok) {
      size_t e = text.find(' ', b);
      return Status::InvalidArgument(fmt::format(
          "'{}': want -kF1[.C1][n][r][,F2[.C2][n][r]] (fields and characters from 1; n numeric, r reverse)",
          text.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b)));
    }
    fields.push_back(f);
  }
  for (KeyField& f : fields) {
    f.numeric |= all_numeric;
    f.reverse |= all_reverse;
  }
  if (fields.empty() && (all_numeric || all_reverse)) fields.push_back({1, 0, 0, 0, all_numeric, all_reverse});
  return fields;
}

Result<KeySpec> ParseKeySpec(const JobArgs& args) {
  KeySpec spec;
  std::string which;
  if (const std::string* v = Property(args, {kKeyFieldsProperty}, &which)) {
    char* end = nullptr;
    unsigned long n = std::strtoul(v->c_str(), &end, 10);
    if (v->empty() || *end != '\0' || n < 1 || n > 1000) {
      return Status::InvalidArgument(fmt::format("{}={}: want a number of fields, 1 to 1000", which, *v));
    }
    spec.key_fields = static_cast<uint32_t>(n);
  }
  if (const std::string* v = Property(args, {kFieldSeparatorProperty}, &which)) {
    auto c = Separator(which, *v);
    if (!c.ok()) return c.status();
    spec.field_separator = *c;
  }
  if (const std::string* v = Property(args, {kKeySeparatorProperty, "mapreduce.map.output.key.field.separator"}, &which)) {
    auto c = Separator(which, *v);
    if (!c.ok()) return c.status();
    spec.key_separator = *c;
  }
  if (const std::string* v = Property(args, {kPartitionProperty, "mapred.text.key.partitioner.options"}, &which)) {
    auto f = ParseKeyFieldOptions(*v);
    if (!f.ok()) return Status::InvalidArgument(fmt::format("{}: {}", which, f.status().message()));
    spec.partition = std::move(*f);
  }
  if (const std::string* v = Property(args, {kSortProperty, "mapred.text.key.comparator.options"}, &which)) {
    auto f = ParseKeyFieldOptions(*v);
    if (!f.ok()) return Status::InvalidArgument(fmt::format("{}: {}", which, f.status().message()));
    spec.sort = std::move(*f);
  }
  return spec;
}

void SplitLine(const KeySpec& spec, std::string_view line, std::string_view* key, std::string_view* value) {
  size_t pos = 0;
  for (uint32_t i = 0; i < spec.key_fields; i++) {
    size_t s = line.find(spec.field_separator, pos);
    if (s == std::string_view::npos) {
      *key = line;
      *value = {};
      return;
    }
    if (i + 1 == spec.key_fields) {
      *key = line.substr(0, s);
      *value = line.substr(s + 1);
      return;
    }
    pos = s + 1;
  }
}

void EncodeKey(const KeySpec& spec, std::string_view key, std::string* out) {
  out->clear();
  if (spec.sort.empty()) {
    out->assign(key);
    return;
  }
  for (const KeyField& f : spec.sort) {
    std::string_view part = Extract(spec, key, f);
    if (f.numeric) AppendNumber(part, f.reverse, out);
    else AppendText(part, f.reverse, out);
  }
  out->append(key);
  uint32_t n = static_cast<uint32_t>(key.size());
  for (int i = 3; i >= 0; i--) out->push_back(static_cast<char>(n >> (8 * i)));
}

std::string_view DecodeKey(const KeySpec& spec, std::string_view stored) {
  if (spec.sort.empty() || stored.size() < 4) return stored;
  uint32_t n = 0;
  for (size_t i = stored.size() - 4; i < stored.size(); i++) n = (n << 8) | static_cast<unsigned char>(stored[i]);
  if (n > stored.size() - 4) return stored;
  return stored.substr(stored.size() - 4 - n, n);
}

uint32_t PartitionKey(const KeySpec& spec, std::string_view key, uint32_t reducers) {
  if (spec.partition.empty()) return PartitionOf(key, reducers);
  uint64_t h = kFnvOffset;
  for (const KeyField& f : spec.partition) {
    h = StableHashAppend(h, Extract(spec, key, f));
    h = StableHashAppend(h, "\xff");  // between fields
  }
  return static_cast<uint32_t>(h % reducers);
}

}  // namespace mr
