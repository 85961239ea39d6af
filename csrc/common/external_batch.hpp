// A batch log density from another extension module (the CUDA one), as plain C: the sampler calls it
// through these pointers, so no C++ object or vtable crosses the boundary between the two modules.
// It travels as a PyCapsule named kExternalBatchCapsule; its owner keeps it alive while a run uses it.
#pragma once
#include <cstddef>

extern "C" {
struct BrrExternalBatch {
  void* handle;
  std::size_t lanes, dim;
  // X, G: lanes x dim on the host (row-major), lp: lanes. Returns 0, or nonzero with a message in err.
  int (*logp_grad)(void* handle, const double* X, double* G, double* lp, char* err, std::size_t err_len);
};
}

namespace brr {
constexpr const char* kExternalBatchCapsule = "brr_bayes.external_batch";
}  // namespace brr
