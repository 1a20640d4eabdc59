// How results leave the binary: a console table that fits in 120 columns, and the
// results JSON (Google Benchmark's JSON reporter, buffered) written by sysgate itself so
// that end-of-run facts join the context and a short write is an error, not a truncated
// file that looks complete.
#ifndef SYSGATE_HARNESS_OUTPUT_REPORTERS_H_
#define SYSGATE_HARNESS_OUTPUT_REPORTERS_H_

#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"

namespace sysgate {

inline constexpr size_t kConsoleWidth = 120;

// One line per row: path, ns/call, CPU ns/call, iterations, batches kept/rejected, p99;
// a skipped row's reason cut to fit; aggregates with their one value ("-" for NaN).
class CompactConsoleReporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;

  // The line for one row (without '\n'); at most kConsoleWidth characters.
  static std::string FormatRow(const Run& run);
  static std::string Header();
};

// Sends every report to `first` and then `second`.
class TeeReporter : public benchmark::BenchmarkReporter {
 public:
  TeeReporter(benchmark::BenchmarkReporter* first, benchmark::BenchmarkReporter* second)
      : first_(first), second_(second) {}
  bool ReportContext(const Context& context) override;
  void ReportRuns(const std::vector<Run>& runs) override;
  void Finalize() override;

 private:
  benchmark::BenchmarkReporter* first_;
  benchmark::BenchmarkReporter* second_;
};

// `json` (a Google Benchmark JSON document) with `keys` added at the end of its
// "context" object; unchanged when it has none.
std::string AddContextKeys(const std::string& json,
                           const std::vector<std::pair<std::string, std::string>>& keys);

// Writes all of `text` to `path`, fsynced and closed: true, or false and *error (ENOSPC,
// EIO, ...). `sysgate run` moves the file into place atomically itself.
bool WriteFileCompletely(const std::string& path, const std::string& text, std::string* error);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_OUTPUT_REPORTERS_H_
