// Program serialisation: a flat little record of how the program was built, replayed on load.
#include "ir/program_io.hpp"

#include <cstring>
#include <type_traits>
#include <vector>

#include "common/errors.hpp"

namespace brr::ir {

namespace {

constexpr char kMagic[8] = {'B', 'R', 'R', 'P', 'R', 'O', 'G', '\0'};
constexpr uint32_t kByteOrder = 0x01020304u;
enum SlotKind : uint8_t { kPlain = 0, kConst = 1, kView = 2 };

uint64_t fnv1a(const char* data, std::size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ull;
  }
  return h;
}

class Writer {
 public:
  template <class T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    buf_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  template <class T>
  void put_array(const T* v, std::size_t n) {
    put<uint64_t>(n);
    buf_.append(reinterpret_cast<const char*>(v), n * sizeof(T));
  }
  template <class T>
  void put_vec(const std::vector<T>& v) { put_array(v.data(), v.size()); }
  std::string& bytes() { return buf_; }

 private:
  std::string buf_;
};

class Reader {
 public:
  Reader(const char* data, std::size_t n) : p_(data), end_(data + n) {}
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, p_, sizeof(T));
    p_ += sizeof(T);
    return v;
  }
  template <class T>
  std::vector<T> get_vec() {
    const uint64_t n = get<uint64_t>();
    if (n > static_cast<uint64_t>(end_ - p_) / sizeof(T)) truncated();
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), p_, n * sizeof(T));
    p_ += n * sizeof(T);
    return v;
  }
  bool done() const { return p_ == end_; }

 private:
  void need(std::size_t n) const {
    if (static_cast<std::size_t>(end_ - p_) < n) truncated();
  }
  [[noreturn]] static void truncated() { fail("Program bytes are truncated"); }
  const char* p_;
  const char* end_;
};

}  // namespace

std::string serialize(const Program& p) {
  Writer w;
  w.bytes().append(kMagic, sizeof(kMagic));
  w.put<uint32_t>(kProgramFormat);
  w.put<uint32_t>(kByteOrder);
  w.put<uint64_t>(p.dim());
  w.put<uint64_t>(p.num_slots());
  for (std::size_t i = 1; i < p.num_slots(); ++i) {
    const Slot& s = p.slot(static_cast<int>(i));
    if (s.view) {
      w.put<uint8_t>(kView);
      w.put<int32_t>(s.parent);
      w.put<uint64_t>(s.offset - p.slot(s.parent).offset);
      w.put<uint64_t>(s.size);
    } else if (s.constant) {
      w.put<uint8_t>(kConst);
      w.put_array(p.constants().data() + s.offset, s.size);
    } else {
      w.put<uint8_t>(kPlain);
      w.put<uint64_t>(s.size);
    }
  }
  w.put<uint64_t>(p.num_indices());
  for (std::size_t i = 0; i < p.num_indices(); ++i) {
    w.put<int64_t>(p.index_bound(static_cast<int>(i)));
    w.put_vec(p.index(static_cast<int>(i)));
  }
  w.put<uint64_t>(p.num_functions());
  for (std::size_t f = 0; f < p.num_functions(); ++f) {
    const Function& fn = p.function(static_cast<int>(f));
    w.put<int32_t>(fn.out());
    const std::string body = serialize(fn.body());
    w.put_array(body.data(), body.size());
  }
  w.put<uint64_t>(p.ops().size());
  for (std::size_t k = 0; k < p.ops().size(); ++k) {
    const Op& op = p.ops()[k];
    w.put<uint64_t>(p.op_slot_counts()[k]);
    w.put<int32_t>(static_cast<int32_t>(op.code));
    w.put<int32_t>(op.out);
    w.put_vec(op.in);
    w.put_vec(op.idx);
    w.put_vec(op.ip);
    w.put_vec(op.dp);
  }
  const uint64_t sum = fnv1a(w.bytes().data(), w.bytes().size());
  w.put<uint64_t>(sum);
  return std::move(w.bytes());
}

