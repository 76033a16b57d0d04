#pragma once
// The drill's report as one self-contained HTML file (no script, no font,
// nothing fetched): the verdict, the table of faults, and a timeline chart
// in inline SVG: requests per second and failed requests per second over
// the run, each fault drawn where it began and where it was taken back, and
// the components' state changes under it.
#include <string>

#include "drill/drill_result.h"

namespace failover::drill {

std::string drill_report_html(const DrillResult& result);

}  // namespace failover::drill
