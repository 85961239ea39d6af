// A small fixed pool of threads: the row chunks of one evaluation, the lane groups of a batch, the
// chains of an ensemble.
// Callers give every task its own output buffer and reduce them in task order afterwards, so results
// never depend on which thread ran a task or on how many threads there are.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace brr {

class RowPool {
 public:
  using Task = std::function<void(std::size_t task, int worker)>;

  explicit RowPool(int threads);  // threads - 1 workers are started; the calling thread is worker 0
  ~RowPool();
  RowPool(const RowPool&) = delete;
  RowPool& operator=(const RowPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Runs task(t, worker) for every t in [0, n); returns when all have finished (rethrows the first error).
  void run(std::size_t n, const Task& task);

 private:
  void work(int worker);
  void drain(int worker);

  std::vector<std::thread> workers_;
  std::mutex m_;
  std::condition_variable start_cv_, done_cv_;
  const Task* task_ = nullptr;
  std::size_t n_ = 0;
  std::atomic<std::size_t> next_{0};
  std::size_t generation_ = 0;
  int busy_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
};

}  // namespace brr
