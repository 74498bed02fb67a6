// HTTP downloads for `fan data fetch` (libcurl; without it every download fails with how to do without).
#pragma once
#include "core/data/fetch.h"
#include "core/util/error.h"

#include <filesystem>
#include <string>

namespace fan::data::detail {

// The host part of `url` ("a.b.org" of "https://a.b.org/x/y").
std::string host_of(const std::string& url);

// A download failure; `host_down` when the host could not be reached at all,
// so its other files are not tried again (each try would cost a timeout).
struct DownloadFailure : Error {
  DownloadFailure(const std::string& message, bool down) : Error(message), host_down(down) {}
  bool host_down;
};

// Downloads `url` to `destination` (overwritten), reporting progress under
// `label`. Throws DownloadFailure with the reason. download_url (fetch.h) is
// the public face of this.
void download(const std::string& url, const std::filesystem::path& destination, const FetchOptions& options,
              const std::string& label);

}  // namespace fan::data::detail
