// Several runs' adapted target networks averaged into one classifier.
#include "core/analysis/ensemble.h"

#include "core/analysis/features.h"
#include "core/util/error.h"

namespace fan::analysis {
namespace {

bool same_images(const data::Dataset& a, const data::Dataset& b) {
  if (a.size() != b.size()) return false;
  if (a.size() == 0) return true;
  return a.images.sizes() == b.images.sizes() && torch::equal(a.labels, b.labels) && torch::equal(a.images, b.images);
}

}  // namespace

EnsembleResult evaluate_ensemble(const std::vector<std::filesystem::path>& run_dirs, const std::string& network,
                                 int64_t batch_size) {
  if (run_dirs.size() < 2)
    throw Error("ensemble: needs at least two run directories, got " + std::to_string(run_dirs.size()));
  EnsembleResult result;
  result.network = network;
  torch::Tensor test_sum, validation_sum;
  std::optional<RunModels> first;
  for (const auto& dir : run_dirs) {
    auto run = load_run(dir, network);
    if (!run.adapted())
      throw Error(dir.string() + ": not adapted yet (its checkpoint holds no stage-2 network)");
    if (first) {
      if (run.target_test.num_classes != first->target_test.num_classes || !same_images(run.target_test, first->target_test))
        throw Error(dir.string() + ": its target test set is not " + first->run_dir.string() +
                    "'s (an ensemble's members must classify the same images: the same target dataset and preprocessing)");
      if (!same_images(run.target_validation, first->target_validation))
        throw Error(dir.string() + ": its held-out target.validation images are not " + first->run_dir.string() +
                    "'s (" + std::to_string(run.target_validation.size()) + " vs " +
                    std::to_string(first->target_validation.size()) +
                    " images, or other ones: the seed draws them, so ensemble draws of one seed)");
    }
    EnsembleMember member;
    member.run_dir = dir;
    const auto test_p = torch::softmax(train::predict_logits(run.target, run.target_test.images, batch_size).to(torch::kDouble), 1);
    member.test_top1 =
        train::evaluate_logits(test_p, run.target_test.labels, run.target_test.num_classes).top1;
    test_sum = test_sum.defined() ? test_sum + test_p : test_p;
    if (run.target_validation.size() > 0) {
      const auto p = torch::softmax(
          train::predict_logits(run.target, run.target_validation.images, batch_size).to(torch::kDouble), 1);
      member.validation_top1 =
          train::evaluate_logits(p, run.target_validation.labels, run.target_validation.num_classes).top1;
      validation_sum = validation_sum.defined() ? validation_sum + p : p;
    }
    result.members.push_back(member);
    if (!first) {
      first.emplace(std::move(run));
      // Only its sets are needed from here on: the networks of the first run are released with the others.
      first->source = nullptr;
      first->target = nullptr;
    }
  }
  const auto k = static_cast<double>(run_dirs.size());
  result.test = train::evaluate_logits(test_sum / k, first->target_test.labels, first->target_test.num_classes);
  result.test_images = first->target_test.size();
  if (validation_sum.defined()) {
    result.validation = train::evaluate_logits(validation_sum / k, first->target_validation.labels,
                                               first->target_validation.num_classes);
    result.validation_images = first->target_validation.size();
  }
  return result;
}

nlohmann::json to_json(const EnsembleResult& r) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& m : r.members) {
    nlohmann::json j = {{"run", m.run_dir.string()}, {"test_top1", m.test_top1}};
    if (m.validation_top1) j["validation_top1"] = *m.validation_top1;
    members.push_back(j);
  }
  nlohmann::json out = {{"network", r.network},
                        {"members", members},
                        {"test_images", r.test_images},
                        {"test", r.test.to_json()}};
  if (r.validation) {
    out["validation_images"] = r.validation_images;
    out["validation"] = r.validation->to_json();
  }
  return out;
}

}  // namespace fan::analysis
