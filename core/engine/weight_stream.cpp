#include "engine/weight_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>

#include "engine/device.h"
#include "tier/io_queue.h"

namespace bricks::engine {
namespace {

constexpr int64_t kAlign = 4096;     // direct I/O: offsets, lengths and buffers
constexpr int64_t kChunk = 1 << 20;  // one read request
constexpr int kDepth = 8;            // read requests in flight
constexpr int64_t kProbeBytes = 64 << 20;

constexpr const char* kMatrices[] = {"attn_q",   "attn_k", "attn_v",  "attn_output",
                                     "ffn_gate", "ffn_up", "ffn_down"};

int64_t align_down(int64_t v) { return v / kAlign * kAlign; }
int64_t align_up(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string matrix_name(int32_t layer, const char* m) {
  return "blk." + std::to_string(layer) + "." + m + ".weight";
}

}  // namespace

namespace detail {
struct AlignedFree {
  void operator()(std::byte* p) const { std::free(p); }
};
}  // namespace detail
using Buffer = std::unique_ptr<std::byte, detail::AlignedFree>;

namespace {

Buffer aligned_buffer(int64_t bytes) {
  void* p = std::aligned_alloc(kAlign, static_cast<size_t>(align_up(std::max<int64_t>(bytes, 1))));
  if (p == nullptr) throw std::bad_alloc();
  return Buffer(static_cast<std::byte*>(p));
}

// Opens `path` for reading around the page cache where the filesystem allows; `why` gets
// the reason when it does not.
int open_direct(const std::filesystem::path& path, bool& direct, std::string& why) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT);
  direct = fd >= 0;
  if (fd < 0 && errno == EINVAL) {
    why = std::string("O_DIRECT: ") + std::strerror(EINVAL) + " on this filesystem";
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  }
  if (fd < 0) {
    throw DeviceStepError("cannot open " + path.string() +
                          " to read weights from it: " + std::strerror(errno));
  }
  return fd;
}

}  // namespace

struct WeightStream::Extent {
  size_t file = 0;         // index into the layout's files
  int64_t offset = 0;      // in the file, aligned
  int64_t length = 0;      // aligned
  int64_t need = 0;        // bytes that must be read (the rest is padding past the tensors)
  int64_t buffer_pos = 0;  // in the slot
};

struct WeightStream::Layout {
  int32_t layer = 0;
  std::vector<std::filesystem::path> files;
  std::vector<Extent> extents;
  std::vector<const model::TensorView*> matrices;  // kMatrices order
  std::vector<int64_t> matrix_pos;                 // where each lands in the slot
  int64_t bytes = 0;                               // of the slot
};

// The reads that bring layer `l`'s matrices into one buffer: their file extents widened to
// the alignment, merged where they touch.
std::unique_ptr<WeightStream::Layout> WeightStream::make_layout(const model::Model& m, int32_t l) {
  auto out = std::make_unique<Layout>();
  out->layer = l;
  struct Piece {
    size_t file;
    int64_t begin, end;
    size_t matrix;
  };
  std::vector<Piece> pieces;
  for (const char* name : kMatrices) {
    const model::TensorView& t = m.tensor(matrix_name(l, name));
    if (t.file == nullptr) {
      throw model::ModelError(m.path().string() + ": tensor " + t.name +
                              " was changed at load, so it cannot be read from its file");
    }
    auto it = std::find(out->files.begin(), out->files.end(), *t.file);
    const size_t f = static_cast<size_t>(it - out->files.begin());
    if (it == out->files.end()) out->files.push_back(*t.file);
    const auto begin = static_cast<int64_t>(t.file_offset);
    pieces.push_back({f, begin, begin + static_cast<int64_t>(t.nbytes), out->matrices.size()});
    out->matrices.push_back(&t);
  }
  out->matrix_pos.resize(out->matrices.size());
  std::sort(pieces.begin(), pieces.end(), [](const Piece& a, const Piece& b) {
    return a.file != b.file ? a.file < b.file : a.begin < b.begin;
  });
  for (const Piece& p : pieces) {
    Extent* last = out->extents.empty() ? nullptr : &out->extents.back();
    if (last == nullptr || last->file != p.file ||
        align_down(p.begin) > last->offset + last->length) {
      out->extents.push_back({p.file, align_down(p.begin), 0, 0, out->bytes});
      last = &out->extents.back();
    }
    const int64_t end = std::max(last->offset + last->length, align_up(p.end));
    out->bytes += end - (last->offset + last->length);
    last->length = end - last->offset;
    last->need = std::max(last->need, p.end - last->offset);
    out->matrix_pos[p.matrix] = last->buffer_pos + (p.begin - last->offset);
  }
  return out;
}

struct WeightStream::Slot {
  Buffer buffer;
  LayerWeights weights;
  std::string error;
};

struct WeightStream::File {
  int fd = -1;
  std::unique_ptr<tier::IoQueue> queue;
  ~File() {
    queue.reset();
    if (fd >= 0) ::close(fd);
  }
};

