#include "jobs/log_format.h"

#include <gtest/gtest.h>

#include "jobs/job_testing.h"

namespace mr {
namespace {

TEST(LogFormatTest, VirtualHostCombined) {
  auto f = LogFormat::Make("vcombined");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  auto l = f->Parse("www.example.com:443 1.2.3.4 - bob [01/Mar/2024:10:00:00 +0100] \"GET /a?b HTTP/1.1\" 200 12 "
                    "\"https://r.example/x\" \"agent \\\"q\\\" 1\"");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->vhost, "www.example.com");
  EXPECT_EQ(l->host, "1.2.3.4");
  EXPECT_EQ(l->user, "bob");
  EXPECT_EQ(l->utc, (CivilTime{2024, 3, 1, 9, 0, 0}));
  EXPECT_EQ(l->method, "GET");
  EXPECT_EQ(l->path, "/a?b");
  EXPECT_EQ(l->protocol, "HTTP/1.1");
  EXPECT_EQ(l->status, 200);
  EXPECT_EQ(l->bytes, 12);
  std::string_view ref, agent;
  EXPECT_TRUE(LineReferrerAgent(*l, &ref, &agent));
  EXPECT_EQ(ref, "https://r.example/x");
  EXPECT_EQ(agent, "agent \\\"q\\\" 1");
}

TEST(LogFormatTest, CustomLayouts) {
  auto issue = LogFormat::Make("%h %^ %e %t %r %s %b %R %u %v");
  ASSERT_TRUE(issue.ok());
  auto l = issue->Parse("::1 - - [29/Feb/2024:23:59:59 -0800] \"POST /x\" 404 - \"-\" \"curl/8\" shop.example");
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->host, "::1");
  EXPECT_EQ(l->protocol, "");
  EXPECT_EQ(l->vhost, "shop.example");
  EXPECT_EQ(l->utc, (CivilTime{2024, 3, 1, 7, 59, 59}));

  auto pipes = LogFormat::Make("%t|%h|%r|%s|%b");
  ASSERT_TRUE(pipes.ok());
  auto p = pipes->Parse("[01/Mar/2024:10:00:00 +0000]|10.0.0.1|\"GET / HTTP/2\"|301|512 ignored tail");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->host, "10.0.0.1");
  EXPECT_EQ(p->status, 301);
  EXPECT_EQ(p->bytes, 512);
  std::string_view ref, agent;
  EXPECT_FALSE(LineReferrerAgent(*p, &ref, &agent));  // no %u in the format

  // Values are checked as in the built-in grammar.
  EXPECT_FALSE(pipes->Parse("[31/Feb/2024:10:00:00 +0000]|h|\"GET / HTTP/2\"|301|1").has_value());
  EXPECT_FALSE(pipes->Parse("[01/Mar/2024:10:00:00 +0000]|h|\"GET\"|301|1").has_value());
  EXPECT_FALSE(pipes->Parse("[01/Mar/2024:10:00:00 +0000]|h|\"GET / x\"|3010|1").has_value());
  EXPECT_FALSE(pipes->Parse("[01/Mar/2024:10:00:00 +0000]|h|\"GET / x\"|301|1k").has_value());
  EXPECT_FALSE(pipes->Parse("[01/Mar/2024:10:00:00 +0000] h").has_value());

  // The built-in parser recognises vhost_combined lines by themselves.
  auto v = ParseLogLine("www.example.com:8080 ::1 - - [01/Mar/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(v->vhost, "www.example.com");
  EXPECT_EQ(v->host, "::1");
  EXPECT_FALSE(ParseLogLine("www.example.com:80x ::1 - - [01/Mar/2024:10:00:00 +0000] \"GET /\" 200 1").has_value());
  EXPECT_FALSE(ParseLogLine(":80 ::1 - - [01/Mar/2024:10:00:00 +0000] \"GET /\" 200 1").has_value());

  // The named Common/Combined formats are the built-in parser.
  auto combined = LogFormat::Make("combined");
  ASSERT_TRUE(combined.ok());
  EXPECT_TRUE(combined->Parse("h - - [01/Mar/2024:10:00:00 +0000] \"GET / HTTP/1.1\" 200 1 extra").has_value());
}

TEST(LogFormatTest, BadFormatsAreRefused) {
  for (auto [spec, message] : std::initializer_list<std::pair<const char*, const char*>>{
           {"%h %d %t %r %s", "--arg format=%h %d %t %r %s: %d is not supported"},
           {"%h %t %s", "--arg format=%h %t %s: lacks %r (%h, %t, %r and %s are required)"},
           {"%h %t %r %s %", "--arg format=%h %t %r %s %: ends with a lone %"},
           {"%h%t %r %s", "--arg format=%h%t %r %s: %t follows %h with nothing between them"},
           {"%h %h %t %r %s", "--arg format=%h %h %t %r %s: %h appears twice"}}) {
    auto f = LogFormat::Make(spec);
    ASSERT_FALSE(f.ok()) << spec;
    EXPECT_EQ(f.status().message().substr(0, std::string(message).size()), message);
  }
}

TEST(LogFormatTest, TheJobsTakeAFormat) {
  const char* log = "v.example:80 1.2.3.4 - - [01/Mar/2024:10:00:00 +0000] \"GET /a.png HTTP/1.1\" 200 7 "
                    "\"https://r.example/\" \"Firefox/1\"\nnot a line\n";
  testing::MapCounters c;
  auto logs = MakeJob("logs", {{"by", "referrer"}, {"format", "vcombined"}});
  ASSERT_TRUE(logs.ok());
  EXPECT_EQ(testing::RunInProcess(**logs, {testing::Piece{"/l", log}}, &c), "r.example\t1\n");
  auto weblog = MakeJob("weblog", {{"format", "vcombined"}});
  ASSERT_TRUE(weblog.ok());
  std::string out = testing::RunInProcess(**weblog, {testing::Piece{"/l", log}}, &c);
  EXPECT_NE(out.find("static_requests:00000:GET /a.png HTTP/1.1\t1\t1\t7\n"), std::string::npos) << out;
  EXPECT_NE(out.find("browsers:00000:Firefox\t1\t1\t7\n"), std::string::npos) << out;
  EXPECT_NE(out.find("general:00000:failed_requests\t1\n"), std::string::npos) << out;
  EXPECT_FALSE(MakeJob("logs", {{"format", "%x"}}).ok());
}

}  // namespace
}  // namespace mr
