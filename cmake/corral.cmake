# corral_library(NAME DIR <dir> DEPS <libs...>)
# One static library per layer; sources are every .cc directly in DIR (a layer with no .cc yet
# becomes a header-only interface library). Dependencies only point downward (DEVELOPERS.md);
# tests/layering_test.sh enforces it on #include lines.
function(corral_library name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${ARG_DIR}/*.cc)
  if(srcs)
    add_library(${name} STATIC ${srcs})
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()
