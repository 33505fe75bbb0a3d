#include "common/record.h"

namespace mr {

void PutVarint64(std::string* out, uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out->append(buf, n);
}

bool GetVarint64(std::string_view* in, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0, i = 0; shift <= 63 && i < static_cast<int>(in->size()); shift += 7, i++) {
    uint64_t byte = static_cast<unsigned char>((*in)[i]);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      in->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}

bool GetLengthPrefixed(std::string_view* in, std::string_view* s) {
  uint64_t len;
  if (!GetVarint64(in, &len) || len > in->size()) return false;
  *s = in->substr(0, len);
  in->remove_prefix(len);
  return true;
}

bool RecordReader::Next(std::string_view* key, std::string_view* value) {
  if (in_.empty() || corrupt_) return false;
  if (!GetLengthPrefixed(&in_, key) || !GetLengthPrefixed(&in_, value)) {
    corrupt_ = true;
    return false;
  }
  return true;
}

void AppendOrderedKey(std::string* out, std::string_view key) {
  for (char c : key) {
    out->push_back(c);
    if (c == '\0') out->push_back('\xff');
  }
  out->push_back('\0');
  out->push_back('\x01');
}

bool GetOrderedKey(std::string_view* in, std::string* key) {
  key->clear();
  size_t i = 0;
  while (i + 1 < in->size()) {
    char c = (*in)[i];
    if (c != '\0') {
      key->push_back(c);
      i++;
      continue;
    }
    char next = (*in)[i + 1];
    if (next == '\x01') {
      in->remove_prefix(i + 2);
      return true;
    }
    if (next != '\xff') return false;
    key->push_back('\0');
    i += 2;
  }
  return false;
}

void PutFixed32BE(std::string* out, uint32_t v) {
  char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
               static_cast<char>(v)};
  out->append(b, 4);
}

void PutFixed64BE(std::string* out, uint64_t v) {
  PutFixed32BE(out, static_cast<uint32_t>(v >> 32));
  PutFixed32BE(out, static_cast<uint32_t>(v));
}

uint32_t GetFixed32BE(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

uint64_t GetFixed64BE(const char* p) {
  return (uint64_t{GetFixed32BE(p)} << 32) | GetFixed32BE(p + 4);
}

}  // namespace mr
