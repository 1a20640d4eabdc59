// The path table: every way into the kernel that sysgate measures, one row each (the row
// type is harness/paths/path.h), assembled from the families in report order.
#ifndef SYSGATE_HARNESS_PATHS_PATHS_H_
#define SYSGATE_HARNESS_PATHS_PATHS_H_

#include <string>
#include <string_view>
#include <vector>

#include "harness/paths/path.h"

namespace sysgate {

// The table (AllPaths()) as a JSON array of objects, one per row, each with its facts
// and `status`: statuses[i] is row i's ("available", "skipped: <why>", "failed: <why>").
std::string PathsJson(const std::vector<std::string>& statuses);

// Every path, in report order.
const std::vector<Path>& AllPaths();

// Rows a test build adds after the table (tests/cpp/extra_path_row.cc); empty in the
// real binary. A weak definition in paths.cc returns none.
std::vector<Path> ExtraPaths();

// The row named `name`, or nullptr.
const Path* FindPath(std::string_view name);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PATHS_PATHS_H_
