// A chain's state by name, and the earlier positional layouts migrated: see state_codec.hpp.
#include "infer/state_codec.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "infer/registry.hpp"

namespace brr::infer {

namespace {

[[noreturn]] void malformed(const std::string& what) {
  throw std::invalid_argument("sampler state is malformed: " + what + "; pass a state the sampler returned");
}

// Every field of a chain's state by name, the one list the current layout is saved and loaded by;
// io(name, member) saves or loads one (S: ChainState or const ChainState).
template <class Io, class E>
void estimator_fields(Io& io, const std::string& at, E& e) {
  io(at + "dense", e.dense);
  io(at + "use_grad", e.use_grad);
  io(at + "n", e.n);
  io(at + "mean", e.mean);
  io(at + "m2", e.m2);
  io(at + "gmean", e.gmean);
  io(at + "gm2", e.gm2);
}

template <class Io, class S>
void chain_fields(Io& io, S& s) {
  io("position", s.position);
  io("step_size", s.step_size);
  io("iteration", s.iteration);
  io("rng", s.rng.s);
  io("inv_metric", s.inv_metric);
  auto& da = s.dual_averaging;
  io("dual_averaging.delta", da.delta);
  io("dual_averaging.gamma", da.gamma);
  io("dual_averaging.kappa", da.kappa);
  io("dual_averaging.t0", da.t0);
  io("dual_averaging.mu", da.mu);
  io("dual_averaging.s_bar", da.s_bar);
  io("dual_averaging.x_bar", da.x_bar);
  io("dual_averaging.counter", da.counter);
  auto& w = s.windows;
  io("windows.num_warmup", w.num_warmup);
  io("windows.init_buffer", w.init_buffer);
  io("windows.term_buffer", w.term_buffer);
  io("windows.base_window", w.base_window);
  io("windows.counter", w.counter);
  io("windows.window_size", w.window_size);
  io("windows.next_window", w.next_window);
  io("windows.enabled", w.enabled);
  estimator_fields(io, "estimator.", s.estimator);
  estimator_fields(io, "background.", s.background);
  auto& np = s.nutpie;
  io("nutpie.num_warmup", np.num_warmup);
  io("nutpie.early_end", np.early_end);
  io("nutpie.final_start", np.final_start);
  io("nutpie.early_switch", np.early_switch);
  io("nutpie.window", np.window);
  io("nutpie.growth", np.growth);
  io("nutpie.metric_changed", np.metric_changed);
  io("low_rank.vals", s.low_rank.vals);
  io("low_rank.vecs", s.low_rank.vecs);
  auto& dw = s.window;
  io("draw_window.dim", dw.dim);
  io("draw_window.stride", dw.stride);
  io("draw_window.seen", dw.seen);
  io("draw_window.n", dw.n);
  io("draw_window.q", dw.q);
  io("draw_window.g", dw.g);
}

struct Saver {
  StateFields& out;
  std::string at;  // the group the keys fall in ("chees.")
  template <class T>
  void operator()(const std::string& key, const T& v) {
    const std::string k = at + key;
    if constexpr (std::is_same_v<T, bool>) out.put(k, v);
    else if constexpr (std::is_integral_v<T>) out.put(k, static_cast<long long>(v));
    else if constexpr (std::is_floating_point_v<T>) out.put(k, static_cast<double>(v));
    else if constexpr (std::is_same_v<T, std::vector<double>>) out.put(k, v);
    else out.put(k, std::vector<uint64_t>(v.begin(), v.end()));  // the RNG's words
  }
};

template <class T>
T whole(const std::string& key, long long v) {
  if (v < static_cast<long long>(std::numeric_limits<T>::min()) ||
      (v > 0 && static_cast<unsigned long long>(v) > static_cast<unsigned long long>(std::numeric_limits<T>::max())))
    malformed("'" + key + "' = " + std::to_string(v) + " is out of range");
  return static_cast<T>(v);
}

struct Loader {
  const StateFields& in;
  std::string at;
  template <class T>
  void operator()(const std::string& key, T& v) const {
    const std::string k = at + key;
    if constexpr (std::is_same_v<T, bool>) v = in.flag(k);
    else if constexpr (std::is_integral_v<T>) v = whole<T>(k, in.integer(k));
    else if constexpr (std::is_floating_point_v<T>) v = in.number(k);
    else if constexpr (std::is_same_v<T, std::vector<double>>) v = in.numbers(k);
    else {  // the RNG's words
      const std::vector<uint64_t> words = in.words(k);
      if (words.size() != v.size())
        malformed("'" + k + "' holds " + std::to_string(words.size()) + " words, not " + std::to_string(v.size()));
      std::copy(words.begin(), words.end(), v.begin());
    }
  }
};

// A lock-step sampler's part under its own key ("chees.", "meads."); ChEES's widest direction only when learned.
void save_ensemble(const EnsembleState& e, StateFields& out) {
  if (const auto* c = std::get_if<CheesShared>(&e)) {
    Saver io{out, std::string(CheesShared::kKey) + "."};
    CheesShared::fields(io, *c);
    if (c->has_widest) CheesShared::widest_fields(io, *c);
  } else if (const auto* m = std::get_if<GhmcChainState>(&e)) {
    Saver io{out, std::string(GhmcChainState::kKey) + "."};
    GhmcChainState::fields(io, *m);
  }
}

EnsembleState load_ensemble(const StateFields& in) {
  const std::string chees = std::string(CheesShared::kKey) + ".", meads = std::string(GhmcChainState::kKey) + ".";
  if (in.has(chees + "T")) {
    CheesShared c;
    Loader io{in, chees};
    CheesShared::fields(io, c);
    c.has_widest = in.has(chees + "widest.v");
    if (c.has_widest) CheesShared::widest_fields(io, c);
    return c;
  }
  if (in.has(meads + "fold")) {
    GhmcChainState m;
    Loader io{in, meads};
    GhmcChainState::fields(io, m);
    return m;
  }
  return {};
}

MetricEstimator estimator_v2(const StateFields& in, const std::string& prefix) {
  const std::vector<long long> f = in.integers(prefix + "_flags");
  if (f.size() != 3) malformed("'" + prefix + "_flags' must hold 3 integers");
  MetricEstimator e;
  e.dense = f[0] != 0;
  e.use_grad = f[1] != 0;
  e.n = whole<long>(prefix + "_flags", f[2]);
  e.mean = in.numbers(prefix + "_mean");
  e.m2 = in.numbers(prefix + "_m2");
  e.gmean = in.numbers(prefix + "_gmean");
  e.gm2 = in.numbers(prefix + "_gm2");
  return e;
}

// Layouts 1 and 2: positional vectors, by the order the sampler wrote them in then.
ChainState load_positional(const StateFields& in, const std::string& sampler) {
  ChainState s;
  s.position = in.numbers("position");
  s.step_size = in.number("step_size");
  s.iteration = whole<int>("iteration", in.integer("iteration"));
  const std::vector<double> da = in.numbers("da");
  const std::vector<long long> w = in.integers("windows");
  if (da.size() != 8) malformed("'da' must hold 8 numbers");
  if (w.size() != 8) malformed("'windows' must hold 8 integers");
  s.dual_averaging = {da[0], da[1], da[2], da[3], da[4], da[5], da[6], da[7]};
  auto wi = [&](int i) { return whole<int>("windows", w[static_cast<std::size_t>(i)]); };
  s.windows = {wi(0), wi(1), wi(2), wi(3), wi(4), wi(5), wi(6), w[7] != 0};
  Loader{in, ""}("rng", s.rng.s);
  s.estimator = estimator_v2(in, "est");
  if (in.has("nutpie")) {  // states saved before the nutpie schedule existed have none
    const std::vector<double> np = in.numbers("nutpie");
    if (np.size() != 7) malformed("'nutpie' must hold 7 numbers");
    s.background = estimator_v2(in, "bg");
    s.nutpie = {int(np[0]), int(np[1]), int(np[2]), int(np[3]), np[4], np[5], np[6] != 0.0};
  }
  s.inv_metric = in.numbers("inv_metric");
  if (in.has("lr_vals")) {  // states saved before the low-rank metric existed have none
    s.low_rank.vals = in.numbers("lr_vals");
    s.low_rank.vecs = in.numbers("lr_vecs");
    const std::vector<long long> wm = in.integers("win_meta");
    if (wm.size() != 4 || wm[0] < 0 || wm[1] < 1 || wm[3] < 0) malformed("'win_meta' must hold dim, stride, seen, n");
    s.window.dim = static_cast<std::size_t>(wm[0]);
    s.window.stride = whole<long>("win_meta", wm[1]), s.window.seen = whole<long>("win_meta", wm[2]);
    s.window.n = whole<long>("win_meta", wm[3]);
    s.window.q = in.numbers("win_q");
    s.window.g = in.numbers("win_g");
  }
  if (in.has("ensemble")) {  // a lock-step sampler's numbers, read by the layout its registry row knows
    const SamplerInfo& info = sampler_info(sampler);
    if (!info.ensemble_from_v2) malformed("sampler='" + sampler + "' keeps no 'ensemble' in its states");
    s.ensemble = info.ensemble_from_v2(in.numbers("ensemble"), s.position.size());
  }
  return s;
}

// What every layout must agree on within itself.
void check(const ChainState& s) {
  const std::size_t dim = s.position.size(), kept = static_cast<std::size_t>(std::max(0L, s.window.n));
  if (s.low_rank.vecs.size() != s.low_rank.vals.size() * dim)
    malformed("the low-rank metric's directions are not " + std::to_string(dim) + " values each");
  if (s.window.stride < 1 || s.window.n < 0 || s.window.q.size() != kept * s.window.dim ||
      s.window.g.size() != kept * s.window.dim || (kept > 0 && s.window.dim != dim))
    malformed("the low-rank metric's draw window disagrees with its size");
}

}  // namespace

void save_state(const ChainState& s, StateFields& out) {
  out.put("version", static_cast<long long>(kStateVersion));
  Saver io{out, ""};
  chain_fields(io, s);
  save_ensemble(s.ensemble, out);
}

ChainState load_state(const StateFields& in, const std::string& sampler) {
  const long long version = in.has("version") ? in.integer("version") : 1;
  if (version < 1 || version > kStateVersion)
    throw std::invalid_argument("sampler state has version " + std::to_string(version) + "; this brr_bayes reads "
                                "versions 1 to " + std::to_string(kStateVersion) +
                                " (saved by a newer release? upgrade brr_bayes to resume it)");
  ChainState s;
  if (version < 3) {
    s = load_positional(in, sampler);
  } else {
    Loader io{in, ""};
    chain_fields(io, s);
    s.ensemble = load_ensemble(in);
  }
  check(s);
  return s;
}

}  // namespace brr::infer
