// Stage 2: the adversarial adaptation step.
#include "core/train/target_adapter.h"

#include "core/train/autocast.h"
#include "core/train/losses.h"
#include "core/util/error.h"

#include <optional>

namespace fan::train {
namespace {
void set_requires_grad(torch::nn::Module& module, bool on) {
  for (auto& p : module.parameters()) p.set_requires_grad(on);
}
// The target network's parameters that stage 2 trains: its own (not shared
// with the source) that still take gradients. Freezes the logit map M first
// when it stays the source's.
std::vector<torch::Tensor> adapted_parameters(models::FanNet& net, bool train_classifier) {
  if (!train_classifier) set_requires_grad(*net->logit_map, false);
  std::vector<torch::Tensor> out;
  for (const auto& p : net->own_parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

}  // namespace

TargetAdapter::TargetAdapter(models::FanNet source, models::FanNet target,
                             models::Discriminator discriminator, const TargetAdapterOptions& options)
    : source_(std::move(source)),
      target_(std::move(target)),
      discriminator_(std::move(discriminator)),
      options_(options),
      target_optimizer_(adapted_parameters(target_, options.train_classifier),
                        torch::optim::AdamOptions(options.lr).betas({options.beta1, options.beta2})),
      discriminator_optimizer_(discriminator_->parameters(),
                               torch::optim::AdamOptions(options.discriminator_lr)
                                   .betas({options.beta1, options.beta2})) {
  // Frozen: eval mode (its batch-norm statistics stay the source's) and no gradients.
  source_->eval();
  set_requires_grad(*source_, false);
}

void TargetAdapter::precompute_source_logits(const torch::Tensor& source_images) {
  torch::NoGradGuard no_grad;
  source_->eval();
  std::vector<torch::Tensor> chunks;
  for (int64_t begin = 0; begin < source_images.size(0); begin += options_.logit_batch_size) {
    const int64_t n = std::min(options_.logit_batch_size, source_images.size(0) - begin);
    chunks.push_back(source_->classify(source_images.narrow(0, begin, n)));
  }
  source_logits_ = torch::cat(chunks);
}

torch::Tensor TargetAdapter::source_logits_of(const torch::Tensor& source_images) {
  torch::NoGradGuard no_grad;
  source_->eval();
  AutocastScope autocast(options_.mixed_precision);
  return source_->classify(source_images).to(torch::kFloat);
}

std::map<std::string, double> TargetAdapter::step(const torch::Tensor& source_indices,
                                                  const torch::Tensor& target_images) {
  if (!source_logits_.defined()) throw Error("TargetAdapter: precompute_source_logits was not called");
  return step_with_logits(source_logits_.index_select(0, source_indices), target_images);
}

std::map<std::string, double> TargetAdapter::step_with_logits(const torch::Tensor& source_logits,
                                                              const torch::Tensor& target_images) {
  const int64_t n_source = source_logits.size(0);
  const int64_t n_target = target_images.size(0);
  target_->train();
  discriminator_->train();
  // Forward passes and losses under autocast (when asked), backward passes outside it.
  std::optional<AutocastScope> autocast(std::in_place, options_.mixed_precision);
  const auto out = target_->forward(target_images);
  const auto joint_source = source_logits.to(out.logits.dtype());

  // Discriminator: one joint batch, so its batch norm (if any) sees both domains.
  set_requires_grad(*discriminator_, true);
  const auto scores = discriminator_->forward(torch::cat({joint_source, out.logits.detach()}));
  const auto loss_d = discriminator_loss(scores.narrow(0, 0, n_source), scores.narrow(0, n_source, n_target));
  autocast.reset();
  discriminator_optimizer_.zero_grad();
  (options_.mu * loss_d).backward();
  if (sync_) sync_(discriminator_->parameters());
  discriminator_optimizer_.step();

  // Target network through the updated D; D's weights get no gradient here.
  set_requires_grad(*discriminator_, false);
  autocast.emplace(options_.mixed_precision);
  const auto scores_m = discriminator_->forward(torch::cat({joint_source, out.logits}));
  const auto loss_m = adversarial_loss(scores_m.narrow(0, n_source, n_target));
  std::vector<std::string> names = {"L_advD", "L_advM"};
  std::vector<torch::Tensor> terms = {loss_d.detach(), loss_m};
  auto total = options_.nu * loss_m;
  if (out.reconstruction.defined()) {
    terms.push_back(reconstruction_loss(target_->reconstruction_target(target_images), out.reconstruction));
    names.push_back("Lr");
    total = total + terms.back();
  }
  if (options_.target_mutual_information && target_->uses_mutual_information()) {
    terms.push_back(mutual_information_loss(out.domain_specific, out.task_specific, options_.lm_per_unit));
    names.push_back("Lm");
    total = total + options_.beta * terms.back();
  }
  if (options_.information_maximization > 0) {
    terms.push_back(information_maximization_loss(out.logits));
    names.push_back("Lim");
    total = total + options_.information_maximization * terms.back();
  }
  autocast.reset();
  target_optimizer_.zero_grad();
  total.backward();
  if (sync_) {
    std::vector<torch::Tensor> trained;
    for (const auto& group : target_optimizer_.param_groups())
      for (const auto& p : group.params()) trained.push_back(p);
    sync_(trained);
  }
  target_optimizer_.step();
  set_requires_grad(*discriminator_, true);

  // D's accuracy on the batch it was trained on: 0.5 means it cannot tell.
  const auto correct = torch::cat({scores.narrow(0, 0, n_source).detach() > 0,
                                   scores.narrow(0, n_source, n_target).detach() <= 0});
  terms.push_back(total.detach());
  names.push_back("total");
  terms.push_back(correct.to(torch::kFloat).mean());
  names.push_back("D_acc");
  return loss_values(names, terms);
}

}  // namespace fan::train
