// Data-parallel runs from the command line: joining the ranks that torchrun, srun or
// `fan run --nproc N` start, and `--nproc N` itself (N local processes on Gloo).
#pragma once
#include "core/dist/group.h"
#include "core/io/config.h"

#include <memory>
#include <string>
#include <vector>

namespace fan::cli {

// The group of a distributed run (null when this process runs alone), set as dist::current().
std::unique_ptr<dist::Group> join_ranks(const io::ExperimentConfig& config);

// Whether this process is rank 0 (or alone): only it prints progress and the results line.
bool is_rank0();

// Starts `nproc` copies of this program with `args` (argv without --nproc) as ranks 0…nproc−1 on
// localhost, waits for them, and returns the exit code; a rank that fails ends the others.
int launch_local_ranks(int nproc, const std::vector<std::string>& args);

}  // namespace fan::cli
