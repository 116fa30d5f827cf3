# Debian packages (issue #15): `cpack -G DEB` in a build folder, no extra build.
#   regulars         the till CLI (regulars: serve, scanner, sync, db ...) and its units
#   libregulars1     the C ABI, libregulars.so.1 (named after its SONAME)
#   libregulars-dev  the header, the libregulars.so link and regulars.pc
#   regulars-hq      regulars-hq, regulars-keys, regulars-provision-pki and the HQ unit
# Each binary is stripped, with its symbols in a -dbgsym package (.ddeb). Maintainer
# scripts are in installer/debian/<package>/, units in installer/systemd/; see
# docs/OPERATIONS.md. The Debian version is the project's unless REGULARS_DEB_VERSION is
# set, at configure time or at packaging time: cpack -G DEB -D REGULARS_DEB_VERSION=0.1.0~prev

# Packages install under /usr. A build folder configured with the default prefix gets /usr
# (so GNUInstallDirs gives /etc and the multiarch library folder).
if(CMAKE_INSTALL_PREFIX_INITIALIZED_TO_DEFAULT)
  set(CMAKE_INSTALL_PREFIX /usr CACHE PATH "Install prefix" FORCE)
endif()
if(NOT DEFINED CACHE{CMAKE_INSTALL_LIBDIR} AND CMAKE_LIBRARY_ARCHITECTURE)
  set(CMAKE_INSTALL_LIBDIR "lib/${CMAKE_LIBRARY_ARCHITECTURE}" CACHE PATH "Object code libraries")
endif()
include(GNUInstallDirs)

set(REGULARS_DEB_VERSION "" CACHE STRING
    "Debian version of the packages (empty: the project's version, ${PROJECT_VERSION})")

set(_pkg ${PROJECT_SOURCE_DIR}/installer)
# Absolute paths Debian 12 wants whatever the prefix: units in /lib/systemd/system
# (bookworm's lintian), configuration in /etc.
set(_units /lib/systemd/system)

# regulars: the till.
install(TARGETS regulars_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT regulars)
install(FILES
  ${_pkg}/systemd/regulars.service
  ${_pkg}/systemd/regulars-sync.service
  ${_pkg}/systemd/regulars-sync.timer
  ${_pkg}/systemd/regulars-backup.service
  ${_pkg}/systemd/regulars-backup.timer
  ${_pkg}/systemd/regulars-scanner@.service
  DESTINATION ${_units} COMPONENT regulars)
install(FILES ${_pkg}/debian/regulars/lintian-overrides
  DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME regulars COMPONENT regulars)

# libregulars1 and libregulars-dev: the C ABI.
install(TARGETS regulars
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT libregulars1
  NAMELINK_COMPONENT libregulars-dev)
install(FILES ${_pkg}/debian/libregulars1/lintian-overrides
  DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME libregulars1 COMPONENT libregulars1)
install(FILES ${PROJECT_SOURCE_DIR}/plugin/include/regulars/regulars.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/regulars COMPONENT libregulars-dev)
# regulars.pc for the packages' prefix.
set(REGULARS_PC_PREFIX /usr)
configure_file(${_pkg}/debian/libregulars-dev/regulars.pc.in
  ${PROJECT_BINARY_DIR}/packaging/regulars.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/packaging/regulars.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT libregulars-dev)

# regulars-hq: headquarters.
install(TARGETS regulars_hq regulars_keys RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
  COMPONENT regulars-hq)
install(PROGRAMS ${_pkg}/provision-pki.sh DESTINATION ${CMAKE_INSTALL_BINDIR}
  RENAME regulars-provision-pki COMPONENT regulars-hq)
install(FILES ${_pkg}/systemd/regulars-hq.service DESTINATION ${_units} COMPONENT regulars-hq)
install(FILES ${_pkg}/debian/regulars-hq/default DESTINATION /etc/default
  RENAME regulars-hq COMPONENT regulars-hq)
install(FILES ${_pkg}/debian/regulars-hq/lintian-overrides
  DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides RENAME regulars-hq COMPONENT regulars-hq)

