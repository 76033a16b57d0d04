#include "store/log_writer.h"

#include <optional>

namespace failover::store {

LogWriter::LogWriter(Log& log, Callbacks callbacks)
    : log_(log), callbacks_(std::move(callbacks)), thread_([this] { run(); }) {}

LogWriter::~LogWriter() { stop(); }

bool LogWriter::submit(std::vector<Entry> entries) {
  std::vector<SharedEntry> shared;
  shared.reserve(entries.size());
  for (Entry& e : entries) shared.push_back(std::make_shared<const Entry>(std::move(e)));
  return submit(std::move(shared));
}

bool LogWriter::submit(std::vector<SharedEntry> entries) {
  if (entries.empty()) return true;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || dead_) return false;
    queue_.emplace_back(std::move(entries));
  }
  wake_.notify_one();
  return true;
}

bool LogWriter::truncate_after(uint64_t seq, Path quarantine_dir) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || dead_) return false;
    queue_.emplace_back(Truncate{seq, std::move(quarantine_dir)});
  }
  wake_.notify_one();
  return true;
}

bool LogWriter::with_log(std::function<core::Result<void>(Log&)> job) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || dead_) return false;
    queue_.emplace_back(LogJob(std::move(job)));
  }
  wake_.notify_one();
  return true;
}

void LogWriter::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void LogWriter::die(core::Error error) {
  {
    std::lock_guard lock(mu_);
    dead_ = true;
    queue_.clear();
  }
  if (callbacks_.on_fatal) callbacks_.on_fatal(std::move(error));
}

bool LogWriter::commit(std::vector<SharedEntry>& group) {
  if (group.empty()) return true;
  if (auto r = log_.append(group); !r) {
    die(r.error());
    return false;
  }
  if (auto r = log_.sync(); !r) {
    die(r.error());
    return false;
  }
  const uint64_t last = group.back()->seq;
  syncs_.fetch_add(1, std::memory_order_relaxed);
  synced_entries_.fetch_add(group.size(), std::memory_order_relaxed);
  group.clear();
  if (callbacks_.on_durable) callbacks_.on_durable(last);
  return true;
}

void LogWriter::run() {
  for (;;) {
    std::deque<Job> jobs;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is done
      jobs.swap(queue_);
    }
    // Consecutive submits form one group: one write, one fsync. A
    // truncation closes the group before it, keeping the submitted order.
    std::vector<SharedEntry> group;
    for (Job& job : jobs) {
      if (auto* entries = std::get_if<std::vector<SharedEntry>>(&job)) {
        group.insert(group.end(), std::make_move_iterator(entries->begin()), std::make_move_iterator(entries->end()));
        continue;
      }
      if (!commit(group) || !run_job(job)) return;
    }
    if (!commit(group)) return;
  }
}

bool LogWriter::run_job(Job& job) {
  if (auto* log_job = std::get_if<LogJob>(&job)) {
    if (auto done = (*log_job)(log_); !done) {
      die(done.error());
      return false;
    }
    return true;
  }
  auto& cut = std::get<Truncate>(job);
  auto result = log_.truncate_after(cut.seq, cut.quarantine_dir);
  const bool fatal = !result && !result.is(core::ErrorCode::kInvalid);
  std::optional<core::Error> error;
  if (fatal) error = result.error();
  if (callbacks_.on_truncated) callbacks_.on_truncated(std::move(result));
  if (fatal) {
    die(*error);
    return false;
  }
  return true;
}

}  // namespace failover::store
