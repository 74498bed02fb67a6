// The domain discriminator.
#include "core/models/discriminator.h"
#include "core/models/norm.h"

#include "core/util/error.h"

namespace fan::models {

DiscriminatorImpl::DiscriminatorImpl(int64_t input_dim, std::vector<int64_t> hidden, bool batch_norm) {
  if (hidden.empty()) throw Error("model.discriminator_hidden: the discriminator needs a hidden layer");
  torch::nn::Sequential seq;
  int64_t in = input_dim;
  for (const int64_t width : hidden) {
    seq->push_back(torch::nn::Linear(in, width));
    seq->push_back(torch::nn::ReLU());
    if (batch_norm) seq->push_back(torch::nn::BatchNorm1d(width));
    in = width;
  }
  seq->push_back(torch::nn::Linear(in, 1));
  layers = register_module("layers", seq);
}

torch::Tensor DiscriminatorImpl::forward(torch::Tensor logits) {
  return forward_sequential(layers, logits).squeeze(1);
}

}  // namespace fan::models
