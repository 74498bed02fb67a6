// The DCGAN decoder.
#include "core/models/dcgan_decoder.h"
#include "core/models/norm.h"

#include "core/util/error.h"

namespace fan::models {

DcganDecoderImpl::DcganDecoderImpl(int64_t input_dim, int64_t out_channels, int64_t size) {
  if (size < 16 || size % 16 != 0)
    throw Error("model.decoder_size: the DCGAN decoder needs a multiple of 16, got " + std::to_string(size));
  output_size = size;
  using torch::nn::ConvTranspose2d;
  using torch::nn::ConvTranspose2dOptions;
  const std::vector<int64_t> filters = {256, 256, 128, 64};
  torch::nn::Sequential seq;
  int64_t in = input_dim;
  for (size_t i = 0; i < filters.size(); ++i) {
    // The first layer turns the 1×1 code into S/16 × S/16; the others double it.
    auto options = i == 0 ? ConvTranspose2dOptions(in, filters[i], size / 16)
                          : ConvTranspose2dOptions(in, filters[i], 4).stride(2).padding(1);
    seq->push_back(ConvTranspose2d(options.bias(false)));
    seq->push_back(torch::nn::ReLU());
    seq->push_back(torch::nn::BatchNorm2d(filters[i]));
    in = filters[i];
  }
  seq->push_back(ConvTranspose2d(ConvTranspose2dOptions(in, out_channels, 4).stride(2).padding(1)));
  layers = register_module("layers", seq);
}

torch::Tensor DcganDecoderImpl::forward(torch::Tensor z) {
  return forward_sequential(layers, z.view({z.size(0), z.size(1), 1, 1}));
}

}  // namespace fan::models
