#include "worker/job_file_cache.h"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>

#include "common/job_files.h"
#include "common/log.h"

namespace mr {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Status JobFileCache::Prepare(const proto::AssignTask& task, const std::string& work_dir,
                             std::chrono::milliseconds timeout, const std::atomic<bool>* cancel) {
  const Clock::time_point deadline = Clock::now() + timeout;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const proto::JobFile& f : task.files()) used_[task.job_id()].insert(f.sha256());
  }
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (!ec) fs::create_directories(work_dir, ec);
  if (ec) return Status::FromErrorCode(ec, fmt::format("cannot create {}", work_dir));
  for (const proto::JobFile& f : task.files()) {
    MR_RETURN_IF_ERROR(CheckJobFileName(f.name()));
    MR_RETURN_IF_ERROR(Ensure(task.job_id(), f, deadline, cancel));
    const fs::path to = fs::path(work_dir) / f.name();
    fs::copy_file(PathOf(f.sha256()), to, fs::copy_options::overwrite_existing, ec);
    if (!ec) {
      fs::permissions(to, f.executable() ? fs::perms(0755) : fs::perms(0644), fs::perm_options::replace, ec);
    }
    if (ec) return Status::FromErrorCode(ec, fmt::format("cannot put the job's file {} in {}", f.name(), work_dir));
  }
  return Status::OK();
}

Status JobFileCache::Ensure(uint64_t job, const proto::JobFile& f, Clock::time_point deadline,
                            const std::atomic<bool>* cancel) {
  std::error_code ec;
  const std::string path = PathOf(f.sha256());
  if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) == f.size() && !ec) return Status::OK();
  std::unique_lock<std::mutex> l(mu_);
  auto [it, fresh] = fetches_.try_emplace(f.sha256());
  if (fresh) ask_(job, f.sha256());
  Fetch& fetch = it->second;
  fetch.waiters++;
  Status result;
  while (true) {
    if (fetch.result) {
      result = *fetch.result;
      break;
    }
    if (cancel != nullptr && cancel->load()) {
      result = Status::Aborted("attempt cancelled");
      break;
    }
    if (Clock::now() >= deadline) {
      result = Status::Unavailable(fmt::format("the master did not send the job's file {} in time", f.name()));
      break;
    }
    cv_.wait_for(l, std::chrono::milliseconds(100));
  }
  // The last waiter forgets the fetch: a failed one is asked for again by the next attempt.
  if (--fetch.waiters == 0) fetches_.erase(it);
  return result;
}

void JobFileCache::Deliver(const proto::JobFileReply& reply) {
  Status result;
  if (!reply.error().empty()) {
    result = Status::Unavailable(fmt::format("the master could not send a job's file: {}", reply.error()));
  } else if (Sha256Hex(reply.content()) != reply.sha256()) {
    result = Status::Corruption(fmt::format("a job's file {} arrived with other bytes than its digest's",
                                          reply.sha256().substr(0, 12)));
  } else {
    // Written aside, then renamed: a reader never sees part of it.
    const std::string path = PathOf(reply.sha256()), part = path + ".part";
    std::error_code ec;
    fs::create_directories(dir_, ec);
    std::ofstream out(part, std::ios::binary | std::ios::trunc);
    out.write(reply.content().data(), static_cast<std::streamsize>(reply.content().size()));
    out.close();
    if (!out || ec) {
      result = Status::IoError(fmt::format("cannot write {}", part));
    } else {
      fs::rename(part, path, ec);
      if (ec) result = Status::FromErrorCode(ec, fmt::format("cannot write {}", path));
    }
  }
  std::lock_guard<std::mutex> l(mu_);
  if (auto it = fetches_.find(reply.sha256()); it != fetches_.end() && !it->second.result) it->second.result = result;
  cv_.notify_all();
}

void JobFileCache::FailPending(const std::string& why) {
  std::lock_guard<std::mutex> l(mu_);
  for (auto& [sha, fetch] : fetches_) {
    if (!fetch.result) fetch.result = Status::Unavailable(fmt::format("cannot fetch the job's files: {}", why));
  }
  cv_.notify_all();
}

void JobFileCache::DropJob(uint64_t job) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = used_.find(job);
  if (it == used_.end()) return;
  std::set<std::string> mine = std::move(it->second);
  used_.erase(it);
  for (const auto& [other, shas] : used_) {
    for (const std::string& s : shas) mine.erase(s);
  }
  for (const std::string& sha : mine) {
    std::error_code ec;
    fs::remove(PathOf(sha), ec);
  }
}

}  // namespace mr
