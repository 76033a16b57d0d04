#include <CLI/CLI.hpp>
#include <memory>

#include "cli/commands.h"
#include "demo/demo_service.h"

namespace failover::cli {

// failover demo-service --name N --listen ADDR --store URL[,URL]
Run demo_service_options(CLI::App& sub) {
  auto o = std::make_shared<demo::DemoServiceOptions>();
  sub.add_option("--name", o->name, "the instance's name, in every reply's X-Instance")->capture_default_str();
  sub.add_option("--listen", o->listen, "host:port it serves on")->capture_default_str();
  sub.add_option("--store", o->store, "the store's node URLs, comma-separated")->required()->delimiter(',');
  return [o] { return demo::run_demo_service(*o); };
}

}  // namespace failover::cli
