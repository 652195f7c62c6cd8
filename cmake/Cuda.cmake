# CUDA is optional: AGENTD_CUDA=AUTO enables it when nvcc is found, ON requires it, OFF skips it.
# Every kernel has a CPU path, so a build without CUDA is complete. Code is generated for Hopper
# (sm_90a, which the wgmma/TMA kernels need) plus compute_90 PTX that newer GPUs can JIT.
set(AGENTD_HAVE_CUDA OFF)
if(NOT AGENTD_CUDA STREQUAL "OFF")
  if(NOT CMAKE_CUDA_COMPILER)
    find_program(_agentd_nvcc nvcc HINTS /usr/local/cuda/bin ENV CUDA_HOME PATH_SUFFIXES bin)
    if(_agentd_nvcc)
      set(CMAKE_CUDA_COMPILER ${_agentd_nvcc})
    endif()
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(CMAKE_CUDA_ARCHITECTURES OFF)
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(CMAKE_CUDA_STANDARD 17)  # the newest dialect CMake 3.25 knows for nvcc
    set(CMAKE_CUDA_STANDARD_REQUIRED ON)
    string(APPEND CMAKE_CUDA_FLAGS
           " -gencode=arch=compute_90a,code=sm_90a -gencode=arch=compute_90,code=compute_90")
    set(AGENTD_HAVE_CUDA ON)
  elseif(AGENTD_CUDA STREQUAL "ON")
    message(FATAL_ERROR "AGENTD_CUDA=ON but no working nvcc was found")
  endif()
endif()
message(STATUS "agentd: CUDA backend ${AGENTD_HAVE_CUDA}")
