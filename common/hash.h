// The project's stable hash (DESIGN §3): 64-bit FNV-1a over the key's bytes. It is part of the
// on-disk and cross-machine contract: the partition of a key is PartitionOf(key, R) on every machine
// and every run. Never replace it with std::hash. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace mr {

constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ull;
constexpr uint64_t kFnvPrime = 0x100000001b3ull;

// The hash of what was hashed into `h` followed by `bytes` (start from kFnvOffset): a key made of
// pieces hashes without being put together first.
constexpr uint64_t StableHashAppend(uint64_t h, std::string_view bytes) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

constexpr uint64_t StableHash(std::string_view key) { return StableHashAppend(kFnvOffset, key); }

// partition = hash(key) mod R. REQUIRES: reducers > 0.
constexpr uint32_t PartitionOf(std::string_view key, uint32_t reducers) {
  return static_cast<uint32_t>(StableHash(key) % reducers);
}

}  // namespace mr
