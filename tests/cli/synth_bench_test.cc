// `ember synth` and `ember bench` run as a user would, including the exact `bench --json`
// form that outside checks depend on.
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/test_support.h"

namespace {

using ember::testing::CliPath;
using ember::testing::RunCommand;
using ember::testing::TestDataPath;
using ember::testing::WriteTempFile;

// The bench's bandwidth probe normally reads 1 GiB; 32 MiB keeps these tests fast.
std::string Bench() { return "EMBER_BENCH_BANDWIDTH_MIB=32 " + CliPath() + " bench"; }

void ExpectBenchJson(const std::string& out, const std::set<std::string>& tests, const std::set<int>& threads,
                     size_t count) {
  nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "stdout is not one JSON value: " << out;
  ASSERT_TRUE(j.is_array()) << out;
  ASSERT_EQ(j.size(), count) << out;
  for (const auto& e : j) {
    ASSERT_TRUE(e.is_object());
    EXPECT_EQ(e.size(), 4u) << e;
    ASSERT_TRUE(e.contains("test") && e["test"].is_string()) << e;
    ASSERT_TRUE(e.contains("threads") && e["threads"].is_number_integer()) << e;
    ASSERT_TRUE(e.contains("tokens_per_second") && e["tokens_per_second"].is_number()) << e;
    ASSERT_TRUE(e.contains("stddev") && e["stddev"].is_number()) << e;
    EXPECT_TRUE(tests.count(e["test"].get<std::string>())) << e;
    EXPECT_TRUE(threads.count(e["threads"].get<int>())) << e;
    EXPECT_GT(e["tokens_per_second"].get<double>(), 0.0) << e;
    EXPECT_GE(e["stddev"].get<double>(), 0.0) << e;
  }
}

TEST(BenchTest, JsonIsExactlyOneArrayOfTests) {
  auto r = RunCommand(Bench() + " -m " + TestDataPath("models/stories260K.gguf") +
                      " -p 8 -n 4 -r 1 -t 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBenchJson(r.out, {"pp8", "tg4"}, {1}, 2);
  nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j[0]["test"], "pp8");
  EXPECT_EQ(j[1]["test"], "tg4");
  EXPECT_EQ(j[0]["stddev"].get<double>(), 0.0);  // one repetition
  // The rooflines go to stderr.
  EXPECT_NE(r.err.find("roofline"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("peak RSS"), std::string::npos) << r.err;
}

TEST(BenchTest, ThreadListAndSkippedTests) {
  const std::string model = TestDataPath("models/stories260K.gguf");
  auto r = RunCommand(Bench() + " -m " + model + " -p 8 -n 2 -r 2 -t 1,2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBenchJson(r.out, {"pp8", "tg2"}, {1, 2}, 4);

  r = RunCommand(Bench() + " -m " + model + " -p 0 -n 3 -r 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBenchJson(r.out, {"tg3"}, {1}, 1);

  r = RunCommand(Bench() + " -m " + model + " -p 4,8 -n 0 -r 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBenchJson(r.out, {"pp4", "pp8"}, {1}, 2);
}

// --sessions: batched decode. With more than one session every object gains "sessions";
// with only one the output is exactly the plain form (checked by ExpectBenchJson's 4 keys).
TEST(BenchTest, SessionsAddBatchedDecode) {
  const std::string model = TestDataPath("models/stories260K.gguf");
  auto r = RunCommand(Bench() + " -m " + model + " -p 8 -n 3 -r 1 -t 1 --sessions 1,4 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << r.out;
  ASSERT_EQ(j.size(), 3u) << r.out;
  const char* tests[] = {"pp8", "tg3", "tg3"};
  const int sessions[] = {1, 1, 4};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(j[i].size(), 5u) << j[i];
    EXPECT_EQ(j[i]["test"], tests[i]) << j[i];
    EXPECT_EQ(j[i]["threads"], 1) << j[i];
    EXPECT_EQ(j[i]["sessions"], sessions[i]) << j[i];
    EXPECT_GT(j[i]["tokens_per_second"].get<double>(), 0.0) << j[i];
  }
  EXPECT_NE(r.err.find("| tg3 | 1 | 4 |"), std::string::npos) << r.err;

  r = RunCommand(Bench() + " -m " + model + " -p 8 -n 3 -r 1 -t 1 --sessions 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBenchJson(r.out, {"pp8", "tg3"}, {1}, 2);
  EXPECT_EQ(RunCommand(Bench() + " -m " + model + " --sessions 0").exit_code, 2);
  EXPECT_EQ(RunCommand(Bench() + " -m " + model + " --sessions 2,x").exit_code, 2);
}

// --lookup N: a plain and a prompt-lookup greedy generation per thread count, labelled with
// "lookup" (0 and N); the other objects keep exactly the plain form.
TEST(BenchTest, LookupAddsPlainAndSpeculativeGeneration) {
  const std::string model = TestDataPath("models/stories260K.gguf");
  auto r = RunCommand(Bench() + " -m " + model + " -p 8 -n 24 -r 1 -t 1 --lookup 3 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_array()) << r.out;
  ASSERT_EQ(j.size(), 4u) << r.out;
  EXPECT_EQ(j[0]["test"], "pp8");
  EXPECT_EQ(j[1]["test"], "tg24");
  EXPECT_EQ(j[0].size(), 4u) << j[0];
  EXPECT_EQ(j[1].size(), 4u) << j[1];
  EXPECT_EQ(j[2]["test"], "gen24");
  EXPECT_EQ(j[2]["lookup"], 0);
  EXPECT_EQ(j[3]["test"], "gen24+lookup3");
  EXPECT_EQ(j[3]["lookup"], 3);
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_EQ(j[i].size(), 5u) << j[i];
    EXPECT_EQ(j[i]["threads"], 1) << j[i];
    EXPECT_GT(j[i]["tokens_per_second"].get<double>(), 0.0) << j[i];
  }
  // The repeated prompt gives stories260K something to draft from.
  EXPECT_NE(r.err.find("| gen24+lookup3 | 1 |"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("; 0 drafts"), std::string::npos) << r.err;

  EXPECT_EQ(RunCommand(Bench() + " -m " + model + " --lookup 8").exit_code, 2);
  EXPECT_EQ(RunCommand(Bench() + " -m " + model + " --lookup -1").exit_code, 2);
}

TEST(BenchTest, TableShowsRooflines) {
  auto r = RunCommand(Bench() + " -m " + TestDataPath("models/stories260K.gguf") + " -p 8 -n 4 -r 1 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("| pp8 | 1 |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tg4 | 1 |"), std::string::npos) << r.out;
  // Both rooflines are measured in this process; no figure from another machine appears.
  EXPECT_NE(r.out.find("GOP/s measured"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("GB/s measured"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("reference"), std::string::npos) << r.out;
}

TEST(BenchTest, BadArgumentsAreUsageErrors) {
  const std::string model = TestDataPath("models/stories260K.gguf");
  EXPECT_EQ(RunCommand(Bench() + " -p 8").exit_code, 2);
  EXPECT_EQ(RunCommand(Bench() + " -m " + model + " -p x").exit_code, 2);
  EXPECT_EQ(RunCommand(Bench() + " -m " + model + " -t 0").exit_code, 2);
  EXPECT_EQ(RunCommand(Bench() + " -m " + model + " -r 0").exit_code, 2);
  EXPECT_EQ(RunCommand(Bench() + " -m /no/such/model.gguf -p 8 -n 1").exit_code, 1);
}

TEST(SynthTest, TinyModelLoadsAndEvaluates) {
  const std::string out = WriteTempFile("tiny.gguf", "");
  auto r = RunCommand(CliPath() + " synth --arch tiny-llama --type Q8_0 --vocab " +
                      TestDataPath("models/stories260K.gguf") + " -o " + out + " --seed 3 -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("tiny-llama Q8_0"), std::string::npos) << r.err;
  r = RunCommand(CliPath() + " eval -m " + out + " -p 'Once upon a time' -n 4 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j["generated_ids"].size(), 4u);
  // Same prompt ids as the model whose vocabulary it copied.
  auto ref = RunCommand(CliPath() + " tokenize -m " + TestDataPath("models/stories260K.gguf") + " -p 'Once upon a time'");
  auto mine = RunCommand(CliPath() + " tokenize -m " + out + " -p 'Once upon a time'");
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  EXPECT_EQ(mine.out, ref.out);

  r = RunCommand(CliPath() + " synth --arch tiny-llama --layers 1 --type Q4_K_M --vocab " +
                 TestDataPath("models/stories260K.gguf") + " -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("1 layers"), std::string::npos) << r.err;
  r = RunCommand(Bench() + " -m " + out + " -p 8 -n 2 -r 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectBenchJson(r.out, {"pp8", "tg2"}, {1}, 2);
}

TEST(SynthTest, BadArgumentsAreReported) {
  const std::string vocab = TestDataPath("models/stories260K.gguf");
  const std::string out = WriteTempFile("bad.gguf", "");
  EXPECT_EQ(RunCommand(CliPath() + " synth --arch tiny-llama --vocab " + vocab).exit_code, 2);  // no -o
  EXPECT_EQ(RunCommand(CliPath() + " synth --arch tiny-llama -o " + out).exit_code, 2);        // no vocab
  auto r = RunCommand(CliPath() + " synth --arch gpt-9 --vocab " + vocab + " -o " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("gpt-9"), std::string::npos) << r.err;
  r = RunCommand(CliPath() + " synth --arch tiny-llama --type Q1 --vocab " + vocab + " -o " + out);
  EXPECT_EQ(r.exit_code, 2);
  r = RunCommand(CliPath() + " synth --arch llama2-7b --vocab " + vocab + " -o " + out);  // 512 != 32000 tokens
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("32000"), std::string::npos) << r.err;
}

}  // namespace
