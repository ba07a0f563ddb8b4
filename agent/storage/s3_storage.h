#pragma once

#include <string>

#include "agent/storage/s3/client.h"
#include "agent/storage/storage.h"

namespace pgbackup {

// The objects under a prefix of a bucket, through an S3Client.
class S3Storage : public Storage {
 public:
  S3Storage(S3Client& client, std::string prefix) : client_(client), prefix_(std::move(prefix)) {}

  // The object key of `name`: the prefix followed by the name.
  std::string key(const std::string& name) const { return prefix_ + name; }

  std::string address(const std::string& name) const override {
    return format_s3_url(client_.config().bucket, key(name));
  }
  std::vector<StoredFile> list() override;
  std::string read(const std::string& name) override { return client_.get_bytes(key(name)); }
  void remove(const std::string& name) override { client_.remove(key(name)); }

 private:
  S3Client& client_;
  std::string prefix_;
};

}  // namespace pgbackup
