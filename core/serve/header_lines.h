// Extra HTTP headers as the server's routes and the client pass them around: a string of
// "Name: value\r\n" lines.
#pragma once

#include <string>
#include <string_view>

namespace bricks::serve {

// Sets every "Name: value" line of `lines` on a Beast message (or anything with
// set(std::string, std::string)); lines without a colon are skipped.
template <class Message>
void set_header_lines(Message& m, std::string_view lines) {
  for (std::string_view rest = lines; !rest.empty();) {
    const size_t eol = rest.find("\r\n");
    const std::string_view line = rest.substr(0, eol);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      m.set(std::string(line.substr(0, colon)), std::string(value));
    }
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
  }
}

}  // namespace bricks::serve
