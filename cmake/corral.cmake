# corral_library(NAME DIR <dir> [FILES <f.cc...> | EXCLUDE <f.cc...>] DEPS <libs...>)
# One static library per layer; sources are every .cc directly in DIR (a layer with no .cc yet
# becomes a header-only interface library), or only FILES, or all but EXCLUDE (src/server/ holds
# two layers: the shared code, and app.cc that composes every API folder on top of it).
# Dependencies only point downward (DEVELOPERS.md); tests/layering_test.sh enforces it on
# #include lines and on these DEPS.
function(corral_library name)
  cmake_parse_arguments(ARG "" "DIR" "DEPS;FILES;EXCLUDE" ${ARGN})
  if(ARG_FILES)
    list(TRANSFORM ARG_FILES PREPEND ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_DIR}/ OUTPUT_VARIABLE srcs)
  else()
    file(GLOB srcs CONFIGURE_DEPENDS ${ARG_DIR}/*.cc)
  endif()
  foreach(excluded IN LISTS ARG_EXCLUDE)
    list(REMOVE_ITEM srcs ${CMAKE_CURRENT_SOURCE_DIR}/${ARG_DIR}/${excluded})
  endforeach()
  if(srcs)
    add_library(${name} STATIC ${srcs})
    if(CORRAL_SANITIZE AND NOT CORRAL_FUZZ AND name IN_LIST corral_sanitize_og_libraries)
      target_compile_options(${name} PRIVATE -Og)  # cmake/sanitizers.cmake
    endif()
    target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  else()
    add_library(${name} INTERFACE)
    target_include_directories(${name} INTERFACE ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(${name} INTERFACE ${ARG_DEPS})
  endif()
endfunction()
