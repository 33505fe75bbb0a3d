#include "jobs/user_agent.h"

#include <initializer_list>

namespace mr {
namespace {

struct Rule {
  std::initializer_list<std::string_view> needles;
  std::string_view family;
};

bool Contains(std::string_view agent, std::initializer_list<std::string_view> needles) {
  for (std::string_view n : needles) {
    if (agent.find(n) != std::string_view::npos) return true;
  }
  return false;
}

#define MR_CRAWLER_NEEDLES "bot", "Bot", "spider", "Spider", "crawl", "Crawl", "Slurp"

}  // namespace

std::string_view BrowserFamily(std::string_view agent) {
  static const Rule kRules[] = {
      {{MR_CRAWLER_NEEDLES}, "Crawlers"},
      {{"curl/", "Wget/", "python-requests/", "Go-http-client/", "libwww-perl/", "okhttp/"}, "Tools"},
      {{"Edg/", "Edge/"}, "Edge"},
      {{"OPR/", "Opera"}, "Opera"},
      {{"Chrome/", "CriOS/"}, "Chrome"},
      {{"Firefox/", "FxiOS/"}, "Firefox"},
      {{"MSIE ", "Trident/"}, "Internet Explorer"},
      {{"Safari/", "AppleWebKit/"}, "Safari"},
  };
  for (const Rule& r : kRules) {
    if (Contains(agent, r.needles)) return r.family;
  }
  return "Unknown";
}

std::string_view OsFamily(std::string_view agent) {
  static const Rule kRules[] = {
      {{MR_CRAWLER_NEEDLES}, "Crawlers"},
      {{"Android"}, "Android"},
      {{"iPhone", "iPad", "iPod"}, "iOS"},
      {{"CrOS"}, "Chrome OS"},
      {{"Windows"}, "Windows"},
      {{"Macintosh", "Mac OS X"}, "macOS"},
      {{"Linux", "X11"}, "Linux"},
  };
  for (const Rule& r : kRules) {
    if (Contains(agent, r.needles)) return r.family;
  }
  return "Unknown";
}

}  // namespace mr
