// Boost.JSON is used header-only (Debian ships no compiled library for it):
// its implementation is compiled once, here.
#include <boost/json/src.hpp>
