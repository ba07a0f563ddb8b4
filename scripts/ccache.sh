# Sourced by scripts/build and scripts/fuzz: sets `ccache_launcher` to the CMake arguments that
# compile through ccache (when installed and PGBACKUP_CCACHE is not 0), keyed on paths relative
# to the checkout, so that a second clone of the same sources, or the same build again after
# `git clean`, reuses the objects instead of compiling them anew. Debug info then names the
# first checkout's directories: only a debugger would notice.
ccache_launcher=()
if [ "${PGBACKUP_CCACHE:-1}" != 0 ] && command -v ccache >/dev/null; then
  ccache_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1
fi
