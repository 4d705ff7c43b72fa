# Bakes the git commit and dirty flag into the binary at every build (not only at configure),
# so the provenance of a results file names the code that produced it.
set(LADDERBENCH_GIT_INFO_CPP ${CMAKE_BINARY_DIR}/generated/git_info.cpp)
add_custom_target(ladderbench_git_info
  COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${LADDERBENCH_GIT_INFO_CPP}
          -P ${CMAKE_SOURCE_DIR}/cmake/WriteGitInfo.cmake
  BYPRODUCTS ${LADDERBENCH_GIT_INFO_CPP}
  COMMENT "Recording git commit")
