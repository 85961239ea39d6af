// A Program as bytes and back: what ships a compiled model to another process or machine.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "ir/program.hpp"

namespace brr::ir {

// Bump when the layout below changes; older bytes are refused. 2 added functions (scan steps, ODE
// right-hand sides) after the index arrays.
constexpr uint32_t kProgramFormat = 2;

// Magic, format version, byte-order mark, the construction record (slots, constants, index arrays,
// functions as nested serialised programs,
// ops in the order they were added) and an FNV-1a 64 checksum of everything before it.
std::string serialize(const Program& p);

// Rebuilds the program by replaying its construction through add_slot/add_const/add_view/add_index/
// add_op, so a loaded program passes every check a built one does; throws ShapeError (never crashes)
// on truncated, corrupted, foreign or other-version bytes.
std::shared_ptr<Program> deserialize(const std::string& bytes);

}  // namespace brr::ir