# Copyright and changelog (gzip -9n, as Debian wants), in every package's doc folder.
configure_file(${_pkg}/debian/changelog.in ${PROJECT_BINARY_DIR}/packaging/changelog @ONLY)
execute_process(COMMAND gzip -9nc ${PROJECT_BINARY_DIR}/packaging/changelog
  OUTPUT_FILE ${PROJECT_BINARY_DIR}/packaging/changelog.gz COMMAND_ERROR_IS_FATAL ANY)
foreach(_comp regulars libregulars1 libregulars-dev regulars-hq)
  install(FILES ${_pkg}/debian/copyright ${PROJECT_BINARY_DIR}/packaging/changelog.gz
    DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/${_comp} COMPONENT ${_comp})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/docs/OPERATIONS.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/regulars COMPONENT regulars)
install(FILES ${PROJECT_SOURCE_DIR}/docs/OPERATIONS.md
  DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/regulars-hq COMPONENT regulars-hq)

set(CPACK_PACKAGE_NAME regulars)
set(CPACK_PACKAGE_VENDOR "Regulars")
set(CPACK_PACKAGE_CONTACT "Regulars maintainers <regulars@example.org>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_HOMEPAGE_URL "https://example.org/regulars")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Not CPACK_STRIP_FILES: CPack strips each ELF file itself (objcopy --strip-unneeded) once
# its symbols are in the -dbgsym package, which it can only do for unstripped files.
set(CPACK_STRIP_FILES OFF)
set(CPACK_SOURCE_IGNORE_FILES "/build/;/\\\\.git/")
set(CPACK_COMPONENTS_ALL regulars libregulars1 libregulars-dev regulars-hq)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libregulars.so.1 is one of ours: dpkg-shlibdeps finds it in the staged package.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS
  ${PROJECT_BINARY_DIR}/plugin)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_DEBIAN_DEBUGINFO_PACKAGE ON)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "${CPACK_PACKAGE_HOMEPAGE_URL}")

set(CPACK_DEBIAN_REGULARS_PACKAGE_NAME regulars)
set(CPACK_DEBIAN_REGULARS_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_REGULARS_DESCRIPTION "loyalty plugin for point-of-sale software: the till
The regulars command line (checkout, sync, db, serve, scanner) over a
local SQLite ledger, and the systemd units that run the till service, the
nightly sync, the daily backup and the barcode scanners.")
set(CPACK_DEBIAN_LIBREGULARS1_PACKAGE_NAME libregulars1)
set(CPACK_DEBIAN_LIBREGULARS1_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_LIBREGULARS1_DESCRIPTION "loyalty plugin for point-of-sale software: C ABI library
The shared library a point-of-sale program loads to recognize customers, apply
their rewards and record purchases in the local ledger.")
set(CPACK_DEBIAN_LIBREGULARS-DEV_PACKAGE_NAME libregulars-dev)
set(CPACK_DEBIAN_LIBREGULARS-DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_LIBREGULARS-DEV_DESCRIPTION "loyalty plugin for point-of-sale software: development files
The C header regulars/regulars.h, the libregulars.so link and the regulars.pc
pkg-config file, to build a point-of-sale program against libregulars1.")
set(CPACK_DEBIAN_REGULARS-HQ_PACKAGE_NAME regulars-hq)
set(CPACK_DEBIAN_REGULARS-HQ_PACKAGE_SECTION net)
set(CPACK_DEBIAN_REGULARS-HQ_DESCRIPTION "loyalty plugin for point-of-sale software: headquarters
regulars-hq (the nightly sync server over mutual TLS, exports for the CRM),
regulars-keys (QR signing keys, payment-card secrets), regulars-provision-pki
(the chain's certificates) and the regulars-hq systemd unit.")

# The versions, the Depends that name our own packages and the maintainer scripts are
# made at packaging time (packaging_cpack.cmake), so that cpack -D REGULARS_DEB_VERSION=
# packages the same build under another version.
set(CPACK_REGULARS_SOURCE_DIR ${PROJECT_SOURCE_DIR})
set(CPACK_REGULARS_DEB_VERSION "${REGULARS_DEB_VERSION}")
set(CPACK_PROJECT_CONFIG_FILE ${_pkg}/packaging_cpack.cmake)
include(CPack)
