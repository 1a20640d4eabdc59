// The small text files of /proc and /sys: read whole, trimmed, or a fallback when they
// cannot be read; and the `Key: value` lines many of them hold. The one place the harness
// reads such a file, so a missing file reads the same ("unknown") everywhere.
#ifndef SYSGATE_HARNESS_PLATFORM_TEXT_FILE_H_
#define SYSGATE_HARNESS_PLATFORM_TEXT_FILE_H_

#include <map>
#include <string>
#include <string_view>

namespace sysgate {

inline constexpr char kUnknown[] = "unknown";

// `s` without leading and trailing whitespace.
std::string Trim(std::string_view s);

// The whole file; *ok says whether it could be read.
std::string ReadFile(const std::string& path, bool* ok);

// The whole file, or `fallback` when it cannot be read; trailing whitespace trimmed.
std::string ReadTrimmed(const std::string& path, const std::string& fallback = kUnknown);

// `Key: value` lines (as in /proc/self/status) into a map, values trimmed.
std::map<std::string, std::string> ParseKeyValueLines(std::string_view text);

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_PLATFORM_TEXT_FILE_H_
