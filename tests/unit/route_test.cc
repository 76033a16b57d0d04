#include <gtest/gtest.h>

#include "lb/model.h"

namespace failover::lb {
namespace {

TEST(Route, LongestPrefixAndExactHostWin) {
  Snapshot snap;
  for (const char* name : {"a", "b", "c"}) {
    UpstreamView u;
    u.name = name;
    snap.upstreams.push_back(u);
  }
  snap.routes = {{"*", "/", "a", 1}, {"*", "/api/", "b", 2}, {"example.com", "/", "c", 3}};
  EXPECT_EQ(snap.route("other.org", "/x")->name, "a");
  EXPECT_EQ(snap.route("other.org:8080", "/api/v1")->name, "b");
  EXPECT_EQ(snap.route("example.com:80", "/api/v1")->name, "c");
  snap.routes = {{"*", "/only/", "a", 1}};
  EXPECT_EQ(snap.route("x", "/other"), nullptr);
  snap.routes.clear();
  EXPECT_EQ(snap.route("x", "/other")->name, "a") << "no routes: the first upstream serves all";
}

}  // namespace
}  // namespace failover::lb
