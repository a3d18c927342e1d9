// bricks/bricks.hpp: the C++ way to write a brick.
//
// Derive from the base class of your kind, give the class a constructor
// `(const bricks::Host&, const bricks::Params&)`, describe it with bricks::describe<T>(...)
// and list the descriptors in BRICKS_PLUGIN(...). The adapters below generate the C vtable,
// catch every exception at the boundary and turn it into a bricks_error*.
//
//   class MyScheduler : public bricks::Scheduler { ... };
//   static const bricks_param_spec kParams[] = {bricks::param_int(...)};
//   BRICKS_PLUGIN("my_plugin", "1.0.0", "Apache-2.0",
//                 bricks::describe<MyScheduler>("mine", "1.0.0", "One line.").params(kParams))
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "bricks/abi.h"
#include "bricks/error.hpp"
#include "bricks/host.hpp"
#include "bricks/params.hpp"

namespace bricks {

// Base of every brick instance; keeps the host so adapters can make errors.
class Brick {
 public:
  explicit Brick(const Host& host) : host_(host) {}
  virtual ~Brick() = default;
  Brick(const Brick&) = delete;
  Brick& operator=(const Brick&) = delete;
  const Host& host() const { return host_; }

 private:
  Host host_;
};

class Scheduler : public Brick {
 public:
  static constexpr bricks_kind kKind = BRICKS_KIND_SCHEDULER;
  using Brick::Brick;
  virtual void schedule(const bricks_sched_input& input, bricks_step_plan& plan) = 0;
  virtual void on_step_done(const bricks_step_result& /*result*/) {}
};

class KvManager : public Brick {
 public:
  static constexpr bricks_kind kKind = BRICKS_KIND_KV;
  using Brick::Brick;
  virtual int32_t block_size() const = 0;
  virtual void configure(const bricks_kv_geometry& geometry) = 0;
  virtual int32_t lookup_prefix(const bricks_request_view& r, int32_t group) = 0;
  virtual bool allocate(const bricks_request_view& r, int32_t group, int32_t num_cached,
                        int32_t num_new) = 0;
  virtual void commit(const bricks_request_view& r, int32_t group) = 0;
  virtual void release(uint64_t request_id) = 0;
  virtual void build_page_table(int32_t group, const bricks_kv_seq* seqs, int32_t num_seqs,
                                bricks_page_table& table, int32_t* slots) = 0;
  virtual void stats(bricks_kv_stats& out) const = 0;
  // Swap support: override all three and declare the "kv.swap" capability.
  virtual bool supports_swap() const { return false; }
  virtual bool swap_out(uint64_t /*request_id*/) { throw Error::unsupported("no swap"); }
  virtual bool swap_in(uint64_t /*request_id*/) { throw Error::unsupported("no swap"); }
  virtual int32_t take_copies(const bricks_block_copy** out) {
    *out = nullptr;
    return 0;
  }
};

class Attention : public Brick {
 public:
  static constexpr bricks_kind kKind = BRICKS_KIND_ATTENTION;
  using Brick::Brick;
  virtual void plan(const bricks_attention_batch& batch) = 0;
  virtual void run(const bricks_attention_io& io) = 0;
};

class Pruner : public Brick {
 public:
  static constexpr bricks_kind kKind = BRICKS_KIND_PRUNING;
  using Brick::Brick;
  virtual bool prunes_after(int32_t layer, int32_t num_layers) const = 0;
  virtual void select(const bricks_prune_input& input, bricks_keep_set& keep) = 0;
};

class Router : public Brick {
 public:
  static constexpr bricks_kind kKind = BRICKS_KIND_ROUTER;
  using Brick::Brick;
  virtual void route(const bricks_route_input& input, bricks_route_output& output) = 0;
};

class Merger : public Brick {
 public:
  static constexpr bricks_kind kKind = BRICKS_KIND_MERGER;
  using Brick::Brick;
  // Returns false to leave the tensor alone (the host keeps inputs[0]).
  virtual bool merge(const bricks_merge_tensor& tensor, float* out) = 0;
};

class Adapter : public Brick {
 public:
  static constexpr bricks_kind kKind = BRICKS_KIND_ADAPTER;
  using Brick::Brick;
  virtual void configure(const bricks_adapter_base& base) = 0;
  // Returns the new adapter's handle (>= 0).
  virtual int32_t load(const std::string& path, float scale) = 0;
  virtual void info(int32_t handle, bricks_adapter_info& out) = 0;
  virtual void apply(const bricks_adapter_apply& batch) = 0;
  virtual void unload(int32_t /*handle*/) {
    throw Error::unsupported("this adapter brick cannot unload adapters");
  }
};

namespace detail {

template <class T>
bricks_error* create(const bricks_host_api* host, const bricks_param_value* params, int32_t n,
                     void** out) {
  return guard(host, [&] { *out = static_cast<Brick*>(new T(Host(host), Params(params, n))); });
}
template <class T>
void destroy(void* instance) {
  delete static_cast<T*>(static_cast<Brick*>(instance));
}
template <class T>
T& self(void* instance) {
  return *static_cast<T*>(static_cast<Brick*>(instance));
}
template <class T, class Body>
bricks_error* call(void* instance, Body&& body) {
  return guard(self<T>(instance).host().api(), [&] { body(self<T>(instance)); });
}
// For the verbs that return no status: an exception is logged as an error through the
// host and `fallback` is returned, so nothing unwinds across the C boundary.
template <class T, class R, class Body>
R call_or(void* instance, R fallback, Body&& body) noexcept {
  T& t = self<T>(instance);
  const bricks_host_api* api = t.host().api();
  try {
    return body(t);
  } catch (const std::exception& e) {
    api->log(api->ctx, BRICKS_LOG_ERROR, e.what());  // logged while the exception lives
  } catch (...) {
    api->log(api->ctx, BRICKS_LOG_ERROR, "unknown exception in a brick");
  }
  return fallback;
}

template <class T, bricks_kind K = T::kKind>
struct Vtable;

template <class T>
struct Vtable<T, BRICKS_KIND_SCHEDULER> {
  static constexpr bricks_scheduler_vtable value = {
      sizeof(bricks_scheduler_vtable), &create<T>, &destroy<T>,
      [](void* i, const bricks_sched_input* in, bricks_step_plan* out) {
        return call<T>(i, [&](T& t) { t.schedule(*in, *out); });
      },
      [](void* i, const bricks_step_result* r) {
        call_or<T>(i, 0, [&](T& t) { t.on_step_done(*r); return 0; });
      }};
};

template <class T>
struct Vtable<T, BRICKS_KIND_KV> {
  static constexpr bricks_kv_vtable value = {
      sizeof(bricks_kv_vtable), &create<T>, &destroy<T>,
      [](void* i) { return call_or<T>(i, int32_t{0}, [](T& t) { return t.block_size(); }); },
      [](void* i, const bricks_kv_geometry* g) {
        return call<T>(i, [&](T& t) { t.configure(*g); });
      },
      [](void* i, const bricks_request_view* r, int32_t group) {
        return call_or<T>(i, int32_t{0}, [&](T& t) { return t.lookup_prefix(*r, group); });
      },
      [](void* i, const bricks_request_view* r, int32_t group, int32_t cached, int32_t n,
         int32_t* ok) {
        return call<T>(i, [&](T& t) { *ok = t.allocate(*r, group, cached, n) ? 1 : 0; });
      },
      [](void* i, const bricks_request_view* r, int32_t group) {
        call_or<T>(i, 0, [&](T& t) { t.commit(*r, group); return 0; });
      },
      [](void* i, uint64_t id) { call_or<T>(i, 0, [&](T& t) { t.release(id); return 0; }); },
      [](void* i, int32_t group, const bricks_kv_seq* seqs, int32_t n, bricks_page_table* table,
         int32_t* slots) {
        return call<T>(i, [&](T& t) { t.build_page_table(group, seqs, n, *table, slots); });
      },
      [](void* i, bricks_kv_stats* out) {
        call_or<T>(i, 0, [&](T& t) { t.stats(*out); return 0; });
      },
      [](void* i, uint64_t id, int32_t* ok) {
        return call<T>(i, [&](T& t) { *ok = t.swap_out(id) ? 1 : 0; });
      },
      [](void* i, uint64_t id, int32_t* ok) {
        return call<T>(i, [&](T& t) { *ok = t.swap_in(id) ? 1 : 0; });
      },
      [](void* i, const bricks_block_copy** out) {
        *out = nullptr;
        return call_or<T>(i, int32_t{0}, [&](T& t) { return t.take_copies(out); });
      }};
};

template <class T>
struct Vtable<T, BRICKS_KIND_ATTENTION> {
  static constexpr bricks_attention_vtable value = {
      sizeof(bricks_attention_vtable), &create<T>, &destroy<T>,
      [](void* i, const bricks_attention_batch* b) {
        return call<T>(i, [&](T& t) { t.plan(*b); });
      },
      [](void* i, const bricks_attention_io* io) {
        return call<T>(i, [&](T& t) { t.run(*io); });
      }};
};

template <class T>
struct Vtable<T, BRICKS_KIND_PRUNING> {
  static constexpr bricks_pruning_vtable value = {
      sizeof(bricks_pruning_vtable), &create<T>, &destroy<T>,
      [](void* i, int32_t layer, int32_t n) {
        return call_or<T>(i, int32_t{0}, [&](T& t) { return t.prunes_after(layer, n) ? 1 : 0; });
      },
      [](void* i, const bricks_prune_input* in, bricks_keep_set* out) {
        return call<T>(i, [&](T& t) { t.select(*in, *out); });
      }};
};

template <class T>
struct Vtable<T, BRICKS_KIND_ROUTER> {
  static constexpr bricks_router_vtable value = {
      sizeof(bricks_router_vtable), &create<T>, &destroy<T>,
      [](void* i, const bricks_route_input* in, bricks_route_output* out) {
        return call<T>(i, [&](T& t) { t.route(*in, *out); });
      }};
};

template <class T>
struct Vtable<T, BRICKS_KIND_MERGER> {
  static constexpr bricks_merger_vtable value = {
      sizeof(bricks_merger_vtable), &create<T>, &destroy<T>,
      [](void* i, const bricks_merge_tensor* t, float* out, int32_t* merged) {
        return call<T>(i, [&](T& b) { *merged = b.merge(*t, out) ? 1 : 0; });
      }};
};

template <class T>
struct Vtable<T, BRICKS_KIND_ADAPTER> {
  static constexpr bricks_adapter_vtable value = {
      sizeof(bricks_adapter_vtable), &create<T>, &destroy<T>,
      [](void* i, const bricks_adapter_base* b) {
        return call<T>(i, [&](T& t) { t.configure(*b); });
      },
      [](void* i, const char* path, float scale, int32_t* handle) {
        return call<T>(i, [&](T& t) { *handle = t.load(path != nullptr ? path : "", scale); });
      },
      [](void* i, int32_t handle, bricks_adapter_info* out) {
        return call<T>(i, [&](T& t) { t.info(handle, *out); });
      },
      [](void* i, const bricks_adapter_apply* b) {
        return call<T>(i, [&](T& t) { t.apply(*b); });
      },
      [](void* i, int32_t handle) { return call<T>(i, [&](T& t) { t.unload(handle); }); }};
};

}  // namespace detail

// A brick descriptor for class T, built in one expression:
//   bricks::describe<Fcfs>("fcfs", "1.0.0", "One line.").params(kParams).provides(kCaps)
// The arrays passed must be static: the descriptor points into them.
template <class T>
class describe {
 public:
  constexpr describe(const char* name, const char* version, const char* summary)
      : d_{sizeof(bricks_brick_desc), T::kKind, name, version, summary, nullptr, 0, nullptr, 0,
           nullptr, 0, &detail::Vtable<T>::value, {nullptr, nullptr, nullptr, nullptr}} {}
  template <size_t N>
  constexpr describe params(const bricks_param_spec (&p)[N]) const {
    describe c = *this;
    c.d_.params = p;
    c.d_.num_params = static_cast<int32_t>(N);
    return c;
  }
  template <size_t N>
  constexpr describe provides(const char* const (&caps)[N]) const {
    describe c = *this;
    c.d_.provides = caps;
    c.d_.num_provides = static_cast<int32_t>(N);
    return c;
  }
  template <size_t N>
  constexpr describe requires_caps(const char* const (&caps)[N]) const {
    describe c = *this;
    c.d_.requires_ = caps;
    c.d_.num_requires = static_cast<int32_t>(N);
    return c;
  }
  // Replaces the vtable generated from T's base class with `vt`, a static vtable of T's
  // kind (bricks::sched::describe_scheduler uses this).
  constexpr describe vtable(const void* vt) const {
    describe c = *this;
    c.d_.vtable = vt;
    return c;
  }
  constexpr operator bricks_brick_desc() const { return d_; }  // NOLINT: implicit by design

 private:
  bricks_brick_desc d_;
};

}  // namespace bricks

// Defines the plugin's one exported symbol. Arguments after the license are
// bricks_brick_desc values, usually from bricks::describe<T>(...).
#define BRICKS_PLUGIN(NAME, VERSION, LICENSE, ...)                                          \
  extern "C" BRICKS_EXPORT const bricks_plugin_desc* bricks_plugin_entry(void) {            \
    static const bricks_brick_desc bricks_descs_[] = {__VA_ARGS__};                         \
    static const bricks_plugin_desc bricks_plugin_ = {                                      \
        sizeof(bricks_plugin_desc), BRICKS_ABI_MAJOR, BRICKS_ABI_MINOR, NAME, VERSION,      \
        LICENSE, bricks_descs_,                                                             \
        static_cast<int32_t>(sizeof(bricks_descs_) / sizeof(bricks_descs_[0])),             \
        {nullptr, nullptr, nullptr, nullptr}};                                              \
    return &bricks_plugin_;                                                                 \
  }
