#include "agent/storage/s3/xml.h"

#include <cstdlib>
#include <cstring>
#include <utility>

namespace pgbackup {
namespace {

std::string xml_decode(std::string s) {
  static const std::pair<const char*, const char*> kEntities[] = {
      {"&quot;", "\""}, {"&apos;", "'"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}};
  for (const auto& [entity, text] : kEntities) {
    for (std::size_t at = s.find(entity); at != std::string::npos; at = s.find(entity, at + 1)) {
      s.replace(at, std::strlen(entity), text);
    }
  }
  return s;
}

// The raw inner text of every <tag>...</tag> (no nesting of the same tag in S3's answers).
std::vector<std::string> xml_blocks(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out;
  const std::string open = "<" + tag + ">";
  const std::string close = "</" + tag + ">";
  for (std::size_t at = xml.find(open); at != std::string::npos; at = xml.find(open, at)) {
    const std::size_t begin = at + open.size();
    const std::size_t end = xml.find(close, begin);
    if (end == std::string::npos) break;
    out.push_back(xml.substr(begin, end - begin));
    at = end + close.size();
  }
  return out;
}

}  // namespace

std::vector<std::string> xml_values(const std::string& xml, const std::string& tag) {
  std::vector<std::string> out = xml_blocks(xml, tag);
  for (std::string& v : out) v = xml_decode(v);
  return out;
}

std::string xml_first(const std::string& xml, const std::string& tag) {
  const auto values = xml_values(xml, tag);
  return values.empty() ? "" : values.front();
}

std::string unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

S3ListPage parse_list_page(const std::string& xml) {
  S3ListPage page;
  for (const std::string& block : xml_blocks(xml, "Contents")) {
    S3ObjectInfo o;
    o.key = xml_first(block, "Key");
    o.size = std::strtoull(xml_first(block, "Size").c_str(), nullptr, 10);
    o.etag = unquote(xml_first(block, "ETag"));
    o.storage_class = xml_first(block, "StorageClass");
    o.last_modified = parse_iso8601(xml_first(block, "LastModified"));
    page.objects.push_back(std::move(o));
  }
  if (xml_first(xml, "IsTruncated") == "true") {
    page.next_continuation_token = xml_first(xml, "NextContinuationToken");
  }
  return page;
}

}  // namespace pgbackup
