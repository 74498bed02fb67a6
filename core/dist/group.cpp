#include "core/dist/group.h"

#include "core/util/error.h"

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <cstdlib>
#include <map>
#include <string>

namespace fan::dist {
namespace {

Group* g_current = nullptr;

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

int int_env(const char* name, int min, int max) {
  const auto v = env(name);
  try {
    size_t used = 0;
    const long x = std::stol(*v, &used);
    if (used != v->size() || x < min || x > max) throw std::invalid_argument("range");
    return static_cast<int>(x);
  } catch (const std::exception&) {
    throw Error("$" + std::string(name) + ": expected an integer in [" + std::to_string(min) + ", " +
                std::to_string(max) + "], got \"" + *v + "\"");
  }
}

}  // namespace

std::string Environment::describe() const {
  return "rank " + std::to_string(rank) + " of " + std::to_string(world_size) + " (" + launcher + ", " + master_addr +
         ":" + std::to_string(master_port) + ")";
}

Environment environment_from_env() {
  Environment e;
  if (env("WORLD_SIZE") || env("RANK")) {
    if (!env("WORLD_SIZE") || !env("RANK"))
      throw Error("distributed run: $RANK and $WORLD_SIZE go together (torchrun sets both)");
    e.launcher = env("FAN_LAUNCHER").value_or("torchrun");
    e.world_size = int_env("WORLD_SIZE", 1, 65536);
    e.rank = int_env("RANK", 0, e.world_size - 1);
    e.local_rank = env("LOCAL_RANK") ? int_env("LOCAL_RANK", 0, 65535) : e.rank;
    if (auto a = env("MASTER_ADDR")) e.master_addr = *a;
    else if (e.world_size > 1) throw Error("distributed run: $MASTER_ADDR is not set (torchrun sets it)");
    if (env("MASTER_PORT")) e.master_port = int_env("MASTER_PORT", 1, 65535);
    else if (e.world_size > 1) throw Error("distributed run: $MASTER_PORT is not set (torchrun sets it)");
  } else if (env("SLURM_NTASKS") && env("SLURM_PROCID") && env("SLURM_STEP_ID")) {
    // Inside `srun` (a job step): one task per rank. sbatch alone (no step) is one process.
    e.launcher = "slurm";
    e.world_size = int_env("SLURM_NTASKS", 1, 65536);
    e.rank = int_env("SLURM_PROCID", 0, e.world_size - 1);
    e.local_rank = env("SLURM_LOCALID") ? int_env("SLURM_LOCALID", 0, 65535) : 0;
    if (auto a = env("MASTER_ADDR")) e.master_addr = *a;
    else if (auto l = env("SLURM_LAUNCH_NODE_IPADDR")) e.master_addr = *l;
    else if (e.world_size > 1)
      throw Error("distributed run under srun: set $MASTER_ADDR (the first node's address) or run from a node that "
                  "sets $SLURM_LAUNCH_NODE_IPADDR");
    if (env("MASTER_PORT")) e.master_port = int_env("MASTER_PORT", 1, 65535);
    else if (env("SLURM_JOB_ID")) e.master_port = 29500 + int_env("SLURM_JOB_ID", 0, 2147483647) % 1000;
  }
  return e;
}

std::string resolve_backend(const std::string& asked, const std::string& device) {
  const bool cuda = device.rfind("cuda", 0) == 0;
  const std::string backend = asked == "auto" ? (cuda ? "nccl" : "gloo") : asked;
  if (backend == "nccl") {
#ifdef USE_C10D_NCCL
    if (!cuda) throw Error("run.backend: \"nccl\" needs device cuda (got " + device + "); use \"gloo\"");
#else
    throw Error("run.backend: this LibTorch has no NCCL (Debian's is CPU-only); use \"gloo\", or build against "
                "the official CUDA LibTorch for NCCL");
#endif
  } else if (backend != "gloo") {
    throw Error("run.backend: expected auto, gloo or nccl, got \"" + asked + "\"");
  }
  return backend;
}

#ifdef USE_C10D_GLOO
struct Group::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};

Group::Group(const Environment& env, const std::string& backend, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>()), env_(env), timeout_(timeout) {
  if (backend != "gloo") throw Error("run.backend: " + backend + " is not available in this build");
  try {
    c10d::TCPStoreOptions o;
    o.port = static_cast<std::uint16_t>(env.master_port);
    o.isServer = env.rank == 0;
    o.numWorkers = static_cast<std::size_t>(env.world_size);
    o.waitWorkers = true;
    o.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr == "localhost"
                                                                                   ? "127.0.0.1"
                                                                                   : env.master_addr));
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    throw Error(env.describe() + ": cannot join the other ranks at " + env.master_addr + ":" +
                std::to_string(env.master_port) + " within " + std::to_string(timeout.count() / 1000) +
                " s (run.timeout): " + e.what());
  }
}

