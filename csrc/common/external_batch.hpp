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
  // Optional (null: the sampler steps on the host through logp_grad): L leapfrog steps of every lane
  // run by the evaluator, as backend::GridExecutor::leapfrog documents. Q, P, G: lanes x dim and LP:
  // lanes, the starts in and the ends out; ok, evals: lanes, out; minv: dim. Returns as logp_grad.
  int (*leapfrog)(void* handle, double* Q, double* P, double* G, double* LP, unsigned char* ok, long long* evals,
                  const double* minv, double eps, int L, char* err, std::size_t err_len);
};
}

namespace brr {
constexpr const char* kExternalBatchCapsule = "brr_bayes.external_batch";
}  // namespace brr

#include <cstdio>
#include <exception>

namespace brr {

// The capsule's struct for an evaluator E with logp_grad(X, G, lp) and leapfrog(Q, P, G, LP, ok, evals,
// minv, eps, L) (the device executor's), its errors returned as messages; with_leapfrog false leaves
// the trajectories to the sampler's host loop.
template <class E>
BrrExternalBatch external_batch_of(E* e, std::size_t lanes, std::size_t dim, bool with_leapfrog) {
  BrrExternalBatch x{};
  x.handle = e;
  x.lanes = lanes;
  x.dim = dim;
  x.logp_grad = [](void* h, const double* X, double* G, double* lp, char* err, std::size_t n) -> int {
    try {
      static_cast<E*>(h)->logp_grad(X, G, lp);
      return 0;
    } catch (const std::exception& ex) {
      std::snprintf(err, n, "%s", ex.what());
      return 1;
    }
  };
  if (with_leapfrog)
    x.leapfrog = [](void* h, double* Q, double* P, double* G, double* LP, unsigned char* ok, long long* evals,
                    const double* minv, double eps, int L, char* err, std::size_t n) -> int {
      try {
        static_cast<E*>(h)->leapfrog(Q, P, G, LP, ok, evals, minv, eps, L);
        return 0;
      } catch (const std::exception& ex) {
        std::snprintf(err, n, "%s", ex.what());
        return 1;
      }
    };
  return x;
}

}  // namespace brr
