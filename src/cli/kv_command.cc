// `failover kv get|put|delete|list --store URL[,URL]`: the store's client
// library (src/client/store_client.h) from the command line. Failover is the
// library's: 307s followed, 503s and dead nodes retried within --timeout.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "cli/commands.h"
#include "client/store_client.h"
#include "core/units.h"
#include "store/kv_request.h"

namespace failover::cli {

namespace {

namespace asio = boost::asio;

constexpr int kExitFailed = 1;
constexpr int kExitBadArgs = 2;

struct Args {
  std::string store, timeout = "5s";
  std::string key, value, prefix, after;
  std::string if_match;  // a version, or "" for none
  bool if_none_match = false, stale = false, value_from_stdin = false;
  std::size_t limit = 100;
};

enum class Action { kGet, kPut, kDelete, kList };

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

void add_common(CLI::App* sub, Args& a) {
  sub->add_option("--store", a.store, "store nodes, http://HOST:PORT[,http://HOST:PORT...] (required)");
  sub->add_option("--timeout", a.timeout, "for the whole call, retries included (default 5s)");
}

void add_conditions(CLI::App* sub, Args& a) {
  sub->add_option("--if-match", a.if_match, "write only if the key is at this version (its ETag)");
  sub->add_flag("--if-none-match", a.if_none_match, "write only if the key does not exist");
}

asio::awaitable<int> run_action(client::StoreClient& client, Action action, const Args& a,
                                client::StoreCondition condition) {
  auto fail = [](const core::Error& e) {
    std::cerr << "failover kv: " << e.to_string() << '\n';
    return kExitFailed;
  };
  switch (action) {
    case Action::kGet: {
      auto got = co_await client.get(a.key, a.stale);
      if (!got) co_return fail(got.error());
      std::fwrite(got->value.data(), 1, got->value.size(), stdout);
      std::fflush(stdout);
      std::cerr << "* version " << got->version << '\n';
      co_return 0;
    }
    case Action::kPut:
    case Action::kDelete: {
      core::Result<client::StoreWrite> done;
      if (action == Action::kPut) {
        auto put = co_await client.put(a.key, a.value, condition);
        done = std::move(put);
      } else {
        auto del = co_await client.del(a.key, condition);
        done = std::move(del);
      }
      if (!done) co_return fail(done.error());
      std::cout << store::write_reply(a.key, done->version, done->epoch, done->seq).body << std::endl;
      co_return 0;
    }
    case Action::kList: {
      auto page = co_await client.list(a.prefix, a.after, a.limit);
      if (!page) co_return fail(page.error());
      std::vector<store::ListItem> items;
      for (auto& i : page->items) items.push_back({std::move(i.key), i.version, std::move(i.value), i.value_bytes});
      std::cout << store::list_reply(items, page->more).body << std::endl;
      co_return 0;
    }
  }
  co_return kExitFailed;
}

int run_kv(Action action, Args a) {
  auto bad = [](const std::string& why) {
    std::cerr << "failover kv: " << why << '\n';
    return kExitBadArgs;
  };
  const std::vector<std::string> nodes = split_list(a.store);
  if (nodes.empty()) return bad("--store URL[,URL] is required");
  const auto deadline = core::parse_duration(a.timeout);
  if (!deadline || deadline->count() == 0) return bad("bad --timeout \"" + a.timeout + "\" (e.g. 500ms, 5s)");
  if ((action == Action::kGet || action == Action::kPut || action == Action::kDelete) && a.key.empty())
    return bad("a KEY is required");
  client::StoreCondition condition;
  if (!a.if_match.empty()) {
    std::uint64_t v = 0;
    std::istringstream in(a.if_match);
    if (!(in >> v) || !in.eof()) return bad("bad --if-match \"" + a.if_match + "\" (a version number)");
    condition.if_match = v;
  }
  condition.if_none_match = a.if_none_match;
  if (action == Action::kPut && a.value_from_stdin)
    a.value.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  if (action == Action::kList && (a.limit == 0 || a.limit > store::kMaxListLimit))
    return bad("--limit must be 1.." + std::to_string(store::kMaxListLimit));

  asio::io_context io;
  client::StoreClientOptions options;
  options.deadline = *deadline;
  options.request_timeout = std::min(options.request_timeout, *deadline);
  std::unique_ptr<client::StoreClient> client;
  try {
    client = std::make_unique<client::StoreClient>(io.get_executor(), nodes, options);
  } catch (const std::invalid_argument& e) {
    return bad(e.what());
  }
  int rc = kExitFailed;
  asio::co_spawn(io, run_action(*client, action, a, condition), [&](std::exception_ptr e, int r) {
    rc = e ? kExitFailed : r;
  });
  io.run();
  return rc;
}

}  // namespace

Run kv_options(CLI::App& app) {
  app.require_subcommand(1, 1);
  auto a = std::make_shared<Args>();
  auto action = std::make_shared<Action>(Action::kGet);

  CLI::App* get = app.add_subcommand("get", "Print a key's value (its version on stderr)");
  get->add_option("key", a->key, "the key");
  get->add_flag("--stale", a->stale, "let a backup answer from its own copy");
  CLI::App* put = app.add_subcommand("put", "Write a value; print {\"key\",\"version\",\"epoch\",\"seq\"}");
  put->add_option("key", a->key, "the key");
  put->add_option("value", a->value, "the value (or --stdin)");
  put->add_flag("--stdin", a->value_from_stdin, "read the value from standard input");
  add_conditions(put, *a);
  CLI::App* del = app.add_subcommand("delete", "Delete a key; print {\"key\",\"version\",\"epoch\",\"seq\"}");
  del->add_option("key", a->key, "the key");
  add_conditions(del, *a);
  CLI::App* list = app.add_subcommand("list", "Print keys and values as JSON, a page at a time");
  list->add_option("--prefix", a->prefix, "only keys that start with this");
  list->add_option("--after", a->after, "only keys after this one (the \"next\" of the previous page)");
  list->add_option("--limit", a->limit, "at most this many (1..1000, default 100)");
  for (CLI::App* sub : {get, put, del, list}) add_common(sub, *a);

  get->callback([action] { *action = Action::kGet; });
  put->callback([action] { *action = Action::kPut; });
  del->callback([action] { *action = Action::kDelete; });
  list->callback([action] { *action = Action::kList; });
  return [a, action]() -> int { return run_kv(*action, *a); };
}

}  // namespace failover::cli
