// HTTP downloads for `fan data fetch` (libcurl; without it every download fails with how to do without).
#include "core/data/http.h"

#ifdef FAN_WITH_CURL
#include <curl/curl.h>
#endif

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>

namespace fan::data {

namespace fs = std::filesystem;

namespace detail {
namespace {

#ifdef FAN_WITH_CURL
struct Transfer {
  FILE* file = nullptr;
  const FetchOptions* options = nullptr;
  std::string label;
  std::string url;
  std::chrono::steady_clock::time_point last_report;
};

size_t write_chunk(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  return std::fwrite(data, size, count, transfer->file) * size;
}

int report_progress(void* user, curl_off_t total, curl_off_t done, curl_off_t, curl_off_t) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->options->progress) return 0;
  const auto now = std::chrono::steady_clock::now();
  // libcurl calls this many times a second; the caller draws at most ~10 Hz.
  if (now - transfer->last_report < std::chrono::milliseconds(100) && (total == 0 || done < total)) {
    return 0;
  }
  transfer->last_report = now;
  transfer->options->progress({transfer->label, transfer->url, static_cast<int64_t>(done),
                               total > 0 ? static_cast<int64_t>(total) : -1});
  return 0;
}
#endif  // FAN_WITH_CURL

}  // namespace

std::string host_of(const std::string& url) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  return url.substr(start, url.find('/', start) - start);
}

#ifdef FAN_WITH_CURL
void download(const std::string& url, const fs::path& destination, const FetchOptions& options,
              const std::string& label) {
  static std::once_flag curl_initialised;
  std::call_once(curl_initialised, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  Transfer transfer;
  transfer.options = &options;
  transfer.label = label;
  transfer.url = url;
  transfer.file = std::fopen(destination.c_str(), "wb");
  if (transfer.file == nullptr) throw DownloadFailure("cannot write " + destination.string(), false);
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) {
    std::fclose(transfer.file);
    throw DownloadFailure("libcurl failed to start", false);
  }
  char error_text[CURL_ERROR_SIZE] = {0};
  CURL* handle = curl.get();
  const std::string agent = std::string("fan-workbench/") + FAN_VERSION;
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_USERAGENT, agent.c_str());
  curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(handle, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(handle, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1000L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, options.low_speed_time_s);
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_text);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, write_chunk);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, report_progress);
  curl_easy_setopt(handle, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(handle, CURLOPT_NOPROGRESS, 0L);
  const CURLcode code = curl_easy_perform(handle);
  const bool closed = std::fclose(transfer.file) == 0;
  if (code != CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t received = 0;
    curl_easy_getinfo(handle, CURLINFO_SIZE_DOWNLOAD_T, &received);
    std::string reason = error_text[0] != '\0' ? error_text : curl_easy_strerror(code);
    if (code == CURLE_HTTP_RETURNED_ERROR && status != 0 &&
        reason.find(std::to_string(status)) == std::string::npos) {
      reason = "HTTP " + std::to_string(status) + " (" + reason + ")";
    }
    const bool down = code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY ||
                      code == CURLE_COULDNT_CONNECT ||
                      (code == CURLE_OPERATION_TIMEDOUT && received == 0 && status == 0);
    throw DownloadFailure(reason, down);
  }
  if (!closed) throw DownloadFailure("cannot write " + destination.string() + " (disk full?)", false);
  if (options.progress) {
    const auto size = static_cast<int64_t>(fs::file_size(destination));
    options.progress({label, url, size, size});
  }
}

#else
void download(const std::string& url, const fs::path&, const FetchOptions&, const std::string&) {
  throw DownloadFailure("cannot download " + url + ": this fan was built without libcurl (-DFAN_WITH_CURL=OFF); "
                        "pass --mirror DIR with the files, or rebuild with libcurl installed",
                        true);
}
#endif  // FAN_WITH_CURL

}  // namespace detail

void download_url(const std::string& url, const fs::path& destination, const FetchOptions& options,
                  const std::string& label) {
  detail::download(url, destination, options, label);
}

}  // namespace fan::data
