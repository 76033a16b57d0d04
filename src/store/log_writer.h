#pragma once
// The one thread that writes the Log, so an fsync never blocks an I/O
// thread. Group commit: the thread takes everything queued, appends it with
// one write, syncs once and reports the last seq durable; writes that arrive
// during an fsync form the next group.
//
//   LogWriter writer(log, {.on_durable = [&](uint64_t seq) { post(io, ...); },
//                          .on_truncated = ..., .on_fatal = ...});
//   writer.submit({entry});            // from any thread
//
// Callbacks run on the writer thread, one at a time and in order; the owner
// posts them to its own executor (they must not call back into the writer's
// stop(), which would join the thread it runs on).
//
// Any failure to append or sync calls on_fatal once and stops the writer:
// an fsync is never retried (file_system.h), the process is expected to exit
// and recover from its log. A truncation refused for a bad argument
// (kInvalid) is reported to on_truncated only; any other truncation error
// goes to on_truncated and then on_fatal.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <variant>
#include <vector>

#include "core/result.h"
#include "store/log.h"

namespace failover::store {

class LogWriter {
 public:
  struct Callbacks {
    std::function<void(uint64_t seq)> on_durable;  // every entry up to seq is durable
    std::function<void(core::Result<std::vector<Entry>>)> on_truncated;  // what was cut, or why not
    std::function<void(core::Error)> on_fatal;
  };

  // Starts the thread. `log` must outlive the writer, and nobody else
  // writes it while the writer runs (reads are fine, see log.h).
  LogWriter(Log& log, Callbacks callbacks);
  ~LogWriter();  // stop()
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Queues entries to append (seqs continuing the log and earlier submits;
  // anything else is fatal, as the log refuses it). False, dropping them,
  // once the writer has stopped or failed. Any thread.
  bool submit(std::vector<SharedEntry> entries);
  bool submit(std::vector<Entry> entries);

  // Queues a Log::truncate_after(seq, quarantine_dir) after every submit
  // before it; its result goes to on_truncated. False once stopped. Any thread.
  bool truncate_after(uint64_t seq, Path quarantine_dir);

  // Queues `job` to run on the writer thread with the log to itself, after
  // every submit before it (discard_before, reset). A job that returns an
  // error stops the writer through on_fatal, as a failed append does. False
  // once stopped. Any thread.
  bool with_log(std::function<core::Result<void>(Log&)> job);

  // Finishes what is queued (callbacks included), then joins the thread.
  // Idempotent. Not from a callback.
  void stop();

  // Groups appended and fsynced so far (each one write and one fsync), and
  // the entries in them: their ratio is how well group commit batches. Any
  // thread.
  uint64_t syncs() const { return syncs_.load(std::memory_order_relaxed); }
  uint64_t synced_entries() const { return synced_entries_.load(std::memory_order_relaxed); }

 private:
  struct Truncate {
    uint64_t seq;
    Path quarantine_dir;
  };
  using LogJob = std::function<core::Result<void>(Log&)>;
  using Job = std::variant<std::vector<SharedEntry>, Truncate, LogJob>;

  void run();
  // Runs a truncation or a log job; false after a fatal error.
  bool run_job(Job& job);
  // Appends and syncs `group` and reports it; false after a fatal error.
  bool commit(std::vector<SharedEntry>& group);

  std::atomic<uint64_t> syncs_{0}, synced_entries_{0};
  void die(core::Error error);

  Log& log_;
  Callbacks callbacks_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> queue_;     // guarded by mu_
  bool stopping_ = false;     // guarded by mu_
  bool dead_ = false;         // guarded by mu_: a fatal error happened
  std::thread thread_;        // last: starts once the rest is built
};

}  // namespace failover::store
