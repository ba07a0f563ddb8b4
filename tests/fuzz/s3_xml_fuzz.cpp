// The S3 XML answers (ListObjectsV2 pages, errors, multipart uploads): any body parses, never an
// exception.
#include <string>

#include "agent/storage/s3/xml.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body = pgbackup::fuzz::text_of(data, size);
  const pgbackup::S3ListPage page = pgbackup::parse_list_page(body);
  pgbackup::fuzz::require(page.objects.size() <= size / 10, "one object per <Contents> block");
  for (const char* tag : {"Code", "Message", "UploadId", "ETag"}) {
    (void)pgbackup::unquote(pgbackup::xml_first(body, tag));
  }
  return 0;
}
