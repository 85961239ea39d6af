// Forward and backward kernels of each op family (see op_codes.hpp).
#pragma once
#include "ad/executor.hpp"

namespace brr::ad {

void unary_forward(const Op& op, Ctx& c);
void unary_backward(const Op& op, Ctx& c);
void binary_forward(const Op& op, Ctx& c);
void binary_backward(const Op& op, Ctx& c);
void structure_forward(const Op& op, Ctx& c);
void structure_backward(const Op& op, Ctx& c);
void linpred_forward(const Op& op, Ctx& c);
void linpred_backward(const Op& op, Ctx& c);
void density_forward(const Op& op, Ctx& c);  // densities add value and partials in one pass
void pointwise_forward(const Op& op, Ctx& c);   // PointwiseLpdf: a univariate density's terms as a vector
void pointwise_backward(const Op& op, Ctx& c);
void hmm_forward(const Op& op, Ctx& c);         // HmmLogLik
void hmm_backward(const Op& op, Ctx& c);
void scan_forward(const Op& op, Ctx& c);        // Scan (a Function stepped over time)
void scan_backward(const Op& op, Ctx& c);
void ode_forward(const Op& op, Ctx& c);         // OdeSolve
void ode_backward(const Op& op, Ctx& c);

}  // namespace brr::ad
