// Which source the program was built from, for the records a run leaves (results.json "versions").
#pragma once

namespace fan::util {

// The git commit of the source tree at build time ("3f2a9c1b04de", "+modified" appended when tracked
// files differed from it, "unknown" when built outside a git checkout).
const char* build_commit();

}  // namespace fan::util
