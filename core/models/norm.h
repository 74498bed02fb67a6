// Batch norm that can compute its statistics over the global batch of a data-parallel run
// (run.sync_batch_norm): the networks call these instead of the modules' forward.
#pragma once
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>

namespace fan::dist {
class Group;
}  // namespace fan::dist

namespace fan::models {

// Batch norm of `x` with `bn`'s parameters and buffers. In training mode inside a
// SyncBatchNormScope the mean and variance are those of every rank's batch together (forward and
// backward exchange per-channel sums), otherwise it is bn's own forward.
torch::Tensor batch_norm(torch::nn::BatchNorm1dImpl& bn, const torch::Tensor& x);
torch::Tensor batch_norm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x);
// A Sequential's forward with its batch-norm modules through batch_norm().
torch::Tensor forward_sequential(torch::nn::Sequential& seq, torch::Tensor x);

// While alive (one training step), batch norm in training mode is synchronised across `group`
// (null: not). `*weight`, read at each forward pass: this rank's share of the global batch (the
// share the gradient all-reduce uses).
class SyncBatchNormScope {
 public:
  SyncBatchNormScope(dist::Group* group, const double* weight);
  ~SyncBatchNormScope();
  SyncBatchNormScope(const SyncBatchNormScope&) = delete;
  SyncBatchNormScope& operator=(const SyncBatchNormScope&) = delete;

 private:
  dist::Group* previous_group_;
  const double* previous_weight_;
};

}  // namespace fan::models
