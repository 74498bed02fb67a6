# Compiler warnings, set per target with fan_set_warnings(target).
function(fan_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  endif()
endfunction()

# Targets that include LibTorch reuse fan_core's precompiled header instead of
# parsing torch.h again (about a minute per target on two cores).
function(fan_reuse_torch_pch target)
  target_precompile_headers(${target} REUSE_FROM fan_core)
  # Executables get -fPIE, which makes GCC reject a header precompiled with
  # -fPIC; the later -fPIC wins and PIC objects link into a PIE as well.
  get_target_property(type ${target} TYPE)
  if(type STREQUAL "EXECUTABLE" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -fPIC)
  endif()
endfunction()

# FAN_SANITIZE: AddressSanitizer + UndefinedBehaviorSanitizer on every target
# of this project (LibTorch and Qt themselves stay uninstrumented).
option(FAN_SANITIZE "Build with -fsanitize=address,undefined" OFF)
if(FAN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
