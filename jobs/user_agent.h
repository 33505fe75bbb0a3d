// Browser and operating-system families of an HTTP User-Agent string, for the `logs` job's by=browser
// and by=os and the `weblog` report's panels (DESIGN §4). Like GoAccess's panels, a small ordered
// table of substrings: the first rule whose substring occurs in the agent (case-sensitive) names
// the family. The rules, in order (tests/reference/logs.py implements the same table on its own):
//
//   crawlers (both tables first): "bot" "Bot" "spider" "Spider" "crawl" "Crawl" "Slurp" -> Crawlers
//   browser: "curl/" "Wget/" "python-requests/" "Go-http-client/" "libwww-perl/" "okhttp/" -> Tools
//            "Edg/" "Edge/" -> Edge;  "OPR/" "Opera" -> Opera;  "Chrome/" "CriOS/" -> Chrome;
//            "Firefox/" "FxiOS/" -> Firefox;  "MSIE " "Trident/" -> Internet Explorer;
//            "Safari/" "AppleWebKit/" -> Safari;  otherwise Unknown
//   os:      "Android" -> Android;  "iPhone" "iPad" "iPod" -> iOS;  "CrOS" -> Chrome OS;
//            "Windows" -> Windows;  "Macintosh" "Mac OS X" -> macOS;  "Linux" "X11" -> Linux;
//            otherwise Unknown
//
// Pure functions returning static strings; thread-safe.
#pragma once

#include <string_view>

namespace mr {

std::string_view BrowserFamily(std::string_view agent);
std::string_view OsFamily(std::string_view agent);

}  // namespace mr
