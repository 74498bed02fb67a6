// Data-parallel runs on LibTorch's c10d (Gloo, localhost, 2 processes started by `fan run --nproc 2`),
// on tiny synthetic digits: the loss sequence equals the 1-process run with the combined batch, the run
// directory has the same shape, and a killed rank ends every rank with an error naming it, after which
// `fan resume --nproc 2` ends exactly as an uninterrupted 2-process run.
#include "core/io/run_dir.h"
#include "core/synthetic.h"
#include "core/test_util.h"

#include <QtTest>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

using namespace fan;
using nlohmann::json;

extern char** environ;

namespace {

std::filesystem::path fan_binary() {
  const char* bin = std::getenv("FAN_BIN");
  return bin == nullptr ? std::filesystem::path() : std::filesystem::path(bin);
}

// test::tiny_project with one stage-1 epoch (10 steps), 16 stage-2 steps, every learning rate `lr`.
json tiny_project(const std::filesystem::path& root, double lr) {
  auto p = test::tiny_project(root);
  p["stage1"]["epochs"] = 1;
  p["stage1"]["lr"] = lr;
  p["stage2"] = {{"iterations", 16}, {"batch_size", 32}, {"lr", lr}, {"discriminator_lr", lr}};
  p["eval"]["validator_images"] = 50;
  p["run"] = {{"log_every", 1}, {"checkpoint_every", 4}, {"preview_every", 0}, {"timeout", 60}};
  p["seed"] = 5;
  return p;
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every logged step's losses, in order: (stage, step) → losses.
std::vector<std::pair<std::pair<int, int64_t>, std::map<std::string, double>>> step_losses(
    const std::filesystem::path& run) {
  std::vector<std::pair<std::pair<int, int64_t>, std::map<std::string, double>>> out;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    const auto j = json::parse(line);
    if (j.value("type", "") != "step") continue;
    out.push_back({{j["stage"].get<int>(), j["step"].get<int64_t>()}, j["losses"].get<std::map<std::string, double>>()});
  }
  return out;
}

double max_difference(const std::filesystem::path& a, const std::filesystem::path& b, size_t* compared = nullptr) {
  const auto x = step_losses(a), y = step_losses(b);
  if (x.size() != y.size() || x.empty()) return 1e9;
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i].first != y[i].first) return 1e9;
    for (const auto& [name, value] : x[i].second) worst = std::max(worst, std::abs(value - y[i].second.at(name)));
  }
  if (compared) *compared = x.size();
  return worst;
}

// Starts `fan ARGS…` with stdout and stderr into `log`; returns its pid.
pid_t start(const std::vector<std::string>& args, const std::filesystem::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<std::string> all{fan_binary().string()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

int finish(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run_fan(const std::vector<std::string>& args, const std::filesystem::path& log) { return finish(start(args, log)); }

// The child of `parent` whose environment says RANK=rank.
pid_t rank_pid(pid_t parent, int rank) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    char state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid != parent) continue;
    std::ifstream env(entry.path() / "environ", std::ios::binary);
    std::string envs((std::istreambuf_iterator<char>(env)), std::istreambuf_iterator<char>());
    if (envs.find(std::string("RANK=") + std::to_string(rank) + '\0') != std::string::npos &&
        envs.find(std::string("LOCAL_RANK=") + std::to_string(rank)) != std::string::npos)
      return static_cast<pid_t>(std::stoi(name));
  }
  return -1;
}

}  // namespace

class TestDistributed : public QObject {
  Q_OBJECT

  std::unique_ptr<test::ScratchDir> data_;

 private slots:
  void initTestCase() {
    if (fan_binary().empty()) QSKIP("FAN_BIN is not set (ctest sets it to the built fan)");
    data_ = std::make_unique<test::ScratchDir>("fan-dist-data");
    test::write_synthetic_domains(data_->path(), 320, 100);
  }

