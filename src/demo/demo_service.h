#pragma once
// `failover demo-service`: the example service of `failover up`. A user's
// request goes DNS -> LB -> this -> the store; this adds the instance's name
// (X-Instance) and the store node that answered (X-Store-Node) to every
// reply, so a drill can tell who served what.
//
//   GET /kv/KEY   200 the value (ETag: its version), 404, or 503
//   PUT /kv/KEY   200 {"version","epoch","seq"}; the caller's Idempotency-Key
//                 is passed on to the store, so a retry through another
//                 instance is applied once
//   GET /health   200 while the process serves (the store's health is the
//                 store's business: an instance must not go down with it)
//   /status /metrics /   as every role
#include <chrono>
#include <string>
#include <vector>

namespace failover::demo {

struct DemoServiceOptions {
  std::string name = "demo";
  std::string listen = "127.0.0.1:18081";
  std::vector<std::string> store;  // node URLs, "http://127.0.0.1:7001"
  // One request's deadline at the store, retries through a failover included.
  std::chrono::milliseconds store_deadline{3'000};
};

// Runs until SIGTERM or SIGINT; the exit status.
int run_demo_service(const DemoServiceOptions& options);

}  // namespace failover::demo
