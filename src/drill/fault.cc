#include "drill/fault.h"

#include <charconv>
#include <cmath>

#include "core/units.h"

namespace failover::drill {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

core::Result<Fault> parse_fault(std::string_view text) {
  text = trim(text);
  const auto space = text.find(' ');
  const std::string_view word = text.substr(0, space);
  const std::string_view arg = space == std::string_view::npos ? std::string_view{} : trim(text.substr(space));
  const auto no_arg = [&](Fault::Kind kind) -> core::Result<Fault> {
    if (!arg.empty()) return core::Error::invalid("fault '" + std::string(word) + "' takes no argument");
    return Fault{kind};
  };
  if (word == "none") return no_arg(Fault::Kind::kNone);
  if (word == "blackhole") return no_arg(Fault::Kind::kBlackhole);
  if (word == "half-open") return no_arg(Fault::Kind::kHalfOpen);
  if (word == "delay") {
    const auto d = core::parse_duration(arg);
    if (!d || d->count() <= 0 || *d > std::chrono::minutes(10))
      return core::Error::invalid("delay wants a duration from 1ms to 10m, such as 'delay 100ms'");
    Fault f{Fault::Kind::kDelay};
    f.delay = *d;
    return f;
  }
  if (word == "drop") {
    double p = 0;
    const auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), p);
    if (arg.empty() || ec != std::errc{} || end != arg.data() + arg.size() || !std::isfinite(p) || p <= 0 || p > 1)
      return core::Error::invalid("drop wants a share of connections above 0 and at most 1, such as 'drop 0.3'");
    Fault f{Fault::Kind::kDrop};
    f.drop = p;
    return f;
  }
  return core::Error::invalid("unknown fault '" + std::string(text) +
                              "': none, delay DURATION, drop SHARE, blackhole or half-open");
}

std::string to_string(const Fault& fault) {
  switch (fault.kind) {
    case Fault::Kind::kNone:
      return "none";
    case Fault::Kind::kDelay:
      return "delay " + std::to_string(fault.delay.count()) + "ms";
    case Fault::Kind::kDrop: {
      char buf[32];
      // The shortest text that reads back as the same double.
      const auto end = std::to_chars(buf, buf + sizeof buf, fault.drop).ptr;
      return "drop " + std::string(buf, end);
    }
    case Fault::Kind::kBlackhole:
      return "blackhole";
    case Fault::Kind::kHalfOpen:
      return "half-open";
  }
  return "none";
}

Verdict on_connect(const Fault& fault, double draw) {
  switch (fault.kind) {
    case Fault::Kind::kNone:
    case Fault::Kind::kDelay:
      return Verdict::kPass;
    case Fault::Kind::kDrop:
      return draw < fault.drop ? Verdict::kReset : Verdict::kPass;
    case Fault::Kind::kBlackhole:
      return Verdict::kHold;
    case Fault::Kind::kHalfOpen:
      return Verdict::kReset;
  }
  return Verdict::kPass;
}

Verdict on_chunk(const Fault& fault, Direction direction) {
  switch (fault.kind) {
    case Fault::Kind::kBlackhole:
      return Verdict::kHold;
    case Fault::Kind::kHalfOpen:
      return direction == Direction::kToUpstream ? Verdict::kReset : Verdict::kHold;
    default:
      return Verdict::kPass;
  }
}

bool resets_open_connections(const Fault& fault) { return fault.kind == Fault::Kind::kDrop && fault.drop >= 1; }

bool drops_upstream_silently(const Fault& fault) { return fault.kind == Fault::Kind::kHalfOpen; }

}  // namespace failover::drill
