// Plain C++ interface to the CUDA kernels (no CUDA types), so host code and bindings build with g++.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace brr::ir {
class Program;
}

namespace brr::cuda {

int device_count();                 // 0 when no driver or no GPU
std::string device_name(int device);

// A whole op program on the device (backend/grid_executor.hpp with CUDA buffers and launches): logp
// and gradient at B points per call; constants and index arrays copied to the device once.
class ProgramDevice {
 public:
  ProgramDevice(std::shared_ptr<const ir::Program> program, std::size_t lanes);  // throws for an op without a kernel
  // B lanes over `share`'s device data (its program's constants, index arrays, row lists): no second copy
  ProgramDevice(const ProgramDevice& share, std::size_t lanes);
  ~ProgramDevice();
  ProgramDevice(const ProgramDevice&) = delete;
  ProgramDevice& operator=(const ProgramDevice&) = delete;
  std::size_t lanes() const;
  std::size_t dim() const;
  const ir::Program* program() const;
  std::size_t data_bytes() const;       // the program's data on the device (shared with share= devices)
  std::size_t workspace_bytes() const;  // this device's own lanes: values, adjoints, scratch
  bool shares_data_with(const ProgramDevice& other) const;
  // X, G: lanes x dim on the host (G may be null); lp: lanes
  void logp_grad(const double* X, double* G, double* lp);
  // L leapfrog steps of every lane on the GPU (backend::GridExecutor::leapfrog)
  void leapfrog(double* Q, double* P, double* G, double* LP, unsigned char* ok, long long* evals, const double* minv,
                double eps, int L);
  long long trajectories() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace brr::cuda
