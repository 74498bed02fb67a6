// Stage 1: the source network's training step.
#include "core/train/source_trainer.h"

#include "core/train/autocast.h"
#include "core/train/losses.h"

namespace fan::train {

SourceTrainer::SourceTrainer(models::FanNet net, const SourceTrainerOptions& options)
    : net_(std::move(net)),
      options_(options),
      optimizer_(net_->parameters(),
                 torch::optim::AdamOptions(options.lr).betas({options.beta1, options.beta2})) {}

std::map<std::string, double> SourceTrainer::step(const torch::Tensor& images, const torch::Tensor& labels) {
  net_->train();
  std::vector<std::string> names = {"Lc"};
  std::vector<torch::Tensor> terms;
  torch::Tensor total;
  {
    AutocastScope autocast(options_.mixed_precision);
    const auto out = net_->forward(images);
    terms.push_back(classification_loss(out.logits, labels));
    total = options_.alpha * terms[0];
    if (net_->uses_mutual_information()) {
      terms.push_back(mutual_information_loss(out.domain_specific, out.task_specific, options_.lm_per_unit));
      names.push_back("Lm");
      total = total + options_.beta * terms.back();
    }
    if (out.reconstruction.defined()) {
      terms.push_back(reconstruction_loss(net_->reconstruction_target(images), out.reconstruction));
      names.push_back("Lr");
      total = total + terms.back();
    }
  }
  optimizer_.zero_grad();
  total.backward();
  if (sync_) sync_(net_->parameters());
  optimizer_.step();

  terms.push_back(total);
  names.push_back("total");
  return loss_values(names, terms);
}

}  // namespace fan::train
