#include "jobs/grep.h"

#include <fmt/format.h>
#include <re2/re2.h>

#include "jobs/identity_reducer.h"

namespace mr {
namespace {

class GrepMapper : public Mapper {
 public:
  explicit GrepMapper(const RE2* re) : re_(re) {}
  void Map(const InputRecord& record, Emitter& out) override {
    if (!RE2::PartialMatch(record.line, *re_)) return;
    GrepKey(record.file, record.offset, &key_);
    out.Emit(key_, record.line);
  }

 private:
  const RE2* const re_;
  std::string key_;
};

class Grep : public Job {
 public:
  explicit Grep(std::unique_ptr<RE2> re) : re_(std::move(re)) {}
  std::unique_ptr<Mapper> NewMapper(const TaskContext&) const override {
    return std::make_unique<GrepMapper>(re_.get());
  }
  // Keys are unique (one per line), so this writes each matching line once.
  std::unique_ptr<Reducer> NewReducer(const TaskContext&) const override {
    return NewIdentityReducer();
  }

 private:
  const std::unique_ptr<RE2> re_;
};

}  // namespace

void GrepKey(std::string_view file, uint64_t offset, std::string* key) {
  key->clear();
  AppendEscapedName(file, key);
  key->push_back(':');
  fmt::format_to(std::back_inserter(*key), "{:012}", offset);
}

Result<std::unique_ptr<Job>> MakeGrep(const JobArgs& args) {
  MR_RETURN_IF_ERROR(CheckKnownArgs("grep", args, {"pattern"}));
  auto it = args.find("pattern");
  if (it == args.end()) {
    return Status::InvalidArgument("job grep needs --arg pattern=REGEX (RE2 syntax)");
  }
  if (it->second.empty()) {
    return Status::InvalidArgument("--arg pattern= is empty (to match every line, use pattern=^)");
  }
  RE2::Options options;
  options.set_log_errors(false);  // the error is returned to the user instead
  auto re = std::make_unique<RE2>(it->second, options);
  if (!re->ok()) {
    return Status::InvalidArgument(
        fmt::format("--arg pattern={}: invalid RE2 regular expression: {}", it->second, re->error()));
  }
  return std::unique_ptr<Job>(new Grep(std::move(re)));
}

}  // namespace mr
