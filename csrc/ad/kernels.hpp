// Forward and backward kernels of each op family (see op_codes.hpp).
#pragma once
#include "ad/program.hpp"

namespace brr::ad {

void unary_forward(const Op& op, Ctx& c);
void unary_backward(const Op& op, Ctx& c);
void binary_forward(const Op& op, Ctx& c);
void binary_backward(const Op& op, Ctx& c);
void structure_forward(const Op& op, Ctx& c);
void structure_backward(const Op& op, Ctx& c);
void transform_forward(const Op& op, Ctx& c);
void transform_backward(const Op& op, Ctx& c);
void linpred_forward(const Op& op, Ctx& c);
void linpred_backward(const Op& op, Ctx& c);
void density_forward(const Op& op, Ctx& c);  // densities add value and partials in one pass

}  // namespace brr::ad
