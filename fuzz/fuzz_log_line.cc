// ParseLogLine on arbitrary bytes: no crash, and a parsed line's fields lie within the input and
// within their documented ranges.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "jobs/log_line.h"

using namespace mr;

static void Inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return;
  if (part.data() < whole.data() || part.data() + part.size() > whole.data() + whole.size()) std::abort();
}

static void CheckTime(const CivilTime& t) {
  if (t.year < 1 || t.year > 9999 || t.month < 1 || t.month > 12 || t.day < 1 || t.day > 31 || t.hour < 0 ||
      t.hour > 23 || t.minute < 0 || t.minute > 59 || t.second < 0 || t.second > 59) {
    std::abort();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line(reinterpret_cast<const char*>(data), size);
  auto r = ParseLogLine(line);
  if (!r) return 0;
  for (std::string_view f : {r->host, r->ident, r->user, r->method, r->path, r->protocol, r->rest}) Inside(f, line);
  if (r->host.empty() || r->ident.empty() || r->user.empty() || r->method.empty() || r->path.empty()) std::abort();
  if (r->status < 0 || r->status > 999 || r->bytes < 0) std::abort();
  if (r->zone_offset_minutes < -(23 * 60 + 59) || r->zone_offset_minutes > 23 * 60 + 59) std::abort();
  CheckTime(r->local);
  CheckTime(r->utc);
  return 0;
}
