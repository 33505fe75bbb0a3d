// Hadoop Streaming's key fields (DESIGN §4): how a streaming job's map output lines are split into
// key and value, which part of the key picks the reducer, and in what order keys reach it.
// From the job's properties (mr's --arg/-D; `mr submit` also has flags for them):
//   stream.num.map.output.key.fields  N  (--key-fields)      the key is the line's first N fields
//   stream.map.output.field.separator C  (--field-separator) ... separated by C (default TAB)
//   map.output.key.field.separator    C  (also mapreduce.map.output.key.field.separator)
//                                         the separator of the key's own fields (default TAB)
//   mapreduce.partition.keypartitioner.options '-k1,1'        (--partition-by 'k1,1')
//   mapreduce.partition.keycomparator.options  '-k1,1 -k2,2nr' (--sort-by 'k1,1 k2,2nr')
// The -k grammar is sort's and KeyFieldBased*'s: -kF1[.C1][opts][,F2[.C2][opts]], fields and
// characters counted from 1, F2 absent: to the key's end, C2 absent or 0: to the field's end; opts
// n (numeric: the field's leading number; none is 0) and r (reverse); -n and -r alone apply to
// every key spec. Older names (mapred.text.key.partitioner.options, ...comparator.options) work too.
//
// How: the engine sorts keys as bytes, so with a comparator each map output key is stored as an
// order-preserving encoding of its -k fields, then the key itself, then its length (EncodeKey);
// reducers and combiners get the key back (DecodeKey). Keys the comparator finds equal are in no
// particular order among themselves, as in Hadoop. Without any of these properties nothing changes
// and nothing is paid. Pure functions on an immutable KeySpec; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "jobs/job.h"

namespace mr {

struct KeyField {
  uint32_t start_field = 1, start_char = 0;  // start_char 0: the field's first character
  uint32_t end_field = 0, end_char = 0;      // end_field 0: to the key's end; end_char 0: the field's end
  bool numeric = false;
  bool reverse = false;
};

struct KeySpec {
  uint32_t key_fields = 1;
  char field_separator = '\t';  // splits a map output line into key and value
  char key_separator = '\t';    // splits a key into its fields
  std::vector<KeyField> partition;  // empty: the whole key
  std::vector<KeyField> sort;       // empty: the whole key, as bytes
  bool plain() const { return key_fields == 1 && field_separator == '\t' && partition.empty() && sort.empty(); }
};

// InvalidArgument naming the property and the part of it at fault.
Result<KeySpec> ParseKeySpec(const JobArgs& args);
// "-k1,1 -k2,2nr" (the leading '-' optional, as --sort-by 'k1,1 k2,2nr' gives it).
Result<std::vector<KeyField>> ParseKeyFieldOptions(std::string_view text);

// A map output line's key and value: the key is its first key_fields fields.
void SplitLine(const KeySpec& spec, std::string_view line, std::string_view* key, std::string_view* value);
// The bytes the engine sorts `key` by (spec.sort set), into *out; the key itself when it is not.
void EncodeKey(const KeySpec& spec, std::string_view key, std::string* out);
// The key EncodeKey was given.
std::string_view DecodeKey(const KeySpec& spec, std::string_view stored);
// The reducer of a key (as DecodeKey gives it): by its partition fields, else the whole key.
uint32_t PartitionKey(const KeySpec& spec, std::string_view key, uint32_t reducers);

// The property names, for the flags that set them.
inline constexpr char kKeyFieldsProperty[] = "stream.num.map.output.key.fields";
inline constexpr char kFieldSeparatorProperty[] = "stream.map.output.field.separator";
inline constexpr char kKeySeparatorProperty[] = "map.output.key.field.separator";
inline constexpr char kPartitionProperty[] = "mapreduce.partition.keypartitioner.options";
inline constexpr char kSortProperty[] = "mapreduce.partition.keycomparator.options";

}  // namespace mr
