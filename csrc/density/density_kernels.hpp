// Density kernel families; each returns false for codes it does not own.
#pragma once
#include "ad/executor.hpp"

namespace brr::ad {

bool univariate_density(const Op& op, Ctx& c);
bool multivariate_density(const Op& op, Ctx& c);
bool glm_density(const Op& op, Ctx& c);  // GlmLpdf: fused linear predictor + likelihood

}  // namespace brr::ad
