// The GLM families and linear-predictor term kinds as named constants, from ir/glm.def.
#pragma once
#include <cstdint>

namespace brr {

enum GlmFamily : int {
#define BRR_GLM_FAMILY(C, code, py, name) C = code,
#define BRR_TERM_KIND(C, code, py)
#include "ir/glm.def"
#undef BRR_TERM_KIND
#undef BRR_GLM_FAMILY
};

enum TermKind : int {
#define BRR_GLM_FAMILY(C, code, py, name)
#define BRR_TERM_KIND(C, code, py) C = code,
#include "ir/glm.def"
#undef BRR_TERM_KIND
#undef BRR_GLM_FAMILY
};

inline bool known_glm_family(int64_t f) {
  switch (f) {
#define BRR_GLM_FAMILY(C, code, py, name) case code:
#define BRR_TERM_KIND(C, code, py)
#include "ir/glm.def"
#undef BRR_TERM_KIND
#undef BRR_GLM_FAMILY
    return true;
    default:
      return false;
  }
}

}  // namespace brr
