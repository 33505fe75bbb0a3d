#include "tests/multihost/deploy_units.h"

#include <fmt/format.h>
#include <fstream>
#include <sstream>

#include "tests/test_util.h"

namespace mr::multihost {

std::string DeployDir() { return testing::SourceDir() + "/deploy"; }

namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

Result<std::vector<std::string>> ReadLines(const std::string& path) {
  std::ifstream f(path);
  if (!f) return Status::NotFound("cannot read " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(f, line)) lines.push_back(line);
  return lines;
}

bool IsNameChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

}  // namespace

Result<Vars> ReadEnvironmentFile(const std::string& path) {
  auto lines = ReadLines(path);
  if (!lines.ok()) return lines.status();
  Vars vars;
  for (auto& raw : *lines) {
    std::string line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0) return Status::InvalidArgument(fmt::format("{}: bad line '{}'", path, raw));
    std::string value = Trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    vars[Trim(line.substr(0, eq))] = value;
  }
  return vars;
}

Result<std::string> ReadExecStart(const std::string& unit_path) {
  auto lines = ReadLines(unit_path);
  if (!lines.ok()) return lines.status();
  std::string value;
  bool found = false, continued = false;
  for (auto& raw : *lines) {
    std::string line = Trim(raw);
    if (continued) {
      value += " " + line;
    } else if (line.rfind("ExecStart=", 0) == 0) {
      if (found) return Status::InvalidArgument(unit_path + ": more than one ExecStart=");
      found = true;
      value = line.substr(10);
    } else {
      continue;
    }
    continued = !value.empty() && value.back() == '\\';
    if (continued) value.pop_back();
  }
  if (!found) return Status::NotFound(unit_path + ": no ExecStart=");
  return Trim(value);
}

Result<std::vector<std::string>> ExpandExecStart(const std::string& exec_start, const Vars& env,
                                                 const std::map<char, std::string>& specifiers) {
  std::vector<std::string> argv;
  std::istringstream in(exec_start);
  std::string word;
  auto lookup = [&](const std::string& name) -> Result<std::string> {
    auto it = env.find(name);
    if (it == env.end()) return Status::InvalidArgument(fmt::format("ExecStart uses ${{{}}}, which is not set", name));
    return it->second;
  };
  while (in >> word) {
    if (word.find('"') != std::string::npos || word.find('\'') != std::string::npos) {
      return Status::InvalidArgument("quoting in ExecStart is not supported: " + word);
    }
    // "$NAME" alone: split at whitespace.
    if (word.size() > 1 && word[0] == '$' && word[1] != '{') {
      auto v = lookup(word.substr(1));
      if (!v.ok()) return v.status();
      std::istringstream parts(*v);
      std::string part;
      while (parts >> part) argv.push_back(part);
      continue;
    }
    std::string out;
    for (size_t i = 0; i < word.size(); i++) {
      char c = word[i];
      if (c == '%' && i + 1 < word.size()) {
        char s = word[++i];
        if (s == '%') {
          out += '%';
          continue;
        }
        auto it = specifiers.find(s);
        if (it == specifiers.end()) return Status::InvalidArgument(fmt::format("unsupported specifier %{}", s));
        out += it->second;
      } else if (c == '$' && i + 1 < word.size() && word[i + 1] == '{') {
        size_t close = word.find('}', i);
        if (close == std::string::npos) return Status::InvalidArgument("unclosed ${ in " + word);
        std::string name = word.substr(i + 2, close - i - 2);
        for (char n : name) {
          if (!IsNameChar(n)) return Status::InvalidArgument("bad variable name in " + word);
        }
        auto v = lookup(name);
        if (!v.ok()) return v.status();
        out += *v;
        i = close;
      } else {
        out += c;
      }
    }
    argv.push_back(out);
  }
  if (argv.empty()) return Status::InvalidArgument("empty ExecStart");
  return argv;
}

std::vector<std::string> Flags(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (auto& a : argv) {
    if (a.rfind("--", 0) == 0) out.push_back(a.substr(0, a.find('=')));
  }
  return out;
}

}  // namespace mr::multihost