  // Synchronised batch norm: the 2-process run computes the 1-process run's steps. At a tiny
  // learning rate the whole loss sequence agrees within 1e-5; at the real one the first step (before
  // any update) does, and Adam then amplifies float rounding (a split batch sums in another order;
  // Adam's first step is ±lr for a gradient near zero whatever its size, so a sign flipped by
  // rounding moves a weight by 2·lr). Steps 2 and 3 agreed within 1e-5 on AMD EPYC machines and
  // differed by 5.8e-4 on an Intel Xeon (2026-12-02), so they are reported, not bounded that tightly;
  // a rank whose half went unsynchronised would show at step 1 already (its batch-norm statistics).
  void lossSequenceEqualsOneProcess() {
    test::ScratchDir dir("fan-dist-equal");
    for (const double lr : {1e-7, 1e-3}) {
      auto project = tiny_project(data_->path(), lr);
      project["run"]["sync_batch_norm"] = true;
      const auto file = dir / ("p" + std::to_string(lr) + ".json");
      std::ofstream(file) << project.dump();
      const auto one = dir / ("one" + std::to_string(lr)), two = dir / ("two" + std::to_string(lr));
      QCOMPARE(run_fan({"run", file.string(), "--out", one.string(), "--quiet"}, dir / "one.log"), 0);
      QVERIFY2(run_fan({"run", file.string(), "--out", two.string(), "--quiet", "--nproc", "2"}, dir / "two.log") == 0,
               read_text(dir / "two.log").c_str());
      const auto a = step_losses(one), b = step_losses(two);
      QCOMPARE(a.size(), b.size());
      QCOMPARE(a.size(), size_t{10 + 16});  // 320 / 32 stage-1 steps, 16 stage-2 steps
      double worst = 0, first = 0, step_one = 0;
      for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(a[i].first, b[i].first);
        for (const auto& [name, value] : a[i].second) {
          const double d = std::abs(value - b[i].second.at(name));
          worst = std::max(worst, d);
          // Steps 2 and 3 come after the first updates (reported).
          if (a[i].first.first == 1 && a[i].first.second <= 3) first = std::max(first, d);
          if (a[i].first.first == 1 && a[i].first.second == 1) step_one = std::max(step_one, d);
        }
      }
      qInfo("lr %g: max |Δloss| %.3g over every step, %.3g over the first three steps, %.3g at step 1", lr, worst,
            first, step_one);
      QVERIFY2(step_one < 1e-5, qPrintable(QString::number(step_one)));
      if (lr < 1e-5) QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
    }
  }

  // Batch norm per rank (the default): each rank normalises its 16 images, so the losses differ from
  // the 1-process run's (measured here: at most 0.43 on a logged loss); bounded by 1 here.
  void perRankBatchNormStaysClose() {
    test::ScratchDir dir("fan-dist-bn");
    const auto project = tiny_project(data_->path(), 1e-6);
    std::ofstream(dir / "p.json") << project.dump();
    QCOMPARE(run_fan({"run", (dir / "p.json").string(), "--out", (dir / "one").string(), "--quiet"}, dir / "1.log"), 0);
    QCOMPARE(run_fan({"run", (dir / "p.json").string(), "--out", (dir / "two").string(), "--quiet", "--nproc", "2"},
                     dir / "2.log"),
             0);
    size_t n = 0;
    const double worst = max_difference(dir / "one", dir / "two", &n);
    qInfo("per-rank batch norm: max |Δloss| %.3g over %zu steps", worst, n);
    QVERIFY(n == 26);
    QVERIFY2(worst > 0 && worst < 1.0, qPrintable(QString::number(worst)));
  }

  // The same files as a 1-process run: only rank 0 writes.
  void outputDirectoryHasTheShapeOfOneProcess() {
    test::ScratchDir dir("fan-dist-shape");
    std::ofstream(dir / "p.json") << tiny_project(data_->path(), 1e-3).dump();
    QCOMPARE(run_fan({"run", (dir / "p.json").string(), "--out", (dir / "one").string(), "--quiet"}, dir / "1.log"), 0);
    QCOMPARE(run_fan({"run", (dir / "p.json").string(), "--out", (dir / "two").string(), "--quiet", "--nproc", "2"},
                     dir / "2.log"),
             0);
    auto listing = [](const std::filesystem::path& root) {
      std::vector<std::string> files;
      for (const auto& e : std::filesystem::recursive_directory_iterator(root))
        files.push_back(std::filesystem::relative(e.path(), root).string());
      std::sort(files.begin(), files.end());
      return files;
    };
    QCOMPARE(listing(dir / "two"), listing(dir / "one"));
    auto kinds = [](const std::filesystem::path& run) {
      std::vector<std::string> out;
      for (const auto& r : io::RunDirectory(run).read_metrics()) out.push_back(std::to_string(r.index()));
      return out;
    };
    QCOMPARE(kinds(dir / "two"), kinds(dir / "one"));
    QVERIFY(io::RunDirectory(dir / "two").read_results().finished());
  }

  // SIGKILL rank 1 in stage 2: every rank ends, the launcher names rank 1, rank 0 names the failed
  // collective; `fan resume --nproc 2` then ends exactly as an uninterrupted 2-process run.
  void killedRankEndsAllAndResumes() {
    test::ScratchDir dir("fan-dist-kill");
    auto project = tiny_project(data_->path(), 1e-3);
    project["stage2"]["iterations"] = 200;
    std::ofstream(dir / "p.json") << project.dump();
    QCOMPARE(run_fan({"run", (dir / "p.json").string(), "--out", (dir / "whole").string(), "--quiet", "--nproc", "2"},
                     dir / "whole.log"),
             0);

    const auto launcher = start({"run", (dir / "p.json").string(), "--out", (dir / "killed").string(), "--quiet",
                                 "--nproc", "2"},
                                dir / "killed.log");
    QVERIFY(launcher > 0);
    bool in_stage2 = false;
    for (int i = 0; i < 3000 && !in_stage2; ++i) {
      const auto s = io::RunDirectory(dir / "killed").summary();
      in_stage2 = s.status == io::RunSummary::Status::kResumable && s.stage == io::Stage::kAdaptation && s.step >= 8;
      if (!in_stage2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    QVERIFY2(in_stage2, "the 2-process run never reached stage 2");
    const pid_t rank1 = rank_pid(launcher, 1);
    QVERIFY(rank1 > 0);
    QCOMPARE(kill(rank1, SIGKILL), 0);
    const auto started = std::chrono::steady_clock::now();
    const int rc = finish(launcher);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const auto log = QString::fromStdString(read_text(dir / "killed.log"));
    QVERIFY2(rc != 0, qPrintable(log));
    QVERIFY2(log.contains("fan: rank 1 of 2 was killed by signal 9"), qPrintable(log));
    QVERIFY2(log.contains("error: rank 0 of 2") && log.contains("with the other ranks failed"), qPrintable(log));
    QVERIFY2(seconds < 30, qPrintable(QString("the ranks took %1 s to end").arg(seconds)));
    QCOMPARE(io::RunDirectory(dir / "killed").summary().status, io::RunSummary::Status::kResumable);

    QVERIFY2(run_fan({"resume", (dir / "killed").string(), "--quiet", "--nproc", "2"}, dir / "resume.log") == 0,
             read_text(dir / "resume.log").c_str());
    QCOMPARE(max_difference(dir / "killed", dir / "whole"), 0.0);
    const auto a = io::RunDirectory(dir / "killed").read_results(), b = io::RunDirectory(dir / "whole").read_results();
    QCOMPARE(a.adapted->top1, b.adapted->top1);
    QCOMPARE(a.adapted->confusion, b.adapted->confusion);
    QCOMPARE(a.stage2_steps, int64_t{200});
  }
};

QTEST_GUILESS_MAIN(TestDistributed)
#include "tst_distributed.moc"
