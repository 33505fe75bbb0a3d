#include "common/job_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/temp_dir_testing.h"

namespace mr {
namespace {

namespace fs = std::filesystem;

TEST(JobFilesTest, Sha256IsTheStandardOne) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(JobFilesTest, ReadsAFileWithItsNameDigestAndMode) {
  TempDir tmp;
  const std::string script = tmp / "job.py";
  std::ofstream(script) << "print('hi')\n";
  fs::permissions(script, fs::perms(0755));
  auto f = ReadJobFile(script);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->name(), "job.py");
  EXPECT_EQ(f->content(), "print('hi')\n");
  EXPECT_EQ(f->size(), 12u);
  EXPECT_EQ(f->sha256(), Sha256Hex("print('hi')\n"));
  EXPECT_TRUE(f->executable());
  // Hadoop's fragment renames it.
  auto renamed = ReadJobFile(script + "#other.py");
  ASSERT_TRUE(renamed.ok());
  EXPECT_EQ(renamed->name(), "other.py");
  // What cannot be shipped is refused by name.
  EXPECT_EQ(ReadJobFile(tmp / "nothing").status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(ReadJobFile(tmp.path()).status().message().find("not a regular file"), std::string::npos);
  EXPECT_FALSE(ReadJobFile(script + "#..").ok());
  EXPECT_FALSE(ReadJobFile(script + "#").ok());
}

TEST(JobFilesTest, ASubmissionsFilesAreCheckedNotTrusted) {
  google::protobuf::RepeatedPtrField<proto::JobFile> files;
  proto::JobFile* a = files.Add();
  a->set_name("a.sh");
  a->set_content("echo a\n");
  a->set_size(7);
  a->set_sha256(Sha256Hex("echo a\n"));
  EXPECT_TRUE(CheckJobFiles(files, true).ok());
  a->set_content("echo b\n");  // bytes that are not the digest's
  EXPECT_FALSE(CheckJobFiles(files, true).ok());
  EXPECT_TRUE(CheckJobFiles(files, false).ok());  // a journaled spec: its bytes are kept apart
  a->set_content("echo a\n");
  *files.Add() = *a;  // the same name twice
  EXPECT_NE(CheckJobFiles(files, true).message().find("two files"), std::string::npos);
  files.RemoveLast();
  for (const char* bad : {"", ".", "..", "a/b"}) {
    a->set_name(bad);
    EXPECT_FALSE(CheckJobFiles(files, true).ok()) << bad;
  }
  a->set_name("a.sh");
  a->set_size(kMaxJobFilesBytes + 1);
  EXPECT_FALSE(CheckJobFiles(files, false).ok());
}

// The master's bound on the files it keeps: a submission's (and its steps') must fit beside them.
TEST(JobFilesTest, ASubmissionsFilesMustFitBesideWhatTheMasterKeeps) {
  proto::JobSpec spec;
  EXPECT_TRUE(CheckFilesRoom(1000, spec, 1000).ok());  // no files: nothing to keep
  spec.add_files()->set_size(10);
  spec.add_then()->add_files()->set_size(5);
  EXPECT_TRUE(CheckFilesRoom(85, spec, 100).ok());
  Status full = CheckFilesRoom(86, spec, 100);
  EXPECT_EQ(full.code(), Status::Code::kResourceExhausted);
  EXPECT_NE(full.message().find("submit again when"), std::string::npos) << full.message();
}

}  // namespace
}  // namespace mr