Group::~Group() = default;

namespace {
template <class Call>
void collective(const Environment& env, std::chrono::milliseconds timeout, const char* what, Call&& call) {
  try {
    call()->wait();
  } catch (const std::exception& e) {
    std::string msg = e.what();
    if (const auto nl = msg.find("\nException raised from"); nl != std::string::npos) msg = msg.substr(0, nl);
    throw Error(env.describe() + ": " + what + " with the other ranks failed — another rank died, hung or stopped "
                "(timeout " + std::to_string(timeout.count() / 1000) + " s, run.timeout): " + msg);
  }
}
}  // namespace

void Group::allreduce_gradients(const std::vector<torch::Tensor>& parameters, double weight, int64_t bucket_bytes) {
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters)
    if (p.grad().defined()) grads.push_back(p.grad());
  size_t i = 0;
  while (i < grads.size()) {
    // One bucket: consecutive gradients of one dtype and device up to bucket_bytes.
    std::vector<torch::Tensor> bucket{grads[i]};
    int64_t bytes = grads[i].numel() * grads[i].element_size();
    size_t j = i + 1;
    while (j < grads.size() && grads[j].scalar_type() == grads[i].scalar_type() &&
           grads[j].device() == grads[i].device() && bytes + grads[j].numel() * grads[j].element_size() <= bucket_bytes) {
      bytes += grads[j].numel() * grads[j].element_size();
      bucket.push_back(grads[j++]);
    }
    std::vector<torch::Tensor> flat{torch::cat([&] {
      std::vector<torch::Tensor> views;
      for (const auto& g : bucket) views.push_back(g.reshape({-1}));
      return views;
    }()).mul_(weight)};
    collective(env_, timeout_, "gradient all-reduce", [&] { return impl_->group->allreduce(flat); });
    int64_t offset = 0;
    for (auto& g : bucket) {
      g.copy_(flat[0].narrow(0, offset, g.numel()).view_as(g));
      offset += g.numel();
    }
    i = j;
  }
}

void Group::allreduce_sum(torch::Tensor& tensor, const char* what) {
  std::vector<torch::Tensor> t{tensor};
  collective(env_, timeout_, what, [&] { return impl_->group->allreduce(t); });
}

void Group::broadcast(const std::vector<torch::Tensor>& tensors, const char* what) {
  // One collective per dtype: the tensors flattened into one buffer, then copied back.
  std::map<c10::ScalarType, std::vector<torch::Tensor>> by_type;
  for (const auto& t : tensors) by_type[t.scalar_type()].push_back(t);
  for (auto& [type, group] : by_type) {
    std::vector<torch::Tensor> views;
    for (const auto& t : group) views.push_back(t.reshape({-1}));
    std::vector<torch::Tensor> flat{torch::cat(views)};
    collective(env_, timeout_, what, [&] { return impl_->group->broadcast(flat); });
    int64_t offset = 0;
    for (auto& t : group) {
      t.copy_(flat[0].narrow(0, offset, t.numel()).view_as(t));
      offset += t.numel();
    }
  }
}

void Group::barrier(const char* what) {
  collective(env_, timeout_, what, [&] { return impl_->group->barrier(); });
}

std::string Group::share_string(const std::string& key, const std::string& value_on_rank0) {
  try {
    if (env_.rank == 0) {
      impl_->store->set(key, std::vector<uint8_t>(value_on_rank0.begin(), value_on_rank0.end()));
      return value_on_rank0;
    }
    const auto bytes = impl_->store->get(key);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    throw Error(env_.describe() + ": reading \"" + key + "\" from rank 0 failed: " + e.what());
  }
}

#else
// This LibTorch has no c10d with Gloo: one process only.
struct Group::Impl {};
Group::Group(const Environment& env, const std::string&, std::chrono::milliseconds timeout) : env_(env), timeout_(timeout) {
  throw Error(env.describe() + ": this build's LibTorch has no c10d with Gloo (USE_C10D_GLOO): data-parallel runs "
              "need a LibTorch built with distributed support");
}
Group::~Group() = default;
void Group::allreduce_gradients(const std::vector<torch::Tensor>&, double, int64_t) {}
void Group::allreduce_sum(torch::Tensor&, const char*) {}
void Group::broadcast(const std::vector<torch::Tensor>&, const char*) {}
void Group::barrier(const char*) {}
std::string Group::share_string(const std::string&, const std::string& value) { return value; }
#endif

Group* current() { return g_current; }
void set_current(Group* group) { g_current = group; }

}  // namespace fan::dist
