// torchvision ResNet weights for our ResNet encoders: a state dict saved in Python as a plain dict,
// torch.save(dict(model.state_dict()), path) (scripts/export-torchvision-weights; LibTorch 1.13 reads a
// pickled OrderedDict as None, and the error says how to convert such a file), names mapped onto ours.
#pragma once
#include "core/models/resnet.h"

#include <filesystem>
#include <string>

namespace fan::models {

struct PretrainedReport {
  int64_t tensors = 0;     // copied into the encoder
  int64_t dropped = 0;     // torchvision's classifier (fc.*)
  std::string summary() const;
};

// torchvision's name for one of our encoder's parameters or buffers: "stem.0.weight" → "conv1.weight",
// "stem.1.*" → "bn1.*"; layer1…layer4 keep their names. Empty for ours that torchvision lacks
// (the input normalisation).
std::string torchvision_name(const std::string& ours);

// Loads `path` into `encoder` (parameters and batch-norm buffers). Every torchvision key must
// map onto one of ours with the same shape and every one of ours must be given: otherwise a
// fan::Error names the file and lists the missing, unexpected and shape-mismatched keys.
PretrainedReport load_torchvision_resnet(ResNetEncoderImpl& encoder, const std::filesystem::path& path);

}  // namespace fan::models
