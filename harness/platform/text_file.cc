#include "harness/platform/text_file.h"

#include <fstream>
#include <sstream>

namespace sysgate {

std::string Trim(std::string_view s) {
  const char* ws = " \t\r\n";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

std::string ReadFile(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  *ok = static_cast<bool>(in) || in.eof();
  if (!in.is_open()) *ok = false;
  return out.str();
}

std::string ReadTrimmed(const std::string& path, const std::string& fallback) {
  bool ok = false;
  std::string text = ReadFile(path, &ok);
  return ok ? Trim(text) : fallback;
}

std::map<std::string, std::string> ParseKeyValueLines(std::string_view text) {
  std::map<std::string, std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string line; std::getline(in, line);) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    out[Trim(std::string_view(line).substr(0, colon))] =
        Trim(std::string_view(line).substr(colon + 1));
  }
  return out;
}

}  // namespace sysgate
