// Which CUDA devices are visible (for brr_bayes._cuda.device_count / device_name).
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "launch.hpp"

namespace brr::cuda {

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
  const cudaError_t e = cudaGetDeviceProperties(&p, device);
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA cudaGetDeviceProperties: ") + cudaGetErrorString(e));
  return p.name;
}

}  // namespace brr::cuda
