#include "drill/stack_api.h"

#include <signal.h>

#include <boost/json.hpp>
#include <string_view>

namespace failover::drill {
namespace json = boost::json;

namespace {

constexpr std::string_view kPrefix = "/components/";

net::HttpResponse component_json(Stack& stack, const std::string& name) {
  const ChildState& s = stack.launcher().state(name);
  return net::HttpResponse::json(
      200, json::serialize(json::object{{"component", name}, {"pid", s.pid}, {"running", s.running}}) + "\n");
}

struct SignalVerb {
  std::string_view verb;
  int signal;
  const char* event;
};
constexpr SignalVerb kSignals[] = {
    {"kill", SIGKILL, "SIGKILL"}, {"stop", SIGSTOP, "SIGSTOP"}, {"cont", SIGCONT, "SIGCONT"}};

}  // namespace

boost::asio::awaitable<std::optional<net::HttpResponse>> handle_stack_api(Stack& stack, const net::HttpRequest& req) {
  if (!req.path.starts_with(kPrefix)) co_return std::nullopt;
  const std::string rest = req.path.substr(kPrefix.size());
  const auto slash = rest.rfind('/');
  if (slash == std::string::npos)
    co_return net::HttpResponse::error(404, "POST /components/NAME/kill, stop, cont or restart");
  const std::string name = rest.substr(0, slash), verb = rest.substr(slash + 1);
  if (stack.launcher().find(name) == nullptr) co_return net::HttpResponse::error(404, "no component named '" + name + "'");
  if (req.method != "POST") co_return net::HttpResponse::error(405, "POST /components/NAME/" + verb);
  if (verb == "restart") {
    auto again = co_await stack.restart(name);
    if (!again)
      co_return net::HttpResponse::error(again.error().code == core::ErrorCode::kConflict ? 409 : 503,
                                         again.error().message);
    co_return component_json(stack, name);
  }
  for (const SignalVerb& s : kSignals) {
    if (verb != s.verb) continue;
    if (!stack.launcher().signal(name, s.signal)) co_return net::HttpResponse::error(409, name + " is not running");
    stack.note(name, std::string(s.event) + " through the API");
    co_return component_json(stack, name);
  }
  co_return net::HttpResponse::error(404, "no action '" + verb + "': kill, stop, cont or restart");
}

}  // namespace failover::drill
