#include "jobs/plugin.h"

#include <dlfcn.h>

#include <fmt/format.h>
#include <map>
#include <mutex>

#include "common/words.h"

namespace mr {
namespace {

using CreateFn = Job* (*)(const JobArgs*, std::string*);
using VersionFn = int (*)();

Result<CreateFn> Load(const std::string& library) {
  static std::mutex mu;
  static std::map<std::string, CreateFn>* loaded = new std::map<std::string, CreateFn>();
  std::lock_guard<std::mutex> l(mu);
  auto it = loaded->find(library);
  if (it != loaded->end()) return it->second;
  void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) return Status::InvalidArgument(fmt::format("cannot load job library: {}", ::dlerror()));
  auto version = reinterpret_cast<VersionFn>(::dlsym(handle, "mr_plugin_api_version"));
  auto create = reinterpret_cast<CreateFn>(::dlsym(handle, "mr_plugin_create_job"));
  if (version == nullptr || create == nullptr) {
    return Status::InvalidArgument(fmt::format("{} is not an mr plugin (no MR_PLUGIN(...) in it)", library));
  }
  if (version() != 2) {
    return Status::InvalidArgument(fmt::format("{} was built for mr job API version {}, this is version 2",
                                               library, version()));
  }
  (*loaded)[library] = create;
  return create;
}

}  // namespace

Result<std::unique_ptr<Job>> LoadPluginJob(const std::string& library, const JobArgs& args) {
  auto create = Load(library);
  if (!create.ok()) return create.status();
  std::string error;
  Job* job = (*create)(&args, &error);
  if (job == nullptr) {
    return Status::InvalidArgument(error.empty() ? library + " refused to create its job" : error);
  }
  return std::unique_ptr<Job>(job);
}

}  // namespace mr

// What mr/job_api.h's mr::words calls. The mr binary exports these (client/CMakeLists.txt), so a
// plugin resolves them from the process that loads it.
extern "C" void mr_api_for_each_word(const char* text, size_t size,
                                     void (*fn)(void* ctx, const char* word, size_t size), void* ctx) {
  mr::ForEachWord(std::string_view(text, size), [&](std::string_view w) { fn(ctx, w.data(), w.size()); });
}

extern "C" void mr_api_append_lowercase(const char* word, size_t size, std::string* out) {
  mr::AppendLowercase(std::string_view(word, size), out);
}
