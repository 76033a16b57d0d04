#pragma once
// What the tests of async components share: running one coroutine to its
// end on a test's io_context (servers spawned on it keep running between
// calls). Loopback ports (free_port and its race-free successors) are in
// support/ports.h, included here for the tests that still name free_port.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include <exception>
#include <optional>

#include "support/ports.h"

namespace failover::test {

template <class T>
T run_to_end(boost::asio::io_context& io, boost::asio::awaitable<T> a) {
  std::optional<T> out;
  io.restart();
  boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    EXPECT_FALSE(e) << "the coroutine threw";
    out = std::move(v);
    io.stop();
  });
  io.run();
  EXPECT_TRUE(out.has_value());
  return std::move(out).value_or(T{});
}

inline void run_to_end(boost::asio::io_context& io, boost::asio::awaitable<void> a) {
  io.restart();
  boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e) {
    EXPECT_FALSE(e) << "the coroutine threw";
    io.stop();
  });
  io.run();
}

}  // namespace failover::test
