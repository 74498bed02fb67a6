// Experiment configuration: schema, validation, typed view.
#include "core/io/config.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <tuple>
#include <set>
#include <sstream>

namespace fan::io {
namespace {

using nlohmann::json;

FieldSpec field(std::string key, FieldType type, json def, std::string group, std::string unit,
                std::string help) {
  FieldSpec f;
  f.key = std::move(key);
  f.type = type;
  f.default_value = std::move(def);
  f.group = std::move(group);
  f.unit = std::move(unit);
  f.help = std::move(help);
  return f;
}
FieldSpec ranged(FieldSpec f, double min, double max, bool min_exclusive = false) {
  f.has_range = true;
  f.min = min;
  f.max = max;
  f.min_exclusive = min_exclusive;
  return f;
}
FieldSpec choice(FieldSpec f, std::vector<std::string> choices) {
  f.choices = std::move(choices);
  return f;
}
FieldSpec unlocked(FieldSpec f) {
  f.locked_during_run = false;
  return f;
}

const std::vector<std::string> kDatasets = {"mnist", "usps", "svhn", "mnistm", "folder"};
const std::vector<std::string> kProtocols = {"full", "sampled", "fraction"};

void add_domain(std::vector<FieldSpec>& s, const std::string& side, const std::string& dataset,
                const std::string& protocol, int64_t samples) {
  const std::string g = "data";
  s.push_back(choice(field(side + ".dataset", FieldType::kString, dataset, g, "",
                           "Dataset of the " + side + " domain"), kDatasets));
  s.push_back(field(side + ".folder", FieldType::kString, "", g, "directory",
                    "Image-folder root (one sub-folder per class) when dataset is \"folder\""));
  s.push_back(choice(field(side + ".protocol", FieldType::kString, protocol, g, "",
                           "full: all training images; sampled: `samples` random ones; "
                           "fraction: a per-class fraction"), kProtocols));
  s.push_back(ranged(field(side + ".samples", FieldType::kInt, samples, g, "images",
                           "Training images drawn by the sampled protocol"), 1, 1e7));
  s.push_back(ranged(field(side + ".fraction", FieldType::kNumber, 1.0, g, "",
                           "Per-class fraction of the training set (fraction protocol)"), 0, 1, true));
}

// The paper's value of each field (FAN-SPEC.md) and when a field takes effect, kept in one table
// beside the fields so that the form's tooltips and the hidden rows come from the schema alone.
void add_paper_values(std::vector<FieldSpec>& s) {
  const std::string kResNet = "model.encoder=resnet18|resnet34|resnet50";
  const std::string kSetting = "— (a workbench setting, not part of the method)";
  const std::map<std::string, std::pair<std::string, std::string>> kPaper = {
      // key: {paper, applies}
      {"name", {kSetting, ""}},
      {"source.dataset", {"mnist (MNIST→USPS), usps (USPS→MNIST), svhn (SVHN→MNIST): Table 1", ""}},
      {"source.folder", {"— (the tagging experiment's images are private)", "source.dataset=folder"}},
      {"source.protocol", {"sampled (2,000 MNIST / 1,800 USPS images) and full: Table 1", ""}},
      {"source.samples", {"2,000 MNIST or 1,800 USPS images", "source.protocol=sampled"}},
      {"source.fraction", {"1 (the whole source set)", "source.protocol=fraction"}},
      {"target.dataset", {"usps (MNIST→USPS), mnist (USPS→MNIST and SVHN→MNIST): Table 1", ""}},
      {"target.folder", {"— (the tagging experiment's images are private)", "target.dataset=folder"}},
      {"target.protocol", {"sampled (2,000 MNIST / 1,800 USPS images) and full: Table 1", ""}},
      {"target.samples", {"1,800 USPS or 2,000 MNIST images", "target.protocol=sampled"}},
      {"target.fraction", {"0.1, 0.5 and 1 of the unlabelled target set (Table 3)", "target.protocol=fraction"}},
      {"source.validation", {"— (none: the paper reports the last iterate)", ""}},
      {"target.validation", {"— (none: no target label is used)", ""}},
      {"data.channels", {"1 for digits (RGB → grey); 3 for the tagging images", ""}},
      {"data.image_size", {"28 for digits; 224 for the tagging images", ""}},
      {"data.framing", {"\"resize to 28×28\", without saying which (measured here: mnist 0.74–0.77 source only, "
                        "stretch 0.34–0.45)", ""}},
      {"data.resize", {"256, then a 224 crop (tagging); digits are resized straight", ""}},
      {"data.flip", {"", "data.loader=stream"}},
      {"data.loader", {kSetting, "source.dataset=folder;target.dataset=folder"}},
      {"data.workers", {kSetting, "data.loader=stream"}},
      {"data.root", {kSetting, ""}},
      {"model.variant", {"full (FAN); joint, separation, concatenation in Table 2; ADDA in Table 1", ""}},
      {"model.encoder", {"LeNet with batch norm (digits); ResNet-50 (tagging)", ""}},
      {"model.pretrained", {"", kResNet}},
      {"data.normalize", {"", ""}},
      {"model.latent_dim", {"100 (LeNet); 2048 (ResNet-50)", ""}},
      {"model.domain_specific_dim", {"half of |h|: 50 of 100 (digits), 1024 of 2048 (ResNet-50)", ""}},
      {"model.shared_stages", {"early layers shared, which ones not said (ours: 3 = stem and the first two stages)", kResNet}},
      {"model.decoder_size", {"not given (a DCGAN decoder of 5 transposed convolutions)", kResNet}},
      {"model.discriminator_hidden", {"500 (digits); 1024 (tagging)", ""}},
      {"model.discriminator_hidden2", {"500 (digits); 2048 (tagging)", ""}},
      {"model.discriminator_batch_norm", {"on (FC → ReLU → BN); measured here: D without batch norm adapted better", ""}},
      {"loss.alpha", {"2 (digits); 5 (large images)", ""}},
      {"loss.beta", {"1", ""}},
      {"loss.mu", {"2", ""}},
      {"loss.nu", {"1", ""}},
      {"loss.mutual_information", {"sum: (Σ_j ht_j·hd_j)² per sample, averaged over the batch", ""}},
      {"loss.target_mutual_information", {"off (the paper tried it: no gain)", ""}},
      {"stage2.source_prior", {"source (the source's own class mix)", ""}},
      {"stage2.select", {"last (the last iterate)", ""}},
      {"stage2.information_maximization", {"— (not in the paper: an extension, SHOT 2020)", ""}},
      {"stage1.from", {"— (each run trains its own source network)", ""}},
      {"stage1.draw", {"— (one source network per seed)", ""}},
      {"stage2.draw", {"— (one adaptation per run)", ""}},
      {"eval.every", {kSetting, ""}},
      {"eval.batch_size", {kSetting, ""}},
      {"eval.validator_images", {"— (the paper uses no validator)", ""}},
      {"eval.live_embedding_images", {"— (the paper shows Fig. 5 after training only)", ""}},
      {"eval.images", {"— (the paper reports whole test sets)", ""}},
      {"run.log_every", {kSetting, ""}},
      {"run.checkpoint_every", {kSetting, ""}},
      {"run.preview_every", {kSetting, ""}},
      {"seed", {"— (results are mean ± std over runs)", ""}},
      {"device", {kSetting, ""}},
      {"threads", {kSetting, ""}},
      {"run.mixed_precision", {kSetting, ""}},
  };
  for (auto& f : s)
    if (const auto it = kPaper.find(f.key); it != kPaper.end()) std::tie(f.paper, f.applies) = it->second;
}

std::vector<FieldSpec> make_schema() {
  std::vector<FieldSpec> s;
  s.push_back(unlocked(field("name", FieldType::kString, "experiment", "run", "", "Experiment name; the run directory is named after it")));
  add_domain(s, "source", "mnist", "sampled", 2000);
  add_domain(s, "target", "usps", "sampled", 1800);
  s.push_back(ranged(field("source.validation", FieldType::kInt, -1, "data", "images",
                           "Labelled source training images held out from those the protocol leaves unused (the "
                           "protocol's draw stays the same), for the DEV validators; -1: 1,000 where the protocol "
                           "leaves images unused, else 0 (DEV off)"), -1, 1e7));
  s.push_back(ranged(field("target.validation", FieldType::kInt, 0, "data", "images",
                           "Labelled target training images held out before the protocol draws, never "
                           "adapted on: their accuracy (target_validation) is for choosing settings "
                           "without the test set (0: none)"), 0, 1e7));
  s.push_back(choice(field("data.channels", FieldType::kInt, 1, "data", "channels",
                           "1: RGB→grey; 3: grey→RGB"), {"1", "3"}));
  s.push_back(ranged(field("data.image_size", FieldType::kInt, 28, "data", "pixels",
                           "Side of the common square image format"), 16, 512));
  s.push_back(choice(field("data.framing", FieldType::kString, "mnist", "data", "",
                           "Small digits (USPS): \"mnist\" = into a 20×20 box centred in 28×28, "
                           "\"stretch\" = resized straight to 28×28"), {"mnist", "stretch"}));
  s.push_back(ranged(field("data.resize", FieldType::kInt, 0, "data", "pixels",
                           "Large images: resize to resize×resize, then crop image_size×image_size "
                           "(random crop when training on a streamed folder, centre crop otherwise); "
                           "0: resize straight to image_size"), 0, 4096));
  s.push_back(field("data.flip", FieldType::kBool, false, "data", "",
                    "Random horizontal flips of streamed training images"));
  s.push_back(choice(field("data.loader", FieldType::kString, "memory", "data", "",
                           "memory: decode every image once and keep the tensors; stream: decode image-folder "
                           "files batch by batch on worker threads (sets larger than memory, augmentation)"),
                     {"memory", "stream"}));
  s.push_back(ranged(field("data.workers", FieldType::kInt, 0, "data", "threads",
                           "Loader threads for streamed folders (0: min(4, cores))"), 0, 64));
  s.push_back(field("data.root", FieldType::kString, "", "data", "directory",
                    "Data root; empty: $FAN_DATA, else the per-user cache"));
  s.push_back(choice(field("model.variant", FieldType::kString, "full", "networks", "",
                           "full (FAN), concatenation, separation, joint, adda"),
                     {"full", "concatenation", "separation", "joint", "adda"}));
  s.push_back(choice(field("model.encoder", FieldType::kString, "lenet", "networks", "",
                           "lenet (digits, with the digit decoder); resnet18, resnet34, resnet50 (large "
                           "images, with the DCGAN decoder)"), {"lenet", "resnet18", "resnet34", "resnet50"}));
  s.push_back(field("model.pretrained", FieldType::kString, "", "networks", "file",
                    "ResNet encoders: a torchvision ResNet-18/34/50 state dict (torch.save(model.state_dict(), "
                    "path); scripts/export-torchvision-weights) that initialises the source encoder before "
                    "stage 1 (torchvision's fc is dropped); empty: random initialisation"));
  s.push_back(choice(field("data.normalize", FieldType::kString, "auto", "data", "",
                           "Input normalisation in the encoder: \"imagenet\" = torchvision's mean/std per RGB "
                           "channel (what pretrained weights expect), \"image\" = each image's channels to "
                           "mean 0, std 1 over its pixels (per-image standardisation: a domain's brightness, "
                           "contrast and colour cast removed), \"none\", \"auto\" = imagenet when "
                           "model.pretrained is set, else none"), {"auto", "none", "imagenet", "image"}));
  s.push_back(ranged(field("model.latent_dim", FieldType::kInt, 0, "networks", "units",
                           "|h|, the encoder's output; 0: the encoder's width (LeNet 100, ResNet-18/34 512, "
                           "ResNet-50 2048; a ResNet's is fixed)"), 0, 65536));
  s.push_back(ranged(field("model.domain_specific_dim", FieldType::kInt, 0, "networks", "units",
                           "|hd|; |ht| = latent_dim − domain_specific_dim; 0: half of |h|"), 0, 65535));
  s.push_back(ranged(field("model.shared_stages", FieldType::kInt, 3, "networks", "stages",
                           "ResNet encoders: leading stages (1 = stem, 2 = + layer1, …, 5 = all) the source "
                           "and target networks share, frozen in stage 2; LeNet stays untied"), 0, 5));
  s.push_back(ranged(field("model.decoder_size", FieldType::kInt, 64, "networks", "pixels",
                           "ResNet encoders: side of the DCGAN decoder's output (a multiple of 16); Lr compares "
                           "it with the input downscaled to that size"), 16, 1024));
  s.push_back(ranged(field("model.discriminator_hidden", FieldType::kInt, 500, "networks", "units",
                           "Width of the discriminator's first hidden layer"), 1, 65536));
  s.push_back(ranged(field("model.discriminator_hidden2", FieldType::kInt, 0, "networks", "units",
                           "Width of its second hidden layer (0: same as the first; the paper's large "
                           "configuration: 1024 then 2048)"), 0, 65536));
  s.push_back(field("model.discriminator_batch_norm", FieldType::kBool, true, "networks", "",
                    "Batch norm after the discriminator's hidden layers"));
  s.push_back(ranged(field("loss.alpha", FieldType::kNumber, 2.0, "losses", "", "Weight α of Lc, the source network's classification loss (cross-entropy of softmax(hl)), in stage 1"), 0, 1e6));
  s.push_back(ranged(field("loss.beta", FieldType::kNumber, 1.0, "losses", "", "Weight β of Lm, the loss that keeps ht and hd apart (squared dot product of the halves), in stage 1"), 0, 1e6));
  s.push_back(ranged(field("loss.mu", FieldType::kNumber, 2.0, "losses", "", "Weight μ of L_advD, the discriminator's loss on source vs target logits, in stage 2"), 0, 1e6, true));
  s.push_back(ranged(field("loss.nu", FieldType::kNumber, 1.0, "losses", "", "Weight ν of L_advM, the target network's adversarial loss (fool D), in stage 2"), 0, 1e6));
  s.push_back(choice(field("loss.mutual_information", FieldType::kString, "mean", "losses", "",
                           "Lm per sample: \"sum\" = (Σ_j ht_j·hd_j)², the paper's formula on raw "
                           "features; \"mean\" = (mean_j ht_j·hd_j)², the same constraint on the "
                           "scale of Lc (with \"sum\", Lm swamps Lc on 50-unit halves)"), {"mean", "sum"}));
  s.push_back(field("loss.target_mutual_information", FieldType::kBool, false, "losses", "",
                    "Also apply β·Lm to the target network in stage 2 (the paper saw no gain)"));
  s.push_back(ranged(field("stage1.epochs", FieldType::kInt, 20, "stage 1", "epochs",
                           "Passes over the source training set (stage 1 trains the source network alone)"), 0, 100000));
  s.push_back(ranged(field("stage1.batch_size", FieldType::kInt, 128, "stage 1", "images", "Source images per mini-batch"), 1, 65536));
  s.push_back(ranged(field("stage1.lr", FieldType::kNumber, 2e-4, "stage 1", "", "Adam learning rate of the source network (encoder, M and decoder)"), 0, 10, true));
  s.push_back(ranged(field("stage1.beta1", FieldType::kNumber, 0.5, "stage 1", "", "Adam β1"), 0, 1));
  s.push_back(ranged(field("stage1.beta2", FieldType::kNumber, 0.999, "stage 1", "", "Adam β2"), 0, 1));
  s.push_back(field("stage1.from", FieldType::kString, "", "stage 1", "directory",
                    "Start from the stage-1 network of this run directory instead of training one (its stage 1 "
                    "must have finished, with the same data, networks, stage-1 losses, settings and seed; only "
                    "stage 2, evaluation and run fields may differ): stage 2 again, e.g. with another "
                    "stage2.draw; empty: train stage 1"));
  s.push_back(ranged(field("stage1.draw", FieldType::kInt, 0, "stage 1", "",
                           "Which draw of stage 1's randomness (the networks' initial weights, the source batch "
                           "order) from the same seed: 0 = the run's own; another number trains another source "
                           "network on the same data (the same protocol sample and held-out images), to see how far "
                           "stage 1 alone moves a result"), 0, 1000000));
  s.push_back(ranged(field("stage2.iterations", FieldType::kInt, 3000, "stage 2", "steps",
                           "Adaptation iterations: each updates D on a source and a target batch, then the target network"), 0, 10000000));
  s.push_back(ranged(field("stage2.batch_size", FieldType::kInt, 128, "stage 2", "images/domain",
                           "Mini-batch size per domain"), 1, 65536));
  s.push_back(ranged(field("stage2.lr", FieldType::kNumber, 2e-4, "stage 2", "", "Adam learning rate of the target network"), 0, 10, true));
  s.push_back(ranged(field("stage2.discriminator_lr", FieldType::kNumber, 2e-4, "stage 2", "", "Adam learning rate of the discriminator"), 0, 10, true));
  s.push_back(ranged(field("stage2.beta1", FieldType::kNumber, 0.5, "stage 2", "", "Adam β1"), 0, 1));
  s.push_back(ranged(field("stage2.beta2", FieldType::kNumber, 0.999, "stage 2", "", "Adam β2"), 0, 1));
  s.push_back(ranged(field("stage2.information_maximization", FieldType::kNumber, 0.0, "stage 2", "",
                           "Beyond the paper (SHOT, Liang et al. 2020): weight of an information-maximisation term on "
                           "the target network's predictions, the mean entropy of each target image's softmax minus "
                           "the entropy of the batch's mean softmax (confident, diverse predictions); 0: the paper's FAN"),
                     0, 1e6));
  s.push_back(field("stage2.train_classifier", FieldType::kBool, true, "stage 2", "",
                    "train the target network's logit map M in stage 2 (off: it keeps the source's, as ADDA keeps "
                    "its classifier; only the encoder and decoder adapt)"));
  s.push_back(choice(field("stage2.source_prior", FieldType::kString, "source", "stage 2", "",
                           "class mix of the source logits D sees: \"source\" = the source's own (the paper); "
                           "\"target_estimate\" = source images re-weighted to the class proportions that the "
                           "source network with target batch-norm statistics (AdaBN) predicts on the target training "
                           "images, so that matching the logit distributions does not force the source's class "
                           "proportions onto the target (label shift); in-memory sets only"),
                    {"source", "target_estimate"}));
  s.push_back(choice(field("stage2.select", FieldType::kString, "last", "stage 2", "",
                           "which target network the run reports as selected: \"last\" = the last iterate (the "
                           "paper's practice), or the one a label-free validator scores best over the stage-2 "
                           "evaluations (every validator's pick is reported either way; needs eval.validator_images > 0)"),
                     {"last", "entropy", "im", "bnm", "snd", "class_ami", "dev", "devn", "source_accuracy"}));
  s.push_back(ranged(field("stage2.draw", FieldType::kInt, 0, "stage 2", "",
                           "Which draw of stage 2's randomness (the discriminator's initial weights, the batch "
                           "order) from the same seed: 0 = the run's own; another number adapts the same "
                           "stage-1 network anew, to see how far stage 2 alone moves a result"), 0, 1000000));
  s.push_back(unlocked(ranged(field("eval.every", FieldType::kInt, 500, "evaluation", "steps",
                                    "Evaluate on the target test set every N adaptation steps (0: at the end only)"), 0, 1e9)));
  s.push_back(ranged(field("eval.batch_size", FieldType::kInt, 1000, "evaluation", "images", "Batch size for evaluation"), 1, 1e6));
  s.push_back(ranged(field("eval.validator_images", FieldType::kInt, 1000, "evaluation", "images",
                           "Label-free validators (entropy, IM, BNM, SND, ClassAMI) at every stage-2 evaluation and "
                           "for the source-only networks, on a fixed, seeded set of this many unlabelled target "
                           "training images (0: off)"), 0, 1e9));
  s.push_back(ranged(field("eval.live_embedding_images", FieldType::kInt, 500, "evaluation", "images",
                           "Live embedding: at the start of stage 2 and at every preview point (run.preview_every), "
                           "the logits and hd of a fixed, seeded sample of this many test images per domain are "
                           "stored in the run directory (embedding/) and drawn by the workbench as they come (0: off)"),
                     0, 100000));
  s.push_back(ranged(field("eval.images", FieldType::kInt, 1000, "evaluation", "images",
                           "Evaluations during training (the curves) use a fixed, seeded subset of this many images "
                           "of each test set (0: all); the final numbers always use the whole test sets"), 0, 1e9));
  s.push_back(unlocked(ranged(field("run.log_every", FieldType::kInt, 10, "run", "steps", "Log losses every N steps"), 1, 1e9)));
  s.push_back(ranged(field("run.checkpoint_every", FieldType::kInt, 500, "run", "steps",
                           "Write a resumable checkpoint every N steps (and at each stage's end)"), 1, 1e9));
  s.push_back(unlocked(ranged(field("run.preview_every", FieldType::kInt, 250, "run", "steps",
                                    "Refresh the reconstruction previews every N steps (0: never)"), 0, 1e9)));
  s.push_back(ranged(field("seed", FieldType::kInt, 0, "run", "", "Fixes sampling, shuffling and initialisation"), 0, 4294967295.0));
  s.push_back(field("device", FieldType::kString, "cpu", "run", "", "cpu, cuda, cuda:N or auto"));
  s.push_back(ranged(field("threads", FieldType::kInt, 0, "run", "threads", "Intra-op CPU threads (0: all cores)"), 0, 1024));
  s.push_back(field("run.mixed_precision", FieldType::kBool, false, "run", "",
                    "CUDA only: forward passes in bfloat16 (autocast); ignored on the CPU"));
  s.push_back(choice(field("run.backend", FieldType::kString, "auto", "run", "",
                           "Data-parallel runs (torchrun, srun, fan run --nproc N): LibTorch's c10d backend; auto = "
                           "gloo on the CPU, nccl on CUDA"), {"auto", "gloo", "nccl"}));
  s.push_back(field("run.sync_batch_norm", FieldType::kBool, false, "run", "",
                    "Data-parallel runs: batch norm over every rank's batch together (else per rank)"));
  s.push_back(ranged(field("run.timeout", FieldType::kInt, 1800, "run", "seconds",
                           "Data-parallel runs: how long a rank waits for the others (joining, each collective) "
                           "before ending with an error that names it"), 1, 86400));
  add_paper_values(s);
  return s;
}

std::string type_name(FieldType type) {
  switch (type) {
    case FieldType::kInt: return "an integer";
    case FieldType::kNumber: return "a number";
    case FieldType::kString: return "a string";
    case FieldType::kBool: return "true or false";
  }
  return "a value";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

std::string format_number(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

// Collects dotted leaf keys of `config`, recursing into objects.
void leaf_keys(const json& config, const std::string& prefix, std::vector<std::string>& out) {
  for (auto it = config.begin(); it != config.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (it->is_object()) leaf_keys(*it, key, out);
    else out.push_back(key);
  }
}

}  // namespace

std::pair<int64_t, int64_t> effective_dims(const json& config) {
  const auto encoder = models::parse_encoder(get_path(config, "model.encoder").get<std::string>());
  int64_t latent = get_path(config, "model.latent_dim").get<int64_t>();
  if (latent == 0) latent = models::encoder_width(encoder, kLeNetLatent);
  int64_t ds = get_path(config, "model.domain_specific_dim").get<int64_t>();
  if (ds == 0) ds = latent / 2;
  return {latent, ds};
}

const std::vector<FieldSpec>& config_schema() {
  static const std::vector<FieldSpec> schema = make_schema();
  return schema;
}

std::string field_inapplicable_reason(const FieldSpec& field, const json& config) {
  std::stringstream rules(field.applies);
  std::string rule, reasons;
  while (std::getline(rules, rule, ';')) {
    const auto eq = rule.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = rule.substr(0, eq);
    json value = get_path(config, key);
    if (value.is_null())
      if (const auto* other = find_field(key)) value = other->default_value;
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    std::vector<std::string> allowed;
    std::stringstream alternatives(rule.substr(eq + 1));
    for (std::string a; std::getline(alternatives, a, '|');) allowed.push_back(a);
    if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) continue;
    std::string list;
    for (size_t i = 0; i < allowed.size(); ++i)
      list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + allowed[i];
    reasons += (reasons.empty() ? "only with " : " and ") + key + " = " + list;
  }
  return reasons;
}

const FieldSpec* find_field(const std::string& key) {
  for (const auto& f : config_schema())
    if (f.key == key) return &f;
  return nullptr;
}

namespace {
// What stage 1 never reads: stage 2, the evaluations after it, where and how the run runs.
bool stage1_independent(const std::string& key) {
  static const std::set<std::string> keys = {
      "name", "device", "threads", "data.workers", "data.root", "stage1.from", "loss.mu", "loss.nu",
      "loss.target_mutual_information", "eval.every", "eval.batch_size", "eval.live_embedding_images",
      "model.discriminator_hidden", "model.discriminator_hidden2", "model.discriminator_batch_norm"};
  return keys.count(key) > 0 || key.rfind("stage2.", 0) == 0 || key.rfind("run.", 0) == 0;
}

void flatten_into(const json& j, const std::string& prefix, std::map<std::string, json>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) flatten_into(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    out[prefix] = j;
  }
}
}  // namespace

std::optional<FieldDifference> stage1_difference(const json& here, const json& there) {
  std::map<std::string, json> a, b;
  flatten_into(here, "", a);
  flatten_into(there, "", b);
  std::set<std::string> keys;
  for (const auto& [k, v] : a) keys.insert(k);
  for (const auto& [k, v] : b) keys.insert(k);
  for (const auto& key : keys) {
    if (stage1_independent(key)) continue;
    // A key one side lacks counts at its default (a run written before the field existed).
    const auto* f = find_field(key);
    const auto value = [&](const std::map<std::string, json>& map) -> json {
      const auto it = map.find(key);
      return it != map.end() ? it->second : (f != nullptr ? f->default_value : json());
    };
    const auto va = value(a), vb = value(b);
    if (va != vb) return FieldDifference{key, va.dump(), vb.dump()};
  }
  return std::nullopt;
}

json get_path(const json& config, const std::string& key) {
  const json* node = &config;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (!node->is_object() || !node->contains(part)) return json();
    node = &(*node)[part];
  }
  return *node;
}

