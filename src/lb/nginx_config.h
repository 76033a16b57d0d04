#pragma once
// Reads the `upstream` blocks of an nginx configuration as written for
// nginx's upstream check module, so that users can bring their files along:
//
//   upstream test_web {
//     server 192.168.1.21:80 weight=2 max_fails=3 fail_timeout=10s;
//     server 192.168.1.22:80 backup;
//     check interval=3000 rise=2 fall=5 timeout=1000 type=http;
//     check_http_send "HEAD / HTTP/1.0\r\n\r\n";
//     check_http_expect_alive http_2xx http_3xx;
//   }
//
// Everything else in the file (http, server, location...) is skipped, except
// that `server { listen ...; location ... { proxy_pass http://NAME; } }`
// blocks become routes when they name one of the upstreams.
#include <string>

#include "lb/config.h"

namespace failover::lb {

// Throws core::ConfigError. The first `listen` of a server block that routes
// to an upstream sets LbConfig::listen (a bare port N means 0.0.0.0:N, as in
// nginx); --listen and --admin on the command line override.
LbConfig load_nginx_config(const std::string& path);
LbConfig parse_nginx_config(const std::string& text, const std::string& file_name);

}  // namespace failover::lb
