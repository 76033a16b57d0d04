#pragma once
// Start-up errors in configuration. The message is always
// "file:line: what is wrong", and the binary exits with status 2.
#include <stdexcept>
#include <string>

namespace failover::core {

class ConfigError : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, const std::string& what)
      : std::runtime_error(file + ":" + std::to_string(line) + ": " + what),
        file_(file), line_(line) {}
  const std::string& file() const { return file_; }
  int line() const { return line_; }

 private:
  std::string file_;
  int line_;
};

inline constexpr int kExitConfigError = 2;

}  // namespace failover::core
