// Data-parallel training on LibTorch's own distributed engine (c10d): a TCPStore and a
// ProcessGroupGloo (CPU; NCCL where LibTorch has it), the environment that torchrun and Slurm set,
// and the collectives the trainers need: bucketed gradient all-reduce, broadcast, a step's agreement.
#pragma once
#include <torch/types.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace fan::dist {

// Where this process stands among the ranks of a run.
struct Environment {
  int rank = 0, world_size = 1, local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "none";  // "torchrun" (RANK, WORLD_SIZE, …), "slurm" (SLURM_PROCID, …), "none"
  bool distributed() const { return world_size > 1; }
  std::string describe() const;   // "rank 1 of 2 (torchrun, 127.0.0.1:29500)"
};

// From RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT (torchrun), else SLURM_PROCID /
// SLURM_NTASKS / SLURM_LOCALID (srun; MASTER_ADDR defaults to SLURM_LAUNCH_NODE_IPADDR, MASTER_PORT
// to 29500 + SLURM_JOB_ID % 1000), else one process. A malformed variable is a fan::Error naming it.
Environment environment_from_env();

// The backend for a device: "gloo" on CPU, "nccl" on CUDA (run.backend "auto").
std::string resolve_backend(const std::string& asked, const std::string& device);

class Group {
 public:
  // Connects to the other ranks (rank 0 hosts the store). `timeout` bounds every collective: a rank
  // that dies or hangs ends the others with an error that names this rank and the operation.
  Group(const Environment& env, const std::string& backend, std::chrono::milliseconds timeout);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  int rank() const { return env_.rank; }
  int size() const { return env_.world_size; }
  const Environment& environment() const { return env_; }

  // Σ over ranks of weight · grad for every parameter with a gradient, in place (the caller gives
  // weight = this rank's share of the global batch, so the sum is the combined batch's gradient).
  // Gradients travel in flat buckets of about `bucket_bytes`.
  void allreduce_gradients(const std::vector<torch::Tensor>& parameters, double weight,
                           int64_t bucket_bytes = 25 << 20);
  // Σ over ranks, in place (float or double CPU/CUDA tensors).
  void allreduce_sum(torch::Tensor& tensor, const char* what);
  // Rank 0's values into every rank's tensors, in place.
  void broadcast(const std::vector<torch::Tensor>& tensors, const char* what);
  void barrier(const char* what);
  // A short string rank 0 decides and the others read (the run directory).
  std::string share_string(const std::string& key, const std::string& value_on_rank0);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Environment env_;
  std::chrono::milliseconds timeout_;
};

// The group this process trains in, or null (one process).
Group* current();
void set_current(Group* group);

}  // namespace fan::dist
