// Byte encodings of intermediate data.
//  - Varints and length-prefixed strings (LevelDB's coding).
//  - A record run: a sequence of (key, value) records, each `varint klen, key, varint vlen, value`.
//    Map output is served, shipped and spilled by reducers in this form, keys in bytewise order.
//  - Ordered keys: an escaping of arbitrary bytes whose bytewise order equals the order of the
//    original keys, so a suffix (a spill number) can follow a key inside a RocksDB key.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mr {

void PutVarint64(std::string* out, uint64_t v);
// Reads a varint from the front of *in and advances it; false on truncation or overflow.
bool GetVarint64(std::string_view* in, uint64_t* v);
void PutLengthPrefixed(std::string* out, std::string_view s);
bool GetLengthPrefixed(std::string_view* in, std::string_view* s);

inline void AppendRecord(std::string* out, std::string_view key, std::string_view value) {
  PutLengthPrefixed(out, key);
  PutLengthPrefixed(out, value);
}

// Iterates the records of a run held in memory. The views point into the run.
class RecordReader {
 public:
  explicit RecordReader(std::string_view run) : in_(run) {}
  // False at the end of the run, or on corrupt input (then corrupt() is true).
  bool Next(std::string_view* key, std::string_view* value);
  bool corrupt() const { return corrupt_; }

 private:
  std::string_view in_;
  bool corrupt_ = false;
};

// 0x00 becomes 0x00 0xFF; the key ends with 0x00 0x01. Order-preserving.
void AppendOrderedKey(std::string* out, std::string_view key);
// Decodes an ordered key from the front of *in (advancing it) into *key; false if malformed.
bool GetOrderedKey(std::string_view* in, std::string* key);

void PutFixed32BE(std::string* out, uint32_t v);
void PutFixed64BE(std::string* out, uint64_t v);
uint32_t GetFixed32BE(const char* p);
uint64_t GetFixed64BE(const char* p);

}  // namespace mr
