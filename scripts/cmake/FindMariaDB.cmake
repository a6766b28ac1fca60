# Finds MariaDB Connector/C (the libmysqlclient API) and defines MariaDB::MariaDB.
# Debian: libmariadb-dev (headers in /usr/include/mariadb, library libmariadb.so).
find_path(MariaDB_INCLUDE_DIR NAMES mysql.h PATH_SUFFIXES mariadb)
find_library(MariaDB_LIBRARY NAMES mariadb libmariadb)
if(MariaDB_INCLUDE_DIR AND EXISTS "${MariaDB_INCLUDE_DIR}/mariadb_version.h")
  file(STRINGS "${MariaDB_INCLUDE_DIR}/mariadb_version.h" _dal_mdb_ver
       REGEX "^#define MARIADB_PACKAGE_VERSION \"[^\"]+\"")
  string(REGEX REPLACE ".*\"([^\"]+)\".*" "\\1" MariaDB_VERSION "${_dal_mdb_ver}")
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(MariaDB
  REQUIRED_VARS MariaDB_LIBRARY MariaDB_INCLUDE_DIR VERSION_VAR MariaDB_VERSION)
if(MariaDB_FOUND AND NOT TARGET MariaDB::MariaDB)
  add_library(MariaDB::MariaDB UNKNOWN IMPORTED)
  set_target_properties(MariaDB::MariaDB PROPERTIES
    IMPORTED_LOCATION "${MariaDB_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${MariaDB_INCLUDE_DIR}")
endif()
mark_as_advanced(MariaDB_INCLUDE_DIR MariaDB_LIBRARY)
