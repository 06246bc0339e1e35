# Turns one engine-owned Lua file into a C source file holding its bytes, so the one binary
# carries it (engine/lua/llm.lua -> ain.llm, loaded by engine/lua/ain_llm.c). Run at build time:
#   cmake -DSRC=<file.lua> -DOUT=<file.c> -DSYMBOL=<name> -P embed_lua.cmake
# Defines `const char SYMBOL[]` (NUL-terminated) and `const size_t SYMBOL_len` (without the NUL).
cmake_minimum_required(VERSION 3.18)
foreach(v SRC OUT SYMBOL)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "embed_lua.cmake: -D${v}=... is required")
  endif()
endforeach()
file(READ ${SRC} hex HEX)
file(SIZE ${SRC} size)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){24})" "\\1\n  " bytes "${bytes}")
file(WRITE ${OUT}.tmp "/* Generated from ${SRC} by cmake/embed_lua.cmake: do not edit. */\n"
  "#include <stddef.h>\n\n"
  "const char ${SYMBOL}[] = {\n  ${bytes}0};\n"
  "const size_t ${SYMBOL}_len = ${size};\n")
file(RENAME ${OUT}.tmp ${OUT})
