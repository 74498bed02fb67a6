// `fan data fetch` and `fan data info`: the command line's data subcommands.
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace fan::cli {

// Registers `data` with its subcommands `fetch` and `info` on `app`. Their
// callbacks throw fan::Error on failure (main prints it and exits 1).
void add_data_commands(CLI::App& app);

}  // namespace fan::cli
