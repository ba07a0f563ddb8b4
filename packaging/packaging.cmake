# Install rules and the Debian package (CPack DEB): `scripts/package` builds
# build/pgbackup-agent_<version>_<arch>.deb; tests/packaging/deb_test.sh installs and checks it.
#
# The install layout is the package's: prefix /usr, configuration in /etc, the unit in
# /lib/systemd/system (Debian 12), the CivetWeb OpenSSL shim in the private directory
# /usr/lib/pgbackup-agent that the binary's RUNPATH names relative to itself.

if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix (the Debian package's: /usr)" FORCE)
endif()
include(GNUInstallDirs)
if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "pgbackup-agent: install prefix ${CMAKE_INSTALL_PREFIX}; the Debian package "
                 "(scripts/package) needs -DCMAKE_INSTALL_PREFIX=/usr")
endif()

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(pgbackup_unit_dir_default /lib/systemd/system)
else()
  set(pgbackup_unit_dir_default ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(PGBACKUP_SYSTEMD_UNIT_DIR ${pgbackup_unit_dir_default} CACHE PATH "Where the systemd unit goes")
set(PGBACKUP_PACKAGE_MAINTAINER "pgbackup-agent maintainers <pgbackup-agent@example.org>"
    CACHE STRING "Maintainer field of the Debian package and its changelog")

set(pgbackup_private_libdir lib/pgbackup-agent)
set(pgbackup_confdir ${CMAKE_INSTALL_FULL_SYSCONFDIR}/pgbackup)
set(pgbackup_datadir ${CMAKE_INSTALL_DATADIR}/pgbackup-agent)
set(pgbackup_docdir ${CMAKE_INSTALL_DATADIR}/doc/pgbackup-agent)
set(pgbackup_packaging ${CMAKE_CURRENT_LIST_DIR})
set(pgbackup_generated ${CMAKE_BINARY_DIR}/packaging)
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
# `cmake --install` and cpack install what is built; scripts/package builds only what the
# package needs instead of the whole test suite.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# The binary finds the shim (NEEDED "libssl.so", kept by the symbol it references, so CivetWeb's
# dlopen("libssl.so") returns the already loaded shim) next to itself, wherever it is installed.
set_target_properties(pgbackup-agent PROPERTIES INSTALL_RPATH "\$ORIGIN/../${pgbackup_private_libdir}")
# Full RELRO: symbols are bound at start-up and the GOT is read-only (lintian hardening-no-bindnow).
target_link_options(pgbackup-agent PRIVATE -Wl,-z,relro,-z,now)
target_link_options(civetweb_openssl3_compat PRIVATE -Wl,-z,relro,-z,now)
install(TARGETS pgbackup-agent RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS civetweb_openssl3_compat LIBRARY DESTINATION ${pgbackup_private_libdir})

# The unit names the installed paths.
set(PGBACKUP_INSTALLED_BINARY ${CMAKE_INSTALL_FULL_BINDIR}/pgbackup-agent)
set(PGBACKUP_INSTALLED_CONFIG ${pgbackup_confdir}/pgbackup.yml)
set(PGBACKUP_INSTALLED_ENVIRONMENT ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default/pgbackup-agent)
configure_file(${pgbackup_packaging}/pgbackup-agent.service.in
               ${pgbackup_generated}/pgbackup-agent.service @ONLY)
install(FILES ${pgbackup_generated}/pgbackup-agent.service DESTINATION ${PGBACKUP_SYSTEMD_UNIT_DIR})

# Conffiles: the example config (0640; postinst gives it group pgbackup) and the secrets (0600).
install(FILES ${pgbackup_packaging}/pgbackup.yml DESTINATION ${pgbackup_confdir}
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${pgbackup_packaging}/pgbackup-agent.default
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/default RENAME pgbackup-agent
        PERMISSIONS OWNER_READ OWNER_WRITE)

install(DIRECTORY ${CMAKE_SOURCE_DIR}/alerts/ DESTINATION ${pgbackup_datadir}/alerts)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/grafana/ DESTINATION ${pgbackup_datadir}/grafana)
if(EXISTS ${CMAKE_SOURCE_DIR}/docs)
  install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${pgbackup_datadir}/docs)
endif()
install(FILES ${pgbackup_packaging}/bash-completion/pgbackup-agent
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)

# Man pages and the changelog carry the project version and are installed gzipped (-n: no
# timestamp, so the package is reproducible).
set(VERSION ${PROJECT_VERSION})
set(MAINTAINER ${PGBACKUP_PACKAGE_MAINTAINER})
set(pgbackup_gzipped)
foreach(page pgbackup-agent.1 pgbackup-agent.yml.5)
  string(REGEX REPLACE ".*\\.([0-9])$" "\\1" section ${page})
  configure_file(${pgbackup_packaging}/man/${page} ${pgbackup_generated}/man/${page} @ONLY)
  list(APPEND pgbackup_gzipped ${pgbackup_generated}/man/${page}.gz)
  install(FILES ${pgbackup_generated}/man/${page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
configure_file(${pgbackup_packaging}/debian/changelog ${pgbackup_generated}/doc/changelog @ONLY)
list(APPEND pgbackup_gzipped ${pgbackup_generated}/doc/changelog.gz)
foreach(gz ${pgbackup_gzipped})
  string(REGEX REPLACE "\\.gz$" "" plain ${gz})
  add_custom_command(OUTPUT ${gz} COMMAND gzip -9nkf ${plain} DEPENDS ${plain} VERBATIM)
endforeach()
add_custom_target(pgbackup_package_files ALL DEPENDS ${pgbackup_gzipped})
install(FILES ${pgbackup_generated}/doc/changelog.gz ${pgbackup_packaging}/debian/copyright
        DESTINATION ${pgbackup_docdir})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME pgbackup-agent)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "scheduled, proven PostgreSQL backups")
set(CPACK_PACKAGE_DESCRIPTION
    "pgbackup-agent takes pg_dump backups of PostgreSQL and TimescaleDB databases
on a schedule and proves each one: SHA-256, pg_restore --list and exact
per-table row counts taken in the same snapshot as the dump. It keeps daily,
weekly and monthly tiers, copies backups to S3, tests restores regularly, and
exports Prometheus metrics, with alert rules and a Grafana dashboard. The
package runs it as a hardened systemd service (Type=notify, user pgbackup).")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${PGBACKUP_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# The shared libraries it links (dpkg-shlibdeps), plus what it runs and what postinst uses.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_BINARY_DIR}/civetweb-compat)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "postgresql-client, adduser")
# `engine: pgbackrest` targets run the operator's pgBackRest (docs/pgbackrest.md).
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "pgbackrest")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${pgbackup_packaging}/debian/postinst ${pgbackup_packaging}/debian/prerm
    ${pgbackup_packaging}/debian/postrm ${pgbackup_packaging}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
