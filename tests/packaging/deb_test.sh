#!/usr/bin/env bash
# CTest "packaging: deb": builds the Debian package with CPack, lints it, installs it on this
# machine with dpkg, checks every path, owner and mode, the unit (systemd-analyze verify and
# security), the man pages and the bash completion, runs the installed agent as user pgbackup
# with the installed config and environment file against a throwaway PostgreSQL cluster
# (backup, check, config-check, and the daemon over TLS, which needs the private CivetWeb
# OpenSSL shim through the RUNPATH), then removes and purges the package: the config stays on
# remove and goes on purge; the backups always stay.
#
#   tests/packaging/deb_test.sh BUILD_DIR
#
# Exits 77 (CTest: skipped) when not root or a tool is missing; with PGBACKUP_CI=1 such a skip
# is a failure. Refuses to run (skip) where pgbackup-agent is really installed.
set -euo pipefail
build=$(realpath "${1:?usage: deb_test.sh BUILD_DIR}")
source_dir=$(realpath "$(dirname "$0")/../..")

skip() {
  echo "SKIP: $*"
  if [ "${PGBACKUP_CI:-0}" = 1 ]; then
    echo "FAIL: PGBACKUP_CI=1: the packaging test must run here" >&2
    exit 1
  fi
  exit 77
}
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
die() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i, user pgbackup)"
for tool in dpkg dpkg-deb dpkg-shlibdeps cpack lintian man systemd-analyze runuser setpriv readelf \
  openssl curl /usr/bin/python3 adduser; do
  command -v "$tool" >/dev/null || skip "no $tool (scripts/setup installs it)"
done
[ -x /usr/lib/postgresql/15/bin/initdb ] || skip "no PostgreSQL 15 server binaries"
getent passwd postgres >/dev/null || skip "no postgres user"
grep -q '^CMAKE_INSTALL_PREFIX:PATH=/usr$' "$build/CMakeCache.txt" ||
  die "$build is not configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/package does that)"

marker=/etc/pgbackup/.installed-by-deb-test
if dpkg-query -W -f='${Status}' pgbackup-agent 2>/dev/null | grep -q "ok installed"; then
  if [ -e "$marker" ]; then
    echo "removing the package a killed run of this test left installed"
    dpkg --purge pgbackup-agent >/dev/null
  else
    skip "pgbackup-agent is installed on this machine; this test would replace it"
  fi
fi

work=$(mktemp -d /tmp/pgbackup-deb-test.XXXXXX)
chmod 755 "$work"
backups=/var/lib/pgbackup/deb-test-$$
had_user=0; getent passwd pgbackup >/dev/null && had_user=1
had_home=0; [ -e /var/lib/pgbackup ] && had_home=1
pg_data=$work/pg/data
agent_pid=
cleanup() {
  set +e
  [ -n "$agent_pid" ] && kill -KILL "$agent_pid" 2>/dev/null
  if [ -f "$pg_data/postmaster.pid" ]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pg_data" -m immediate stop >/dev/null
  fi
  dpkg-query -W -f='${Status}' pgbackup-agent 2>/dev/null | grep -q "ok installed\|config-files" &&
    dpkg --purge pgbackup-agent >/dev/null
  rm -rf "$backups" "$work"
  [ "$had_home" = 0 ] && rm -rf /var/lib/pgbackup
  [ "$had_user" = 0 ] && getent passwd pgbackup >/dev/null && { userdel pgbackup ||
    echo "cleanup: could not remove user pgbackup"; }
  [ "$had_user" = 0 ] && getent group pgbackup >/dev/null && groupdel pgbackup 2>/dev/null
}
trap cleanup EXIT

