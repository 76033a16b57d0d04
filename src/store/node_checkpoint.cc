// The log does not grow forever, and a backup that needs entries the
// primary no longer has is brought back by a RocksDB checkpoint (DESIGN.md,
// "The stateful protocol": catch-up by entries, or by a checkpoint when the
// primary no longer has them).
//
// Discarding: once 2 x log.keep_entries applied entries are in the log, the
// background thread flushes RocksDB (its WAL is off: only a flushed state
// holds what the log lets go) and the log writer drops the segments below
// applied - keep_entries.
//
// A checkpoint, on the primary: made on the background thread into
// data_dir/checkpoints/ID (hard links), each file's size and CRC-32C listed
// in a CheckpointOffer sent over the replication link; the files are served
// in pieces at GET /_checkpoint/ID/NAME?offset=N on the client port.
//
// On the backup: each file is fetched into data_dir/incoming/, checked and
// fsynced; then install.json records the checkpoint's seq and epochs, the
// state is swapped for the checkpoint (renames), the log is reset to start
// after its seq, and install.json goes. A crash anywhere in between is
// finished by the next open() from install.json, before anything is
// acknowledged on the new log.
//
// Checkpoint files are RocksDB's, and RocksDB reaches the real disk
// through its own Env, never through the store's FileSystem seam: they are
// read and written here on the real disk too (`disk()`), while install.json
// is the node's own record and goes through the seam like meta.json.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <spdlog/spdlog.h>

#include "store/node.h"

