#pragma once
// What an active health check does, shared by every role (lb, dns, agent,
// store). Same meaning as nginx's upstream check module:
//   check interval=3000 rise=2 fall=5 timeout=1000 type=http;
#include <chrono>
#include <string>

namespace failover::health {

enum class CheckType { kTcp, kHttp };

// Status classes an http check accepts, as a bit mask (nginx
// check_http_expect_alive http_2xx http_3xx).
enum StatusClass : unsigned {
  kStatus1xx = 1u << 1,
  kStatus2xx = 1u << 2,
  kStatus3xx = 1u << 3,
  kStatus4xx = 1u << 4,
  kStatus5xx = 1u << 5,
};

// True when `status` falls into one of the classes in `mask`.
inline bool status_expected(unsigned mask, int status) {
  if (status < 100 || status > 599) return false;
  return (mask & (1u << (status / 100))) != 0;
}

struct CheckConfig {
  bool enabled = false;                     // no `check:` block: passive detection only
  std::chrono::milliseconds interval{3000};  // between probes while the state is settled up
  // While a change is pending (some results disagree with the state, not yet
  // rise or fall of them) and while down, as HAProxy's fastinter and
  // downinter. 0: the same as `interval`.
  std::chrono::milliseconds fast_interval{0};
  std::chrono::milliseconds down_interval{0};
  int rise = 2;
  int fall = 5;
  std::chrono::milliseconds timeout{1000};
  CheckType type = CheckType::kTcp;
  std::string uri = "/";                    // http: path of the GET
  std::string host;                         // http: Host header; empty means the server address
  unsigned expect = kStatus2xx | kStatus3xx;
  std::string raw_request;                  // nginx check_http_send; when set, sent verbatim instead of GET uri
  int port = 0;                             // probe this port instead of the traffic port (nginx port=); 0: same
  bool initial_up = true;                   // state before any probe (nginx default_down=false)
};

}  // namespace failover::health
