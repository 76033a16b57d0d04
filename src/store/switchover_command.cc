// `failover store switchover --config FILE --to NODE`: asks the pair's
// primary, whichever node that is, to hand its role to NODE
// (POST /admin/switchover?to=NODE, docs/store.md), and says how it went.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <iostream>
#include <optional>
#include <utility>
#include <vector>

#include "core/config_error.h"
#include "net/http_client.h"
#include "store/config.h"
#include "store/service.h"

namespace failover::store {
namespace asio = boost::asio;

namespace {
// The switchover's own limit is 5 s (switchover_timeout); then the answer.
constexpr std::chrono::milliseconds kAnswerTimeout{10'000};
}  // namespace

int switchover(const std::string& config_path, const std::string& to) {
  const StoreConfig config = load_store_config(config_path);
  std::vector<std::pair<std::string, std::string>> nodes{{config.node, config.listen}};
  for (const auto& [name, peer] : config.peers) nodes.emplace_back(name, peer.listen);
  bool known = false;
  for (const auto& [name, listen] : nodes) known |= name == to;
  if (!known) {
    std::cerr << "switchover: " << to << " is no node of " << config_path << "\n";
    return core::kExitConfigError;
  }
  asio::io_context io{1};
  auto http = std::make_shared<net::HttpClient>(io.get_executor());
  std::string why_not;  // what each node said, when none did it
  for (const auto& [name, listen] : nodes) {
    net::ClientRequest req;
    req.method = "POST";
    req.target = "/admin/switchover?to=" + to;
    std::optional<core::Result<net::ClientResponse>> answer;
    asio::co_spawn(io, http->request(listen, std::move(req), kAnswerTimeout),
                   [&](std::exception_ptr e, core::Result<net::ClientResponse> r) {
                     answer = e ? core::Result<net::ClientResponse>(core::Error::internal("exception")) : std::move(r);
                   });
    io.restart();
    io.run();
    if (answer && *answer && (*answer)->status == 200) {
      std::cout << (*answer)->body << "\n";
      return 0;
    }
    const std::string said = !answer ? "no answer"
                             : !*answer ? answer->error().to_string()
                                        : std::to_string((*answer)->status) + " " + (*answer)->body;
    // 409: a backup (ask the next node), or a switchover already under way
    // on the primary (the next node says it is no primary). Anything else
    // from the primary is the answer.
    if (answer && *answer && (*answer)->status != 409) {
      std::cerr << "switchover: " << name << ": " << said << "\n";
      return 1;
    }
    why_not += "\n  " + name + " (" + listen + "): " + said;
  }
  std::cerr << "switchover: no node handed its role over:" << why_not << "\n";
  return 1;
}

}  // namespace failover::store
