// pgBackRest's preflight checks (pure): pgbackrest.conf's stanza, archive_mode, archive_command.
// The I/O around them runs against a real cluster in tests/integration/pgbackrest_config_test.cpp.
#include "agent/engines/pgbackrest/preflight.h"

#include <catch2/catch.hpp>

using namespace pgbackup::pgbackrest;

namespace {

// "" when no problem, else "error: ..." / "warning: ..." with the hint.
std::string outcome(const std::optional<PreflightProblem>& p) { return p ? describe(*p) : ""; }

// No problem when `expected` is "", else one whose text contains it.
void check_outcome(const std::optional<PreflightProblem>& p, const std::string& expected) {
  const std::string got = outcome(p);
  if (expected.empty()) {
    CHECK(got.empty());
  } else {
    CHECK_THAT(got, Catch::Contains(expected));
  }
}

ConfFile text(const std::string& body) {
  return {"/etc/pgbackrest/pgbackrest.conf", body, false, ""};
}

}  // namespace

TEST_CASE("preflight: pgbackrest.conf must exist, be readable and name the stanza") {
  struct Case {
    const char* name;
    ConfFile conf;
    const char* expected;  // a part of the outcome, "" for none
  };
  const std::vector<Case> cases = {
      {"the section", text("[global]\nrepo1-path=/r\n\n[pulse]\npg1-path=/pg\n"), ""},
      {"indented, with CRLF", text("[global]\r\n  [pulse]  \r\npg1-path=/pg\r\n"), ""},
      {"a command section of it", text("[pulse:archive-push]\nprocess-max=2\n"), ""},
      {"another stanza only", text("[global]\nrepo1-path=/r\n[main]\npg1-path=/pg\n"),
       "error: pgbackrest.conf /etc/pgbackrest/pgbackrest.conf has no [pulse] section (hint: add "
       "[pulse]"},
      {"a longer name is another stanza", text("[pulse2]\npg1-path=/pg\n"), "has no [pulse]"},
      {"only in a comment", text("# [pulse]\n; [pulse]\n[global]\n"), "has no [pulse]"},
      {"empty file", text(""), "has no [pulse] section"},
      {"missing",
       {"/etc/pgbackrest/pgbackrest.conf", std::nullopt, true, "No such file"},
       "error: pgbackrest.conf /etc/pgbackrest/pgbackrest.conf does not exist (hint: write it "
       "with a [pulse] section"},
      {"unreadable",
       {"/etc/pgbackrest/pgbackrest.conf", std::nullopt, false, "Permission denied"},
       "error: cannot read pgbackrest.conf /etc/pgbackrest/pgbackrest.conf: Permission denied "
       "(hint: let the agent's user read it"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    check_outcome(check_conf_stanza(c.conf, "pulse"), c.expected);
  }
}

TEST_CASE("preflight: archive_mode must be on or always") {
  CHECK(outcome(check_archive_mode("on")).empty());
  CHECK(outcome(check_archive_mode("always")).empty());
  CHECK(outcome(check_archive_mode("off")) ==
        "error: archive_mode is off (hint: set archive_mode = on in postgresql.conf and restart)");
}

TEST_CASE("preflight: archive_command must push to this stanza with pgbackrest archive-push") {
  struct Case {
    const char* name;
    const char* command;
    const char* expected;  // a part of the outcome, "" for none
  };
  const std::vector<Case> cases = {
      {"--stanza=", "pgbackrest --stanza=pulse archive-push %p", ""},
      {"--stanza NAME", "pgbackrest --stanza pulse archive-push %p", ""},
      {"full path, config, after the verb",
       "/usr/bin/pgbackrest --config=/etc/pgbackrest/pgbackrest.conf archive-push %p "
       "--stanza=pulse",
       ""},
      {"quoted", "'pgbackrest' \"--stanza=pulse\" archive-push \"%p\"", ""},
      {"through sudo", "sudo -n -u postgres pgbackrest --stanza=pulse archive-push %p", ""},
      {"another stanza", "pgbackrest --stanza=main archive-push %p",
       "error: archive_command pushes to stanza main, not pulse (hint: set archive_command = "
       "'pgbackrest --stanza=pulse archive-push %p'"},
      {"another stanza, spaced", "pgbackrest --stanza main archive-push %p",
       "pushes to stanza main"},
      {"a longer stanza name", "pgbackrest --stanza=pulse2 archive-push %p",
       "pushes to stanza pulse2"},
      {"empty", "", "error: archive_command is empty: no WAL reaches the repository"},
      {"blank", "   ", "error: archive_command is empty"},
      {"disabled", "(disabled)", "error: archive_command is (disabled)"},
      {"no stanza named", "pgbackrest archive-push %p", "warning: archive_command"},
      {"a wrapper script", "/usr/local/bin/archive-wal.sh %p %f",
       "warning: archive_command '/usr/local/bin/archive-wal.sh %p %f' does not run pgbackrest "
       "archive-push: the agent cannot tell whether WAL reaches stanza pulse"},
      {"another tool", "cp %p /mnt/archive/%f", "warning:"},
      {"pgbackrest, another verb", "pgbackrest --stanza=pulse archive-get %f %p", "warning:"},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    check_outcome(check_archive_command(c.command, "pulse"), c.expected);
  }
}

TEST_CASE("preflight: without --config, a stanza in conf.d counts, as pgBackRest reads it") {
  const ConfFile defaults{"/etc/pgbackrest/pgbackrest.conf", "[global]\nrepo1-path=/r\n", false,
                          ""};
  const ConfFile missing{"/etc/pgbackrest/pgbackrest.conf", std::nullopt, true, "No such file"};
  const ConfFile pulse{"/etc/pgbackrest/conf.d/pulse.conf", "[pulse]\npg1-path=/d\n", false, ""};
  const ConfFile unreadable{"/etc/pgbackrest/conf.d/x.conf", std::nullopt, false, "denied"};

  CHECK_FALSE(check_conf_stanza(merge_conf_files(defaults, {pulse}), "pulse").has_value());
  // pgBackRest needs no defaults file when its include directory has the stanza.
  const ConfFile only_include = merge_conf_files(missing, {unreadable, pulse});
  CHECK_FALSE(check_conf_stanza(only_include, "pulse").has_value());
  CHECK_THAT(only_include.path, Catch::Contains("(and 1 file in its conf.d)"));
  // Nothing read: still the defaults file's own problem.
  const auto none = check_conf_stanza(merge_conf_files(missing, {unreadable}), "pulse");
  REQUIRE(none.has_value());
  CHECK_THAT(none->message, Catch::Contains("does not exist"));
  const auto other = check_conf_stanza(merge_conf_files(defaults, {pulse}), "other");
  REQUIRE(other.has_value());
  CHECK_THAT(other->message, Catch::Contains("has no [other] section"));
}

TEST_CASE("preflight: archive_library must be empty, or archive_command is ignored") {
  CHECK_FALSE(check_archive_library("").has_value());
  CHECK_FALSE(check_archive_library("  ").has_value());
  const auto p = check_archive_library("basic_archive");
  REQUIRE(p.has_value());
  CHECK(p->error);
  CHECK_THAT(p->message, Catch::Contains("archive_library is 'basic_archive'") &&
                             Catch::Contains("ignores archive_command"));
  CHECK_THAT(p->hint, Catch::Contains("ALTER SYSTEM RESET archive_library"));
}

TEST_CASE("preflight: the default pgbackrest.conf is pgBackRest's own default path") {
  pgbackup::PgBackRestConfig c;
  CHECK(effective_conf_path(c) == "/etc/pgbackrest/pgbackrest.conf");
  c.config = "/srv/pgbackrest.conf";
  CHECK(effective_conf_path(c) == "/srv/pgbackrest.conf");
}