# --- build the package ------------------------------------------------------------------------
(cd "$build" && cpack -G DEB -B "$work/cpack" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; die "cpack failed"; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
arch=$(dpkg --print-architecture)
deb=$work/cpack/pgbackup-agent_${version}_${arch}.deb
[ -f "$deb" ] || die "no $deb (cpack made: $(ls "$work/cpack"))"
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for dep in postgresql-client adduser libc6 libcivetweb1 libpqxx libssl3 libcurl4 libyaml-cpp; do
  [[ ", $depends" == *", $dep"* ]] || fail "Depends lacks $dep"
done
recommends=$(dpkg-deb -f "$deb" Recommends)
[ "$recommends" = pgbackrest ] && pass "Recommends: pgbackrest" || fail "Recommends: $recommends"

# Nothing of the build tree: no path of the checkout in any file, binaries stripped.
mkdir "$work/tree"
dpkg-deb -x "$deb" "$work/tree"
leaks=$(grep -rlF "$source_dir" "$work/tree" || true)
[ -z "$leaks" ] || fail "files name the build tree $source_dir: $leaks"
for elf in usr/bin/pgbackup-agent usr/lib/pgbackup-agent/libssl.so; do
  ! readelf -S "$work/tree/$elf" | grep -qE '\.(symtab|debug_info)' || fail "$elf is not stripped"
done
unexpected=$(dpkg-deb -c "$deb" | awk '{print $6}' |
  grep -vE '^\./(etc/(default|pgbackup)/|lib/systemd/system/|usr/bin/|usr/lib/pgbackup-agent/|usr/share/(pgbackup-agent|man|bash-completion|doc)/)' |
  grep -vE '^\./(etc|lib|lib/systemd|usr|usr/lib|usr/share)/$' || true)
[ -z "$unexpected" ] || fail "unexpected files in the package: $unexpected"

# --- lintian: errors fail, warnings are printed ----------------------------------------------
lintian_out=$(lintian --display-info --fail-on error "$deb" 2>&1) && lintian_rc=0 || lintian_rc=$?
echo "lintian (exit $lintian_rc):"
printf '%s\n' "$lintian_out" | grep -v '^running with root privileges' | sed 's/^/  /'
[ "$lintian_rc" = 0 ] || fail "lintian reports errors"
# The license (Apache-2.0, LICENSE) is declared in machine-readable debian/copyright: no
# copyright tag of any level.
copyright_tags=$(printf '%s\n' "$lintian_out" | grep -E '^[EWIXP]: .*copyright' || true)
[ -z "$copyright_tags" ] && pass "lintian: no copyright tags" ||
  fail "lintian tags the copyright file: $copyright_tags"

# --- install ----------------------------------------------------------------------------------
dpkg -i "$deb" >"$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log"; die "dpkg -i failed"; }
touch "$marker"
pass "dpkg -i"

check_path() {  # PATH TYPE(f|d) OWNER:GROUP MODE
  if [ "$2" = f ] && [ ! -f "$1" ] || [ "$2" = d ] && [ ! -d "$1" ]; then
    fail "$1: missing (or not a $([ "$2" = f ] && echo file || echo directory))"
    return
  fi
  local got; got=$(stat -c '%U:%G %a' "$1")
  [ "$got" = "$3 $4" ] && pass "$1 $got" || fail "$1 is $got, want $3 $4"
}
check_path /usr/bin/pgbackup-agent f root:root 755
check_path /usr/lib/pgbackup-agent/libssl.so f root:root 644
check_path /lib/systemd/system/pgbackup-agent.service f root:root 644
check_path /etc/pgbackup d root:root 755
check_path /etc/pgbackup/pgbackup.yml f root:pgbackup 640
check_path /etc/default/pgbackup-agent f root:root 600
check_path /var/lib/pgbackup d pgbackup:pgbackup 700
check_path /usr/share/pgbackup-agent/alerts/pgbackup.rules.yml f root:root 644
check_path /usr/share/pgbackup-agent/grafana/pgbackup-overview.json f root:root 644
check_path /usr/share/pgbackup-agent/docs/runbooks.md f root:root 644
check_path /usr/share/man/man1/pgbackup-agent.1.gz f root:root 644
check_path /usr/share/man/man5/pgbackup-agent.yml.5.gz f root:root 644
check_path /usr/share/bash-completion/completions/pgbackup-agent f root:root 644
check_path /usr/share/doc/pgbackup-agent/copyright f root:root 644
check_path /usr/share/doc/pgbackup-agent/changelog.gz f root:root 644
grep -qx 'License: Apache-2.0' /usr/share/doc/pgbackup-agent/copyright &&
  cmp -s /usr/share/common-licenses/Apache-2.0 "$source_dir/LICENSE" &&
  pass "copyright: Apache-2.0, the text of LICENSE" ||
  fail "/usr/share/doc/pgbackup-agent/copyright does not name Apache-2.0 (or LICENSE is not its text)"
