// The domain discriminator.
#include "core/models/discriminator.h"

namespace fan::models {

DiscriminatorImpl::DiscriminatorImpl(int64_t input_dim, int64_t hidden, bool batch_norm) {
  torch::nn::Sequential seq;
  seq->push_back(torch::nn::Linear(input_dim, hidden));
  seq->push_back(torch::nn::ReLU());
  if (batch_norm) seq->push_back(torch::nn::BatchNorm1d(hidden));
  seq->push_back(torch::nn::Linear(hidden, hidden));
  seq->push_back(torch::nn::ReLU());
  if (batch_norm) seq->push_back(torch::nn::BatchNorm1d(hidden));
  seq->push_back(torch::nn::Linear(hidden, 1));
  layers = register_module("layers", seq);
}

torch::Tensor DiscriminatorImpl::forward(torch::Tensor logits) {
  return layers->forward(logits).squeeze(1);
}

}  // namespace fan::models
