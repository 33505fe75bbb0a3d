// The parser of one web access log line (Common or Combined Log Format) for the `logs` job
// (DESIGN §4). Hand-written, one pass, no allocation, no regular expression.
//
// Grammar, over bytes. SP is one space (0x20); a "field byte" is any byte except SP, '"' and the
// ASCII controls (0x00-0x1F, 0x7F); bytes >= 0x80 are field bytes, so UTF-8 paths and user names
// pass through unchanged.
//
//   line    = HOST SP IDENT SP USER SP "[" TIME "]" SP '"' REQUEST '"' SP STATUS SP BYTES [SP *any-byte]
//   HOST, IDENT, USER = 1*field-byte          (IPv4, IPv6 and host names alike; usually "-" for IDENT)
//   TIME    = DD "/" MON "/" YYYY ":" hh ":" mm ":" ss SP ZONE
//   REQUEST = METHOD SP PATH [SP PROTOCOL]
//   METHOD  = 1*tchar                         (RFC 9110 token: ALPHA DIGIT !#$%&'*+-.^_`|~)
//   PATH, PROTOCOL = 1*field-byte             (PATH keeps its query string)
//   STATUS  = 3DIGIT
//   BYTES   = "-" / 1*DIGIT                   ("-" means 0; the value must be below 2^63)
//
// TIME must be a real local date and time: DD 01..(days of the month, with Gregorian leap years),
// MON one of Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec (exactly so capitalized), YYYY
// 0001..9999, hh 00..23, mm 00..59, ss 00..59 (no leap second), and ZONE = ("+" / "-") 2DIGIT
// 2DIGIT an offset east of UTC whose hours are 00..23 and minutes 00..59. The UTC time is the local
// time minus the offset, and must still fall in the years 0001..9999.
// Anything else -- a missing or extra space, a missing field, a request with a space in its path, a
// status of 2 or 4 digits, BYTES followed by anything but a space -- is not a log line.
// A line that is not a log line by itself but is "VHOST:PORT" SP and then a log line (Apache's
// vhost_combined; VHOST = 1*field-byte, PORT = 1*5DIGIT) is read as that log line, with VHOST kept.
// The engine has already removed the line's '\n' and one trailing '\r'.
//
// Pure function over caller-owned memory; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace mr {

struct CivilTime {
  int year = 0;    // 1..9999
  int month = 0;   // 1..12
  int day = 0;     // 1..31
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..59
  bool operator==(const CivilTime&) const = default;
};

// A parsed line. The views point into the line passed to ParseLogLine.
struct LogLine {
  std::string_view host;
  std::string_view ident;
  std::string_view user;
  CivilTime local;              // the time stamp as written
  int zone_offset_minutes = 0;  // east of UTC: "+0530" is 330, "-0800" is -480
  CivilTime utc;                // local time minus the zone offset
  std::string_view method;
  std::string_view path;
  std::string_view protocol;  // empty when the request has none ("GET /")
  int status = 0;             // the three digits' value, 0..999
  int64_t bytes = 0;          // 0 when BYTES is "-"
  std::string_view rest;      // what follows BYTES, without the separating space ("" if nothing)
  std::string_view vhost;      // the virtual host of a vhost_combined line (or %v), else ""
  // Set only by a custom LogFormat (jobs/log_format.h), which reads these fields itself:
  bool custom = false;
  bool has_agent = false;       // the format has %u (referrer is "" when it has no %R)
  std::string_view referrer, agent;
};

// The parsed line, or nullopt when `line` is not a log line by the grammar above.
std::optional<LogLine> ParseLogLine(std::string_view line);

// The Combined Log Format's referrer and user agent, read from LogLine::rest:
//
//   rest   = QUOTED SP QUOTED [SP *any-byte]
//   QUOTED = '"' *( qbyte / BACKSLASH ebyte ) '"'    qbyte: any byte but '"', BACKSLASH and the
//            ASCII controls; ebyte: any byte but the controls (so a backslash escapes '"')
//
// i.e. Apache's escaping (a backslash before '"' or a backslash) is understood; the views keep
// the bytes as written, escapes included. False (and empty views) when `rest` does not start that way: a Common line, or a
// line with other trailing fields. A referrer or agent of "-" is returned as "-".
bool ParseCombinedTail(std::string_view rest, std::string_view* referrer, std::string_view* agent);

// The referrer and agent of a parsed line: those a custom format read, else ParseCombinedTail of
// its rest. False when the line has none.
bool LineReferrerAgent(const LogLine& line, std::string_view* referrer, std::string_view* agent);

// Pieces of the grammar above, for custom layouts: the time stamp "dd/Mon/yyyy:HH:MM:SS +zzzz"
// (fills local, zone_offset_minutes, utc) and the request "METHOD SP PATH [SP PROTOCOL]" (fills
// method, path, protocol), each the whole of `text`. False if `text` is not one.
bool ParseClfTime(std::string_view text, LogLine* out);
bool ParseRequest(std::string_view text, LogLine* out);

// The referring site of a referrer: the authority of an absolute URL `SCHEME "://" AUTHORITY
// [("/" / "?" / "#") ...]` (SCHEME = ALPHA *(ALPHA / DIGIT / "+" / "-" / ".")), as written, port
// included (GoAccess's rule); "" when the referrer is not such a URL or the authority is empty.
std::string_view ReferrerSite(std::string_view referrer);

// Whether a request path names a static file: it ends (query string included, as GoAccess
// checks) with one of GoAccess 1.7's default static-file extensions, compared case-insensitively:
// .css .js .jpg .png .gif .ico .jpeg .pdf .csv .mpeg .mpg .swf .woff .woff2 .xls .xlsx .doc .docx
// .ppt .pptx .txt .zip .ogg .mp3 .mp4 .exe .iso .gz .rar .svg .bmp .tar .tgz .tiff .tif .ttf .flv
// .dmg .xz .zst
bool IsStaticFile(std::string_view path);

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
int64_t DaysFromCivil(int year, int month, int day);
void CivilFromDays(int64_t days, int* year, int* month, int* day);

}  // namespace mr
