#include "common/row_pool.hpp"

namespace brr {

RowPool::RowPool(int threads) {
  for (int w = 1; w < threads; ++w) workers_.emplace_back([this, w] { work(w); });
}

RowPool::~RowPool() {
  {
    std::lock_guard<std::mutex> lock(m_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void RowPool::drain(int worker) {
  for (std::size_t t = next_.fetch_add(1); t < n_; t = next_.fetch_add(1)) {
    try {
      (*task_)(t, worker);
    } catch (...) {
      std::lock_guard<std::mutex> lock(m_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void RowPool::work(int worker) {
  std::size_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(m_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    drain(worker);
    {
      std::lock_guard<std::mutex> lock(m_);
      if (--busy_ == 0) done_cv_.notify_one();
    }
  }
}

void RowPool::run(std::size_t n, const Task& task) {
  if (workers_.empty() || n < 2) {
    for (std::size_t t = 0; t < n; ++t) task(t, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(m_);
    task_ = &task;
    n_ = n;
    next_.store(0);
    busy_ = static_cast<int>(workers_.size());
    error_ = nullptr;
    ++generation_;
  }
  start_cv_.notify_all();
  drain(0);
  std::unique_lock<std::mutex> lock(m_);
  done_cv_.wait(lock, [&] { return busy_ == 0; });
  task_ = nullptr;
  if (error_) std::rethrow_exception(error_);
}

}  // namespace brr
