#include "client/steps.h"

#include <fmt/format.h>

#include "client/commands.h"
#include "jobs/job.h"

namespace mr {
namespace {

// A --then step's words, split as a shell would: on spaces, with '...' taken as is and "..." with
// \" and \\ escapes, so a streaming step's commands can hold spaces.
Result<std::vector<std::string>> StepWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); i++) {
    char c = text[i];
    if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\'' || c == '"') {
      size_t end = i + 1;
      for (; end < text.size() && text[end] != c; end++) {
        if (c == '"' && text[end] == '\\' && end + 1 < text.size() && (text[end + 1] == '"' || text[end + 1] == '\\')) end++;
        word.push_back(text[end]);
      }
      if (end == text.size()) return Status::InvalidArgument(fmt::format("an unclosed {} quote", c));
      i = end;
    } else if (c == '\\' && i + 1 < text.size()) {
      word.push_back(text[++i]);
    } else {
      word.push_back(c);
    }
  }
  if (in_word) words.push_back(std::move(word));
  return words;
}

// One --then step: "JOB [KEY=VALUE]..." (a built-in job), or "mapper=CMD [reducer=CMD]
// [combiner=CMD] [KEY=VALUE]..." (a streaming step; quote commands that hold spaces).
Status ParseStep(const std::string& text, SubmitOptions* step) {
  auto words = StepWords(text);
  if (!words.ok()) return words.status();
  if (words->empty()) return Status::InvalidArgument("want \"JOB [KEY=VALUE]...\" or \"mapper=CMD [reducer=CMD]...\"");
  const bool streaming = (*words)[0].starts_with("mapper=");
  for (size_t i = 0; i < words->size(); i++) {
    const std::string& w = (*words)[i];
    if (i == 0 && !streaming) {
      step->job = w;
      continue;
    }
    size_t eq = w.find('=');
    std::string key = w.substr(0, eq == std::string::npos ? 0 : eq);
    std::string value = eq == std::string::npos ? "" : w.substr(eq + 1);
    if (streaming && key == "mapper") step->mapper = value;
    else if (streaming && key == "reducer") step->reducer = value;
    else if (streaming && key == "combiner") step->combiner = value;
    else step->args.push_back(w);
  }
  return Status::OK();
}

}  // namespace

Result<proto::JobSpec> MakeStepSpec(const std::string& text, const proto::JobSpec& first) {
  SubmitOptions step;
  if (Status s = ParseStep(text, &step); !s.ok()) {
    return Status::InvalidArgument(fmt::format("--then {}: {}", text, s.message()));
  }
  // Stand-ins for what MakeJobSpec requires; the master gives each step its input and output.
  step.inputs = {"/"};
  step.output = "/";
  auto spec = MakeJobSpec(step);
  if (!spec.ok()) return Status::InvalidArgument(fmt::format("--then {}: {}", text, spec.status().message()));
  spec->clear_inputs();
  spec->clear_output();
  // A streaming step runs among the same --files as the first step (as an mrjob job's steps do).
  if (!spec->mapper().empty()) *spec->mutable_files() = first.files();
  spec->set_intermediate_codec(first.intermediate_codec());  // the chain moves its data one way
  return spec;
}

Status CheckSteps(const proto::JobSpec& first, const std::vector<std::string>& texts) {
  for (int i = 0; i < first.then_size(); i++) {
    const proto::JobSpec& step = first.then(i);
    JobDefinition def;
    def.name = step.job();
    def.args = JobArgs(step.args().begin(), step.args().end());
    def.mapper = step.mapper();
    def.reducer = step.reducer();
    def.combiner = step.combiner();
    Status valid = ValidateJobDefinition(def);
    if (!valid.ok()) {
      const std::string text = static_cast<size_t>(i) < texts.size() ? texts[i] : step.job();
      return Status::InvalidArgument(fmt::format("--then {}: {}", text, valid.message()));
    }
  }
  return Status::OK();
}

}  // namespace mr
