// Log layouts for the `logs` and `weblog` jobs' `--arg format=` (DESIGN §4), in GoAccess's
// format syntax, so logs that are not Common/Combined can be read.
//
//   format=common | combined (or absent)  the built-in parser (jobs/log_line.h): Common and
//                                         Combined lines, with any trailing fields, and vhost_combined
//   format=vcombined                      "%v:%^ %h %^ %e %t %r %s %b %R %u" (Apache's vhost_combined)
//   format=SPEC                           a custom layout:
//
//   %h client host   %e user     %t time stamp "dd/Mon/yyyy:HH:MM:SS +zzzz"
//   %r request "METHOD PATH[ PROTOCOL]"   %s status (3 digits)   %b bytes ("-" or digits)
//   %R referrer      %u user agent        %v virtual host        %^ a field to skip
//   any other character: itself, literally
//
// A specifier reads a quoted string ("...", backslash escapes as in ParseCombinedTail) when the
// field starts with '"', a bracketed one ([...]) when it starts with '[', and otherwise bytes up to
// the next literal character of the format (for the last item: to the next space or the end of
// the line). Text after the last item is ignored (as GoAccess does). %h, %t, %r and %s are required; the values are
// checked as in jobs/log_line.h (a real date and time, a token method, ...). GoAccess's %d, %x and
// the other specifiers are refused with a message.
//
// Immutable after Make; Parse is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "jobs/log_line.h"

namespace mr {

class LogFormat {
 public:
  LogFormat() = default;  // the built-in parser
  // InvalidArgument naming the problem ("--arg format=...: ...").
  static Result<LogFormat> Make(std::string_view spec);

  std::optional<LogLine> Parse(std::string_view line) const {
    return items_.empty() ? ParseLogLine(line) : ParseCustom(line);
  }

 private:
  struct Item {
    char spec = 0;        // 0 for a literal
    std::string literal;  // for a literal
  };
  std::optional<LogLine> ParseCustom(std::string_view line) const;
  std::vector<Item> items_;  // empty: the built-in parser
};

}  // namespace mr
