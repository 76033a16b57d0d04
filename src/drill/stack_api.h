#pragma once
// What `failover up` lets another process do to its stack, on its
// dashboard address, so that `failover drill --attach` (or a script) can
// drill a stack it did not start:
//
//   POST /components/NAME/kill      SIGKILL       200 {"component","pid","running"}
//   POST /components/NAME/stop      SIGSTOP (a hang)
//   POST /components/NAME/cont      SIGCONT
//   POST /components/NAME/restart   starts it again and answers once it is
//                                   ready (409 while it runs, 503 with why
//                                   when it does not become ready)
//
// 404 for an unknown component, 409 for a signal to one that is not
// running, 405 for another method. Each is an event on up's /status.
#include <boost/asio/awaitable.hpp>
#include <optional>

#include "drill/stack.h"
#include "net/http_server.h"

namespace failover::drill {

// The answer to a /components/... request; nullopt for any other path.
boost::asio::awaitable<std::optional<net::HttpResponse>> handle_stack_api(Stack& stack, const net::HttpRequest& request);

}  // namespace failover::drill
