#include "drill/history_json.h"

#include <gtest/gtest.h>

namespace failover::drill {
namespace {

using namespace std::chrono_literals;

TEST(DrillHistoryJson, WritesAndReadsBackEveryField) {
  const core::TimePoint t0 = core::TimePoint(10s);
  Operation w;
  w.kind = Operation::Kind::kWrite;
  w.key = "k \"1\"";
  w.value = "c1-1";
  w.start = t0 + 1500us;
  w.end = t0 + 2ms;
  w.outcome = Operation::Outcome::kUnknown;
  w.client = "c1";
  Operation r;
  r.kind = Operation::Kind::kRead;
  r.key = "k2";
  r.start = t0;
  r.end = t0 + 1ms;
  r.outcome = Operation::Outcome::kOk;
  const std::string text = history_to_json_lines({w, r}, t0);
  auto back = history_from_json_lines(text, "h.jsonl");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  ASSERT_EQ(back->size(), 2u);
  const Operation& w2 = (*back)[0];
  EXPECT_EQ(w2.kind, Operation::Kind::kWrite);
  EXPECT_EQ(w2.key, w.key);
  EXPECT_EQ(w2.value, w.value);
  EXPECT_EQ(w2.end - w2.start, 500us);
  EXPECT_EQ(w2.outcome, Operation::Outcome::kUnknown);
  EXPECT_EQ(w2.client, "c1");
  EXPECT_FALSE((*back)[1].value.has_value()) << "null: a read that found nothing";
  EXPECT_EQ((*back)[1].outcome, Operation::Outcome::kOk);
}

TEST(DrillHistoryJson, ABadLineIsNamedWithWhatIsWrong) {
  const std::string good = R"({"op":"write","key":"k","value":"v","start_ms":0,"end_ms":1,"outcome":"ok"})";
  struct Case {
    std::string line, says;
  } cases[] = {
      {"{not json", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {R"({"op":"erase","key":"k","value":"v","start_ms":0,"end_ms":1,"outcome":"ok"})", "op must be"},
      {R"({"op":"write","key":"k","value":null,"start_ms":0,"end_ms":1,"outcome":"ok"})", "a write needs a value"},
      {R"({"op":"read","key":"k","value":3,"start_ms":0,"end_ms":1,"outcome":"ok"})", "value must be"},
      {R"({"op":"read","key":7,"value":null,"start_ms":0,"end_ms":1,"outcome":"ok"})", "key must be"},
      {R"({"op":"read","key":"k","value":null,"start_ms":"0","end_ms":1,"outcome":"ok"})", "start_ms must be"},
      {R"({"op":"read","key":"k","value":null,"start_ms":5,"end_ms":1,"outcome":"ok"})", "before start_ms"},
      {R"({"op":"read","key":"k","value":null,"start_ms":1e300,"end_ms":1e301,"outcome":"ok"})", "out of range"},
      {R"({"op":"read","key":"k","value":null,"start_ms":0,"end_ms":1,"outcome":"maybe"})", "outcome must be"},
      {R"({"op":"write","key":"k","value":"v","start_ms":5,"end_ms":6,"outcome":"failed"})", "written twice"},
  };
  for (const Case& c : cases) {
    auto got = history_from_json_lines(good + "\n\n" + c.line + "\n" + good, "h.jsonl");
    ASSERT_FALSE(got.ok()) << c.line;
    EXPECT_EQ(got.error().message.rfind("h.jsonl:3: ", 0), 0u) << got.error().message;
    EXPECT_NE(got.error().message.find(c.says), std::string::npos) << got.error().message;
  }
}

TEST(DrillHistoryJson, AStaleReadInAFileIsFound) {
  const std::string text =
      R"({"op":"write","key":"k","value":"a","start_ms":0,"end_ms":1,"outcome":"ok"}
{"op":"write","key":"k","value":"b","start_ms":2,"end_ms":3,"outcome":"ok"}
{"op":"read","key":"k","value":"a","start_ms":4,"end_ms":5,"outcome":"ok"}
)";
  auto history = history_from_json_lines(text, "h");
  ASSERT_TRUE(history.ok());
  const std::vector<Violation> v = check_history(*history);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].kind, Violation::Kind::kStaleRead);
}

}  // namespace
}  // namespace failover::drill
