// Bounds and CRC checks of a ZIP archive's structure, so that a parser downstream only sees intact records.
#pragma once
#include <string>

namespace fan::util {

// Checks the ZIP structure torch writes (every record stored or deflated,
// inside the file, with a matching CRC-32; ZIP64 included). Throws fan::Error
// "NAME: not a readable KIND (WHAT; truncated or corrupt file?)", e.g.
// name = the file's path, kind = "checkpoint".
void check_zip_structure(const std::string& bytes, const std::string& name, const std::string& kind);

}  // namespace fan::util
