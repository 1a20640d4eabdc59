// The one JSON string escaper of the binary (the path table, the added context keys).
#ifndef SYSGATE_HARNESS_OUTPUT_JSON_TEXT_H_
#define SYSGATE_HARNESS_OUTPUT_JSON_TEXT_H_

#include <cstdio>
#include <string>
#include <string_view>

namespace sysgate {

// `text` as the inside of a JSON string: quotes, backslashes and control characters
// escaped.
inline std::string JsonEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace sysgate

#endif  // SYSGATE_HARNESS_OUTPUT_JSON_TEXT_H_
