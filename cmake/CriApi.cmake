# Generates the CRI (runtime.v1) C++ and gRPC stubs from api.proto at build time.
#
# BERTH_CRI_API_PROTO names the api.proto to use (default: ../shared/cri-api/v0.36.3/api.proto).
# Where that file is missing, the same tag's file is downloaded and its sha256 checked.
# Debian's protoc 3.21 does not know the `[debug_redact = true]` field option; it only changes how
# a message is printed, never the wire format, so it is stripped before protoc runs.

set(BERTH_CRI_API_TAG "v0.36.3")
set(BERTH_CRI_API_SHA256 "6d130c2651d335bfc755d25efc63072a1cd1eba3591ead6422dc0a27f20167f3")
set(BERTH_CRI_API_PROTO "${CMAKE_SOURCE_DIR}/../shared/cri-api/${BERTH_CRI_API_TAG}/api.proto"
    CACHE FILEPATH "Path of the CRI api.proto the stubs are generated from")

set(_cri_dir "${CMAKE_BINARY_DIR}/cri-api")
set(_cri_source "${BERTH_CRI_API_PROTO}")
if(NOT EXISTS "${_cri_source}")
  set(_cri_source "${_cri_dir}/download/api.proto")
  if(NOT EXISTS "${_cri_source}")
    set(_url "https://raw.githubusercontent.com/kubernetes/cri-api/${BERTH_CRI_API_TAG}/pkg/apis/runtime/v1/api.proto")
    message(STATUS "CRI api.proto not found at ${BERTH_CRI_API_PROTO}; downloading ${_url}")
    file(DOWNLOAD "${_url}" "${_cri_source}" EXPECTED_HASH SHA256=${BERTH_CRI_API_SHA256} STATUS _status)
    list(GET _status 0 _code)
    if(NOT _code EQUAL 0)
      file(REMOVE "${_cri_source}")
      message(FATAL_ERROR "could not download the CRI api.proto (${_status}); set BERTH_CRI_API_PROTO")
    endif()
  endif()
endif()

file(SHA256 "${_cri_source}" _actual_sha)
if(NOT _actual_sha STREQUAL BERTH_CRI_API_SHA256)
  message(WARNING "${_cri_source} is not the ${BERTH_CRI_API_TAG} api.proto (sha256 ${_actual_sha})")
endif()

# protoc needs the file at a path matching its package layout for stable include names.
set(_proto_dir "${_cri_dir}/proto")
set(_stripped "${_proto_dir}/api.proto")
file(READ "${_cri_source}" _proto_text)
string(REGEX REPLACE "[ \t]*\\[debug_redact[ \t]*=[ \t]*true\\]" "" _proto_text "${_proto_text}")
file(CONFIGURE OUTPUT "${_stripped}" CONTENT "${_proto_text}" @ONLY)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${_cri_source}")

find_program(BERTH_GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
set(_gen "${_cri_dir}/gen")
set(_outputs "${_gen}/api.pb.cc" "${_gen}/api.pb.h" "${_gen}/api.grpc.pb.cc" "${_gen}/api.grpc.pb.h")
add_custom_command(
  OUTPUT ${_outputs}
  COMMAND ${CMAKE_COMMAND} -E make_directory "${_gen}"
  COMMAND protobuf::protoc --proto_path=${_proto_dir} --cpp_out=${_gen} --grpc_out=${_gen}
          --plugin=protoc-gen-grpc=${BERTH_GRPC_CPP_PLUGIN} ${_stripped}
  DEPENDS "${_stripped}" protobuf::protoc
  COMMENT "Generating CRI stubs from ${_cri_source}")

add_library(berth_cri_api STATIC ${_outputs})
# Generated code is not ours to warn about.
target_compile_options(berth_cri_api PRIVATE -w)
target_include_directories(berth_cri_api SYSTEM PUBLIC "${_gen}")
target_link_libraries(berth_cri_api PUBLIC protobuf::libprotobuf PkgConfig::GRPCPP)
