#include "arbiter/etcd_arbiter.h"

#include "arbiter/record_file.h"
#include "etcd/client.h"

namespace failover::arbiter {
namespace asio = boost::asio;

EtcdArbiter::EtcdArbiter(asio::any_io_executor executor, std::vector<std::string> endpoints, std::string key,
                         std::chrono::milliseconds timeout)
    : etcd_(std::make_unique<etcd::Client>(std::move(executor), std::move(endpoints),
                                           etcd::ClientOptions{.request_timeout = timeout})),
      key_(std::move(key)) {}

EtcdArbiter::~EtcdArbiter() = default;

asio::awaitable<core::Result<EtcdArbiter::Held>> EtcdArbiter::read_held() {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto got = co_await etcd_->get(key_);
    if (!got) co_return got.error();
    if (got->kv) {
      core::Result<Record> record = record_from_json(got->kv->value);
      if (!record) co_return core::Error::invalid("etcd key " + key_ + ": " + record.error().message);
      last_ = Held{*record, got->kv->mod_revision};
      co_return *last_;
    }
    // No record yet: this cluster's first start. Whoever creates it first
    // wins; the others read what it wrote.
    auto created = co_await etcd_->put_if(key_, to_json(new_cluster_record()), 0);
    if (!created && !created.is(core::ErrorCode::kConflict)) co_return created.error();
  }
  co_return core::Error::unavailable("etcd key " + key_ + " was created and is gone again");
}

asio::awaitable<core::Result<Record>> EtcdArbiter::read() {
  auto held = co_await read_held();
  if (!held) co_return held.error();
  co_return held->record;
}

asio::awaitable<CasAnswer> EtcdArbiter::compare_and_set(std::uint64_t expected_version, Record proposed) {
  core::Result<Held> held = core::Error::unavailable("not read");
  if (last_ && last_->record.version == expected_version) held = *last_;
  else held = co_await read_held();
  if (!held) co_return CasAnswer{held.error(), std::nullopt};
  if (held->record.version != expected_version)
    co_return CasAnswer{core::Error::conflict("the record is at version " + std::to_string(held->record.version) +
                                              ", not " + std::to_string(expected_version)),
                        held->record};
  if (auto allowed = check_transition(held->record, proposed); !allowed) co_return CasAnswer{allowed.error(), std::nullopt};
  auto put = co_await etcd_->put_if(key_, to_json(proposed), held->mod_revision);
  if (put) {
    last_ = Held{proposed, *put};
    co_return CasAnswer{proposed, std::nullopt};
  }
  last_.reset();
  if (!put.is(core::ErrorCode::kConflict)) co_return CasAnswer{put.error(), std::nullopt};
  // Someone wrote the key since, or our own resent transaction landed the
  // first time: the key says which.
  auto now = co_await read_held();
  if (!now) co_return CasAnswer{core::Error::timeout("etcd: the outcome is unknown: " + now.error().message), std::nullopt};
  if (now->record == proposed) co_return CasAnswer{proposed, std::nullopt};
  co_return CasAnswer{core::Error::conflict("the record changed: " + put.error().message), now->record};
}

}  // namespace failover::arbiter
