// The sampler registry: one place that maps a sampler's name to its run.
#include <stdexcept>

#include "infer/chees/chees.hpp"
#include "infer/meads/meads.hpp"
#include "infer/run.hpp"
#include "infer/nuts/sampler.hpp"

namespace brr::infer {

std::vector<std::string> sampler_names() { return {"nuts", "chees", "meads"}; }

std::unique_ptr<Run> make_run(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                              std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume) {
  if (cfg.sampler == "nuts") return std::make_unique<SamplerRun>(std::move(factory), std::move(cfg), std::move(inits),
                                                                 std::move(resume));
  if (cfg.sampler == "chees")
    return std::make_unique<CheesRun>(std::move(factory), std::move(cfg), std::move(inits), std::move(resume));
  if (cfg.sampler == "meads")
    return std::make_unique<MeadsRun>(std::move(factory), std::move(cfg), std::move(inits), std::move(resume));
  throw std::invalid_argument("sampler='" + cfg.sampler + "' is not known. Expected one of: 'nuts', 'chees', 'meads'");
}

}  // namespace brr::infer
