#include "store/quarantine.h"
#include "store/text.h"

#include <gtest/gtest.h>

namespace failover::store {
namespace {

TEST(StoreQuarantine, Utf8ValidationFollowsTheStandard) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_TRUE(is_valid_utf8(std::string("nul\0inside", 10)));               // valid, JSON escapes it
  EXPECT_FALSE(is_valid_utf8("\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));              // cut short
  EXPECT_FALSE(is_valid_utf8("\xe2\x82"));          // cut short
  EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a UTF-16 surrogate
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\x80"));              // a lone continuation byte
}

TEST(StoreQuarantine, Base64IsStandardAndPadded) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("\xff\xfe"), "//4=");
}

TEST(StoreQuarantine, OneJsonObjectPerEntry) {
  const std::vector<Entry> entries = {
      {.epoch = 2, .seq = 9, .op = Op::kPut, .key = "caf\xc3\xa9", .value = "say \"hi\"\n", .idempotency_key = ""},
      {.epoch = 2, .seq = 10, .op = Op::kNoop, .key = "\xff", .value = "", .idempotency_key = "\xfe"},
  };
  EXPECT_EQ(quarantine_lines(entries),
            "{\"epoch\":2,\"seq\":9,\"op\":\"put\",\"key\":\"caf\xc3\xa9\",\"value\":\"say \\\"hi\\\"\\n\"}\n"
            "{\"epoch\":2,\"seq\":10,\"op\":\"noop\",\"key_base64\":\"/w==\",\"value\":\"\","
            "\"idempotency_key_base64\":\"/g==\"}\n");
}

}  // namespace
}  // namespace failover::store
