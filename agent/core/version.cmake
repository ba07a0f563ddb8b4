# Writes version.h (cmake -P, at every build): the project version and the git revision of the
# checkout now. configure_file only rewrites the file when its text changes, so a build
# recompiles what includes version.h only when HEAD moved.
#   cmake -DSOURCE_DIR=... -DPROJECT_VERSION=... -DINPUT=version.h.in -DOUTPUT=version.h -P version.cmake
execute_process(
  COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE PGBACKUP_REVISION
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT PGBACKUP_REVISION)
  set(PGBACKUP_REVISION unknown)
endif()
configure_file(${INPUT} ${OUTPUT} @ONLY)
