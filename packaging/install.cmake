# install.cmake — the installed files whose text names install paths, written for the prefix being installed to.
#
# Run by `cmake --install` (so by `make install` and by CPack) after CMakeLists.txt's install(CODE) set
# RTML_PACKAGING (this folder), RTML_PACKAGING_OUT (the build's copy) and RTML_BINDIR. The unit's ExecStart names
# PREFIX/bin/rtml, its config directory and /etc/default/rtml follow GNUInstallDirs: /etc for prefix /usr (the
# .deb), PREFIX/etc otherwise. file(INSTALL) adds DESTDIR, as install() rules do.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(RTML_SYSCONFDIR /etc)
else()
  set(RTML_SYSCONFDIR "${CMAKE_INSTALL_PREFIX}/etc")
endif()
set(RTML_BIN "${CMAKE_INSTALL_PREFIX}/${RTML_BINDIR}/rtml")
configure_file("${RTML_PACKAGING}/rtml@.service.in" "${RTML_PACKAGING_OUT}/rtml@.service" @ONLY)
file(INSTALL DESTINATION "${CMAKE_INSTALL_PREFIX}/lib/systemd/system" TYPE FILE
     FILES "${RTML_PACKAGING_OUT}/rtml@.service")
# The environment file is the user's once installed: an install over an existing one keeps it (the .deb marks it
# a conffile, so dpkg asks instead).
if(EXISTS "$ENV{DESTDIR}${RTML_SYSCONFDIR}/default/rtml")
  message(STATUS "Keeping: $ENV{DESTDIR}${RTML_SYSCONFDIR}/default/rtml")
else()
  file(INSTALL DESTINATION "${RTML_SYSCONFDIR}/default" TYPE FILE RENAME rtml FILES "${RTML_PACKAGING}/rtml.default")
endif()
# The configs' directory, empty: one NAME.yaml per rtml@NAME.
file(MAKE_DIRECTORY "$ENV{DESTDIR}${RTML_SYSCONFDIR}/rtml")
