// The ops a log density evaluation runs: those adding to the target and, transitively, the writers of
// their inputs. Ops that compute only deterministics (read through Program::ops_for when draws are
// read) are left out, so a Deterministic costs nothing per gradient. Header-only: the device module
// runs it on programs it receives from the core module.
#pragma once
#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "ir/program.hpp"

namespace brr::ir {

// Densities, TargetAdd (the ops without an output slot) and the constraining transforms (codes
// 300-399, their log|J|) add to the target; every other op only computes its output slot.
inline bool adds_to_target(const Op& op) { return op.out < 0 || static_cast<int>(op.code) >= 300; }

// The ops in `used` and, transitively, the writers of the slots in `todo` and of their inputs (a view
// reads its parent), as positions in p.ops() in program order. Program::ops_for and logp_ops both walk it.
inline std::vector<std::size_t> ops_reaching(const Program& p, std::vector<int> todo, std::vector<char> used) {
  const auto& ops = p.ops();
  std::vector<long> writer(p.num_slots(), -1);
  for (std::size_t k = 0; k < ops.size(); ++k)
    if (ops[k].out >= 0) writer[static_cast<std::size_t>(ops[k].out)] = static_cast<long>(k);
  std::vector<char> seen(p.num_slots(), 0);
  while (!todo.empty()) {
    const int s = todo.back();
    todo.pop_back();
    if (seen[static_cast<std::size_t>(s)]) continue;
    seen[static_cast<std::size_t>(s)] = 1;
    const Slot& sl = p.slot(s);
    if (sl.view) {
      todo.push_back(sl.parent);  // a view reads its parent's memory
    } else if (const long w = writer[static_cast<std::size_t>(s)]; w >= 0 && !used[static_cast<std::size_t>(w)]) {
      used[static_cast<std::size_t>(w)] = 1;
      const auto& in = ops[static_cast<std::size_t>(w)].in;
      todo.insert(todo.end(), in.begin(), in.end());
    }
  }
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < ops.size(); ++k)
    if (used[k]) out.push_back(k);
  return out;
}

// Positions in p.ops(), in program order. A program where no op adds to a target (a function body:
// a Scan step, an ODE right-hand side, whose result is its output slot) runs every op.
inline std::vector<std::size_t> logp_ops(const Program& p) {
  const auto& ops = p.ops();
  std::vector<char> used(ops.size(), 0);
  std::vector<int> todo;
  for (std::size_t k = 0; k < ops.size(); ++k)
    if (adds_to_target(ops[k])) {
      used[k] = 1;
      todo.insert(todo.end(), ops[k].in.begin(), ops[k].in.end());
    }
  if (std::find(used.begin(), used.end(), 1) == used.end()) std::fill(used.begin(), used.end(), 1);
  return ops_reaching(p, std::move(todo), std::move(used));
}

// The adjoint elements [begin, end) that the ops' backward passes read or write (the parameters'
// included), merged: an evaluation zeroes these only, not the adjoints of slots that only deterministics
// use (W2 with a row-level Deterministic p = inv_logit(eta): 100,000 doubles a gradient for nothing).
inline std::vector<std::pair<std::size_t, std::size_t>> adjoint_ranges(const Program& p,
                                                                       const std::vector<std::size_t>& ops) {
  std::vector<std::pair<std::size_t, std::size_t>> r;
  auto add = [&](int s) {
    const Slot& sl = p.slot(s);
    if (sl.adj >= 0) r.emplace_back(static_cast<std::size_t>(sl.adj), static_cast<std::size_t>(sl.adj) + sl.size);
  };
  add(0);
  for (std::size_t k : ops) {
    const Op& op = p.ops()[k];
    for (int s : op.in) add(s);
    if (op.out >= 0) add(op.out);
  }
  std::sort(r.begin(), r.end());
  std::vector<std::pair<std::size_t, std::size_t>> merged;
  for (const auto& x : r) {
    if (!merged.empty() && x.first <= merged.back().second) merged.back().second = std::max(merged.back().second, x.second);
    else merged.push_back(x);
  }
  return merged;
}

}  // namespace brr::ir
