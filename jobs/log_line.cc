#include "jobs/log_line.h"

#include <array>
#include <cstring>

namespace mr {
namespace {

constexpr std::array<bool, 256> MakeFieldTable() {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; c++) t[c] = c > 0x20 && c != 0x7F && c != '"';
  return t;
}

constexpr std::array<bool, 256> MakeTcharTable() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; c++) t[c] = true;
  for (int c = 'A'; c <= 'Z'; c++) t[c] = true;
  for (int c = 'a'; c <= 'z'; c++) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}

constexpr std::array<bool, 256> kFieldByte = MakeFieldTable();
constexpr std::array<bool, 256> kTchar = MakeTcharTable();

constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// A cursor over the line. Every method checks bounds and returns false on a mismatch.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool at_end() const { return p_ == end_; }
  const char* pos() const { return p_; }

  bool Char(char c) {
    if (p_ == end_ || *p_ != c) return false;
    p_++;
    return true;
  }
  // A non-empty run of bytes for which table[byte] is true.
  bool Run(const std::array<bool, 256>& table, std::string_view* out) {
    const char* start = p_;
    while (p_ != end_ && table[static_cast<unsigned char>(*p_)]) p_++;
    *out = std::string_view(start, p_ - start);
    return p_ != start;
  }
  // Exactly n decimal digits.
  bool Digits(int n, int* out) {
    if (end_ - p_ < n) return false;
    int v = 0;
    for (int i = 0; i < n; i++) {
      unsigned d = static_cast<unsigned char>(p_[i]) - '0';
      if (d > 9) return false;
      v = v * 10 + static_cast<int>(d);
    }
    p_ += n;
    *out = v;
    return true;
  }
  bool Month(int* out) {
    if (end_ - p_ < 3) return false;
    for (int m = 0; m < 12; m++) {
      if (std::memcmp(p_, kMonths + 3 * m, 3) == 0) {
        p_ += 3;
        *out = m + 1;
        return true;
      }
    }
    return false;
  }
  // "-" (0) or a run of digits whose value is below 2^63.
  bool Bytes(int64_t* out) {
    if (p_ != end_ && *p_ == '-') {
      p_++;
      *out = 0;
      return true;
    }
    const char* start = p_;
    int64_t v = 0;
    while (p_ != end_) {
      unsigned d = static_cast<unsigned char>(*p_) - '0';
      if (d > 9) break;
      if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, static_cast<int64_t>(d), &v)) {
        return false;
      }
      p_++;
    }
    *out = v;
    return p_ != start;
  }

 private:
  const char* p_;
  const char* end_;
};

// "dd/Mon/yyyy:HH:MM:SS +zzzz", checked to be a real time; fills local, utc and the offset.
bool ParseTime(Cursor& c, LogLine* out) {
  CivilTime& t = out->local;
  int zh = 0, zm = 0;
  if (!c.Digits(2, &t.day) || !c.Char('/') || !c.Month(&t.month) || !c.Char('/') || !c.Digits(4, &t.year) ||
      !c.Char(':') || !c.Digits(2, &t.hour) || !c.Char(':') || !c.Digits(2, &t.minute) || !c.Char(':') ||
      !c.Digits(2, &t.second) || !c.Char(' ')) {
    return false;
  }
  int sign;
  if (c.Char('+')) {
    sign = 1;
  } else if (c.Char('-')) {
    sign = -1;
  } else {
    return false;
  }
  if (!c.Digits(2, &zh) || !c.Digits(2, &zm)) return false;
  if (t.year < 1 || t.day < 1 || t.day > DaysInMonth(t.year, t.month) || t.hour > 23 || t.minute > 59 ||
      t.second > 59 || zh > 23 || zm > 59) {
    return false;
  }
  out->zone_offset_minutes = sign * (zh * 60 + zm);

  // UTC = local - offset. The offset is whole minutes, so the seconds stay.
  CivilTime& u = out->utc;
  u = t;
  int minutes = t.hour * 60 + t.minute - out->zone_offset_minutes;  // in (-1440, 2880)
  int day_shift = 0;
  if (minutes < 0) {
    minutes += 1440;
    day_shift = -1;
  } else if (minutes >= 1440) {
    minutes -= 1440;
    day_shift = 1;
  }
  u.hour = minutes / 60;
  u.minute = minutes % 60;
  if (day_shift != 0) {
    CivilFromDays(DaysFromCivil(t.year, t.month, t.day) + day_shift, &u.year, &u.month, &u.day);
    if (u.year < 1 || u.year > 9999) return false;
  }
  return true;
}

}  // namespace

std::optional<LogLine> ParseLogLineCore(std::string_view line);

std::optional<LogLine> ParseLogLine(std::string_view line) {
  std::optional<LogLine> r = ParseLogLineCore(line);
  if (r) return r;
  // Apache's vhost_combined: "VHOST:PORT " before a log line.
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return std::nullopt;
  std::string_view first = line.substr(0, sp);
  size_t colon = first.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || first.size() - colon - 1 < 1 || first.size() - colon - 1 > 5) {
    return std::nullopt;
  }
  for (size_t i = colon + 1; i < first.size(); i++) {
    if (first[i] < '0' || first[i] > '9') return std::nullopt;
  }
  for (char c : first.substr(0, colon)) {
    if (!kFieldByte[static_cast<unsigned char>(c)]) return std::nullopt;
  }
  r = ParseLogLineCore(line.substr(sp + 1));
  if (r) r->vhost = first.substr(0, colon);
  return r;
}