cmp -s /etc/pgbackup/pgbackup.yml "$source_dir/packaging/pgbackup.yml" ||
  fail "/etc/pgbackup/pgbackup.yml differs from packaging/pgbackup.yml"

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd pgbackup)
[ "$uid" -lt 1000 ] && [ "$home" = /var/lib/pgbackup ] && [[ "$shell" == */nologin || "$shell" == /bin/false ]] &&
  [ "$(getent group pgbackup | cut -d: -f3)" = "$gid" ] &&
  pass "system user pgbackup (uid $uid, home $home, shell $shell, group pgbackup)" ||
  fail "user pgbackup: uid $uid gid $gid home $home shell $shell"

conffiles=$(dpkg-query -W -f='${Conffiles}\n' pgbackup-agent)
for f in /etc/pgbackup/pgbackup.yml /etc/default/pgbackup-agent; do
  grep -q " $f " <<<"$conffiles" && pass "conffile $f" || fail "$f is not a conffile"
done

# The private shim is what the binary loads as libssl.so, through its RUNPATH.
runpath=$(readelf -d /usr/bin/pgbackup-agent | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
[ "$runpath" = '$ORIGIN/../lib/pgbackup-agent' ] && pass "RUNPATH $runpath" || fail "RUNPATH is '$runpath'"
shim=$(ldd /usr/bin/pgbackup-agent | sed -n 's/^[[:space:]]*libssl\.so => \([^ ]*\) .*/\1/p')
[ -n "$shim" ] && [ "$(realpath "$shim")" = /usr/lib/pgbackup-agent/libssl.so ] &&
  pass "libssl.so resolves to the private shim ($shim)" || fail "libssl.so resolves to '$shim'"

# The installed binary is the one this build made: same version line, which names the version
# from CMakeLists.txt and the git revision it was built from.
built_version=$("$build/pgbackup-agent" --version)
got_version=$(/usr/bin/pgbackup-agent --version)
if [ "$got_version" = "$built_version" ] &&
   [[ "$got_version" =~ ^pgbackup-agent\ ${version//./\\.}\ \(revision\ ([0-9a-f]{12}|unknown)\)$ ]]; then
  pass "--version: $got_version"
else
  fail "--version says '$got_version', the build says '$built_version', want version $version and a revision"
fi

# --- the unit ---------------------------------------------------------------------------------
unit=/lib/systemd/system/pgbackup-agent.service
verify_out=$(systemd-analyze verify "$unit" 2>&1) || true
[ -z "$verify_out" ] && pass "systemd-analyze verify" || fail "systemd-analyze verify: $verify_out"
for line in Type=notify User=pgbackup Group=pgbackup 'ExecReload=/bin/kill -HUP $MAINPID' \
  'EnvironmentFile=-/etc/default/pgbackup-agent' \
  'ExecStart=/usr/bin/pgbackup-agent --config /etc/pgbackup/pgbackup.yml run' \
  Restart=on-failure RestartPreventExitStatus=2 ProtectSystem=strict \
  ReadWritePaths=/var/lib/pgbackup CapabilityBoundingSet= UMask=0077 \
  'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' SystemCallFilter=@system-service; do
  grep -qxF "$line" "$unit" || fail "the unit lacks '$line'"
done
# Exit 2 is what the agent returns for a configuration error: the unit must not restart it.
set +e
/usr/bin/pgbackup-agent --config "$work/none.yml" config-check >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && pass "a config error exits 2 (RestartPreventExitStatus=2)" || fail "a missing config exits $rc"
security=$(systemd-analyze security --offline=true --threshold=20 "$unit" 2>&1 | tail -1)
echo "systemd-analyze security: $security"
score=$(sed -n 's/.*exposure level for pgbackup-agent.service: \([0-9.]*\).*/\1/p' <<<"$security")
[ -n "$score" ] && awk "BEGIN{exit !($score <= 2.0)}" && pass "exposure $score <= 2.0" ||
  fail "exposure level '$score' above 2.0 (docs/install.md says 1.2)"

# --- man pages and completion -----------------------------------------------------------------
for page in /usr/share/man/man1/pgbackup-agent.1.gz /usr/share/man/man5/pgbackup-agent.yml.5.gz; do
  warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] && pass "man -l $page: no warnings" || fail "man -l $page: $warnings"
done
MANWIDTH=80 man -l /usr/share/man/man1/pgbackup-agent.1.gz 2>/dev/null | grep -q "pgbackup-agent - scheduled, proven PostgreSQL backups" ||
  fail "pgbackup-agent(1) does not render its NAME"
[ "$(man -w pgbackup-agent 2>/dev/null)" = /usr/share/man/man1/pgbackup-agent.1.gz ] &&
  [ "$(man -w 5 pgbackup-agent.yml 2>/dev/null)" = /usr/share/man/man5/pgbackup-agent.yml.5.gz ] &&
  pass "man finds both pages by name" || fail "man -w: $(man -w pgbackup-agent 2>&1) / $(man -w 5 pgbackup-agent.yml 2>&1)"
completion=$(bash -c '
  _init_completion() { words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; }
  _filedir() { :; }
  . /usr/share/bash-completion/completions/pgbackup-agent
  complete -p pgbackup-agent >/dev/null || exit 1
  COMP_WORDS=(pgbackup-agent --config x.yml con); COMP_CWORD=3; _pgbackup_agent; echo "${COMPREPLY[*]}"
  COMP_WORDS=(pgbackup-agent restore --no); COMP_CWORD=2; _pgbackup_agent; echo "${COMPREPLY[*]}"
  COMP_WORDS=(pgbackup-agent backup --ty); COMP_CWORD=2; _pgbackup_agent; echo "${COMPREPLY[*]}"
  COMP_WORDS=(pgbackup-agent backup --type ""); COMP_CWORD=3; _pgbackup_agent; echo "${COMPREPLY[*]}"
  COMP_WORDS=(pgbackup-agent --config x.yml backup --type incr --t); COMP_CWORD=6; _pgbackup_agent; echo "${COMPREPLY[*]}"')
[ "$completion" = $'config-check\n--no-safety-backup --no-roles\n--type\nfull diff incr\n--target --type' ] && pass "bash completion" ||
  fail "bash completion gave: $completion"

# --- a throwaway PostgreSQL cluster -----------------------------------------------------------
mkdir -p "$work/pg"
chown postgres: "$work/pg"
chmod 700 "$work/pg"
superuser_password=$(head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9)
agent_password=$(head -c 18 /dev/urandom | base64 | tr -dc A-Za-z0-9)
printf '%s\n' "$superuser_password" >"$work/pg/pwfile"
chown postgres: "$work/pg/pwfile"
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
runuser -u postgres -- /usr/lib/postgresql/15/bin/initdb -D "$pg_data" -U postgres \
  --auth=scram-sha-256 --pwfile="$work/pg/pwfile" --no-sync >"$work/initdb.log" 2>&1 ||
  { cat "$work/initdb.log"; die "initdb failed"; }
runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$pg_data" -l "$work/pg/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $work/pg -c fsync=off" start >/dev/null ||
  { cat "$work/pg/log"; die "pg_ctl start failed"; }
# The agent's role reads everything (pg_read_all_data), owns nothing.
PGPASSWORD=$superuser_password psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres <<SQL
CREATE ROLE pgbackup LOGIN PASSWORD '$agent_password' IN ROLE pg_read_all_data;
CREATE TABLE nodes AS SELECT g AS id, md5(g::text) AS name FROM generate_series(1, 1234) g;
SQL

# --- the installed agent as user pgbackup, as the unit runs it --------------------------------
# An operator's edits: the database port and (for this test) a backup directory of its own, in
# the config; the password in the environment file.
sed -i -e "s/^      port: 5432\$/      port: $port/" \
  -e "s|^      dir: /var/lib/pgbackup/main\$|      dir: $backups|" /etc/pgbackup/pgbackup.yml
grep -q "port: $port" /etc/pgbackup/pgbackup.yml && grep -q "dir: $backups" /etc/pgbackup/pgbackup.yml ||
  die "the example config no longer has 'port: 5432' and 'dir: /var/lib/pgbackup/main' to edit"
sed -i "s/^POSTGRES_PASSWORD=\$/POSTGRES_PASSWORD=$agent_password/" /etc/default/pgbackup-agent
grep -qx "POSTGRES_PASSWORD=$agent_password" /etc/default/pgbackup-agent ||
  die "the environment file has no empty POSTGRES_PASSWORD= line to fill"

# As systemd starts it: EnvironmentFile= read as root into an otherwise clean environment, then
# the agent itself (env and setpriv exec it: signals reach it, $! is its pid) as User=pgbackup
# with NoNewPrivileges, UMask=0077, in /.
service=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  HOME=/var/lib/pgbackup USER=pgbackup LOGNAME=pgbackup)
while IFS= read -r line; do
  case $line in '' | '#'*) ;; *) service+=("$line") ;; esac
done </etc/default/pgbackup-agent
service+=(setpriv --reuid=pgbackup --regid=pgbackup --init-groups --no-new-privs
  /usr/bin/pgbackup-agent --config /etc/pgbackup/pgbackup.yml)
as_service() { (cd / && umask 0077 && exec "${service[@]}" "$@"); }
no_secret() {  # FILE WHAT
  ! grep -qF "$agent_password" "$1" || fail "$2 shows the password"
}

as_service backup >"$work/backup.out" 2>&1 && pass "backup as user pgbackup" ||
  { cat "$work/backup.out"; fail "backup as user pgbackup"; }
no_secret "$work/backup.out" "backup's output"
dumps=("$backups"/main_*.dump)
if [ -f "${dumps[0]}" ] && [ -f "${dumps[0]}.json" ]; then
  check_path "$backups" d pgbackup:pgbackup 700
  check_path "${dumps[0]}" f pgbackup:pgbackup 600
  grep -q '"rows": *1234\|"rows":1234' "${dumps[0]}.json" && pass "the manifest counts 1234 rows of nodes" ||
    fail "the manifest lacks nodes' 1234 rows"
else
  fail "no backup with its manifest in $backups: $(ls -la "$backups" 2>&1)"
fi

as_service check >"$work/check.out" 2>&1 && pass "check as user pgbackup" ||
  { cat "$work/check.out"; fail "check as user pgbackup"; }

as_service config-check >"$work/config-check.out" 2>"$work/config-check.err" &&
  pass "config-check as user pgbackup" || { cat "$work/config-check.err"; fail "config-check as user pgbackup"; }
no_secret "$work/config-check.out" "config-check"
no_secret "$work/config-check.err" "config-check"
ts='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00:00Z'
grep -qE "^next backups: 20[0-9]{2}-[0-9]{2}-[0-9]{2}T02:00:00Z(, $ts){4}\$" "$work/config-check.err" &&
  pass "config-check: $(grep '^next backups:' "$work/config-check.err")" ||
  fail "config-check printed no 'next backups:' line of 5 times: $(cat "$work/config-check.err")"

# The daemon over TLS: CivetWeb loads libssl.so by name and needs the shim on every connection.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1
printf 'tls_server_config: {cert_file: %s, key_file: %s}\n' "$work/tls.crt" "$work/tls.key" >"$work/web.yml"
chown pgbackup: "$work/tls.key" "$work/tls.crt" "$work/web.yml"
web_port=$(free_port)
cd /
umask 0077
"${service[@]}" run --web.listen-address "127.0.0.1:$web_port" --web.config.file "$work/web.yml" \
  >"$work/run.log" 2>&1 &
agent_pid=$!
umask 0022
metrics=
for _ in $(seq 100); do
  metrics=$(curl -ksf "https://127.0.0.1:$web_port/metrics" 2>/dev/null) && break
  sleep 0.2
done
grep -q 'pgbackup_backup_last_run_success{target="main"} 1' <<<"$metrics" &&
  pass "the daemon serves /metrics over TLS" || { cat "$work/run.log"; fail "no metrics over TLS"; }
kill -TERM "$agent_pid"
set +e
wait "$agent_pid"
rc=$?
set -e
agent_pid=
[ "$rc" = 0 ] && grep -q ' stopped$' "$work/run.log" && pass "the daemon stops with 0 on SIGTERM" ||
  { cat "$work/run.log"; fail "the daemon exited $rc"; }
no_secret "$work/run.log" "the daemon's log"
count=$(ls "$backups"/main_*.dump | wc -l)

# --- installing again (the upgrade path) keeps the edited conffiles and their modes -----------
dpkg -i "$deb" >"$work/dpkg-i2.log" 2>&1 || { cat "$work/dpkg-i2.log"; die "a second dpkg -i failed"; }
grep -q "port: $port" /etc/pgbackup/pgbackup.yml && grep -qx "POSTGRES_PASSWORD=$agent_password" /etc/default/pgbackup-agent &&
  pass "a second dpkg -i keeps the edited conffiles" || fail "a second dpkg -i replaced an edited conffile"
check_path /etc/pgbackup/pgbackup.yml f root:pgbackup 640
check_path /etc/default/pgbackup-agent f root:root 600
check_path /var/lib/pgbackup d pgbackup:pgbackup 700

# --- remove keeps the config, purge removes it; backups always stay ---------------------------
dpkg -r pgbackup-agent >"$work/dpkg-r.log" 2>&1 || { cat "$work/dpkg-r.log"; die "dpkg -r failed"; }
[ ! -e /usr/bin/pgbackup-agent ] && [ ! -e /usr/lib/pgbackup-agent ] && [ ! -e "$unit" ] &&
  pass "remove: the program is gone" || fail "remove left the program"
grep -q "port: $port" /etc/pgbackup/pgbackup.yml 2>/dev/null && [ -f /etc/default/pgbackup-agent ] &&
  pass "remove: the edited config stays" || fail "remove lost the config"
dpkg --purge pgbackup-agent >"$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log"; die "dpkg --purge failed"; }
[ ! -e /etc/pgbackup ] && [ ! -e /etc/default/pgbackup-agent ] && pass "purge: the config is gone" ||
  fail "purge left $(ls -d /etc/pgbackup /etc/default/pgbackup-agent 2>/dev/null)"
[ "$(ls "$backups"/main_*.dump 2>/dev/null | wc -l)" = "$count" ] && [ "$count" -ge 1 ] &&
  [ -f "${dumps[0]}.json" ] && [ -d /var/lib/pgbackup ] &&
  pass "purge: the $count backup(s) in $backups stay" || fail "purge touched the backups"
getent passwd pgbackup >/dev/null && pass "purge: user pgbackup (owner of the backups) stays" ||
  fail "purge removed user pgbackup"

if [ "$failures" -gt 0 ]; then
  echo "$failures check(s) FAILED"
  exit 1
fi
echo "all checks passed"