void set_path(json& config, const std::string& key, const json& value) {
  json* node = &config;
  std::stringstream ss(key);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->contains(parts[i]) || !(*node)[parts[i]].is_object()) (*node)[parts[i]] = json::object();
    node = &(*node)[parts[i]];
  }
  (*node)[parts.back()] = value;
}

std::string check_field(const FieldSpec& f, const json& value) {
  bool type_ok = false;
  switch (f.type) {
    case FieldType::kInt:
      type_ok = value.is_number_integer() ||
                (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>() &&
                 std::isfinite(value.get<double>()));
      break;
    case FieldType::kNumber: type_ok = value.is_number() && std::isfinite(value.get<double>()); break;
    case FieldType::kString: type_ok = value.is_string(); break;
    case FieldType::kBool: type_ok = value.is_boolean(); break;
  }
  if (!type_ok) return "expected " + type_name(f.type) + ", got " + value.dump();
  if (!f.choices.empty()) {
    const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if (std::find(f.choices.begin(), f.choices.end(), text) == f.choices.end())
      return "expected one of " + join(f.choices) + ", got " + value.dump();
  }
  if (f.has_range) {
    const double v = value.get<double>();
    const bool low_bad = f.min_exclusive ? v <= f.min : v < f.min;
    if (low_bad || v > f.max) {
      return "expected a value in " + std::string(f.min_exclusive ? "(" : "[") + format_number(f.min) +
             ", " + format_number(f.max) + "], got " + value.dump();
    }
  }
  if (f.key == "device") {
    const auto d = value.get<std::string>();
    const bool ok = d == "cpu" || d == "cuda" || d == "auto" ||
                    (d.rfind("cuda:", 0) == 0 && d.size() > 5 &&
                     d.find_first_not_of("0123456789", 5) == std::string::npos);
    if (!ok) return "expected cpu, cuda, cuda:N or auto, got " + value.dump();
  }
  return {};
}

