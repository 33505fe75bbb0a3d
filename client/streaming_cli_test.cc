#include "client/streaming_cli.h"

#include <gtest/gtest.h>

namespace mr {
namespace {

Result<HadoopStreamingJob> Parse(std::vector<std::string> args) { return ParseHadoopStreaming(args); }

TEST(StreamingCliTest, AHadoopCommandLineAsWritten) {
  auto job = Parse({"-D", "mapreduce.job.name=counts", "-Dmapreduce.job.reduces=4", "-files", "m.py,r.py#red.py",
                    "-file", "extra.txt", "-input", "logs/a,logs/b", "-input",
               "more/", "-output", "out", "-mapper", "python3 m.py", "-reducer", "python3 r.py", "-combiner", "cat",
               "-cmdenv", "LC_ALL=C", "-inputformat", "org.apache.hadoop.mapred.TextInputFormat", "-outputformat",
               "org.apache.hadoop.mapred.TextOutputFormat", "-partitioner",
               "org.apache.hadoop.mapred.lib.HashPartitioner", "-verbose"});
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(job->submit.inputs, (std::vector<std::string>{"logs/a", "logs/b", "more/"}));
  EXPECT_EQ(job->submit.output, "out");
  EXPECT_EQ(job->submit.files, (std::vector<std::string>{"m.py,r.py#red.py", "extra.txt"}));  // read at submit
  EXPECT_EQ(job->submit.mapper, "python3 m.py");
  EXPECT_EQ(job->submit.reducer, "python3 r.py");
  EXPECT_EQ(job->submit.combiner, "cat");
  EXPECT_EQ(job->submit.reducers, 4u);
  EXPECT_EQ(job->submit.cmdenv, std::vector<std::string>{"LC_ALL=C"});
  EXPECT_EQ(job->submit.args, (std::vector<std::string>{"mapreduce.job.name=counts", "mapreduce.job.reduces=4"}));
  EXPECT_TRUE(job->submit.wait);
  EXPECT_TRUE(job->master.empty());  // a local run
}

TEST(StreamingCliTest, NumReduceTasksWinsAndIdentityReducerIsTheDefault) {
  auto job = Parse({"-numReduceTasks", "3", "-D", "mapred.reduce.tasks=7", "-input", "in", "-output", "out",
                    "-mapper", "cat", "-reducer", "org.apache.hadoop.mapred.lib.IdentityReducer", "--master",
                    "10.0.0.1:7070", "-D", "mapreduce.input.fileinputformat.split.maxsize=1m"});
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(job->submit.reducers, 3u);
  EXPECT_TRUE(job->submit.reducer.empty());
  EXPECT_EQ(job->submit.split_size, "1m");
  EXPECT_EQ(job->master, "10.0.0.1:7070");
}

// -numReduceTasks 0 and -reducer NONE make a map-only job; as in Hadoop, its reducer and combiner
// are not run.
// Hadoop's map output compression properties pick the intermediate codec; mr compresses with LZ4
// unless told otherwise, so `compress=false` is the way to turn it off.
TEST(StreamingCliTest, MapOutputCompressionPropertiesPickTheCodec) {
  auto codec = [](std::vector<std::string> props) -> Result<std::string> {
    std::vector<std::string> args;
    for (auto& p : props) args.insert(args.end(), {"-D", p});
    args.insert(args.end(), {"-input", "in", "-output", "out", "-mapper", "cat"});
    auto job = Parse(args);
    if (!job.ok()) return job.status();
    return job->submit.intermediate_codec;
  };
  EXPECT_EQ(*codec({}), "");
  EXPECT_EQ(*codec({"mapreduce.map.output.compress=false"}), "none");
  EXPECT_EQ(*codec({"mapreduce.map.output.compress=true",
                    "mapreduce.map.output.compress.codec=org.apache.hadoop.io.compress.ZStandardCodec"}),
            "zstd");
  EXPECT_EQ(*codec({"mapred.map.output.compression.codec=org.apache.hadoop.io.compress.Lz4Codec"}), "lz4");
  EXPECT_EQ(*codec({"mapreduce.map.output.compress.codec=org.apache.hadoop.io.compress.ZStandardCodec",
                    "mapreduce.map.output.compress=false"}),
            "none");
  auto snappy = codec({"mapreduce.map.output.compress.codec=org.apache.hadoop.io.compress.SnappyCodec"});
  ASSERT_FALSE(snappy.ok());
  EXPECT_NE(snappy.status().message().find("Lz4Codec or ZStandardCodec"), std::string::npos);
  EXPECT_FALSE(codec({"mapreduce.map.output.compress=yes"}).ok());
}

TEST(StreamingCliTest, ZeroReducersOrReducerNoneIsAMapOnlyJob) {
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{"-numReduceTasks", "0", "-reducer", "uniq -c", "-combiner", "uniq"},
        std::vector<std::string>{"-reducer", "NONE", "-numReduceTasks", "4"},
        std::vector<std::string>{"-D", "mapreduce.job.reduces=0"}}) {
    std::vector<std::string> args = {"-input", "in", "-output", "out", "-mapper", "cut -f1"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto job = Parse(args);
    ASSERT_TRUE(job.ok()) << job.status().message();
    EXPECT_EQ(job->submit.reducers, 0u) << extra[0];
    EXPECT_TRUE(job->submit.reducer.empty());
    EXPECT_TRUE(job->submit.combiner.empty());
  }
}

TEST(StreamingCliTest, WhatMrDoesNotDoIsRefusedByName) {
  const std::vector<std::string> base = {"-input", "in", "-output", "out"};
  struct Case {
    std::vector<std::string> extra;
    std::string says;
  };
  const Case cases[] = {
      {{"-mapper", "org.apache.hadoop.mapred.lib.IdentityMapper"}, "Java classes are not supported"},
      {{"-mapper", "cat", "-reducer", "aggregate"}, "-reducer aggregate: Java classes"},
      {{"-mapper", "cat", "-D", "stream.num.reduce.output.key.fields=2"}, "splitting a reducer's output by key fields"},
      {{"-mapper", "cat", "-D", "mapreduce.job.output.key.comparator.class=my.Comparator"},
       "only KeyFieldBasedComparator is supported"},
      {{"-mapper", "cat", "-inputformat", "SequenceFileInputFormat"}, "mr reads text lines only"},
      {{"-mapper", "cat", "-partitioner", "org.apache.hadoop.mapred.lib.TotalOrderPartitioner"},
       "only the hash and KeyFieldBased partitioners"},
      {{"-mapper", "cat", "-lazyOutput"}, "-lazyOutput: mr writes every part file"},
      {{"-mapper", "cat", "-inptu", "x"}, "-inptu: unknown option; did you mean -input?"},
      {{"-mapper", "cat", "-background"}, "-background: needs --master"},
      {{"-reducer", "cat"}, "-mapper: required"},
      {{"-mapper"}, "-mapper: needs a value"},
      {{"-mapper", "cat", "stray"}, "stray: not an option"},
      {{"-mapper", "cat", "-D", "novalue"}, "-D novalue: want NAME=VALUE"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = base;
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    auto job = Parse(args);
    ASSERT_FALSE(job.ok()) << c.says;
    EXPECT_NE(job.status().message().find(c.says), std::string::npos) << job.status().message();
  }
  auto help = Parse({"-info"});
  ASSERT_TRUE(help.ok());
  EXPECT_TRUE(help->help);
}

}  // namespace
}  // namespace mr
