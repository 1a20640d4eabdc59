// A throwaway path row for the test build only (sysgate_bench_extra_path): linked in
// place of the weak ExtraPaths() of harness/paths/paths.cc, it shows that one row is all a new
// path needs to reach the results JSON, the summary and the report
// (tests/python/bench/test_bench.py, test_a_new_row_reaches_json_summary_and_report).
#include "harness/paths/paths.h"
#include "harness/paths/stubs.h"

namespace sysgate {

std::vector<Path> ExtraPaths() {
  // name                   mechanism            entries  loop               peer
  return {{"sysgate_test/extra_call", Mechanism::kCall, 0, sysgate_call_loop, "baseline/call"}};
}

}  // namespace sysgate