json validate_config(const json& config, const std::string& origin) {
  if (!config.is_object()) throw Error(origin + ": expected a JSON object at the top level");
  std::vector<std::string> keys;
  leaf_keys(config, "", keys);
  for (const auto& key : keys) {
    if (find_field(key) == nullptr) {
      std::vector<std::string> allowed;
      const auto dot = key.rfind('.');
      const std::string prefix = dot == std::string::npos ? "" : key.substr(0, dot + 1);
      for (const auto& f : config_schema())
        if (f.key.rfind(prefix, 0) == 0) allowed.push_back(f.key);
      throw Error(origin + ": unknown key \"" + key + "\"; allowed keys here: " + join(allowed));
    }
  }
  json out = json::object();
  for (const auto& f : config_schema()) {
    json value = get_path(config, f.key);
    if (value.is_null()) value = f.default_value;
    const std::string problem = check_field(f, value);
    if (!problem.empty()) throw Error(origin + ": " + f.key + ": " + problem);
    if (f.type == FieldType::kInt) value = static_cast<int64_t>(value.get<double>());
    set_path(out, f.key, value);
  }
  // Rules across fields.
  const auto variant = get_path(out, "model.variant").get<std::string>();
  const auto encoder = models::parse_encoder(get_path(out, "model.encoder").get<std::string>());
  const auto given_latent = get_path(out, "model.latent_dim").get<int64_t>();
  if (models::is_resnet(encoder) && given_latent != 0 && given_latent != models::encoder_width(encoder, 0))
    throw Error(origin + ": model.latent_dim: " + models::to_string(encoder) + " gives " +
                std::to_string(models::encoder_width(encoder, 0)) + " features; use 0 or that, got " +
                std::to_string(given_latent));
  if (given_latent == 1) throw Error(origin + ": model.latent_dim: expected 0 (auto) or at least 2, got 1");
  const auto [latent, ds] = effective_dims(out);
  if (ds >= latent && variant != "joint" && variant != "adda")
    throw Error(origin + ": model.domain_specific_dim: must be below model.latent_dim (" +
                std::to_string(latent) + "), got " + std::to_string(ds));
  if (variant == "full" && latent != 2 * ds)
    throw Error(origin + ": model.domain_specific_dim: the full variant's Lm needs |hd| = |ht|, so " +
                std::to_string(latent / 2) + " for latent_dim " + std::to_string(latent) + ", got " +
                std::to_string(ds));
  for (const std::string side : {"source", "target"}) {
    if (get_path(out, side + ".dataset") == "folder" && get_path(out, side + ".folder").get<std::string>().empty())
      throw Error(origin + ": " + side + ".folder: a directory is required when " + side +
                  ".dataset is \"folder\"");
    if (side == "source" && get_path(out, "source.validation").get<int64_t>() > 0 &&
        (get_path(out, "data.loader") == "stream" || get_path(out, "source.protocol") == "full"))
      throw Error(origin + ": source.validation: held-out source images come from those the protocol leaves unused; "
                  "none with the full protocol or data.loader \"stream\" (use -1 or 0)");
    if (side == "target" && get_path(out, "data.loader") == "stream" && get_path(out, "target.validation") != 0)
      throw Error(origin + ": target.validation: not available with data.loader \"stream\" yet (use 0)");
    if (side == "target" && get_path(out, "data.loader") == "stream" &&
        get_path(out, "stage2.source_prior") == "target_estimate")
      throw Error(origin + ": stage2.source_prior: \"target_estimate\" needs the sets in memory, not "
                  "data.loader \"stream\" (use \"source\")");
    if (get_path(out, "data.loader") == "stream" && get_path(out, side + ".dataset") != "folder")
      throw Error(origin + ": data.loader: \"stream\" reads image folders, but " + side + ".dataset is " +
                  get_path(out, side + ".dataset").dump() + " (use \"memory\")");
  }
  if (get_path(out, "stage2.select") != "last" && get_path(out, "eval.validator_images") == 0)
    throw Error(origin + ": stage2.select: " + get_path(out, "stage2.select").dump() +
                " needs the validators (eval.validator_images > 0), or use \"last\"");
  {
    const auto pretrained = get_path(out, "model.pretrained").get<std::string>();
    const auto normalize = get_path(out, "data.normalize").get<std::string>();
    if (!pretrained.empty() && !models::is_resnet(encoder))
      throw Error(origin + ": model.pretrained: torchvision weights are for the ResNet encoders; model.encoder is " +
                  models::to_string(encoder));
    if ((!pretrained.empty() || normalize == "imagenet") && get_path(out, "data.channels").get<int64_t>() != 3)
      throw Error(origin + (pretrained.empty() ? std::string(": data.normalize: \"imagenet\"")
                                               : std::string(": model.pretrained: torchvision's weights")) +
                  " take RGB images: data.channels must be 3, got " + get_path(out, "data.channels").dump());
  }
  const auto resize = get_path(out, "data.resize").get<int64_t>();
  const auto size = get_path(out, "data.image_size").get<int64_t>();
  if (resize != 0 && resize < size)
    throw Error(origin + ": data.resize: must be 0 or at least data.image_size (" + std::to_string(size) +
                ") to crop from, got " + std::to_string(resize));
  if (models::is_resnet(encoder) && get_path(out, "model.decoder_size").get<int64_t>() > size)
    throw Error(origin + ": model.decoder_size: the decoder reconstructs the input downscaled, so at most "
                "data.image_size (" + std::to_string(size) + "), got " + get_path(out, "model.decoder_size").dump());
  if (models::is_resnet(encoder) && get_path(out, "model.decoder_size").get<int64_t>() % 16 != 0)
    throw Error(origin + ": model.decoder_size: the DCGAN decoder needs a multiple of 16, got " +
                get_path(out, "model.decoder_size").dump());
  return out;
}

