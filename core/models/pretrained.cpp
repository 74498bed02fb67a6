#include "core/models/pretrained.h"

#include "core/util/error.h"

#include <torch/serialize.h>

#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace fan::models {
namespace {

std::string shape_text(const at::IntArrayRef& sizes) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < sizes.size(); ++i) s << (i ? ", " : "") << sizes[i];
  return s.str() + "]";
}

std::string listed(const std::vector<std::string>& names, size_t at_most = 12) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < at_most; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > at_most) out += ", … (" + std::to_string(names.size()) + " in all)";
  return out;
}

// The file's tensors by name: a dict (or OrderedDict) of str → Tensor pickled by torch.save.
std::map<std::string, torch::Tensor> read_state_dict(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("model.pretrained: " + path.string() + ": cannot open the file");
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const c10::Error& e) {
    // LibTorch's unpickler turns collections.OrderedDict into None, then fails on its state.
    if (std::string(e.what_without_backtrace()).find("but got None") == std::string::npos)
      throw Error("model.pretrained: " + path.string() + ": not a state dict saved by torch.save as a plain dict, "
                  "torch.save(dict(model.state_dict()), path) (" + e.what_without_backtrace() + ")");
    value = c10::IValue();
  }
  if (value.isNone())
    throw Error("model.pretrained: " + path.string() + ": holds an OrderedDict (torch.save(model.state_dict(), path)), "
                "which LibTorch reads as None; save a plain dict, torch.save(dict(model.state_dict()), path), or "
                "convert the file: scripts/export-torchvision-weights --convert " + path.string() + " --out NEW.pt");
  if (!value.isGenericDict())
    throw Error("model.pretrained: " + path.string() + ": expected a dict of tensors (torch.save(dict(model.state_dict()), "
                "path)), got " + value.tagKind());
  std::map<std::string, torch::Tensor> out;
  for (const auto& entry : value.toGenericDict()) {
    if (!entry.key().isString() || !entry.value().isTensor())
      throw Error("model.pretrained: " + path.string() + ": expected str → Tensor entries, got " +
                  entry.key().tagKind() + " → " + entry.value().tagKind());
    out[entry.key().toStringRef()] = entry.value().toTensor();
  }
  return out;
}

}  // namespace

std::string PretrainedReport::summary() const {
  return std::to_string(tensors) + " tensors loaded, " + std::to_string(dropped) + " of torchvision's classifier dropped";
}

std::string torchvision_name(const std::string& ours) {
  if (ours == "input_mean" || ours == "input_std") return {};
  if (ours.rfind("stem.0.", 0) == 0) return "conv1." + ours.substr(7);
  if (ours.rfind("stem.1.", 0) == 0) return "bn1." + ours.substr(7);
  return ours;
}

PretrainedReport load_torchvision_resnet(ResNetEncoderImpl& encoder, const std::filesystem::path& path) {
  auto given = read_state_dict(path);
  PretrainedReport report;
  for (auto it = given.begin(); it != given.end();) {
    if (it->first.rfind("fc.", 0) == 0) {
      ++report.dropped;
      it = given.erase(it);
    } else {
      ++it;
    }
  }
  std::map<std::string, torch::Tensor> ours;
  for (const auto& p : encoder.named_parameters(/*recurse=*/true)) ours[p.key()] = p.value();
  for (const auto& b : encoder.named_buffers(/*recurse=*/true)) ours[b.key()] = b.value();

  std::vector<std::string> missing, mismatched;
  std::map<std::string, torch::Tensor*> targets;
  for (auto& [name, tensor] : ours) {
    const auto theirs = torchvision_name(name);
    if (theirs.empty()) continue;
    const auto it = given.find(theirs);
    if (it == given.end()) {
      missing.push_back(theirs);
      continue;
    }
    if (it->second.sizes() != tensor.sizes())
      mismatched.push_back(theirs + " (file " + shape_text(it->second.sizes()) + ", encoder " +
                           shape_text(tensor.sizes()) + ")");
    targets[theirs] = &tensor;
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : given)
    if (!targets.count(name)) unexpected.push_back(name);
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::string what = "model.pretrained: " + path.string() + " does not fit a " + to_string(encoder.kind) +
                       " encoder (is it another ResNet?)";
    if (!missing.empty()) what += "; missing: " + listed(missing);
    if (!unexpected.empty()) what += "; unexpected: " + listed(unexpected);
    if (!mismatched.empty()) what += "; shape mismatch: " + listed(mismatched);
    throw Error(what);
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    target->copy_(given.at(name).to(target->options()));
    ++report.tensors;
  }
  return report;
}

}  // namespace fan::models
