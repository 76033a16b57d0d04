#include "net/json_quote.h"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

namespace failover::net {

std::string json_quote(std::string_view s) { return boost::json::serialize(boost::json::string(s)); }

}  // namespace failover::net
