// `pgbackrest repo-ls --output=json` of the WAL archive and the continuity check over it: any
// input parses or throws WalListingError, and the check's counts add up.
#include <string>

#include "agent/engines/pgbackrest/wal.h"
#include "tests/fuzz/fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace pgbackup::pgbackrest;
  using pgbackup::fuzz::require;
  const std::string text = pgbackup::fuzz::text_of(data, size);
  try {
    const WalListing listing = parse_wal_listing(text);
    const WalSegment start =
        listing.segments.empty() ? WalSegment{1, 0, 1} : *listing.segments.begin();
    const WalContinuity r = check_wal_continuity(listing, start);
    std::uint64_t sum = 0;
    for (const auto& g : r.gaps) {
      require(g.count > 0, "a gap misses at least one segment");
      require(g.first <= g.last || g.first.timeline != g.last.timeline, "a gap runs forward");
      sum += g.count;
    }
    require(sum == r.missing, "the gaps add up to the missing count");
    require(missing_segment_names(r, 8).size() <= 8, "names stop at the limit");
  } catch (const WalListingError&) {
  }
  return 0;
}
