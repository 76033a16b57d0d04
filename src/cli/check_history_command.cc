#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>

#include "cli/commands.h"
#include "core/config_error.h"
#include "drill/history.h"
#include "drill/history_json.h"

namespace failover::cli {

// failover check-history FILE: is the history linearizable, each key a
// register? Exit 0 yes, 1 no (each violation printed), 2 a bad file.
Run check_history_options(CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  sub.add_option("file", *path, "one operation a JSON line, as `failover drill --history` writes ('-': stdin)")
      ->required();
  return [path]() -> int {
    std::string text;
    if (*path == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(*path, std::ios::binary);
      if (!in) {
        std::cerr << *path << ": cannot open\n";
        return core::kExitConfigError;
      }
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    auto history = drill::history_from_json_lines(text, *path == "-" ? "stdin" : *path);
    if (!history) {
      std::cerr << history.error().message << "\n";
      return core::kExitConfigError;
    }
    std::size_t reads = 0, writes = 0;
    std::set<std::string> keys;
    for (const drill::Operation& op : *history) {
      (op.kind == drill::Operation::Kind::kRead ? reads : writes) += 1;
      keys.insert(op.key);
    }
    const std::vector<drill::Violation> violations = drill::check_history(*history);
    for (const drill::Violation& v : violations)
      std::cout << drill::violation_name(v.kind) << " on " << v.key << ": " << v.what << "\n";
    std::cout << (violations.empty() ? "linearizable: " : "NOT linearizable: ") << history->size()
              << " operations (" << writes << " writes, " << reads << " reads) on " << keys.size() << " keys";
    if (!violations.empty()) std::cout << ", " << violations.size() << " violations";
    std::cout << "\n";
    return violations.empty() ? 0 : 1;
  };
}

}  // namespace failover::cli
