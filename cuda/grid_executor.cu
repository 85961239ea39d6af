// The device executor on a CUDA GPU: backend/grid_executor.hpp's kernels, one thread per grid index,
// buffers in device memory (the program's constants and index arrays copied once, at construction, and
// shared by the devices built with share=).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "backend/grid_executor.hpp"
#include "launch.hpp"

namespace brr::cuda {

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

template <class K>
__global__ void run_grid(std::size_t n, K k) {
  const std::size_t t = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t < n) k(t);
}

struct CudaDev {
  template <class T>
  struct Buf {
    T* p = nullptr;
    Buf() = default;
    explicit Buf(std::size_t n) {
      if (n) check(cudaMalloc(&p, n * sizeof(T)), "cudaMalloc");
    }
    Buf(Buf&& o) noexcept : p(std::exchange(o.p, nullptr)) {}
    Buf& operator=(Buf&& o) noexcept {
      std::swap(p, o.p);
      return *this;
    }
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
    ~Buf() {
      if (p) cudaFree(p);
    }
  };
  template <class T>
  static Buf<T> alloc(std::size_t n) { return Buf<T>(n); }
  template <class T>
  static Buf<T> upload(const std::vector<T>& v) {
    Buf<T> b(v.size());
    if (!v.empty()) check(cudaMemcpy(b.p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), "upload");
    return b;
  }
  template <class T>
  static T* ptr(const Buf<T>& b) { return b.p; }
  template <class T>
  static void to_device(T* dst, const T* src, std::size_t n) {
    check(cudaMemcpy(dst, src, n * sizeof(T), cudaMemcpyHostToDevice), "copy to device");
  }
  template <class T>
  static void to_host(T* dst, const T* src, std::size_t n) {
    check(cudaMemcpy(dst, src, n * sizeof(T), cudaMemcpyDeviceToHost), "copy to host");
  }
  template <class T>
  static void zero(T* p, std::size_t n) { check(cudaMemset(p, 0, n * sizeof(T)), "cudaMemset"); }  // all-zero bits: 0, 0.0
  template <class K>
  static void launch(std::size_t n, const K& k) {
    if (n == 0) return;
    constexpr unsigned kThreads = 256;
    run_grid<<<static_cast<unsigned>((n + kThreads - 1) / kThreads), kThreads>>>(n, k);
    check(cudaGetLastError(), "kernel launch");
  }
};

}  // namespace

struct ProgramDevice::Impl {
  backend::GridExecutor<CudaDev> ex;
  Impl(std::shared_ptr<const ir::Program> p, std::size_t lanes) : ex(std::move(p), lanes) {}
  Impl(const Impl& share, std::size_t lanes) : ex(share.ex.data(), lanes) {}
};

ProgramDevice::ProgramDevice(std::shared_ptr<const ir::Program> p, std::size_t lanes)
    : impl_(std::make_unique<Impl>(std::move(p), lanes)) {}
ProgramDevice::ProgramDevice(const ProgramDevice& share, std::size_t lanes)
    : impl_(std::make_unique<Impl>(*share.impl_, lanes)) {}
ProgramDevice::~ProgramDevice() = default;
std::size_t ProgramDevice::lanes() const { return impl_->ex.lanes(); }
std::size_t ProgramDevice::dim() const { return impl_->ex.dim(); }
const ir::Program* ProgramDevice::program() const { return impl_->ex.data()->program.get(); }
std::size_t ProgramDevice::data_bytes() const { return impl_->ex.data()->bytes; }
std::size_t ProgramDevice::workspace_bytes() const { return impl_->ex.workspace_bytes(); }
bool ProgramDevice::shares_data_with(const ProgramDevice& o) const { return impl_->ex.data() == o.impl_->ex.data(); }
void ProgramDevice::logp_grad(const double* X, double* G, double* lp) { impl_->ex.logp_grad(X, G, lp); }
void ProgramDevice::leapfrog(double* Q, double* P, double* G, double* LP, unsigned char* ok, long long* evals,
                             const double* minv, double eps, int L) {
  impl_->ex.leapfrog(Q, P, G, LP, ok, evals, minv, eps, L);
}
long long ProgramDevice::trajectories() const { return impl_->ex.trajectories(); }

}  // namespace brr::cuda