std::optional<LogLine> ParseLogLineCore(std::string_view line) {
  LogLine r;
  Cursor c(line);
  if (!c.Run(kFieldByte, &r.host) || !c.Char(' ') || !c.Run(kFieldByte, &r.ident) || !c.Char(' ') ||
      !c.Run(kFieldByte, &r.user) || !c.Char(' ') || !c.Char('[') || !ParseTime(c, &r) || !c.Char(']') ||
      !c.Char(' ') || !c.Char('"') || !c.Run(kTchar, &r.method) || !c.Char(' ') ||
      !c.Run(kFieldByte, &r.path)) {
    return std::nullopt;
  }
  if (c.Char(' ') && !c.Run(kFieldByte, &r.protocol)) return std::nullopt;
  if (!c.Char('"') || !c.Char(' ') || !c.Digits(3, &r.status) || !c.Char(' ') || !c.Bytes(&r.bytes)) {
    return std::nullopt;
  }
  if (!c.at_end()) {
    if (!c.Char(' ')) return std::nullopt;
    r.rest = std::string_view(c.pos(), line.data() + line.size() - c.pos());
  }
  return r;
}

bool ParseClfTime(std::string_view text, LogLine* out) {
  Cursor c(text);
  return ParseTime(c, out) && c.at_end();
}

bool ParseRequest(std::string_view text, LogLine* out) {
  Cursor c(text);
  out->protocol = {};
  if (!c.Run(kTchar, &out->method) || !c.Char(' ') || !c.Run(kFieldByte, &out->path)) return false;
  if (c.Char(' ') && !c.Run(kFieldByte, &out->protocol)) return false;
  return c.at_end();
}

int64_t DaysFromCivil(int year, int month, int day) {
  const int64_t y = static_cast<int64_t>(year) - (month <= 2);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                                  // [0, 399]
  const int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                          // [0, 146096]
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t days, int* year, int* month, int* day) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                       // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  *day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *year = static_cast<int>(yoe + era * 400 + (*month <= 2));
}

}  // namespace mr

namespace mr {
namespace {

// One QUOTED field at the front of *s (see log_line.h); advances past it.
bool Quoted(std::string_view* s, std::string_view* out) {
  if (s->empty() || (*s)[0] != '"') return false;
  size_t i = 1;
  while (i < s->size()) {
    unsigned char c = static_cast<unsigned char>((*s)[i]);
    if (c == '"') {
      *out = s->substr(1, i - 1);
      s->remove_prefix(i + 1);
      return true;
    }
    if (c < 0x20 || c == 0x7F) return false;
    if (c == '\\') {
      if (i + 1 >= s->size()) return false;
      unsigned char e = static_cast<unsigned char>((*s)[i + 1]);
      if (e < 0x20 || e == 0x7F) return false;
      i += 2;
      continue;
    }
    i++;
  }
  return false;
}

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

bool ParseCombinedTail(std::string_view rest, std::string_view* referrer, std::string_view* agent) {
  std::string_view s = rest, r, a;
  if (!Quoted(&s, &r) || s.empty() || s[0] != ' ') return *referrer = {}, *agent = {}, false;
  s.remove_prefix(1);
  if (!Quoted(&s, &a) || (!s.empty() && s[0] != ' ')) return *referrer = {}, *agent = {}, false;
  *referrer = r;
  *agent = a;
  return true;
}

bool LineReferrerAgent(const LogLine& line, std::string_view* referrer, std::string_view* agent) {
  if (!line.custom) return ParseCombinedTail(line.rest, referrer, agent);
  *referrer = line.referrer;
  *agent = line.agent;
  return line.has_agent;
}

std::string_view ReferrerSite(std::string_view referrer) {
  size_t i = 0;
  if (referrer.empty() || !IsAlpha(referrer[0])) return {};
  while (i < referrer.size() && (IsAlpha(referrer[i]) || (referrer[i] >= '0' && referrer[i] <= '9') ||
                                 referrer[i] == '+' || referrer[i] == '-' || referrer[i] == '.')) {
    i++;
  }
  if (referrer.substr(i, 3) != "://") return {};
  std::string_view rest = referrer.substr(i + 3);
  return rest.substr(0, rest.find_first_of("/?#"));
}

bool IsStaticFile(std::string_view path) {
  static constexpr std::string_view kExtensions[] = {
      ".css", ".js",  ".jpg", ".png", ".gif",  ".ico", ".jpeg", ".pdf",  ".csv", ".mpeg",
      ".mpg", ".swf", ".woff", ".woff2", ".xls", ".xlsx", ".doc", ".docx", ".ppt", ".pptx",
      ".txt", ".zip", ".ogg", ".mp3", ".mp4",  ".exe", ".iso",  ".gz",   ".rar", ".svg",
      ".bmp", ".tar", ".tgz", ".tiff", ".tif", ".ttf", ".flv",  ".dmg",  ".xz",  ".zst"};
  size_t dot = path.rfind('.');
  if (dot == std::string_view::npos || path.size() - dot > 6) return false;
  std::string_view tail = path.substr(dot);
  for (std::string_view ext : kExtensions) {
    if (ext.size() != tail.size()) continue;
    bool same = true;
    for (size_t i = 0; i < ext.size() && same; i++) {
      char c = tail[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == ext[i];
    }
    if (same) return true;
  }
  return false;
}

}  // namespace mr
