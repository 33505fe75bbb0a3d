#include "jobs/log_format.h"

#include <fmt/format.h>

namespace mr {
namespace {

constexpr std::string_view kSpecifiers = "hetrsbRuv^";

// A quoted field at the front of s: its content (escapes kept) and the bytes it used.
bool QuotedField(std::string_view s, std::string_view* value, size_t* used) {
  for (size_t i = 1; i < s.size(); i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      *value = s.substr(1, i - 1);
      *used = i + 1;
      return true;
    }
    if (c < 0x20 || c == 0x7F) return false;
    if (c == '\\') i++;
  }
  return false;
}

bool Digits3(std::string_view s, int* out) {
  if (s.size() != 3) return false;
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

bool Bytes(std::string_view s, int64_t* out) {
  if (s == "-") return *out = 0, true;
  if (s.empty()) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, c - '0', &v)) return false;
  }
  *out = v;
  return true;
}

}  // namespace

Result<LogFormat> LogFormat::Make(std::string_view spec) {
  LogFormat f;
  if (spec.empty() || spec == "common" || spec == "combined") return f;
  std::string_view text = spec == "vcombined" ? "%v:%^ %h %^ %e %t %r %s %b %R %u" : spec;
  std::string seen;
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] != '%') {
      if (f.items_.empty() || f.items_.back().spec != 0) f.items_.push_back(Item{});
      f.items_.back().literal.push_back(text[i]);
      continue;
    }
    if (i + 1 >= text.size()) {
      return Status::InvalidArgument(fmt::format("--arg format={}: ends with a lone %", spec));
    }
    char c = text[++i];
    if (kSpecifiers.find(c) == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format(
          "--arg format={}: %{} is not supported (use %h %e %t %r %s %b %R %u %v %^; %t is the whole "
          "[dd/Mon/yyyy:HH:MM:SS +zzzz] time stamp)",
          spec, c));
    }
    if (!f.items_.empty() && f.items_.back().spec != 0) {
      return Status::InvalidArgument(
          fmt::format("--arg format={}: %{} follows %{} with nothing between them", spec, c, f.items_.back().spec));
    }
    if (c != '^' && seen.find(c) != std::string::npos) {
      return Status::InvalidArgument(fmt::format("--arg format={}: %{} appears twice", spec, c));
    }
    seen.push_back(c);
    f.items_.push_back(Item{c, ""});
  }
  for (char required : std::string_view("htrs")) {
    if (seen.find(required) == std::string::npos) {
      return Status::InvalidArgument(
          fmt::format("--arg format={}: lacks %{} (%h, %t, %r and %s are required)", spec, required));
    }
  }
  return f;
}

std::optional<LogLine> LogFormat::ParseCustom(std::string_view line) const {
  LogLine r;
  r.custom = true;
  std::string_view time, request, status, bytes;
  bool has_bytes = false;
  size_t pos = 0;
  for (size_t i = 0; i < items_.size(); i++) {
    const Item& item = items_[i];
    std::string_view rest = line.substr(pos);
    if (item.spec == 0) {
      if (!rest.starts_with(item.literal)) return std::nullopt;
      pos += item.literal.size();
      continue;
    }
    std::string_view value;
    size_t used = 0;
    if (!rest.empty() && rest[0] == '"') {
      if (!QuotedField(rest, &value, &used)) return std::nullopt;
    } else if (!rest.empty() && rest[0] == '[') {
      size_t close = rest.find(']');
      if (close == std::string_view::npos) return std::nullopt;
      value = rest.substr(1, close - 1);
      used = close + 1;
    } else if (i + 1 < items_.size()) {
      size_t stop = rest.find(items_[i + 1].literal[0]);
      if (stop == std::string_view::npos) return std::nullopt;
      value = rest.substr(0, stop);
      used = stop;
    } else {
      value = rest.substr(0, rest.find(' '));
      used = value.size();
    }
    pos += used;
    switch (item.spec) {
      case 'h': r.host = value; break;
      case 'e': r.user = value; break;
      case 't': time = value; break;
      case 'r': request = value; break;
      case 's': status = value; break;
      case 'b': bytes = value, has_bytes = true; break;
      case 'R': r.referrer = value; break;
      case 'u': r.agent = value, r.has_agent = true; break;
      case 'v': r.vhost = value; break;
      default: break;
    }
  }
  if (r.host.empty() || r.host.find(' ') != std::string_view::npos || !ParseClfTime(time, &r) ||
      !ParseRequest(request, &r) || !Digits3(status, &r.status) || (has_bytes && !Bytes(bytes, &r.bytes))) {
    return std::nullopt;
  }
  if (r.user.empty()) r.user = "-";
  r.ident = "-";
  return r;
}

}  // namespace mr
