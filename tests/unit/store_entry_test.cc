#include "store/entry.h"

#include <gtest/gtest.h>

#include <random>

namespace failover::store {
namespace {

Entry sample() {
  return Entry{.epoch = 7, .seq = 42, .op = Op::kPut, .key = "k", .value = "value", .idempotency_key = "req-1"};
}

std::string encode(const Entry& e) {
  std::string out;
  append_encoded(out, e);
  return out;
}

TEST(StoreEntry, ARequestFingerprintTellsRequestsApartAndIsNeverZero) {
  const uint32_t put_ab_c = request_fingerprint(Op::kPut, "ab", "c");
  EXPECT_EQ(put_ab_c, request_fingerprint(Op::kPut, "ab", "c"));
  EXPECT_NE(put_ab_c, request_fingerprint(Op::kPut, "a", "bc"));  // the key's length counts
  EXPECT_NE(put_ab_c, request_fingerprint(Op::kPut, "ab", "d"));
  EXPECT_NE(request_fingerprint(Op::kPut, "ab", ""), request_fingerprint(Op::kDelete, "ab", ""));
  for (int i = 0; i < 1000; ++i) EXPECT_NE(request_fingerprint(Op::kPut, "k" + std::to_string(i), "v"), 0u);
}

TEST(StoreEntry, RoundTrips) {
  const Entry e = sample();
  const std::string bytes = encode(e);
  EXPECT_EQ(bytes.size(), encoded_size(e));
  const Decoded d = decode_entry(bytes);
  ASSERT_EQ(d.status, Decoded::kOk);
  EXPECT_EQ(d.entry, e);
  EXPECT_EQ(d.size, bytes.size());
}

TEST(StoreEntry, RoundTripsEmptyAndBinaryFields) {
  for (const Entry& e : {Entry{}, Entry{1, 2, Op::kDelete, std::string("\0\xff", 2), "", ""},
                         Entry{UINT64_MAX, UINT64_MAX, Op::kPut, std::string(kMaxKeyBytes, 'k'), std::string(1 << 20, '\0'),
                               std::string(kMaxIdempotencyKeyBytes, 'i')}}) {
    const Decoded d = decode_entry(encode(e));
    ASSERT_EQ(d.status, Decoded::kOk);
    EXPECT_EQ(d.entry, e);
  }
}

TEST(StoreEntry, LayoutIsLittleEndianWithLengthAndCrcFirst) {
  const Entry e{.epoch = 1, .seq = 2, .op = Op::kPut, .key = "ab", .value = "c", .idempotency_key = ""};
  const std::string b = encode(e);
  ASSERT_EQ(b.size(), 35u + 3);
  EXPECT_EQ(static_cast<uint8_t>(b[0]), b.size() - 4);  // length of the rest
  EXPECT_EQ(b.substr(1, 3), std::string(3, '\0'));
  const uint32_t crc = crc32c(std::string_view(b).substr(8));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(static_cast<uint8_t>(b[4 + i]), (crc >> (8 * i)) & 0xFF);
  EXPECT_EQ(b[8], 1);    // epoch
  EXPECT_EQ(b[16], 2);   // seq
  EXPECT_EQ(b[24], 1);   // op put
  EXPECT_EQ(b[25], 2);   // key length
  EXPECT_EQ(b.substr(29, 2), "ab");
  EXPECT_EQ(b[31], 1);   // value length
  EXPECT_EQ(b[35], 'c');
  EXPECT_EQ(b.substr(36, 2), std::string(2, '\0'));  // idempotency key length
}

TEST(StoreEntry, Crc32cIsCastagnoli) {
  // The check value of CRC-32C (RFC 3720, B.4: 32 bytes of zeros -> 0x8A9136AA).
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  // The fast path (SSE4.2 here) agrees with the table at every length and
  // alignment, and pieces extend as one.
  std::mt19937 random(7);
  std::string bytes(4096 + 16, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  for (std::size_t at = 0; at < 8; ++at)
    for (std::size_t n : {0, 1, 7, 8, 9, 63, 64, 65, 1000, 4096}) {
      const std::string_view piece(bytes.data() + at, n);
      EXPECT_EQ(crc32c_extend(~0u, piece), crc32c_extend_portable(~0u, piece)) << at << " " << n;
      EXPECT_EQ(crc32c(piece), ~crc32c_extend(crc32c_extend(~0u, piece.substr(0, n / 3)), piece.substr(n / 3)));
    }
}

TEST(StoreEntry, EveryShortPrefixNeedsMore) {
  const std::string bytes = encode(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(decode_entry(std::string_view(bytes).substr(0, n)).status, Decoded::kNeedMore) << n;
  }
}

TEST(StoreEntry, DecodesOnlyTheFirstFrame) {
  std::string two = encode(sample());
  Entry second = sample();
  second.seq = 43;
  append_encoded(two, second);
  const Decoded d = decode_entry(two);
  ASSERT_EQ(d.status, Decoded::kOk);
  EXPECT_EQ(d.entry.seq, 42u);
  EXPECT_EQ(decode_entry(std::string_view(two).substr(d.size)).entry, second);
}

TEST(StoreEntry, EveryFlippedByteIsCorrupt) {
  const std::string bytes = encode(sample());
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] ^= 0x01;
    const Decoded d = decode_entry(bad);
    // A flipped length bit may also announce a frame longer than the bytes.
    EXPECT_NE(d.status, Decoded::kOk) << i;
    if (i >= 4) EXPECT_EQ(d.status, Decoded::kCorrupt) << i;
  }
}

TEST(StoreEntry, ZeroesAndImpossibleLengthsAreCorruptNotNeedMore) {
  EXPECT_EQ(decode_entry(std::string(64, '\0')).status, Decoded::kCorrupt);
  std::string huge = encode(sample());
  huge[3] = '\x7f';  // length about 2 GiB: past any frame
  EXPECT_EQ(decode_entry(huge).status, Decoded::kCorrupt);
}

TEST(StoreEntry, FieldLengthsMustAddUpEvenWithAGoodCrc) {
  // A frame whose crc matches but whose key length runs past the frame
  // (as a buggy writer would make): corrupt, and nothing read out of bounds.
  std::string b = encode(sample());
  b[25] = 100;
  const uint32_t crc = crc32c(std::string_view(b).substr(8));
  for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  EXPECT_EQ(decode_entry(b).status, Decoded::kCorrupt);
}

TEST(StoreEntry, UnknownOpIsCorrupt) {
  std::string b = encode(sample());
  b[24] = 3;
  const uint32_t crc = crc32c(std::string_view(b).substr(8));
  for (int i = 0; i < 4; ++i) b[4 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  EXPECT_EQ(decode_entry(b).status, Decoded::kCorrupt);
}

TEST(StoreEntry, LimitsAreChecked) {
  Entry e = sample();
  EXPECT_TRUE(check_limits(e).ok());
  e.key.assign(kMaxKeyBytes + 1, 'k');
  EXPECT_TRUE(check_limits(e).is(core::ErrorCode::kInvalid));
  e = sample();
  e.idempotency_key.assign(kMaxIdempotencyKeyBytes + 1, 'i');
  EXPECT_TRUE(check_limits(e).is(core::ErrorCode::kInvalid));
}

TEST(StoreEntry, RandomBytesNeverCrash) {
  std::mt19937 random(7);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(random() % 100, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    const Decoded d = decode_entry(bytes);
    if (d.status == Decoded::kOk) EXPECT_LE(d.size, bytes.size());
  }
}

}  // namespace
}  // namespace failover::store
