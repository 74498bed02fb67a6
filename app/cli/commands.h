// Subcommands of `fan` registered by their own translation units.
#pragma once
#include <CLI/CLI.hpp>

namespace fan::cli {

// `fan bench speed`: stage-1 and stage-2 step throughput.
void add_bench_commands(CLI::App& app);

// `fan tsne`, `fan pca`, `fan features`, `fan figures`: embeddings and the paper's figures.
void add_analysis_commands(CLI::App& app);

// `fan sweep`: grids of runs from a sweep file, run locally or as a Slurm array, and their tables.
void add_sweep_commands(CLI::App& app);

}  // namespace fan::cli
