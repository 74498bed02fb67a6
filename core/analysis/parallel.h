// A fixed-block parallel loop whose results do not depend on the thread count.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <exception>
#include <thread>
#include <vector>

namespace fan::analysis {

// Resolves a `threads` option: 0 means every hardware thread.
inline int resolve_threads(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Calls fn(block, begin, end) for the blocks [k·block_size, …) of [0, n),
// spread over `threads` threads. Blocks are the same for any thread count, so
// per-block partial sums added in block order give bit-identical totals with
// 1 or 16 threads. Threads take the next free block as they go (not a fixed
// share): on a busy machine a descheduled thread then delays one block, not
// half the work (with fixed shares, 2 threads ran 2.4× slower than 1 here).
template <typename Fn>
void parallel_blocks(int64_t n, int64_t block_size, int threads, const Fn& fn) {
  const int64_t blocks = (n + block_size - 1) / block_size;
  const int workers = static_cast<int>(std::min<int64_t>(std::max(1, threads), blocks));
  std::atomic<int64_t> next{0};
  auto run = [&](int) {
    for (int64_t b = next.fetch_add(1); b < blocks; b = next.fetch_add(1))
      fn(b, b * block_size, std::min(n, (b + 1) * block_size));
  };
  if (workers <= 1) {
    run(0);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(workers);
  for (int w = 1; w < workers; ++w)
    pool.emplace_back([&, w] {
      try {
        run(w);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  try {
    run(0);
  } catch (...) {
    errors[0] = std::current_exception();
  }
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace fan::analysis