void apply_override(json& config, const std::string& assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw Error("--set: expected key.path=value, got \"" + assignment + "\"");
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  if (find_field(key) == nullptr) {
    std::vector<std::string> all;
    for (const auto& f : config_schema()) all.push_back(f.key);
    throw Error("--set: unknown key \"" + key + "\"; known keys: " + join(all));
  }
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded() || find_field(key)->type == FieldType::kString) value = text;
  set_path(config, key, value);
}

json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open the file");
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number beyond double (e.g. 1e999).
    throw Error(path.string() + ": not valid JSON (" + e.what() + ")");
  }
}

ExperimentConfig ExperimentConfig::from_json(const json& raw, const std::string& origin) {
  const json j = validate_config(raw, origin);
  ExperimentConfig c;
  c.resolved = j;
  c.name = j["name"];
  auto domain = [&](const json& d) {
    data::DomainSpec spec;
    spec.dataset = d["dataset"];
    spec.folder = d["folder"];
    spec.protocol = data::parse_protocol(d["protocol"]);
    spec.samples = d["samples"];
    spec.fraction = d["fraction"];
    return spec;
  };
  c.source = domain(j["source"]);
  c.target = domain(j["target"]);
  c.target.validation = j["target"]["validation"];
  {
    // -1 (auto): 1,000 held-out source images when the protocol leaves some unused; none in streamed runs.
    const int64_t asked = j["source"]["validation"];
    const bool leaves_unused = c.source.protocol != data::Protocol::kFull && j["data"]["loader"] != "stream";
    c.source.unused_held_out = asked >= 0 ? asked : (leaves_unused ? 1000 : 0);
  }
  c.preprocess.channels = j["data"]["channels"];
  c.preprocess.size = j["data"]["image_size"];
  c.preprocess.framing = j["data"]["framing"];
  c.data_root = j["data"]["root"];
  c.variant = models::parse_variant(j["model"]["variant"]);
  c.encoder = models::parse_encoder(j["model"]["encoder"]);
  std::tie(c.latent_dim, c.domain_specific_dim) = effective_dims(j);
  c.pretrained = j["model"]["pretrained"];
  c.imagenet_normalization =
      j["data"]["normalize"] == "imagenet" || (j["data"]["normalize"] == "auto" && !c.pretrained.empty());
  c.image_standardization = j["data"]["normalize"] == "image";
  c.shared_stages = j["model"]["shared_stages"];
  c.decoder_size = j["model"]["decoder_size"];
  c.discriminator_hidden = j["model"]["discriminator_hidden"];
  c.discriminator_hidden2 = j["model"]["discriminator_hidden2"];
  c.preprocess.resize = j["data"]["resize"];
  c.preprocess.flip = j["data"]["flip"];
  c.stream = j["data"]["loader"] == "stream";
  c.workers = j["data"]["workers"];
  c.mixed_precision = j["run"]["mixed_precision"];
  c.discriminator_batch_norm = j["model"]["discriminator_batch_norm"];
  c.alpha = j["loss"]["alpha"];
  c.beta = j["loss"]["beta"];
  c.mu = j["loss"]["mu"];
  c.nu = j["loss"]["nu"];
  c.target_mutual_information = j["loss"]["target_mutual_information"];
  c.lm_per_unit = j["loss"]["mutual_information"] == "mean";
  c.stage1_epochs = j["stage1"]["epochs"];
  c.stage1_batch_size = j["stage1"]["batch_size"];
  c.stage1_lr = j["stage1"]["lr"];
  c.stage1_beta1 = j["stage1"]["beta1"];
  c.stage1_beta2 = j["stage1"]["beta2"];
  c.stage2_iterations = j["stage2"]["iterations"];
  c.stage2_batch_size = j["stage2"]["batch_size"];
  c.stage2_lr = j["stage2"]["lr"];
  c.stage2_discriminator_lr = j["stage2"]["discriminator_lr"];
  c.stage2_information_maximization = j["stage2"]["information_maximization"];
  c.stage2_beta1 = j["stage2"]["beta1"];
  c.stage2_beta2 = j["stage2"]["beta2"];
  c.stage2_train_classifier = j["stage2"]["train_classifier"];
  c.stage2_source_prior = j["stage2"]["source_prior"];
  c.eval_every = j["eval"]["every"];
  c.eval_batch_size = j["eval"]["batch_size"];
  c.eval_images = j["eval"]["images"];
  c.eval_validator_images = j["eval"]["validator_images"];
  c.eval_live_embedding_images = j["eval"]["live_embedding_images"];
  c.stage2_select = j["stage2"]["select"];
  c.stage1_from = j["stage1"]["from"];
  c.stage1_draw = j["stage1"]["draw"];
  c.stage2_draw = j["stage2"]["draw"];
  c.log_every = j["run"]["log_every"];
  c.checkpoint_every = j["run"]["checkpoint_every"];
  c.preview_every = j["run"]["preview_every"];
  c.seed = j["seed"];
  c.device = j["device"];
  c.threads = j["threads"];
  c.backend = j["run"]["backend"];
  c.sync_batch_norm = j["run"]["sync_batch_norm"];
  c.timeout_seconds = j["run"]["timeout"];
  return c;
}

models::FanNetOptions ExperimentConfig::net_options(int64_t num_classes) const {
  models::FanNetOptions o;
  o.variant = variant;
  o.in_channels = preprocess.channels;
  o.image_size = preprocess.size;
  o.num_classes = num_classes;
  o.latent_dim = latent_dim;
  o.domain_specific_dim = domain_specific_dim;
  o.encoder = encoder;
  o.decoder_size = decoder_size;
  o.imagenet_normalization = imagenet_normalization;
  o.image_standardization = image_standardization;
  return o;
}

std::vector<int64_t> ExperimentConfig::discriminator_layers() const {
  return {discriminator_hidden, discriminator_hidden2 > 0 ? discriminator_hidden2 : discriminator_hidden};
}

ExperimentConfig ExperimentConfig::load(const std::filesystem::path& path,
                                        const std::vector<std::string>& overrides) {
  json raw = read_json_file(path);
  if (!raw.is_object()) throw Error(path.string() + ": expected a JSON object at the top level");
  for (const auto& o : overrides) apply_override(raw, o);
  return from_json(raw, path.string());
}

}  // namespace fan::io
