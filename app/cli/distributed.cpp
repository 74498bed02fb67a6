#include "distributed.h"

#include "core/util/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

extern char** environ;

namespace fan::cli {
namespace {

// A TCP port nobody listens on now (the kernel's choice), for the ranks' store.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error("--nproc: cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw Error("--nproc: cannot find a free port on 127.0.0.1");
  }
  const int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "ended";
}

volatile sig_atomic_t g_forward_signal = 0;
void on_launcher_signal(int sig) { g_forward_signal = sig; }

}  // namespace

std::unique_ptr<dist::Group> join_ranks(const io::ExperimentConfig& config) {
  const auto env = dist::environment_from_env();
  if (!env.distributed()) return nullptr;
  const auto backend = dist::resolve_backend(config.backend, config.device);
  auto group = std::make_unique<dist::Group>(env, backend, std::chrono::seconds(config.timeout_seconds));
  dist::set_current(group.get());
  return group;
}

bool is_rank0() { return dist::environment_from_env().rank == 0; }

int launch_local_ranks(int nproc, const std::vector<std::string>& args) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw Error("--nproc: cannot find this program (/proc/self/exe: " + ec.message() + ")");
  const int port = free_port();
  // Ctrl-C reaches every rank from the terminal (they agree on a step and stop); the launcher waits.
  std::signal(SIGINT, SIG_IGN);
  std::signal(SIGTERM, on_launcher_signal);
  std::map<pid_t, int> rank_of;
  for (int rank = 0; rank < nproc; ++rank) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string kv = *e;
      const auto name = kv.substr(0, kv.find('='));
      if (name == "RANK" || name == "WORLD_SIZE" || name == "LOCAL_RANK" || name == "MASTER_ADDR" ||
          name == "MASTER_PORT")
        continue;
      env_strings.push_back(kv);
    }
    env_strings.push_back("RANK=" + std::to_string(rank));
    env_strings.push_back("LOCAL_RANK=" + std::to_string(rank));
    env_strings.push_back("WORLD_SIZE=" + std::to_string(nproc));
    env_strings.push_back("MASTER_ADDR=127.0.0.1");
    env_strings.push_back("MASTER_PORT=" + std::to_string(port));
    env_strings.push_back("FAN_LAUNCHER=fan --nproc");
    std::vector<char*> envp, argv;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> arg_strings{self.string()};
    arg_strings.insert(arg_strings.end(), args.begin() + 1, args.end());
    for (auto& s : arg_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    posix_spawnattr_setsigdefault(&attr, &defaults);  // the ranks handle Ctrl-C themselves
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0], nullptr, &attr, argv.data(), envp.data());
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw Error("--nproc: cannot start rank " + std::to_string(rank) + ": " + std::strerror(rc));
    rank_of[pid] = rank;
  }
  int exit_code = 0;
  bool failed = false;
  auto failure_time = std::chrono::steady_clock::now();
  bool terminated = false, killed = false;
  while (!rank_of.empty()) {
    if (g_forward_signal != 0) {
      for (const auto& [pid, rank] : rank_of) kill(pid, g_forward_signal);
      g_forward_signal = 0;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && rank_of.count(pid)) {
      const int rank = rank_of[pid];
      rank_of.erase(pid);
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      const bool stopped = WIFEXITED(status) && WEXITSTATUS(status) == 3;
      if (!ok && !stopped) {
        // Every failed rank is named: the one that died, and those that lost it at a collective.
        if (!failed) failure_time = std::chrono::steady_clock::now();
        failed = true;
        std::cerr << "fan: rank " << rank << " of " << nproc << " " << exit_text(status)
                  << std::endl;
        exit_code = 1;
      } else if (stopped && exit_code == 0) {
        exit_code = 3;
      }
      continue;
    }
    if (pid < 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // A failed rank: the others normally end at their next collective; a stuck one is ended.
    const auto since = std::chrono::steady_clock::now() - failure_time;
    if (failed && !terminated && since > std::chrono::seconds(10)) {
      for (const auto& [p, r] : rank_of) kill(p, SIGTERM);
      terminated = true;
    }
    if (failed && !killed && since > std::chrono::seconds(20)) {
      for (const auto& [p, r] : rank_of) {
        std::cerr << "fan: rank " << r << " did not end after rank failure; killing it" << std::endl;
        kill(p, SIGKILL);
      }
      killed = true;
    }
  }
  return exit_code;
}

}  // namespace fan::cli
