#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/core/timeutil.h"

namespace pgbackup {

// One object in a bucket, from a ListObjectsV2 page or a HEAD answer.
struct S3ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;           // without quotes
  std::string storage_class;  // empty when S3 does not say (STANDARD)
  std::optional<SysTime> last_modified;
  std::map<std::string, std::string> metadata;  // x-amz-meta-*, from HEAD only

  std::string meta(const std::string& name) const {
    const auto it = metadata.find(name);
    return it == metadata.end() ? "" : it->second;
  }
};

// The text of every <tag>...</tag> in `xml`, entities decoded.
std::vector<std::string> xml_values(const std::string& xml, const std::string& tag);
// The first of them, or "".
std::string xml_first(const std::string& xml, const std::string& tag);
// An ETag without its quotes.
std::string unquote(std::string s);

// The objects and continuation token of one ListObjectsV2 page.
struct S3ListPage {
  std::vector<S3ObjectInfo> objects;
  std::string next_continuation_token;  // empty on the last page
};
S3ListPage parse_list_page(const std::string& xml);

}  // namespace pgbackup
