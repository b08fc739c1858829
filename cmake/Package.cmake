# The install layout and the Debian package (CPack DEB) of billing.
#
# `cmake --install` puts the program, the migrations, the example config, the
# systemd units, the manual page and the package documentation in their system
# places; `cpack -G DEB` packs the same into a .deb that passes lintian. The
# packaging sources are in cmake/package/:
#   changelog    the Debian changelog; its latest version must be the package
#                version (checked below), installed as changelog.Debian.gz
#   copyright    machine-readable (DEP-5) copyright file
#   conffiles    /etc/billing/billing.conf: dpkg keeps an edited config on
#                upgrade instead of overwriting it
#   description  the extended description of the package
#   billing.h2m  sections help2man adds to the manual page made from --help
#   lintian-overrides  the lintian tags that do not apply, each with its reason

set(billing_package_dir ${PROJECT_SOURCE_DIR}/cmake/package)
# The Debian revision: raise it for a new package of the same program version.
set(billing_deb_revision 1)
set(billing_deb_version ${PROJECT_VERSION}-${billing_deb_revision})

find_program(BILLING_HELP2MAN help2man)
find_program(BILLING_GZIP gzip)
find_program(BILLING_DPKG_PARSECHANGELOG dpkg-parsechangelog)
foreach(tool IN ITEMS BILLING_HELP2MAN BILLING_GZIP BILLING_DPKG_PARSECHANGELOG)
  if(NOT ${tool})
    message(FATAL_ERROR "${tool}: not found; the manual page and package need help2man, gzip "
                        "and dpkg-dev (scripts/setup.sh installs them)")
  endif()
endforeach()

# The changelog names the version being packaged and dates the release; the
# manual page takes that date (SOURCE_DATE_EPOCH), so a rebuild is identical.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${billing_package_dir}/changelog
                                                 ${billing_package_dir}/description)
foreach(field IN ITEMS Version Timestamp)
  execute_process(COMMAND ${BILLING_DPKG_PARSECHANGELOG} -l ${billing_package_dir}/changelog -S ${field}
                  OUTPUT_VARIABLE billing_changelog_${field} OUTPUT_STRIP_TRAILING_WHITESPACE
                  COMMAND_ERROR_IS_FATAL ANY)
endforeach()
if(NOT billing_changelog_Version STREQUAL billing_deb_version)
  message(FATAL_ERROR "cmake/package/changelog: the latest entry is ${billing_changelog_Version}, "
                      "the package is ${billing_deb_version}: add an entry for it")
endif()

# Manual page and changelog, gzipped as Debian wants them (-9, no name or time).
set(billing_man_page ${PROJECT_BINARY_DIR}/billing.1)
add_custom_command(
  OUTPUT ${billing_man_page}.gz
  COMMAND ${CMAKE_COMMAND} -E env SOURCE_DATE_EPOCH=${billing_changelog_Timestamp}
          ${BILLING_HELP2MAN} --no-info --section=1
          "--name=nightly batch billing for prepaid messaging credits"
          --include=${billing_package_dir}/billing.h2m --output=${billing_man_page}
          $<TARGET_FILE:billing>
  COMMAND ${BILLING_GZIP} -9nf ${billing_man_page}
  DEPENDS billing ${billing_package_dir}/billing.h2m
  COMMENT "Generating the manual page billing.1.gz (help2man)"
  VERBATIM)
set(billing_changelog ${PROJECT_BINARY_DIR}/changelog.Debian)
add_custom_command(
  OUTPUT ${billing_changelog}.gz
  COMMAND ${CMAKE_COMMAND} -E copy ${billing_package_dir}/changelog ${billing_changelog}
  COMMAND ${BILLING_GZIP} -9nf ${billing_changelog}
  DEPENDS ${billing_package_dir}/changelog
  VERBATIM)
add_custom_target(billing_package_docs ALL DEPENDS ${billing_man_page}.gz ${billing_changelog}.gz)

install(TARGETS billing RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY sql/ DESTINATION ${CMAKE_INSTALL_DATADIR}/billing/sql)
install(FILES config/billing.conf DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/billing)
install(DIRECTORY systemd/ DESTINATION lib/systemd/system FILES_MATCHING PATTERN "*.service" PATTERN "*.timer")
install(FILES ${billing_man_page}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES ${billing_package_dir}/copyright ${billing_changelog}.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES ${billing_package_dir}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME billing)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME billing)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Nightly batch billing for prepaid messaging credits")
file(READ ${billing_package_dir}/description CPACK_PACKAGE_DESCRIPTION)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# example.org is a placeholder (RFC 2606): whoever ships the package puts their
# own address here and in cmake/package/changelog and copyright.
set(CPACK_PACKAGE_CONTACT "billing maintainers <billing-maintainers@example.org>")
set(CPACK_DEBIAN_PACKAGE_RELEASE ${billing_deb_revision})
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${billing_package_dir}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# No debug info in the package (a RelWithDebInfo build keeps it in build/).
set(CPACK_STRIP_FILES ON)
include(CPack)
