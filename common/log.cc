#include "common/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <vector>

namespace mr {
namespace {

std::string Pattern(const std::string& name) {
  std::string escaped;
  for (char c : name) escaped += c == '%' ? std::string("%%") : std::string(1, c);
  return "%Y-%m-%dT%H:%M:%S.%e %L [" + escaped + "] %v";
}

}  // namespace

Status InitLogging(const std::string& process_name, const std::string& level, const std::string& log_file) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") {
    return Status::InvalidArgument("bad log level '" + level + "' (trace, debug, info, warn, error, off)");
  }
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (!log_file.empty()) {
    try {
      sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file, /*truncate=*/false));
    } catch (const spdlog::spdlog_ex& e) {
      return Status::IoError("--log-file " + log_file + ": " + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>(process_name, sinks.begin(), sinks.end());
  logger->set_pattern(Pattern(process_name));
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return Status::OK();
}

void SetLogName(const std::string& name) { spdlog::default_logger()->set_pattern(Pattern(name)); }

}  // namespace mr
