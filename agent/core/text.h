#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgbackup {

// The items with `separator` between them: join({"a", "b"}, ", ") is "a, b".
std::string join(const std::vector<std::string>& items, std::string_view separator);

// `text` safe inside HTML or XML text and quoted attributes: & < > " ' as entities.
std::string escape_html(std::string_view text);

}  // namespace pgbackup
