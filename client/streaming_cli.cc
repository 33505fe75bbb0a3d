#include "client/streaming_cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <set>

#include "client/suggest.h"

namespace mr {
namespace {

// Hadoop's input and output format classes, mapred and mapreduce flavours, that mean what mr does:
// lines in (a KeyValueTextInputFormat line reaches a streaming mapper whole, as a text line does),
// key<TAB>value lines out.
const std::set<std::string> kTextInputFormats = {
    "TextInputFormat", "org.apache.hadoop.mapred.TextInputFormat",
    "org.apache.hadoop.mapreduce.lib.input.TextInputFormat", "KeyValueTextInputFormat",
    "org.apache.hadoop.mapred.KeyValueTextInputFormat",
    "org.apache.hadoop.mapreduce.lib.input.KeyValueTextInputFormat"};
const std::set<std::string> kTextOutputFormats = {
    "TextOutputFormat", "org.apache.hadoop.mapred.TextOutputFormat",
    "org.apache.hadoop.mapreduce.lib.output.TextOutputFormat"};
// Hadoop's hash partitioner: a key's reducer differs from Java's hashCode's, but each key is still
// in exactly one part file, which is all the contract says.
const std::set<std::string> kHashPartitioners = {
    "org.apache.hadoop.mapred.lib.HashPartitioner", "org.apache.hadoop.mapreduce.lib.partition.HashPartitioner"};
// The key field partitioner and comparator: their options are the properties jobs/key_fields.h reads.
const std::set<std::string> kKeyFieldPartitioners = {
    "org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner",
    "org.apache.hadoop.mapreduce.lib.partition.KeyFieldBasedPartitioner"};
const std::set<std::string> kKeyFieldComparators = {
    "org.apache.hadoop.mapred.lib.KeyFieldBasedComparator",
    "org.apache.hadoop.mapreduce.lib.partition.KeyFieldBasedComparator"};
// Hadoop's map output codecs that have an mr intermediate codec (common/block.h).
const std::map<std::string, std::string> kMapOutputCodecs = {{"org.apache.hadoop.io.compress.Lz4Codec", "lz4"},
                                                             {"org.apache.hadoop.io.compress.ZStandardCodec", "zstd"}};
const std::set<std::string> kIdentityReducers = {
    "org.apache.hadoop.mapred.lib.IdentityReducer", "org.apache.hadoop.mapreduce.Reducer"};

// Properties whose meaning mr does not implement (yet): setting one would change the output, so it
// is refused rather than exported and ignored.
// (The map output key fields, key field partitioner and comparator are implemented:
// jobs/key_fields.h reads their properties.)
const std::map<std::string, std::string> kRefusedProperties = {
    {"stream.num.reduce.output.key.fields", "splitting a reducer's output by key fields"},
    {"stream.reduce.output.field.separator", "splitting a reducer's output by key fields"},
    {"stream.reduce.input.field.separator", "another reducer input separator than TAB"},
    {"stream.map.input.field.separator", "another mapper input separator"},
    {"mapred.output.compress", "compressed output"},
    {"mapreduce.output.fileoutputformat.compress", "compressed output"},
    {"stream.non.zero.exit.is.failure", "ignoring a command's failure"},
};

// Options Hadoop has and mr does not, with why.
const std::map<std::string, std::string> kRefusedOptions = {
    {"archives", "mr does not ship archives with a job: ship the files (-files a.py,b.txt)"},
    {"libjars", "mr runs no Java"},
    {"conf", "mr reads no Hadoop configuration files: give each property with -D"},
    {"fs", "mr reads local paths (every worker must see them)"},
    {"jt", "give the master with --master"},
    {"io", "mr's streaming I/O is text lines"},
    {"lazyOutput", "mr writes every part file"},
    {"mapdebug", "debug scripts are not supported; see mr logs"},
    {"reducedebug", "debug scripts are not supported; see mr logs"},
    {"inputreader", "mr's input is text lines"},
};

const std::vector<std::string> kValued = {"input", "output", "mapper", "reducer", "combiner", "numReduceTasks",
                                          "cmdenv", "D", "partitioner", "inputformat", "outputformat",
                                          "master", "token-file", "file", "files"};
const std::vector<std::string> kFlags = {"verbose", "info", "help", "background"};

bool StartsWithJava(const std::string& s) { return s.starts_with("org.apache.hadoop."); }

Status Refuse(const std::string& option, const std::string& why) {
  return Status::InvalidArgument(fmt::format("{}: {}", option, why));
}

Status ParseReducers(const std::string& option, const std::string& value, uint32_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long n = std::strtoul(value.c_str(), &end, 10);
  if (value.empty() || *end != '\0' || errno != 0 || n > 100000 || value[0] == '-') {
    return Refuse(option, fmt::format("'{}' is not a number of reduce tasks", value));
  }
  *out = static_cast<uint32_t>(n);
  return Status::OK();
}

Status AddProperty(const std::string& kv, HadoopStreamingJob* job, bool* reducers_set) {
  size_t eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return Refuse("-D " + kv, "want NAME=VALUE");
  std::string name = kv.substr(0, eq), value = kv.substr(eq + 1);
  if (auto it = kRefusedProperties.find(name); it != kRefusedProperties.end()) {
    return Refuse("-D " + name, it->second + " is not supported yet");
  }
  if (name == "mapreduce.job.output.key.comparator.class" || name == "mapred.output.key.comparator.class") {
    if (!kKeyFieldComparators.contains(value)) return Refuse("-D " + name + "=" + value, "only KeyFieldBasedComparator is supported");
    return Status::OK();  // its options are the keycomparator.options property
  }
  if (name == "mapreduce.map.output.compress" || name == "mapred.compress.map.output") {
    if (value != "true" && value != "false") return Refuse("-D " + kv, "want true or false");
    if (value == "false") job->submit.intermediate_codec = "none";
    else if (job->submit.intermediate_codec == "none") job->submit.intermediate_codec.clear();
  } else if (name == "mapreduce.map.output.compress.codec" || name == "mapred.map.output.compression.codec") {
    auto it = kMapOutputCodecs.find(value);
    if (it == kMapOutputCodecs.end()) return Refuse("-D " + kv, "map output is compressed with Lz4Codec or ZStandardCodec");
    if (job->submit.intermediate_codec != "none") job->submit.intermediate_codec = it->second;
  }
  if (name == "mapreduce.job.reduces" || name == "mapred.reduce.tasks") {
    if (!*reducers_set) MR_RETURN_IF_ERROR(ParseReducers("-D " + name, value, &job->submit.reducers));
  } else if (name == "mapreduce.input.fileinputformat.split.maxsize" || name == "mapred.max.split.size") {
    job->submit.split_size = value;
  }
  for (const std::string& a : job->submit.args) {
    if (a.starts_with(name + "=")) return Refuse("-D " + name, "given more than once");
  }
  job->submit.args.push_back(kv);
  return Status::OK();
}

}  // namespace

Result<HadoopStreamingJob> ParseHadoopStreaming(const std::vector<std::string>& args) {
  HadoopStreamingJob job;
  job.submit.reducers = 1;
  bool reducers_set = false;  // by -numReduceTasks, which wins over the property
  bool reducer_none = false;  // -reducer NONE
  std::vector<std::string> properties;
  std::vector<std::string> known = kValued;
  known.insert(known.end(), kFlags.begin(), kFlags.end());
  for (const auto& [name, why] : kRefusedOptions) known.push_back(name);
  for (size_t i = 0; i < args.size(); i++) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') return Refuse(arg, "not an option (Hadoop's are -input, -output, -mapper, ...)");
    std::string name = arg.substr(arg[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (name.size() > 1 && name[0] == 'D' && arg[1] != '-') {  // -Dname=value, as Hadoop allows
      value = name.substr(1);
      name = "D";
      has_value = true;
    } else if (size_t eq = name.find('='); eq != std::string::npos && arg[1] == '-') {  // --master=H:P
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    if (auto it = kRefusedOptions.find(name); it != kRefusedOptions.end()) return Refuse("-" + name, it->second);
    bool valued = std::find(kValued.begin(), kValued.end(), name) != kValued.end();
    bool flag = std::find(kFlags.begin(), kFlags.end(), name) != kFlags.end();
    if (!valued && !flag) {
      std::string guess = Closest(name, known);
      return Refuse(arg, fmt::format("unknown option{}", guess.empty() ? "" : fmt::format("; did you mean -{}?", guess)));
    }
    if (valued && !has_value) {
      if (i + 1 >= args.size()) return Refuse("-" + name, "needs a value");
      value = args[++i];
    }
    if (name == "input") {
      // Several paths, comma-separated, as FileInputFormat takes them.
      for (size_t b = 0; b <= value.size();) {
        size_t e = value.find(',', b);
        if (e == std::string::npos) e = value.size();
        if (e > b) job.submit.inputs.push_back(value.substr(b, e - b));
        b = e + 1;
      }
    } else if (name == "output") {
      job.submit.output = value;
    } else if (name == "mapper") {
      if (StartsWithJava(value)) {
        return Refuse("-mapper " + value, "Java classes are not supported: give a command (-mapper cat passes lines on)");
      }
      job.submit.mapper = value;
    } else if (name == "reducer" || name == "combiner") {
      if (name == "reducer" && kIdentityReducers.contains(value)) continue;  // mr's default reducer
      if (name == "reducer" && value == "NONE") {  // a map-only job, as -numReduceTasks 0
        reducer_none = true;
        continue;
      }
      if (value == "aggregate" || StartsWithJava(value)) {
        return Refuse(fmt::format("-{} {}", name, value), "Java classes are not supported: give a command");
      }
      (name == "reducer" ? job.submit.reducer : job.submit.combiner) = value;
    } else if (name == "numReduceTasks") {
      MR_RETURN_IF_ERROR(ParseReducers("-numReduceTasks", value, &job.submit.reducers));
      reducers_set = true;
    } else if (name == "cmdenv") {
      job.submit.cmdenv.push_back(value);
    } else if (name == "files" || name == "file") {  // -files a.py,b.txt; the old -file a.py
      job.submit.files.push_back(value);
    } else if (name == "D") {
      properties.push_back(value);
    } else if (name == "partitioner") {
      if (!kHashPartitioners.contains(value) && !kKeyFieldPartitioners.contains(value)) {
        return Refuse("-partitioner " + value, "only the hash and KeyFieldBased partitioners are supported");
      }
    } else if (name == "inputformat") {
      if (!kTextInputFormats.contains(value)) return Refuse("-inputformat " + value, "mr reads text lines only");
    } else if (name == "outputformat") {
      if (!kTextOutputFormats.contains(value)) return Refuse("-outputformat " + value, "mr writes text lines only");
    } else if (name == "master") {
      job.master = value;
    } else if (name == "token-file") {
      job.token_file = value;
    } else if (name == "background") {
      job.background = true;
    } else if (name == "info" || name == "help") {
      job.help = true;
      return job;
    }
    // -verbose: mr's progress lines are always shown.
  }
  for (const std::string& kv : properties) MR_RETURN_IF_ERROR(AddProperty(kv, &job, &reducers_set));
  if (reducer_none) job.submit.reducers = 0;
  if (job.submit.reducers == 0) {
    // A map-only job: as Hadoop, it runs no reducer or combiner, and its maps' output is written as
    // it comes (the key field properties only split lines into key and value).
    job.submit.reducer.clear();
    job.submit.combiner.clear();
  }
  if (job.submit.inputs.empty()) return Refuse("-input", "required");
  if (job.submit.output.empty()) return Refuse("-output", "required");
  if (job.submit.mapper.empty()) return Refuse("-mapper", "required (a command; -mapper cat passes lines on)");
  if (job.background && job.master.empty()) return Refuse("-background", "needs --master (a local run ends with the job)");
  job.submit.wait = !job.background;
  return job;
}

std::string HadoopStreamingHelp() {
  return R"(Usage: mr streaming [--master HOST:PORT] [--token-file PATH] HADOOP-STREAMING-ARGS
Runs a Hadoop Streaming command line as written: replace `hadoop jar hadoop-streaming.jar` with
`mr streaming`. With --master the job goes to that cluster (as mr submit --wait); without, to a
local cluster started for it (as mr run).
  -input PATH[,PATH...]      input files, directories or globs (repeatable)
  -output DIR                output directory (must not exist)
  -mapper CMD                mapper command (required)
  -reducer CMD               reducer command (default, or org.apache.hadoop.mapred.lib.IdentityReducer: identity)
  -combiner CMD              combiner command
  -numReduceTasks N          reduce tasks (0, or -reducer NONE: a map-only job, whose maps write
                             part-m-NNNNN; a -reducer or -combiner given is not run, as in Hadoop)
  -cmdenv NAME=VALUE         an environment variable for the commands (repeatable)
  -files PATH[#NAME][,...]   files shipped with the job: each task runs in a directory holding them
                             (-file PATH: one, as older Hadoop)
  -D NAME=VALUE              a property, exported to the commands as NAME with dots made _;
                             mapreduce.job.reduces and mapreduce.input.fileinputformat.split.maxsize
                             are also the job's reducers and split size
  -inputformat, -outputformat   Hadoop's text formats only
  -partitioner CLASS         HashPartitioner or KeyFieldBasedPartitioner; key fields, partitioning and
                             sorting by them come from Hadoop's properties (-D stream.num.map.output.key.fields,
                             stream.map.output.field.separator, map.output.key.field.separator,
                             mapreduce.partition.keypartitioner.options, ...keycomparator.options)
                             mapreduce.map.output.compress=false and ...compress.codec=...Lz4Codec or
                             ...ZStandardCodec pick the intermediate codec (mr compresses with LZ4 unless told)
  -background                submit and return (with --master)
  -verbose                   accepted (mr always shows progress)
Refused, by name, before anything runs: -archives, -libjars, -conf,
-fs, -jt, -io, -lazyOutput, Java classes as commands, other Java comparators, reducer output key
fields and output compression.
)";
}

}  // namespace mr