std::string WeightStream::cannot_stream(const model::Model& m) {
  if (m.config().n_experts > 0) {
    return "the model is a mixture of experts; only dense layers are read from disk";
  }
  try {
    for (int32_t l = 0; l < m.config().n_layers; ++l) make_layout(m, l);
  } catch (const model::ModelError& e) {
    return e.what();
  }
  return "";
}

std::vector<int64_t> WeightStream::layer_buffer_bytes(const model::Model& m) {
  std::vector<int64_t> out;
  for (int32_t l = 0; l < m.config().n_layers; ++l) out.push_back(make_layout(m, l)->bytes);
  return out;
}

int64_t WeightStream::fixed_bytes(const model::Model& m) {
  int64_t matrices = 0;
  for (int32_t l = 0; l < m.config().n_layers; ++l) {
    for (const char* name : kMatrices)
      matrices += static_cast<int64_t>(m.tensor(matrix_name(l, name)).nbytes);
  }
  return static_cast<int64_t>(m.weight_bytes()) - matrices;
}

double WeightStream::measure_disk_rate(const model::Model& m) {
  if (m.config().n_layers == 0) return 0.0;
  const std::unique_ptr<Layout> first = make_layout(m, 0);
  const std::filesystem::path& path = first->files[first->extents.front().file];
  bool direct = false;
  std::string why;
  File f;
  f.fd = open_direct(path, direct, why);
  const int64_t size = ::lseek(f.fd, 0, SEEK_END);
  const int64_t begin = first->extents.front().offset;
  const int64_t bytes = align_down(std::min(kProbeBytes, size - begin));
  if (bytes < kChunk) return 0.0;
  f.queue = std::make_unique<tier::IoQueue>(f.fd, kDepth);
  std::vector<Buffer> buffers;
  for (int i = 0; i < kDepth; ++i) buffers.push_back(aligned_buffer(kChunk));
  const size_t count = static_cast<size_t>((bytes + kChunk - 1) / kChunk);
  std::string error;
  const auto t0 = std::chrono::steady_clock::now();
  f.queue->run(
      count,
      [&](size_t i, int slot) {
        const int64_t off = static_cast<int64_t>(i) * kChunk;
        return tier::IoOp{false, buffers[static_cast<size_t>(slot)].get(),
                          static_cast<size_t>(std::min(kChunk, bytes - off)), begin + off};
      },
      [&](size_t, int, int64_t result) {
        if (result < 0 && error.empty()) error = std::strerror(static_cast<int>(-result));
      });
  const double s = seconds_since(t0);
  if (!error.empty()) throw DeviceStepError("reading " + path.string() + ": " + error);
  return s > 0 ? static_cast<double>(bytes) / s : 0.0;
}

double WeightStream::measure_compute_rate(const LlamaWeights& w) {
  const cpu::Linear& head = *w.output;
  const std::vector<float> x(static_cast<size_t>(head.cols()), 0.0f);
  std::vector<float> y(static_cast<size_t>(head.rows()));
  double best = 0;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    head.forward(x.data(), 1, y.data());
    const double s = seconds_since(t0);
    if (best == 0 || s < best) best = s;
  }
  return best > 0 ? static_cast<double>(head.weight_bytes()) / best : 0.0;
}

WeightStream::WeightStream(const model::Model& m, const WeightPlan& plan, cpu::Compute compute)
    : plan_(plan), compute_(compute) {
  std::map<std::filesystem::path, size_t> file_index;
  for (int32_t l = 0; l < static_cast<int32_t>(plan_.streamed.size()); ++l) {
    if (!streams(l)) continue;
    order_.push_back(l);
    layouts_.push_back(make_layout(m, l));
    if (layouts_.back()->bytes > plan_.slot_bytes) {
      throw std::logic_error("WeightStream: layer " + std::to_string(l) + " needs " +
                             std::to_string(layouts_.back()->bytes) +
                             " bytes, the plan's buffers " + std::to_string(plan_.slot_bytes));
    }
    for (const auto& path : layouts_.back()->files) file_index.emplace(path, 0);
  }
  if (order_.empty()) return;
  std::string why;
  bool all_direct = true;
  for (auto& [path, index] : file_index) {
    index = files_.size();
    auto f = std::make_unique<File>();
    bool direct = false;
    f->fd = open_direct(path, direct, why);
    all_direct = all_direct && direct;
    f->queue = std::make_unique<tier::IoQueue>(f->fd, kDepth);
    if (!f->queue->fallback_reason().empty()) io_ = "pread (" + f->queue->fallback_reason() + ")";
    files_.push_back(std::move(f));
  }
  // Each layout's file indices become indices into files_.
  for (auto& layout : layouts_) {
    for (Extent& e : layout->extents) e.file = file_index.at(layout->files[e.file]);
  }
  if (io_.empty()) io_ = "io_uring";
  io_ += all_direct ? ", O_DIRECT" : ", page cache (" + why + ")";
  io_ += ", " + std::to_string(kDepth) + " reads of 1 MiB in flight";
  for (int32_t s = 0; s < plan_.ring_slots; ++s) {
    auto slot = std::make_unique<Slot>();
    slot->buffer = aligned_buffer(plan_.slot_bytes);
    slots_.push_back(std::move(slot));
  }
  thread_ = std::thread([this] { read_loop(); });
}

