// The cap on the connections one client address holds at once.
#include "agent/web/connection_limit.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using pgbackup::ConnectionLimit;
using Admission = ConnectionLimit::Admission;

TEST_CASE("one address holds at most its cap, others are not affected, a close frees a place") {
  struct Step {
    const char* what;
    bool open;  // true: a new connection, false: one closes
    std::string address;
    Admission expected = Admission::kAdmitted;  // for a new connection
  };
  const std::vector<Step> steps = {
      {"first of 127.0.0.2", true, "127.0.0.2"},
      {"second of 127.0.0.2", true, "127.0.0.2"},
      {"third of 127.0.0.2: over the cap of 2, first refusal", true, "127.0.0.2",
       Admission::kFirstRefused},
      {"fourth of 127.0.0.2: refused again, not logged again", true, "127.0.0.2",
       Admission::kRefused},
      {"another address is admitted", true, "127.0.0.1"},
      {"and its second", true, "127.0.0.1"},
      {"one of 127.0.0.2 closes", false, "127.0.0.2"},
      {"its place is taken", true, "127.0.0.2"},
      {"and the next is refused, logged as a new episode", true, "127.0.0.2",
       Admission::kFirstRefused},
  };
  ConnectionLimit limit(2);
  for (const Step& step : steps) {
    INFO(step.what);
    if (step.open) {
      CHECK(limit.admit(step.address) == step.expected);
    } else {
      limit.release(step.address);
    }
  }
  CHECK(limit.open("127.0.0.2") == 2);
  CHECK(limit.open("127.0.0.1") == 2);
  CHECK(limit.open("::1") == 0);
  CHECK(limit.refused() == 3);
}

TEST_CASE("closing every connection of an address forgets it and a stray close is ignored") {
  ConnectionLimit limit(1);
  CHECK(limit.admit("10.0.0.1") == Admission::kAdmitted);
  limit.release("10.0.0.1");
  limit.release("10.0.0.1");  // not counted twice
  CHECK(limit.open("10.0.0.1") == 0);
  CHECK(limit.admit("10.0.0.1") == Admission::kAdmitted);
  CHECK(limit.admit("10.0.0.1") == Admission::kFirstRefused);
  CHECK_THROWS_AS(ConnectionLimit(0), std::invalid_argument);
}
