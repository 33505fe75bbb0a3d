#include "common/frame.h"

#include <fmt/format.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/reflection.h>

#include <unordered_map>

#include "common/record.h"
#include "common/words.h"

namespace mr {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool IsValidUtf8(std::string_view s) {
  char32_t cp;
  size_t len;
  for (size_t i = 0; i < s.size(); i += len) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      len = 1;
      continue;
    }
    if (!DecodeUtf8(s, i, &cp, &len)) return false;
  }
  return true;
}

// For an error line: printable ASCII as is, other bytes as \xNN, at most 64 bytes of it.
std::string Escaped(std::string_view s) {
  std::string out;
  for (unsigned char c : s.substr(0, 64)) {
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  if (s.size() > 64) out += "...";
  return out;
}

// Whether a message of this type can hold a `string` field value, itself or in a message it holds.
// Most of our messages cannot (only map keys are strings), so checking them costs nothing however
// many entries they carry. Cached per thread; a type that refers back to itself counts as yes.
bool MayHoldStrings(const google::protobuf::Descriptor* d) {
  thread_local std::unordered_map<const google::protobuf::Descriptor*, bool> cache;
  if (auto it = cache.find(d); it != cache.end()) return it->second;
  cache[d] = true;
  bool any = false;
  for (int i = 0; i < d->field_count() && !any; ++i) {
    const FieldDescriptor* f = d->field(i);
    any = f->type() == FieldDescriptor::TYPE_STRING ||
          (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && MayHoldStrings(f->message_type()));
  }
  cache[d] = any;
  return any;
}

// Calls fn(message, field, index) for every string field value (index -1: a singular field) in msg
// and the messages it holds, map entries included; stops when fn returns false.
template <typename Msg, typename Fn>
bool ForEachStringField(Msg& msg, const Fn& fn) {
  const auto* desc = msg.GetDescriptor();
  const auto* refl = msg.GetReflection();
  for (int i = 0; i < desc->field_count(); ++i) {
    const FieldDescriptor* f = desc->field(i);
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      if (f->is_repeated()) {
        for (int k = 0; k < refl->FieldSize(msg, f); ++k) {
          if (!fn(msg, f, k)) return false;
        }
      } else if (refl->HasField(msg, f) || f->containing_oneof() == nullptr) {
        if (!fn(msg, f, -1)) return false;
      }
    } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && MayHoldStrings(f->message_type())) {
      if (f->is_repeated()) {
        for (int k = 0; k < refl->FieldSize(msg, f); ++k) {
          if constexpr (std::is_const_v<Msg>) {
            if (!ForEachStringField(refl->GetRepeatedMessage(msg, f, k), fn)) return false;
          } else {
            if (!ForEachStringField(*refl->MutableRepeatedMessage(&msg, f, k), fn)) return false;
          }
        }
      } else if (refl->HasField(msg, f)) {
        if constexpr (std::is_const_v<Msg>) {
          if (!ForEachStringField(refl->GetMessage(msg, f), fn)) return false;
        } else {
          if (!ForEachStringField(*refl->MutableMessage(&msg, f), fn)) return false;
        }
      }
    }
  }
  return true;
}

std::string FieldValue(const Message& m, const FieldDescriptor* f, int index) {
  const auto* refl = m.GetReflection();
  return index < 0 ? refl->GetString(m, f) : refl->GetRepeatedString(m, f, index);
}

}  // namespace

std::string EncodeFrame(const proto::Envelope& msg) {
  std::string out;
  size_t size = msg.ByteSizeLong();
  out.reserve(kFrameHeaderSize + size);
  PutFixed32BE(&out, static_cast<uint32_t>(size));
  msg.AppendToString(&out);
  return out;
}

uint32_t DecodeFrameLength(const char header[kFrameHeaderSize]) { return GetFixed32BE(header); }

Result<proto::Envelope> DecodeFrameBody(const std::string& body) {
  proto::Envelope msg;
  if (!msg.ParseFromString(body)) return Status::Protocol("unparsable frame");
  if (msg.msg_case() == proto::Envelope::MSG_NOT_SET) {
    return Status::Protocol("frame holds no known message");
  }
  return msg;
}

std::string MessageName(const proto::Envelope& msg) {
  const auto* field = msg.GetDescriptor()->FindFieldByNumber(msg.msg_case());
  return field ? field->name() : "none";
}

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  char32_t cp;
  size_t len;
  for (size_t i = 0; i < s.size(); i += len) {
    if (static_cast<unsigned char>(s[i]) < 0x80 || DecodeUtf8(s, i, &cp, &len)) {
      if (static_cast<unsigned char>(s[i]) < 0x80) len = 1;
      out.append(s.substr(i, len));
    } else {
      len = 1;
      out += "\xEF\xBF\xBD";  // U+FFFD
    }
  }
  return out;
}

Status CheckSendable(const Message& msg) {
  Status bad = Status::OK();
  ForEachStringField(msg, [&](const Message& m, const FieldDescriptor* f, int index) {
    std::string v = FieldValue(m, f, index);
    if (IsValidUtf8(v)) return true;
    // A map entry's message is named like "ArgsEntry": say "JobSpec.args key" instead.
    const auto* d = m.GetDescriptor();
    std::string where = fmt::format("{}.{}", d->name(), f->name());
    const auto* parent = d->containing_type();
    for (int i = 0; d->options().map_entry() && parent && i < parent->field_count(); ++i) {
      if (parent->field(i)->message_type() == d) where = fmt::format("{}.{} {}", parent->name(), parent->field(i)->name(), f->name());
    }
    bad = Status::InvalidArgument(fmt::format("{} \"{}\" is not valid UTF-8", where, Escaped(v)));
    return false;
  });
  return bad;
}

int MakeSendable(Message* msg) {
  int changed = 0;
  ForEachStringField(*msg, [&](Message& m, const FieldDescriptor* f, int index) {
    std::string v = FieldValue(m, f, index);
    if (IsValidUtf8(v)) return true;
    const auto* refl = m.GetReflection();
    if (index < 0) refl->SetString(&m, f, ValidUtf8(v));
    else refl->SetRepeatedString(&m, f, index, ValidUtf8(v));
    ++changed;
    return true;
  });
  return changed;
}

}  // namespace mr