namespace failover::store {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {


constexpr const char* kInstallMarker = "install.json";
constexpr std::string_view kServePrefix = "/_checkpoint/";
constexpr std::uint64_t kPieceBytes = 4u << 20;  // one GET; well under the client's 16 MiB body limit
constexpr std::chrono::milliseconds kPieceTimeout{10'000};

void remove_tree(const Path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) spdlog::warn("store: cannot remove {}: {}", dir.string(), ec.message());
}

// The files of a checkpoint made in `dir`, each with its size and CRC-32C.
core::Result<std::vector<CheckpointFile>> list_files(FileSystem& fs, const Path& dir) {
  core::Result<std::vector<std::string>> names = fs.list_dir(dir);
  if (!names) return names.error();
  std::vector<CheckpointFile> files;
  for (const std::string& name : *names) {
    if (!is_plain_file_name(name)) return core::Error::internal(dir.string() + ": unexpected file '" + name + "'");
    CheckpointFile f{name, 0, 0};
    uint32_t crc = ~0u;
    for (;;) {
      core::Result<std::string> piece = fs.read_range(dir / name, f.size, kPieceBytes);
      if (!piece) return piece.error();
      if (piece->empty()) break;
      crc = crc32c_extend(crc, *piece);
      f.size += piece->size();
    }
    f.crc32c = ~crc;
    files.push_back(std::move(f));
  }
  return files;
}

FileSystem& disk() { return posix_file_system(); }

EpochHistory history_of(const CheckpointOffer& offer) {
  EpochHistory history;
  for (const EpochHistory::Start& e : offer.epochs) history.add(e.epoch, e.first_seq);
  return history;
}

std::uint64_t base_epoch_of(const CheckpointOffer& offer) {
  const std::uint64_t e = history_of(offer).epoch_at(offer.seq);
  return e != 0 ? e : offer.epoch;
}

}  // namespace

Path StoreNode::incoming_dir() const { return Path(config_.data_dir) / "incoming"; }
Path StoreNode::checkpoints_dir() const { return Path(config_.data_dir) / "checkpoints"; }

void StoreNode::maybe_discard() {
  const std::uint64_t keep = config_.log_keep_entries;
  if (discarding_ || replica_->installing_checkpoint() || applied_seq_ < next_discard_at_) return;
  if (applied_seq_ < replica_->first_seq() + 2 * keep) return;
  discarding_ = true;
  next_discard_at_ = applied_seq_ + keep;
  const std::uint64_t before = applied_seq_ - keep + 1;
  asio::post(background_, [this, before] {
    if (auto flushed = kv_->flush(); !flushed) {
      asio::post(io_, [this, e = flushed.error()] { die(e); });
      return;
    }
    const bool queued = writer_->with_log([this, before](Log& log) -> core::Result<void> {
      if (auto done = log.discard_before(before); !done) return done;
      asio::post(io_, [this, first = log.first_seq()] {
        discarding_ = false;
        ++checkpoint_counters_.discards;
        run(replica_->log_discarded(clock_.now(), first));
      });
      return core::ok();
    });
    if (!queued) asio::post(io_, [this] { discarding_ = false; });  // stopping
  });
}

void StoreNode::act(act::SendCheckpoint& a) {
  if (checkpointing_) return;  // one at a time; the replica offers again after checkpoint_retry
  checkpointing_ = true;
  const std::uint64_t epoch = replica_->epoch();
  const std::string id =
      "ckpt-" + std::to_string(epoch) + "-" + std::to_string(applied_seq_) + "-" + std::to_string(++checkpoints_made_);
  spdlog::info("store: {} needs entries this node has discarded; making checkpoint {}", a.to, id);
  asio::post(background_, [this, to = a.to, epoch, id] {
    auto make = [&]() -> core::Result<CheckpointOffer> {
      if (auto made = disk().create_dirs(checkpoints_dir()); !made) return made.error();
      const Path dir = checkpoints_dir() / id;
      core::Result<std::uint64_t> seq = kv_->checkpoint(dir.string());
      if (!seq) return seq.error();
      core::Result<std::vector<CheckpointFile>> files = list_files(disk(), dir);
      if (!files) return files.error();
      CheckpointOffer offer;
      offer.id = id;
      offer.seq = *seq;
      offer.files = std::move(*files);
      return offer;
    };
    asio::post(io_, [this, to, epoch, made = make()]() mutable { checkpoint_made(to, epoch, std::move(made)); });
  });
}

void StoreNode::checkpoint_made(const std::string& to, std::uint64_t epoch, core::Result<CheckpointOffer> made) {
  checkpointing_ = false;
  if (!made) {
    spdlog::error("store: cannot make a checkpoint for {}: {}", to, made.error().to_string());
    return;
  }
  if (replica_->role() != Role::kPrimary || replica_->epoch() != epoch) {
    remove_tree(checkpoints_dir() / made->id);  // no longer ours to offer
    return;
  }
  made->epoch = epoch;
  made->from = config_.node;
  made->epochs = replica_->epochs().up_to(made->seq).starts();
  // Two are kept: a peer may still be fetching the one before.
  served_.push_back(made->id);
  while (served_.size() > 2) {
    remove_tree(checkpoints_dir() / served_.front());
    served_.pop_front();
  }
  ++checkpoint_counters_.offered;
  spdlog::info("store: offering checkpoint {} through seq {} ({} files) to {}", made->id, made->seq,
               made->files.size(), to);
  links_->send(to, Message(std::move(*made)));
}

net::HttpResponse StoreNode::serve_checkpoint(const net::HttpRequest& request) const {
  std::string_view rest = std::string_view(request.path).substr(kServePrefix.size());
  const std::size_t slash = rest.find('/');
  const std::string id(rest.substr(0, slash));
  const std::string name(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  if (request.method != "GET") return net::HttpResponse::error(405, "GET only");
  if (!is_plain_file_name(id) || !is_plain_file_name(name) || std::find(served_.begin(), served_.end(), id) == served_.end())
    return net::HttpResponse::error(404, "no such checkpoint file");
  std::uint64_t offset = 0;
  const std::string_view query = request.query;
  if (!query.starts_with("offset=") ||
      std::from_chars(query.data() + 7, query.data() + query.size(), offset).ptr != query.data() + query.size())
    return net::HttpResponse::error(400, "needs ?offset=N");
  core::Result<std::string> piece = disk().read_range(checkpoints_dir() / id / name, offset, kPieceBytes);
  if (!piece) return net::HttpResponse::error(piece.is(core::ErrorCode::kNotFound) ? 404 : 500, piece.error().message);
  net::HttpResponse r;
  r.content_type = "application/octet-stream";
  r.body = std::move(*piece);
  return r;
}

void StoreNode::act(act::FetchCheckpoint& a) { asio::co_spawn(io_, fetch_checkpoint(std::move(a.offer)), asio::detached); }

asio::awaitable<void> StoreNode::fetch_checkpoint(CheckpointOffer offer) {
  spdlog::info("store: fetching checkpoint {} through seq {} from {}", offer.id, offer.seq, offer.from);
  core::Result<void> got = co_await download(offer);
  if (stop_.stop_requested()) co_return;
  if (!got) {
    ++checkpoint_counters_.failed;
    remove_tree(incoming_dir());
    run(replica_->checkpoint_failed(clock_.now(), got.error().to_string()));
    co_return;
  }
  // The background thread may be flushing or copying the state this replaces.
  while (discarding_ || checkpointing_) {
    const bool woke = co_await clock_.sleep_for(std::chrono::milliseconds(10), stop_.get_token());
    if (!woke) co_return;
  }
  install(offer);
}

asio::awaitable<core::Result<void>> StoreNode::download(const CheckpointOffer& offer) {
  const auto peer = config_.peers.find(offer.from);
  if (peer == config_.peers.end()) co_return core::Error::invalid("a checkpoint from unknown node " + offer.from);
  const Path dir = incoming_dir();
  remove_tree(dir);
  if (auto made = disk().create_dirs(dir); !made) co_return made.error();
  for (const CheckpointFile& f : offer.files) {
    core::Result<std::unique_ptr<WritableFile>> file = disk().open_for_append(dir / f.name);
    if (!file) co_return file.error();
    uint32_t crc = ~0u;
    for (std::uint64_t offset = 0; offset < f.size;) {
      net::ClientRequest req;
      req.target = std::string(kServePrefix) + offer.id + "/" + f.name + "?offset=" + std::to_string(offset);
      core::Result<net::ClientResponse> got = co_await http_->request(peer->second.listen, std::move(req), kPieceTimeout);
      if (stop_.stop_requested()) co_return core::Error::cancelled("stopping");
      if (!got) co_return got.error();
      if (got->status != 200)
        co_return core::Error::unavailable(f.name + ": " + std::to_string(got->status) + " " + got->body);
      if (got->body.empty() || got->body.size() > f.size - offset)
        co_return core::Error::invalid(f.name + ": the file is not the size offered");
      if (auto written = (*file)->append(got->body); !written) co_return written.error();
      crc = crc32c_extend(crc, got->body);
      offset += got->body.size();
    }
    if (~crc != f.crc32c) co_return core::Error::invalid(f.name + ": CRC-32C does not match the offer");
    if (auto synced = (*file)->sync(); !synced) co_return synced.error();
    if (auto closed = (*file)->close(); !closed) co_return closed.error();
  }
  co_return disk().sync_dir(dir);
}

void StoreNode::install_when_idle() {
  if (install_after_apply_ && !applying_ && reads_in_background_ == 0)
    install(*std::exchange(install_after_apply_, std::nullopt));
}

void StoreNode::install(const CheckpointOffer& offer) {
  if (applying_ || reads_in_background_ > 0) {  // RocksDB is in use on background_
    install_after_apply_ = offer;
    return;
  }
  const Path dir(config_.data_dir);
  json::object marker{{"seq", offer.seq},
                      {"base_epoch", base_epoch_of(offer)},
                      {"epochs", history_of(offer).to_json()}};
  if (auto saved = write_file_atomically(fs_, dir / kInstallMarker, json::serialize(marker)); !saved)
    die(saved.error());
  // From here on a crash is finished by open() from the marker.
  kv_.reset();
  core::Result<std::unique_ptr<KvState>> kv = KvState::install_checkpoint(incoming_dir().string(), (dir / "kv").string());
  if (!kv) die(kv.error());
  kv_ = std::move(*kv);
  applied_seq_ = apply_target_ = offer.seq;
  large_keys_.clear();
  for (std::string& key : kv_->large_keys()) large_keys_.insert(std::move(key));
  applied_changed_.notify_all();
  recent_.clear();
  recent_bytes_ = 0;
  const bool queued = writer_->with_log([this, offer](Log& log) -> core::Result<void> {
    if (auto reset = log.reset(base_epoch_of(offer), offer.seq, history_of(offer)); !reset) return reset;
    asio::post(io_, [this, offer] { installed(offer); });
    return core::ok();
  });
  if (!queued) die(core::Error::internal("the log writer has stopped"));
}

void StoreNode::installed(const CheckpointOffer& offer) {
  // The marker goes before anything is appended after the checkpoint, or a
  // crash would redo the reset and cut acknowledged entries.
  const Path dir(config_.data_dir);
  if (auto removed = fs_.remove(dir / kInstallMarker); !removed) die(removed.error());
  if (auto synced = fs_.sync_dir(dir); !synced) die(synced.error());
  ++checkpoint_counters_.installed;
  next_discard_at_ = offer.seq + config_.log_keep_entries;
  spdlog::info("store: installed checkpoint {} of {} through seq {}", offer.id, offer.from, offer.seq);
  run(replica_->checkpoint_installed(clock_.now(), offer));
}

core::Result<void> StoreNode::finish_interrupted_install() {
  const Path dir(config_.data_dir);
  remove_tree(checkpoints_dir());  // what this node served before it stopped
  if (!fs_.exists(dir / kInstallMarker)) {
    remove_tree(incoming_dir());  // a fetch cut short
    return core::ok();
  }
  core::Result<std::string> text = fs_.read_file(dir / kInstallMarker);
  if (!text) return text.error();
  boost::system::error_code ec;
  const json::value marker = json::parse(*text, ec);
  const json::object* o = ec ? nullptr : marker.if_object();
  auto number = [&](const char* key) -> std::optional<std::uint64_t> {
    const json::value* v = o ? o->if_contains(key) : nullptr;
    boost::system::error_code bad;
    const std::uint64_t n = v ? v->to_number<std::uint64_t>(bad) : 0;
    if (!v || bad) return std::nullopt;
    return n;
  };
  const std::optional<std::uint64_t> seq = number("seq"), base_epoch = number("base_epoch");
  const json::value* epochs = o ? o->if_contains("epochs") : nullptr;
  if (!seq || !base_epoch || !epochs) return core::Error::internal((dir / kInstallMarker).string() + ": unreadable");
  core::Result<EpochHistory> history = EpochHistory::from_json(*epochs);
  if (!history) return history.error();
  spdlog::warn("store: finishing the install of a checkpoint through seq {} that a stop cut short", *seq);
  if (disk().exists(incoming_dir())) {
    core::Result<std::unique_ptr<KvState>> kv =
        KvState::install_checkpoint(incoming_dir().string(), (dir / "kv").string());
    if (!kv) return kv.error();
  }
  if (auto reset = log_->reset(*base_epoch, *seq, *history); !reset) return reset;
  if (auto removed = fs_.remove(dir / kInstallMarker); !removed) return removed;
  return fs_.sync_dir(dir);
}

}  // namespace failover::store