namespace {

struct SlotRecord {
  uint8_t kind;
  int32_t parent;
  uint64_t offset, size;
  std::vector<double> values;
};

}  // namespace

std::shared_ptr<Program> deserialize(const std::string& bytes) {
  constexpr std::size_t kHeader = sizeof(kMagic) + 2 * sizeof(uint32_t);
  if (bytes.size() < kHeader + sizeof(uint64_t) || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0)
    fail("these bytes are not a serialised brr_bayes Program");
  Reader head(bytes.data() + sizeof(kMagic), 2 * sizeof(uint32_t));
  const uint32_t format = head.get<uint32_t>(), order = head.get<uint32_t>();
  if (order != kByteOrder) fail("Program bytes come from a machine of the other byte order; compile the model here");
  if (format != kProgramFormat)
    fail("Program bytes have format ", format, " but this brr_bayes reads format ", kProgramFormat,
         "; compile the model with this version");
  const std::size_t body = bytes.size() - sizeof(uint64_t);
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + body, sizeof(uint64_t));
  if (stored != fnv1a(bytes.data(), body)) fail("Program bytes are corrupted (checksum mismatch)");

  Reader r(bytes.data() + kHeader, body - kHeader);
  auto p = std::make_shared<Program>(r.get<uint64_t>());
  const uint64_t n_slots = r.get<uint64_t>();
  if (n_slots < 1) fail("Program bytes hold no parameter slot");
  std::vector<SlotRecord> slots;
  slots.reserve(n_slots - 1);
  for (uint64_t i = 1; i < n_slots; ++i) {
    SlotRecord s{r.get<uint8_t>(), -1, 0, 0, {}};
    if (s.kind == kView) {
      s.parent = r.get<int32_t>();
      s.offset = r.get<uint64_t>();
      s.size = r.get<uint64_t>();
    } else if (s.kind == kConst) {
      s.values = r.get_vec<double>();
    } else if (s.kind == kPlain) {
      s.size = r.get<uint64_t>();
    } else {
      fail("Program bytes: slot ", i, " has unknown kind ", int(s.kind));
    }
    slots.push_back(std::move(s));
  }
  const uint64_t n_idx = r.get<uint64_t>();
  for (uint64_t i = 0; i < n_idx; ++i) {
    const int64_t bound = r.get<int64_t>();
    const std::vector<int32_t> v = r.get_vec<int32_t>();
    const std::vector<int64_t> wide(v.begin(), v.end());
    p->add_index(wide.data(), wide.size(), bound);
  }
  const uint64_t n_fn = r.get<uint64_t>();
  for (uint64_t f = 0; f < n_fn; ++f) {
    const int32_t out = r.get<int32_t>();
    const std::vector<char> body = r.get_vec<char>();
    p->add_function(*deserialize(std::string(body.begin(), body.end())), out);
  }
  std::size_t next = 0;  // slot records replayed so far
  auto add_slots_until = [&](uint64_t count) {
    if (count > n_slots || count < next + 1) fail("Program bytes: an op's slot count ", count, " is out of order");
    for (; next + 1 < count; ++next) {
      const SlotRecord& s = slots[next];
      if (s.kind == kView) p->add_view(s.parent, s.offset, s.size);
      else if (s.kind == kConst) p->add_const(s.values.data(), s.values.size());
      else p->add_slot(s.size);
    }
  };
  const uint64_t n_ops = r.get<uint64_t>();
  for (uint64_t k = 0; k < n_ops; ++k) {
    add_slots_until(r.get<uint64_t>());
    Op op;
    op.code = static_cast<OpCode>(r.get<int32_t>());
    op.out = r.get<int32_t>();
    op.in = r.get_vec<int>();
    op.idx = r.get_vec<int>();
    op.ip = r.get_vec<int64_t>();
    op.dp = r.get_vec<double>();
    p->add_op(std::move(op));
  }
  add_slots_until(n_slots);
  if (!r.done()) fail("Program bytes have trailing data after the last op");
  return p;
}

}  // namespace brr::ir
