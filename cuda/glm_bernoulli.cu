// Fused Bernoulli-logit GLM kernel: gather group effects, likelihood and scatter-add adjoints in one pass.
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "launch.hpp"

namespace brr::cuda {

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

// Frees on scope exit (RAII over cudaMalloc).
template <class T>
struct DeviceArray {
  T* ptr = nullptr;
  std::size_t n = 0;
  DeviceArray() = default;
  explicit DeviceArray(std::size_t count) : n(count) {
    if (count) check(cudaMalloc(reinterpret_cast<void**>(&ptr), count * sizeof(T)), "cudaMalloc");
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&& o) noexcept : ptr(o.ptr), n(o.n) { o.ptr = nullptr; o.n = 0; }
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      if (ptr) cudaFree(ptr);
      ptr = o.ptr;
      n = o.n;
      o.ptr = nullptr;
      o.n = 0;
    }
    return *this;
  }
  ~DeviceArray() { if (ptr) cudaFree(ptr); }
  void upload(const T* src) { if (n) check(cudaMemcpy(ptr, src, n * sizeof(T), cudaMemcpyHostToDevice), "upload"); }
  void download(T* dst) const {
    if (n) check(cudaMemcpy(dst, ptr, n * sizeof(T), cudaMemcpyDeviceToHost), "download");
  }
};

__device__ inline double log1p_exp(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

// One thread per row; K group blocks laid out back to back in params/grad (offsets in off).
__global__ void glm_bernoulli_kernel(int n, int K, const double* __restrict__ y, const double* __restrict__ offset,
                                     const int32_t* __restrict__ idx, const int32_t* __restrict__ off,
                                     const double* __restrict__ params, double* __restrict__ grad,
                                     double* __restrict__ block_lp) {
  extern __shared__ double sh[];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  double lp = 0.0;
  if (i < n) {
    double eta = offset[i];
    for (int k = 0; k < K; ++k) eta += params[off[k] + idx[static_cast<size_t>(k) * n + i]];
    lp = y[i] * eta - log1p_exp(eta);
    const double r = y[i] - 1.0 / (1.0 + exp(-eta));
    for (int k = 0; k < K; ++k) atomicAdd(&grad[off[k] + idx[static_cast<size_t>(k) * n + i]], r);
  }
  sh[threadIdx.x] = lp;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {  // tree reduction: fixed order within a block
    if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) block_lp[blockIdx.x] = sh[0];
}

constexpr int kThreads = 256;

}  // namespace

struct GlmBernoulliDevice::Impl {
  int n = 0, K = 0, P = 0, blocks = 0;
  DeviceArray<double> y, offset, params, grad, block_lp;
  DeviceArray<int32_t> idx, off;
  std::vector<double> host_block_lp;
};

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" error
    return 0;
  }
  return n;
}

std::string device_name(int device) {
  cudaDeviceProp p{};
  check(cudaGetDeviceProperties(&p, device), "cudaGetDeviceProperties");
  return p.name;
}

GlmBernoulliDevice::GlmBernoulliDevice(const std::vector<double>& y, const std::vector<double>& offset,
                                       const std::vector<std::vector<int32_t>>& idx,
                                       const std::vector<int32_t>& sizes)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.n = static_cast<int>(y.size());
  m.K = static_cast<int>(idx.size());
  std::vector<int32_t> off(m.K);
  for (int k = 0; k < m.K; ++k) {
    off[k] = m.P;
    m.P += sizes[k];
  }
  std::vector<int32_t> flat;
  flat.reserve(static_cast<std::size_t>(m.n) * m.K);
  for (const auto& a : idx) flat.insert(flat.end(), a.begin(), a.end());
  m.blocks = (m.n + kThreads - 1) / kThreads;
  m.y = DeviceArray<double>(m.n);
  m.y.upload(y.data());
  m.offset = DeviceArray<double>(m.n);
  m.offset.upload(offset.data());
  m.idx = DeviceArray<int32_t>(flat.size());
  m.idx.upload(flat.data());
  m.off = DeviceArray<int32_t>(off.size());
  m.off.upload(off.data());
  m.params = DeviceArray<double>(m.P);
  m.grad = DeviceArray<double>(m.P);
  m.block_lp = DeviceArray<double>(m.blocks);
  m.host_block_lp.resize(m.blocks);
}

GlmBernoulliDevice::~GlmBernoulliDevice() = default;

std::size_t GlmBernoulliDevice::num_params() const { return static_cast<std::size_t>(impl_->P); }

double GlmBernoulliDevice::logp_grad(const double* params, double* grad) {
  Impl& m = *impl_;
  m.params.upload(params);
  check(cudaMemset(m.grad.ptr, 0, m.P * sizeof(double)), "cudaMemset");
  if (m.blocks > 0) {
    glm_bernoulli_kernel<<<m.blocks, kThreads, kThreads * sizeof(double)>>>(
        m.n, m.K, m.y.ptr, m.offset.ptr, m.idx.ptr, m.off.ptr, m.params.ptr, m.grad.ptr, m.block_lp.ptr);
    check(cudaGetLastError(), "glm_bernoulli_kernel launch");
  }
  check(cudaDeviceSynchronize(), "glm_bernoulli_kernel");
  m.grad.download(grad);
  m.block_lp.download(m.host_block_lp.data());
  double lp = 0.0;  // summed on the host in block order: deterministic
  for (double v : m.host_block_lp) lp += v;
  return lp;
}

}  // namespace brr::cuda
