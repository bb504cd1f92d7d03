// Small concurrency building blocks for the backup and restore pipelines:
// a bounded queue (the back-pressure between stages, which keeps memory
// bounded whatever the size of the tree) and a fixed thread pool.
#ifndef SHARDKEEP_COMMON_WORKERS_H_
#define SHARDKEEP_COMMON_WORKERS_H_

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace shardkeep {

// A multi-producer multi-consumer FIFO bounded by a total "cost" (items, or
// bytes). Push blocks while the queue holds more than `capacity` cost (an
// item larger than the capacity still goes through when the queue is empty).
// Close() wakes everybody: Push then returns false and Pop drains what is
// left, then returns nullopt. Thread-safe.
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}
  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  bool Push(T item, size_t cost = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || cost_ == 0 || cost_ + cost <= capacity_; });
    if (closed_) return false;
    items_.emplace_back(std::move(item), cost);
    cost_ += cost;
    not_empty_.notify_one();
    return true;
  }

  std::optional<T> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return std::nullopt;
    auto [item, cost] = std::move(items_.front());
    items_.pop_front();
    cost_ -= cost;
    not_full_.notify_all();
    return std::move(item);
  }

  // Like Pop, but never blocks: false if nothing is queued right now.
  bool TryPop(T* out) {
    std::lock_guard<std::mutex> lock(mu_);
    if (items_.empty()) return false;
    *out = std::move(items_.front().first);
    cost_ -= items_.front().second;
    items_.pop_front();
    not_full_.notify_all();
    return true;
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  std::deque<std::pair<T, size_t>> items_;
  size_t cost_ = 0;
  size_t capacity_;
  bool closed_ = false;
};

// A fixed set of threads running submitted tasks in FIFO order. The
// destructor finishes every queued task, then joins.
class ThreadPool {
 public:
  explicit ThreadPool(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        while (auto task = queue_.Pop()) (*task)();
      });
    }
  }
  ~ThreadPool() {
    queue_.Close();
    for (auto& t : threads_) t.join();
  }
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Submit(std::function<void()> task) { queue_.Push(std::move(task)); }

 private:
  BoundedQueue<std::function<void()>> queue_{~size_t{0}};
  std::vector<std::thread> threads_;
};

// Counts down to zero; Wait blocks until it gets there.
class Latch {
 public:
  explicit Latch(int count) : count_(count) {}
  void CountDown() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--count_ <= 0) cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return count_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_;
};

// A counting semaphore (C++17 has none).
class Semaphore {
 public:
  explicit Semaphore(int count) : count_(count) {}
  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return count_ > 0; });
    --count_;
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    ++count_;
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_;
};


// A budget of bytes (memory held by buffers in flight) shared by several
// threads, with an optional cap on how many holders there are at once.
// Acquire waits until the bytes fit and a holder slot is free; a request
// larger than the whole budget still goes through when nothing else is held,
// so one oversized item never deadlocks. Charge adds bytes without waiting (an
// estimate that came out low); Release returns bytes, in as many pieces as
// the caller likes; EndHolder frees the holder slot. Thread-safe.
class ByteBudget {
 public:
  explicit ByteBudget(size_t limit, int max_holders = 1 << 30)
      : limit_(limit), max_holders_(max_holders) {}
  void Acquire(size_t bytes) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] {
      return holders_ < max_holders_ && (used_ == 0 || used_ + bytes <= limit_);
    });
    used_ += bytes;
    holders_++;
  }
  void Charge(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ += bytes;
  }
  void Release(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ -= std::min(bytes, used_);
    cv_.notify_all();
  }
  void EndHolder() {
    std::lock_guard<std::mutex> lock(mu_);
    holders_--;
    cv_.notify_all();
  }
  size_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  size_t used_ = 0;
  int holders_ = 0;
  const size_t limit_;
  const int max_holders_;
};

}  // namespace shardkeep

#endif  // SHARDKEEP_COMMON_WORKERS_H_
