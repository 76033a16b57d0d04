#pragma once
// The admin address of `failover lb`: GET /status (JSON), GET /metrics
// (Prometheus text), GET / (dashboard), and
// POST /upstreams/{name}/servers/{address}/down|drain|up.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace failover::lb {

class ControlLoop;
struct WorkerShared;

// Serves on the control io_context (it reads the ControlLoop's state directly).
void serve_admin(boost::asio::io_context& control_io, const boost::asio::ip::tcp::endpoint& admin,
                 ControlLoop& control, const WorkerShared& shared);

}  // namespace failover::lb
