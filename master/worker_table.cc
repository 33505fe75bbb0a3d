#include "master/worker_table.h"

#include <algorithm>
#include <fmt/format.h>

namespace mr {

std::string WorkerTable::IdentityOf(const std::string& identity) {
  return identity.empty() ? fmt::format("anonymous-{}", next_anonymous_++) : identity;
}

Result<std::string> WorkerTable::NameFor(const std::string& identity, const std::string& requested,
                                         const std::string& shuffle_address, const std::string& known) {
  auto taken = [&](const std::string& n) {
    auto it = identity_of_.find(n);
    return it != identity_of_.end() && it->second != identity;
  };
  std::string& remembered = name_of_[identity];
  if (!requested.empty()) remembered = requested;
  if (remembered.empty() && !known.empty() && !taken(known)) remembered = known;
  if (remembered.empty()) {
    // Named by its shuffle address; workers that advertise the same one (simulated workers, or
    // hosts behind one address) get it with a suffix rather than being refused.
    remembered = shuffle_address;
    for (int n = 2; taken(remembered); n++) remembered = fmt::format("{}#{}", shuffle_address, n);
  }
  if (taken(remembered)) {
    const Worker* other = Find(remembered);
    return Status::AlreadyExists(fmt::format(
        "another worker ({}{}) is registered as {}: give each worker its own --name",
        other ? other->host : "?", other && other->pid ? fmt::format(", pid {}", other->pid) : "", remembered));
  }
  return remembered;
}

WorkerTable::Worker& WorkerTable::Add(const WorkerRegistration& reg, const std::string& identity, int64_t now_ms,
                                      bool* returning) {
  *returning = workers_.contains(reg.id);
  if (workers_.empty()) live_since_ms_ = now_ms;
  Worker& w = workers_[reg.id];
  identity_of_[reg.id] = identity;
  w.id = reg.id;
  w.address = reg.address;
  total_slots_ -= w.slots;
  w.slots = std::max<uint32_t>(1, reg.slots);
  total_slots_ += w.slots;
  SetRunning(w, w.running);
  liveness_.Touch(w.id, now_ms);
  w.incarnation = reg.incarnation;
  w.host = reg.host;
  w.pid = reg.pid;
  user_code_workers_ = user_code_workers_ - (*returning && w.allow_user_code) + reg.allow_user_code;
  w.allow_user_code = reg.allow_user_code;
  if (!*returning) w.registered_ms = now_ms;
  return w;
}

void WorkerTable::Remove(const std::string& id, const std::string& reason, int64_t now_ms) {
  auto gone = workers_.find(id);
  if (gone == workers_.end()) return;
  const Worker& g = gone->second;
  lost_.push_back({id, g.address, g.host, g.pid, g.registered_ms, reason, now_ms, g.succeeded, g.failed});
  if (lost_.size() > kLostWorkersKept) lost_.pop_front();
  SetRunning(gone->second, 0);
  total_slots_ -= gone->second.slots;
  user_code_workers_ -= gone->second.allow_user_code;
  free_.Erase(id);
  liveness_.Erase(id);
  identity_of_.erase(id);
  running_.erase(id);
  outputs_.erase(id);
  workers_.erase(gone);
}

WorkerTable::Worker* WorkerTable::Find(const std::string& id) {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}

const WorkerTable::Worker* WorkerTable::Find(const std::string& id) const {
  auto it = workers_.find(id);
  return it == workers_.end() ? nullptr : &it->second;
}

void WorkerTable::SetRunning(Worker& w, uint32_t running) {
  busy_slots_ = busy_slots_ - w.running + running;
  w.running = running;
  free_.Set(w.id, w.slots > running ? w.slots - running : 0);
}

bool WorkerTable::ReleaseSlot(const std::string& id) {
  Worker* w = Find(id);
  if (w == nullptr || w->running == 0) return false;
  SetRunning(*w, w->running - 1);
  return true;
}

WorkerTable::Worker* WorkerTable::FindFree(const std::function<bool(const Worker&)>& ok) {
  const std::string* id = free_.Find([&](const std::string& w) { return ok(workers_.at(w)); });
  return id ? &workers_.at(*id) : nullptr;
}

void WorkerTable::AttemptStopped(const std::string& worker, const AttemptRef& a) {
  auto it = running_.find(worker);
  if (it == running_.end()) return;
  it->second.erase(a);
  if (it->second.empty()) running_.erase(it);
}

std::vector<AttemptRef> WorkerTable::RunningOn(const std::string& worker) const {
  auto it = running_.find(worker);
  if (it == running_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

void WorkerTable::OutputDropped(const std::string& worker, const OutputRef& o) {
  auto it = outputs_.find(worker);
  if (it == outputs_.end()) return;
  it->second.erase(o);
  if (it->second.empty()) outputs_.erase(it);
}

std::vector<OutputRef> WorkerTable::OutputsOn(const std::string& worker) const {
  auto it = outputs_.find(worker);
  if (it == outputs_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

}  // namespace mr