WeightStream::~WeightStream() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  read_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string WeightStream::read_into(const Layout& layout, Slot& slot) {
  // Extents of one file go through its queue together; most layers have one extent.
  std::string error;
  for (size_t f = 0; f < files_.size() && error.empty(); ++f) {
    struct Op {
      int64_t offset, length, need;
      std::byte* dst;
    };
    std::vector<Op> ops;
    for (const Extent& e : layout.extents) {
      if (e.file != f) continue;
      for (int64_t off = 0; off < e.length; off += kChunk) {
        const int64_t len = std::min(kChunk, e.length - off);
        ops.push_back({e.offset + off, len, std::clamp<int64_t>(e.need - off, 0, len),
                       slot.buffer.get() + e.buffer_pos + off});
      }
    }
    if (ops.empty()) continue;
    files_[f]->queue->run(
        ops.size(),
        [&](size_t i, int) {
          return tier::IoOp{false, ops[i].dst, static_cast<size_t>(ops[i].length), ops[i].offset};
        },
        [&](size_t i, int, int64_t result) {
          if (!error.empty()) return;
          if (result < 0) {
            error = std::strerror(static_cast<int>(-result));
          } else if (result < ops[i].need) {
            error = "the file ends at byte " + std::to_string(ops[i].offset + result) +
                    ", inside the layer's tensors";
          }
        });
  }
  if (!error.empty()) {
    return "reading layer " + std::to_string(layout.layer) + "'s weights from " +
           layout.files.front().string() + ": " + error;
  }
  LayerWeights& w = slot.weights;
  std::unique_ptr<cpu::Linear>* dst[] = {&w.wq, &w.wk, &w.wv, &w.wo, &w.w_gate, &w.w_up, &w.w_down};
  for (size_t i = 0; i < layout.matrices.size(); ++i) {
    cpu::WeightView v = weight_view(*layout.matrices[i]);
    v.data = slot.buffer.get() + layout.matrix_pos[i];
    *dst[i] = std::make_unique<cpu::Linear>(v, compute_);
  }
  return "";
}

void WeightStream::read_loop() {
  const auto k = static_cast<int64_t>(order_.size());
  const auto S = static_cast<int64_t>(slots_.size());
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    // Position n reuses the slot of n - S, free once the forward pass released it.
    read_cv_.wait(lock, [&] { return stop_ || next_read_ < next_use_ - (held_ ? 1 : 0) + S; });
    if (stop_) return;
    const int64_t n = next_read_++;
    Slot& slot = *slots_[static_cast<size_t>(n % S)];
    const Layout& layout = *layouts_[static_cast<size_t>(n % k)];
    lock.unlock();
    const auto t0 = std::chrono::steady_clock::now();
    std::string error = read_into(layout, slot);
    const double s = seconds_since(t0);
    lock.lock();
    slot.error = std::move(error);
    counters_.read_s += s;
    if (slot.error.empty()) {
      ++counters_.layers_read;
      for (const Extent& e : layout.extents) counters_.bytes_read += e.length;
    } else {
      ++counters_.failed_reads;
    }
    reads_done_ = n + 1;
    done_cv_.notify_all();
  }
}

WeightStream::Slot& WeightStream::wait_read(int64_t n, std::unique_lock<std::mutex>& lock) {
  if (reads_done_ <= n) {
    const auto t0 = std::chrono::steady_clock::now();
    done_cv_.wait(lock, [&] { return reads_done_ > n; });
    counters_.waited_s += seconds_since(t0);
  }
  return *slots_[static_cast<size_t>(n % static_cast<int64_t>(slots_.size()))];
}

const LayerWeights& WeightStream::acquire(int32_t layer) {
  if (layer < 0 || layer >= static_cast<int32_t>(plan_.streamed.size()) || !streams(layer)) {
    throw std::logic_error("WeightStream::acquire: layer " + std::to_string(layer) +
                           " is not streamed");
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (held_) throw std::logic_error("WeightStream::acquire before the last layer's release");
  const auto k = static_cast<int64_t>(order_.size());
  while (true) {
    const int64_t n = next_use_;
    Slot& slot = wait_read(n, lock);
    ++next_use_;
    if (order_[static_cast<size_t>(n % k)] != layer || !slot.error.empty()) {
      // A layer the last pass skipped, or a read that failed: its buffer is free again.
      read_cv_.notify_all();
      if (order_[static_cast<size_t>(n % k)] == layer) throw DeviceStepError(slot.error);
      continue;
    }
    held_ = true;
    return slot.weights;
  }
}

void WeightStream::release(int32_t layer) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!held_) {
      throw std::logic_error("WeightStream::release(" + std::to_string(layer) +
                             ") without acquire");
    }
    held_ = false;
  }
  read_cv_.notify_all();
}

WeightStreamCounters WeightStream::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

}  // namespace bricks::engine
