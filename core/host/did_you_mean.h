// Suggestions for misspelt names (bricks, params, kinds, manifest fields, choices), for the
// host's errors and the manifest's diagnostics alike.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bricks::host {

// Edit distance counting insertions, deletions, substitutions and swaps of two neighbours
// (optimal string alignment), the usual shapes of a typo. Case counts.
int edit_distance(std::string_view a, std::string_view b);

// The option closest to `word` when it is close enough to be a likely typo (case is
// ignored; about one edit per three letters, or the same first four letters or more and
// at least half of `word`), else nullopt. Ties go to the first option.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& options);

// " (did you mean 'x'?)" or "" : ready to append to an error message.
std::string did_you_mean_suffix(std::string_view word, const std::vector<std::string>& options);

// "did you mean 'x'?" when there is a close match, else "one of: a, b, c" (or
// `if_empty` when there are no options at all).
std::string suggest(std::string_view word, const std::vector<std::string>& options,
                    std::string_view if_empty = "");

// "a, b, c"
std::string join(const std::vector<std::string>& items, std::string_view sep = ", ");

}  // namespace bricks::host
