#include "agent/storage/s3_storage.h"

namespace pgbackup {

std::vector<StoredFile> S3Storage::list() {
  std::vector<StoredFile> out;
  for (const S3ObjectInfo& o : client_.list(prefix_)) {
    out.push_back({o.key.substr(prefix_.size()), o.size});
  }
  return out;
}

}  // namespace pgbackup
