// teragen: TeraSort input in the gensort layout, generated across the cluster (DESIGN §4).
//
// Row r (0-based) is 100 bytes: a 10-byte key drawn from a hash of r, 0x00 0x11, r as 32 hex
// digits, 0x88 0x99 0xAA 0xBB, 48 filler bytes, 0xCC 0xDD 0xEE 0xFF. With `ascii=true` (gensort -a):
// a key of 10 printable characters (' ' to '~'), two spaces, the 32 hex digits, two spaces, 52
// filler characters and CR LF. The keys are not gensort's own random sequence (any 10 bytes occur).
//
// A map-only job (DESIGN §4). Its input is a small text file of row ranges, one line
// `PART FIRST COUNT` per output part, written by `mr teragen` with each line padded to one split;
// the map of part P generates its rows and writes them to part-m-P, so generation runs in parallel
// on the workers and commits like any task. Counters:
// `teragen.rows` and `teragen.checksum`, the sum of the rows' CRC32s (what teravalidate checks).
// Pure functions and immutable objects; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "jobs/job.h"

namespace mr {

// Writes row `row` (100 bytes) to out.
void TeraGenRecord(uint64_t row, bool ascii, char* out);
// zlib's CRC-32 of the bytes.
uint32_t Crc32(std::string_view data);

Result<std::unique_ptr<Job>> MakeTeraGen(const JobArgs& args);

}  // namespace mr
