// store_ingest: the cost of storing one more map output in a worker's intermediate store as the
// store fills up. Writes N map outputs of one job (each one spill of R partitions, ~B bytes, as a
// tiny map task would), marks each complete and checks it is there (what a worker does per map),
// and prints the time per 1,000 outputs over the run; then drops the job.
// Usage: store_ingest DIR [N=20000] [R=4] [B=2000]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "worker/intermediate_store.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: store_ingest DIR [N=20000] [R=4] [B=2000]\n");
    return 2;
  }
  std::string dir = argv[1];
  int n = argc > 2 ? std::atoi(argv[2]) : 20000;
  uint32_t parts = argc > 3 ? static_cast<uint32_t>(std::atoi(argv[3])) : 4;
  size_t bytes = argc > 4 ? static_cast<size_t>(std::atoi(argv[4])) : 2000;
  std::filesystem::remove_all(dir);
  auto store = mr::IntermediateStore::Open(dir);
  if (!store.ok()) {
    std::fprintf(stderr, "store_ingest: %s\n", store.status().message().c_str());
    return 1;
  }
  std::string value(bytes / parts / 10, 'v');
  using Clock = std::chrono::steady_clock;
  auto batch_start = Clock::now(), start = Clock::now();
  for (int m = 0; m < n; m++) {
    mr::MapOutputId id{1, static_cast<uint32_t>(m), 1};
    auto w = (*store)->NewRun(id, 0, mr::Codec::kLz4);
    for (uint32_t p = 0; p < parts; p++) {
      for (int k = 0; k < 10; k++) {
        mr::Status s = w->AddRecord(p, "key" + std::to_string(k), value);
        if (!s.ok()) return std::fprintf(stderr, "store_ingest: %s\n", s.message().c_str()), 1;
      }
    }
    auto fin = w->Finish();
    if (!fin.ok()) return std::fprintf(stderr, "store_ingest: %s\n", fin.status().message().c_str()), 1;
    if (!(*store)->MarkMapOutputComplete(id).ok() || !(*store)->HasMapOutput(id)) return 1;
    if ((m + 1) % 1000 == 0) {
      double ms = std::chrono::duration<double, std::milli>(Clock::now() - batch_start).count();
      std::printf("outputs %6d..%6d: %.3f ms per output\n", m - 998, m + 1, ms / 1000);
      std::fflush(stdout);
      batch_start = Clock::now();
    }
  }
  auto drop_start = Clock::now();
  if (!(*store)->DropJob(1).ok()) return 1;
  std::printf("total %.1f s; drop of the job %.1f ms\n", std::chrono::duration<double>(Clock::now() - start).count(),
              std::chrono::duration<double, std::milli>(Clock::now() - drop_start).count());
  return 0;
}
