#include "harness/output/reporters.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "harness/output/json_text.h"

namespace sysgate {
namespace {

std::string Number(double value, const char* format = "%.2f") {
  if (!std::isfinite(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

double Counter(const benchmark::BenchmarkReporter::Run& run, const char* name) {
  auto it = run.counters.find(name);
  return it == run.counters.end() ? NAN : static_cast<double>(it->second.value);
}

std::string Fit(std::string line) {
  if (line.size() > kConsoleWidth) line.replace(kConsoleWidth - 3, std::string::npos, "...");
  return line;
}

}  // namespace

std::string CompactConsoleReporter::Header() {
  char line[160];
  std::snprintf(line, sizeof line, "%-52s %10s %10s %11s %11s %10s", "path (row)", "ns/call",
                "cpu ns", "iterations", "kept/rej", "p99 ns");
  return line;
}

std::string CompactConsoleReporter::FormatRow(const Run& run) {
  const std::string name = run.benchmark_name();
  char line[512];
  if (run.error_occurred) {
    std::snprintf(line, sizeof line, "%-52s %s", name.c_str(), run.error_message.c_str());
    return Fit(line);
  }
  if (run.run_type == Run::RT_Aggregate) {
    const bool percent = run.aggregate_unit == benchmark::kPercentage;
    const double value = percent ? run.real_accumulated_time : run.GetAdjustedRealTime();
    std::string text = percent ? Number(value * 100, "%.1f") + "%" : Number(value);
    if (text == "-%") text = "-";
    std::snprintf(line, sizeof line, "%-52s %10s", name.c_str(), text.c_str());
    return Fit(line);
  }
  const double kept = Counter(run, "batches_kept"), rejected = Counter(run, "batches_rejected");
  const std::string batches =
      std::isfinite(kept) ? Number(kept, "%.0f") + "/" + Number(rejected, "%.0f") : "-";
  std::snprintf(line, sizeof line, "%-52s %10s %10s %11lld %11s %10s", name.c_str(),
                Number(run.GetAdjustedRealTime()).c_str(), Number(run.GetAdjustedCPUTime()).c_str(),
                static_cast<long long>(run.iterations), batches.c_str(),
                Number(Counter(run, "p99_ns"), "%.1f").c_str());
  return Fit(line);
}

bool CompactConsoleReporter::ReportContext(const Context& context) {
  (void)context;
  GetOutputStream() << Header() << "\n" << std::string(Header().size(), '-') << "\n";
  return true;
}

void CompactConsoleReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) GetOutputStream() << FormatRow(run) << "\n";
  GetOutputStream().flush();
}

bool TeeReporter::ReportContext(const Context& context) {
  const bool a = first_->ReportContext(context);
  const bool b = second_->ReportContext(context);
  return a && b;
}

void TeeReporter::ReportRuns(const std::vector<Run>& runs) {
  first_->ReportRuns(runs);
  second_->ReportRuns(runs);
}

void TeeReporter::Finalize() {
  first_->Finalize();
  second_->Finalize();
}

std::string AddContextKeys(const std::string& json,
                           const std::vector<std::pair<std::string, std::string>>& keys) {
  const std::string end_of_context = "\n  },\n  \"benchmarks\"";
  const size_t at = json.find(end_of_context);
  if (at == std::string::npos || keys.empty()) return json;
  std::string added;
  for (const auto& [key, value] : keys) {
    added += ",\n    \"" + JsonEscape(key) + "\": \"" + JsonEscape(value) + "\"";
  }
  return json.substr(0, at) + added + json.substr(at);
}

bool WriteFileCompletely(const std::string& path, const std::string& text, std::string* error) {
  auto fail = [&](const char* what, int err) {
    *error = std::string(what) + " " + path + ": " + std::strerror(err);
    return false;
  };
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return fail("cannot create", errno);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      close(fd);
      return fail("cannot write", err);
    }
    done += static_cast<size_t>(n);
  }
  // Data a full or failing disk refuses shows up here or at close, not at write.
  // (fsync of a character device such as /dev/null says EINVAL: nothing to sync.)
  if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    const int err = errno;
    close(fd);
    return fail("cannot sync", err);
  }
  if (close(fd) != 0) return fail("cannot close", errno);
  return true;
}

}  // namespace sysgate
