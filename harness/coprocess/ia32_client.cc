#include "harness/coprocess/ia32_client.h"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace sysgate {
namespace {

// The line protocol's version (benchmarks/ia32/sysgate_ia32_helper.cc); 2 added describe,
// read, lookup, symbols and the vDSO-family variants; 3 the involuntary switches in each
// `run` reply.
constexpr int kProtocolVersion = 3;

std::string& OverridePath() {
  static std::string path;
  return path;
}

// Why posix_spawn failed, in the words a user can act on.
std::string SpawnError(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
      return "ia32 helper not found at " + path +
             " (build with gcc-multilib/g++-multilib and SYSGATE_IA32=ON, or pass "
             "--ia32-helper=PATH)";
    case EACCES:
      return "ia32 helper " + path + " is not executable (EACCES)";
    case ENOEXEC:
      return "the kernel cannot run 32-bit programs (exec of " + path +
             " failed with ENOEXEC): no ia32 emulation (CONFIG_IA32_EMULATION=n or "
             "ia32_emulation=off)";
    default:
      return "cannot start ia32 helper " + path + ": " + std::strerror(err);
  }
}

}  // namespace

Ia32Client::Ia32Client(std::string helper_path)
    : helper_path_(std::move(helper_path)),
      client_(CoprocessSpec{"ia32 helper",
                            {helper_path_},
                            "sysgate-ia32",
                            kProtocolVersion,
                            [path = helper_path_](int err) { return SpawnError(path, err); }}) {
  vendor_ = client_.HelloField("vendor").value_or("unknown");
  if (auto sysinfo = client_.HelloField("sysinfo")) {
    sysinfo_ = std::strtoull(sysinfo->c_str(), nullptr, 16);
  }
}

Ia32Client::~Ia32Client() = default;

Ia32Client& Ia32Client::Shared() {
  static Ia32Client client(HelperPath());
  return client;
}

std::string Ia32Client::HelperPath() {
  if (!OverridePath().empty()) return OverridePath();
  if (const char* env = std::getenv(kIa32HelperEnv); env && *env) return env;
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return kIa32HelperName;
  return (self.parent_path() / kIa32HelperName).string();
}

void Ia32Client::SetHelperPath(std::string path) { OverridePath() = std::move(path); }

std::optional<std::string> Ia32Client::Probe(std::string_view variant) {
  return client_.Probe(variant);
}

bool Ia32Client::Run(std::string_view variant, uint64_t iterations, uint64_t* ticks,
                     uint64_t* result, std::string* error, bool* preempted) {
  return client_.Run(variant, iterations, ticks, result, error, preempted);
}

bool Ia32Client::Read(std::string_view variant, int64_t* ret, int64_t* value, std::string* error) {
  std::string reply;
  if (!client_.Request("read " + std::string(variant), &reply, error)) return false;
  if (std::sscanf(reply.c_str(), "ok %" SCNd64 " %" SCNd64, ret, value) == 2) return true;
  *error = client_.ReplyError(reply);
  return false;
}

std::optional<std::string> Ia32Client::Describe(std::string_view variant) {
  std::string reply, error;
  if (!client_.Request("describe " + std::string(variant), &reply, &error)) return std::nullopt;
  if (reply.rfind("ok ", 0) != 0) return std::nullopt;
  return reply.substr(3);
}

Ia32Client::LookupResult Ia32Client::Lookup(std::string_view name, std::string_view version,
                                            std::optional<uint64_t> limit) {
  LookupResult out;
  std::string reply;
  std::string request = "lookup ";
  request.append(name).append(" ").append(version.empty() ? std::string_view("-") : version);
  if (limit) request.append(" ").append(std::to_string(*limit));
  if (!client_.Request(request, &reply, &out.error)) return out;
  unsigned long long offset = 0, address = 0;
  if (std::sscanf(reply.c_str(), "ok %llx %llx", &offset, &address) == 2) {
    out.address = address;
  } else if (reply.rfind("skip ", 0) == 0) {
    out.missing = reply.substr(5);
  } else {
    out.error = client_.ReplyError(reply);
  }
  return out;
}

std::optional<std::string> Ia32Client::Symbols(std::string* error) {
  std::string reply;
  if (!client_.Request("symbols", &reply, error)) return std::nullopt;
  if (reply == "ok") return "";
  if (reply.rfind("ok ", 0) == 0) return reply.substr(3);
  *error = client_.ReplyError(reply);
  return std::nullopt;
}

bool Ia32Client::Check(std::string_view variant, uint64_t iterations, uint64_t* result,
                       std::string* error) {
  std::string reply;
  if (!client_.Request("check " + std::string(variant) + " " + std::to_string(iterations), &reply,
                       error)) {
    return false;
  }
  if (std::sscanf(reply.c_str(), "ok %" SCNu64, result) == 1) return true;
  *error = client_.ReplyError(reply);
  return false;
}

bool Ia32Client::PerCall(std::string_view variant, uint64_t max_samples, uint64_t budget_ticks,
                         std::vector<uint64_t>* samples, std::string* error) {
  return client_.PerCall(variant, max_samples, budget_ticks, samples, error);
}

}  // namespace sysgate
