// Suggestions for misspelt names (bricks, params, kinds).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bricks::host {

// The option closest to `word` by edit distance (case-insensitive), if it is close enough
// to be a plausible typo (distance at most max(1, length/3)) or has `word` as a prefix;
// "" when none is.
std::string did_you_mean(std::string_view word, const std::vector<std::string>& options);

// " (did you mean 'x'?)" or "" : ready to append to an error message.
std::string did_you_mean_suffix(std::string_view word, const std::vector<std::string>& options);

}  // namespace bricks::host
