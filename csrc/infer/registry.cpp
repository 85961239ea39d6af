// The sampler registry and the one check of a run's settings: see registry.hpp.
#include "infer/registry.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "infer/chees/chees.hpp"
#include "infer/meads/meads.hpp"
#include "infer/nuts/sampler.hpp"

namespace brr::infer {

namespace {

template <class R>
std::unique_ptr<Run> make(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                          std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume) {
  return std::make_unique<R>(std::move(factory), std::move(cfg), std::move(inits), std::move(resume));
}

template <class E>
EnsembleState from_v2(const std::vector<double>& values, std::size_t dim) {
  return E::from_v2(values, dim);
}

std::string any_chains(const SamplerConfig&) { return ""; }

std::string chees_chains(const SamplerConfig& cfg) {
  const int chains = cfg.chains;
  if (chains >= 2) return "";
  return "sampler='chees' learns its step size, trajectory length and metric across chains: pass chains >= 2 "
         "(tens to hundreds), got " + std::to_string(chains);
}

std::string meads_chains(const SamplerConfig& cfg) {
  const int chains = cfg.chains, K = cfg.meads.folds;
  if (chains >= 2 * K && chains % K == 0) return "";
  return "sampler='meads' splits its chains into " + std::to_string(K) + " folds that tune each other: pass chains a "
         "multiple of " + std::to_string(K) + ", at least " + std::to_string(2 * K) + " (tens to hundreds), got " +
         std::to_string(chains);
}

std::string number(double v) {  // as Python prints it: the shortest form that reads back the same
  for (int digits = 6; digits <= 17; ++digits) {
    std::ostringstream s;
    s.precision(digits);
    s << v;
    if (std::stod(s.str()) == v || !std::isfinite(v)) return s.str();
  }
  return std::to_string(v);
}

std::string known(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// An option stored at cfg.*Group.*Member (ChainConfig's target_accept, CheesSettings' max_leapfrog, ...).
template <auto Group, auto Member>
OptionInfo option(std::string name, bool (*valid)(double), std::string rule, std::string hint = "") {
  using T = std::remove_reference_t<decltype(std::declval<SamplerConfig&>().*Group.*Member)>;
  return {std::move(name),
          std::is_integral_v<T>,
          [](const SamplerConfig& c) { return static_cast<double>(c.*Group.*Member); },
          [](SamplerConfig& c, double v) { c.*Group.*Member = static_cast<T>(v); },
          valid,
          std::move(rule),
          std::move(hint)};
}

bool in_open_unit(double v) { return v > 0 && v < 1; }
bool in_unit(double v) { return v > 0 && v <= 1; }
bool positive(double v) { return v > 0 && std::isfinite(v); }
bool tree_depth(double v) { return v >= 1 && v <= 30; }
bool count(double v) { return v >= 0 && v <= 1e9; }
bool count_from_1(double v) { return v >= 1 && v <= 1e9; }
bool count_from_2(double v) { return v >= 2 && v <= 1e6; }

constexpr auto kChain = &SamplerConfig::chain;
constexpr auto kChees = &SamplerConfig::chees;
constexpr auto kMeads = &SamplerConfig::meads;

OptionInfo step_size_option() {
  return option<kChain, &ChainConfig::initial_step_size>("step_size", positive, "must be positive and finite",
                                                         "; the first step size, which warm-up tunes");
}

std::vector<OptionInfo> nuts_options() {
  return {option<kChain, &ChainConfig::target_accept>("target_accept", in_open_unit, "must be in (0, 1)",
                                                      "; 0.95-0.99 for hard geometry"),
          option<kChain, &ChainConfig::max_depth>("max_treedepth", tree_depth, "must be in [1, 30]"),
          step_size_option(),
          option<kChain, &ChainConfig::init_buffer>("init_buffer", count, "must be a whole number >= 0",
                                                    "; Stan's first fast window"),
          option<kChain, &ChainConfig::term_buffer>("term_buffer", count, "must be a whole number >= 0",
                                                    "; Stan's last fast window"),
          option<kChain, &ChainConfig::base_window>("base_window", count_from_1, "must be a whole number >= 1",
                                                    "; Stan's first slow window")};
}

std::vector<OptionInfo> chees_options() {
  return {option<kChees, &CheesSettings::target_accept>("target_accept", in_open_unit, "must be in (0, 1)",
                                                        "; the harmonic-mean acceptance the step size is tuned to"),
          step_size_option(),
          option<kChees, &CheesSettings::max_leapfrog>("max_leapfrog", count_from_1, "must be a whole number >= 1",
                                                       "; a trajectory's leapfrog steps at most"),
          option<kChees, &CheesSettings::adam_rate>("adam_rate", positive, "must be positive and finite",
                                                    "; Adam's learning rate on log T"),
          option<kChees, &CheesSettings::metric_freeze>("metric_freeze", in_unit, "must be in (0, 1]",
                                                        "; the fraction of warm-up after which the metric is fixed")};
}

std::vector<OptionInfo> meads_options() {
  return {option<kMeads, &MeadsSettings::folds>("folds", count_from_2, "must be a whole number >= 2",
                                                "; the folds that tune each other"),
          option<kMeads, &MeadsSettings::step_multiplier>("step_multiplier", positive, "must be positive and finite",
                                                          "; eps = step_multiplier / sqrt(lambda_max)"),
          option<kMeads, &MeadsSettings::divergence>("divergence", positive, "must be positive and finite",
                                                     "; the energy error that counts as a divergence")};
}

std::string option_list(const SamplerInfo& info) {
  std::string out;
  for (const OptionInfo& o : info.options) out += (out.empty() ? "" : ", ") + o.name;
  if (info.takes_metric) out += ", metric, adapt";
  return out;
}

}  // namespace

const std::vector<SamplerInfo>& samplers() {
  static const std::vector<SamplerInfo> table = {
      {"nuts", "NUTS", false, any_chains, make<SamplerRun>, nullptr, nuts_options(), true},
      {"chees", "ChEES", true, chees_chains, make<CheesRun>, from_v2<CheesShared>, chees_options(), false},
      {"meads", "MEADS", true, meads_chains, make<MeadsRun>, from_v2<GhmcChainState>, meads_options(), false},
  };
  return table;
}

std::vector<std::string> option_names() {
  std::vector<std::string> names;
  for (const SamplerInfo& s : samplers())
    for (const OptionInfo& o : s.options)
      if (std::find(names.begin(), names.end(), o.name) == names.end()) names.push_back(o.name);
  return names;
}

const SamplerInfo& sampler_info(const std::string& name) {
  std::vector<std::string> names;
  for (const SamplerInfo& s : samplers()) {
    if (s.name == name) return s;
    names.push_back(s.name);
  }
  throw std::invalid_argument("sampler='" + name + "' is not known. Expected one of: " + known(names));
}

std::vector<std::string> sampler_names() {
  std::vector<std::string> names;
  for (const SamplerInfo& s : samplers()) names.push_back(s.name);
  return names;
}

void set_options(SamplerConfig& cfg, const std::map<std::string, double>& given, const std::string& metric,
                 const std::string& adapt) {
  const SamplerInfo& info = sampler_info(cfg.sampler);
  auto fail = [](const std::string& why) { throw std::invalid_argument(why); };
  if (!info.takes_metric && ((!metric.empty() && metric != "diag") || !adapt.empty()))
    fail("sampler='" + info.name + "' adapts a diagonal metric across chains; leave metric= and adapt= out");
  for (const auto& [name, v] : given) {
    const auto o = std::find_if(info.options.begin(), info.options.end(), [&](const OptionInfo& x) { return x.name == name; });
    if (o == info.options.end())
      fail("sampler='" + info.name + "' takes no option " + name + "=; its options: " + option_list(info));
    if (o->whole && v != std::floor(v)) fail(name + " must be a whole number, got " + number(v));
    if (!o->valid(v))
      fail(name + " " + o->rule + ", got " + number(v) + o->hint + " (default " + number(o->get(SamplerConfig{})) + ")");
    o->set(cfg, v);
  }
  const std::string m = metric.empty() ? "diag" : metric;  // SamplerConfig's default
  if (m != "diag" && m != "dense" && m != "low_rank")
    fail("metric='" + m + "' is not known. Expected one of: 'diag', 'dense', 'low_rank'");
  const std::string a = !adapt.empty() ? adapt : m == "low_rank" ? "fisher" : "stan";
  if (m == "low_rank" && a != "fisher")
    fail("metric='low_rank' is estimated from draws and gradients in Stan's windows; use adapt='fisher' (or leave "
         "adapt=None), not adapt='" + a + "'");
  if (a != "stan" && a != "fisher" && a != "nutpie")
    fail("adapt='" + a + "' is not known. Expected one of: 'stan', 'fisher', 'nutpie'");
  cfg.chain.dense = m == "dense";
  cfg.chain.low_rank = m == "low_rank";
  cfg.chain.adapt = a == "fisher" ? AdaptKind::Fisher : a == "nutpie" ? AdaptKind::Nutpie : AdaptKind::Stan;
}

std::string metric_name(const ChainConfig& chain) { return chain.dense ? "dense" : chain.low_rank ? "low_rank" : "diag"; }

std::string adapt_name(const ChainConfig& chain) {
  return chain.adapt == AdaptKind::Fisher ? "fisher" : chain.adapt == AdaptKind::Nutpie ? "nutpie" : "stan";
}

void configure(SamplerConfig& cfg, const std::map<std::string, double>& given, const std::string& metric,
               const std::string& adapt) {
  set_options(cfg, given, metric, adapt);
  auto fail = [](const std::string& why) { throw std::invalid_argument(why); };
  if (cfg.chain.draws < 0) fail("draws must be a non-negative integer, got " + std::to_string(cfg.chain.draws));
  if (cfg.chain.tune < 0) fail("tune must be a non-negative integer, got " + std::to_string(cfg.chain.tune));
  if (cfg.chains < 1) fail("chains must be a positive integer, got " + std::to_string(cfg.chains));
  const std::string chains = sampler_info(cfg.sampler).chains_problem(cfg);
  if (!chains.empty()) fail(chains);
  if (cfg.threads < 1) fail("cores must be a positive integer or None, got " + std::to_string(cfg.threads));
}

std::unique_ptr<Run> make_run(std::shared_ptr<const LogDensityFactory> factory, SamplerConfig cfg,
                              std::vector<std::vector<double>> inits, std::vector<std::optional<ChainState>> resume) {
  const SamplerInfo& info = sampler_info(cfg.sampler);
  const std::string chains = info.chains_problem(cfg);
  if (!chains.empty()) throw std::invalid_argument(chains);
  return info.make(std::move(factory), std::move(cfg), std::move(inits), std::move(resume));
}

}  // namespace brr::infer
