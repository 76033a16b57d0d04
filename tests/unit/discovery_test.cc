// Registry instances turned into LB servers.
#include <gtest/gtest.h>

#include "client/registry_client.h"
#include "lb/discovery.h"

namespace failover::lb {
namespace {

client::ServiceInstance instance(std::string address, int port, std::string meta = "{}") {
  client::ServiceInstance i;
  i.id = "x";
  i.address = std::move(address);
  i.port = port;
  i.meta = std::move(meta);
  return i;
}

TEST(Discovery, InstanceBecomesServer) {
  ServerConfig s;
  ASSERT_TRUE(server_from_instance(instance("127.0.0.1", 18081), s));
  EXPECT_EQ(s.address, "127.0.0.1:18081");
  EXPECT_EQ(s.weight, 1);
  EXPECT_FALSE(s.backup);
  ASSERT_TRUE(server_from_instance(instance("::1", 80, R"({"weight":"5","backup":"true"})"), s));
  EXPECT_EQ(s.address, "[::1]:80");
  EXPECT_EQ(s.weight, 5);
  EXPECT_TRUE(s.backup);
}

TEST(Discovery, BadWeightIsIgnoredAndBadAddressRefused) {
  ServerConfig s;
  ASSERT_TRUE(server_from_instance(instance("10.0.0.1", 80, R"({"weight":"5000"})"), s));
  EXPECT_EQ(s.weight, 1);
  ASSERT_TRUE(server_from_instance(instance("10.0.0.1", 80, R"({"weight":"2x"})"), s));
  EXPECT_EQ(s.weight, 1);
  EXPECT_FALSE(server_from_instance(instance("bad host", 80), s));
  EXPECT_FALSE(server_from_instance(instance("10.0.0.1", 0), s));
}

}  // namespace
}  // namespace failover::lb
