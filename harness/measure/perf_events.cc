#include "harness/measure/perf_events.h"

#include <errno.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#if SYSGATE_HAVE_LIBPFM
#include <perfmon/pfmlib_perf_event.h>
#endif

#include "harness/platform/text_file.h"

namespace sysgate {
namespace {

constexpr int kCapSysAdmin = 21;
constexpr int kCapPerfmon = 38;

bool ReadFirstLine(const std::string& path, std::string* line) {
  std::ifstream in(path);
  return static_cast<bool>(std::getline(in, *line));
}

void SetLevels(perf_event_attr* attr, Levels levels) {
  attr->exclude_user = levels == Levels::kKernel;
  attr->exclude_kernel = levels == Levels::kUser;
  attr->exclude_hv = 1;
}

// `name` without a trailing ":u" / ":k" / ":uk" modifier, and the levels it asks for.
std::string_view StripLevelSuffix(std::string_view name, Levels* levels) {
  size_t colon = name.rfind(':');
  if (colon == std::string_view::npos) return name;
  std::string_view suffix = name.substr(colon + 1);
  if (suffix == "u") {
    *levels = Levels::kUser;
  } else if (suffix == "k") {
    *levels = Levels::kKernel;
  } else if (suffix == "uk" || suffix == "ku") {
    *levels = Levels::kUserAndKernel;
  } else {
    return name;
  }
  return name.substr(0, colon);
}

// perf-native names that work without libpfm4 (the kernel's generic events).
struct NativeEvent {
  const char* name;
  uint32_t type;
  uint64_t config;
};
// clang-format off
constexpr NativeEvent kNativeEvents[] = {
  {"cycles",           PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
  {"instructions",     PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
  {"branches",         PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS},
  {"task-clock",       PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK},
  {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES},
  {"cpu-migrations",   PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS},
  {"page-faults",      PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
};
// clang-format on

CounterSource SourceOfType(uint32_t type) {
  switch (type) {
    case PERF_TYPE_SOFTWARE:
      return CounterSource::kSoftware;
    case PERF_TYPE_TRACEPOINT:
      return CounterSource::kTracepoint;
    default:
      return CounterSource::kPmu;  // hardware, raw, hw_cache, dynamic PMU types
  }
}

std::optional<EncodedEvent> EncodeNative(std::string_view name, Levels levels) {
  std::string_view base = StripLevelSuffix(name, &levels);
  if (base.rfind("perf::", 0) == 0) base.remove_prefix(6);
  for (const NativeEvent& native : kNativeEvents) {
    if (base != native.name) continue;
    EncodedEvent event;
    event.name = std::string(name);
    event.canonical = std::string("perf::") + native.name;
    event.attr.type = native.type;
    event.attr.config = native.config;
    SetLevels(&event.attr, levels);
    event.source = SourceOfType(native.type);
    return event;
  }
  return std::nullopt;
}

bool LooksLikeTracepoint(std::string_view name) {
  size_t colon = name.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == name.size()) return false;
  if (name.find(':', colon + 1) != std::string_view::npos) return false;
  for (char c : name) {
    if (c != ':' && c != '_' && !std::islower(static_cast<unsigned char>(c)) &&
        !std::isdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

#if SYSGATE_HAVE_LIBPFM
int PfmPrivilegeMask(Levels levels) {
  switch (levels) {
    case Levels::kUser:
      return PFM_PLM3;
    case Levels::kKernel:
      return PFM_PLM0;
    default:
      return PFM_PLM0 | PFM_PLM3;
  }
}
#endif

}  // namespace

const char* SourceName(CounterSource source) {
  switch (source) {
    case CounterSource::kPmu:
      return "pmu";
    case CounterSource::kSoftware:
      return "software";
    case CounterSource::kTracepoint:
      return "tracepoint";
  }
  return "unknown";
}

PerfPermissions ReadPerfPermissions(const std::string& root) {
  PerfPermissions perms;
  std::string line;
  if (ReadFirstLine(root + "/proc/sys/kernel/perf_event_paranoid", &line)) {
    perms.paranoid = std::atoi(line.c_str());
  }
  std::ifstream status(root + "/proc/self/status");
  std::stringstream text;
  text << status.rdbuf();
  auto fields = ParseKeyValueLines(text.str());
  uint64_t cap_eff = std::strtoull(fields["CapEff"].c_str(), nullptr, 16);
  perms.privileged = (cap_eff >> kCapPerfmon & 1) || (cap_eff >> kCapSysAdmin & 1);
  // tracefs is mode 0700 on most distributions: only root can read the event ids.
  perms.tracefs_readable = root.empty()
                               ? access("/sys/kernel/tracing/events", R_OK | X_OK) == 0 ||
                                     access("/sys/kernel/debug/tracing/events", R_OK | X_OK) == 0
                               : true;
  return perms;
}

bool KernelCountingAllowed(const PerfPermissions& perms) {
  return perms.privileged || perms.paranoid <= 1;
}

bool CountingAllowed(const PerfPermissions& perms) {
  return perms.privileged || perms.paranoid <= 2;
}

std::string KernelCountingRefusal(const PerfPermissions& perms) {
  if (KernelCountingAllowed(perms)) return "";
  if (!CountingAllowed(perms)) {
    return "perf_event_paranoid=" + std::to_string(perms.paranoid) +
           " forbids all counting without CAP_PERFMON (not root): "
           "sysctl kernel.perf_event_paranoid=1, or run as root";
  }
  return "kernel-mode counting needs perf_event_paranoid <= 1 (it is " +
         std::to_string(perms.paranoid) +
         ") or CAP_PERFMON (not root): sysctl kernel.perf_event_paranoid=1, or run as root";
}

std::vector<std::string> DefaultTracefsRoots() {
  return {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
}

EventEncoder::EventEncoder(std::vector<std::string> tracefs_roots)
    : tracefs_roots_(std::move(tracefs_roots)) {
#if SYSGATE_HAVE_LIBPFM
  // Idempotent: a second initialization returns PFM_SUCCESS without rescanning, so tests
  // that force a PMU call pfm_terminate() first.
  int rc = pfm_initialize();
  if (rc != PFM_SUCCESS) {
    init_error_ = std::string("libpfm4 failed to initialize: ") + pfm_strerror(rc);
    return;
  }
  libpfm_ok_ = true;
  int pmu;
  pfm_for_all_pmus(pmu) {
    pfm_pmu_info_t info;
    std::memset(&info, 0, sizeof info);
    info.size = sizeof info;
    if (pfm_get_pmu_info(static_cast<pfm_pmu_t>(pmu), &info) != PFM_SUCCESS) continue;
    if (info.is_present && info.type == PFM_PMU_TYPE_CORE) {
      core_pmu_ = info.name;
      break;
    }
  }
#else
  // cppcheck-suppress useInitializationList ; the #if above picks the constructor's body
  init_error_ = "sysgate was built without libpfm4 (apt install libpfm4-dev, reconfigure)";
#endif
}

EncodeResult EventEncoder::EncodeTracepoint(std::string_view name) const {
  size_t colon = name.find(':');
  std::string rel = "/events/" + std::string(name.substr(0, colon)) + "/" +
                    std::string(name.substr(colon + 1)) + "/id";
  bool any_root = false;
  int last_errno = ENOENT;
  for (const std::string& root : tracefs_roots_) {
    if (access((root + "/events").c_str(), F_OK) != 0) {
      if (errno == EACCES) {
        any_root = true;
        last_errno = EACCES;
      }
      continue;
    }
    any_root = true;
    std::string line;
    std::ifstream in(root + rel);
    if (!in) {
      last_errno = errno;
      continue;
    }
    if (!std::getline(in, line)) continue;
    EncodedEvent event;
    event.name = std::string(name);
    event.canonical = root + rel;
    event.attr.type = PERF_TYPE_TRACEPOINT;
    event.attr.config = std::strtoull(line.c_str(), nullptr, 10);
    // A tracepoint fires in kernel mode: excluding the kernel would count nothing.
    event.attr.exclude_hv = 1;
    event.source = CounterSource::kTracepoint;
    return {event, ""};
  }
  if (!any_root) {
    return {std::nullopt, "tracepoint " + std::string(name) +
                              ": tracefs is not mounted (mount -t tracefs nodev "
                              "/sys/kernel/tracing)"};
  }
  if (last_errno == EACCES) {
    return {std::nullopt,
            "tracepoint " + std::string(name) + ": tracefs is readable only by root (not root)"};
  }
  return {std::nullopt, "no such tracepoint: " + std::string(name) +
                            " (see /sys/kernel/tracing/available_events)"};
}

EncodeResult EventEncoder::Encode(std::string_view name, Levels levels) const {
  if (name.empty()) return {std::nullopt, "empty event name"};
  // `cycles:u` also looks like subsys:event, so a tracepoint wins only when tracefs has it,
  // and its error is the one reported only when no PMU event of that name exists either.
  std::optional<EncodeResult> tracepoint;
  if (LooksLikeTracepoint(name)) {
    tracepoint = EncodeTracepoint(name);
    if (tracepoint->event) return *tracepoint;
  }
  EncodeResult counter = EncodeCounter(name, levels);
  if (counter.event) return counter;
  Levels ignored = levels;
  if (tracepoint && StripLevelSuffix(name, &ignored) == name) return *tracepoint;
  return counter;
}

EncodeResult EventEncoder::EncodeCounter(std::string_view name, Levels levels) const {
#if SYSGATE_HAVE_LIBPFM
  if (libpfm_ok_) {
    EncodedEvent event;
    event.name = std::string(name);
    char* fstr = nullptr;
    pfm_perf_encode_arg_t arg;
    std::memset(&arg, 0, sizeof arg);
    arg.attr = &event.attr;
    arg.fstr = &fstr;
    arg.size = sizeof arg;
    std::string owned(name);
    int rc = pfm_get_os_event_encoding(owned.c_str(), PfmPrivilegeMask(levels),
                                       PFM_OS_PERF_EVENT_EXT, &arg);
    if (rc == PFM_SUCCESS) {
      event.canonical = fstr ? fstr : owned;
      std::free(fstr);
      event.attr.exclude_hv = 1;
      event.source = SourceOfType(event.attr.type);
      return {event, ""};
    }
    std::free(fstr);
    std::string why = pfm_strerror(rc);
    if (rc == PFM_ERR_NOTFOUND) {
      why = "event not found by libpfm4 (core PMU detected: " +
            (core_pmu_.empty() ? std::string("none") : core_pmu_) +
            "; sysgate_bench --list-events shows the names)";
    }
    return {std::nullopt, "cannot encode " + owned + ": " + why};
  }
#endif
  if (auto native = EncodeNative(name, levels)) return {native, ""};
  return {std::nullopt,
          "cannot encode " + std::string(name) + ": not a perf-native event, and " + init_error_};
}

std::optional<ModeSwitchEvent> ModeSwitchEventFor(std::string_view pmu) {
  auto is_any = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names) {
      if (pmu == n) return true;
    }
    return false;
  };
  const std::string prefix = std::string(pmu) + "::";
  // Sandy Bridge .. Broadwell: edge-detected entries into ring 0 (one per kernel entry).
  if (is_any({"snb", "snb_ep", "ivb", "ivb_ep", "hsw", "hsw_ep", "bdw", "bdw_ep"})) {
    return ModeSwitchEvent{prefix + "CPL_CYCLES:RING0_TRANS", 2};
  }
  // Skylake-class: the same edge count moved to CPU_CLK_THREAD_UNHALTED.
  if (is_any({"skl", "skx", "clx"})) {
    return ModeSwitchEvent{prefix + "CPU_CLK_THREAD_UNHALTED:RING0_TRANS", 2};
  }
  // AMD Zen: SYSCALL and SYSRET (and IRET, interrupts) are far control transfers.
  if (pmu.rfind("amd64_fam17h_zen", 0) == 0 || pmu.rfind("amd64_fam19h_zen", 0) == 0 ||
      pmu.rfind("amd64_fam1ah_zen", 0) == 0) {
    return ModeSwitchEvent{prefix + "RETIRED_FAR_CONTROL_TRANSFERS", 1};
  }
  // Other Intel cores (Ice Lake and later): syscall and sysret are both far branches.
  if (!pmu.empty() && pmu.rfind("amd64", 0) != 0) {
    return ModeSwitchEvent{prefix + "BR_INST_RETIRED:FAR_BRANCH", 1};
  }
  return std::nullopt;
}

std::string OpenFailureReason(int err, const EncodedEvent& event, const PerfPermissions& perms) {
  const bool wants_kernel = !event.attr.exclude_kernel;
  switch (err) {
    case ENOENT:
    case ENODEV:
      if (event.source == CounterSource::kPmu) {
        return "no hardware PMU exposed (common in VMs; on KVM give the guest the host "
               "PMU, e.g. -cpu host)";
      }
      return "the kernel does not support this event (" + std::string(std::strerror(err)) + ")";
    case EACCES:
    case EPERM:
      if (wants_kernel && !KernelCountingAllowed(perms)) return KernelCountingRefusal(perms);
      if (!CountingAllowed(perms)) return KernelCountingRefusal(perms);
      return "permission denied (" + std::string(std::strerror(err)) +
             "): a security module (SELinux, lockdown) may forbid perf_event_open";
    case EOPNOTSUPP:
      return "the PMU cannot count this event here (no user/kernel filtering, or no "
             "counter left for it)";
    case EINVAL:
      return "the kernel rejected the encoding (EINVAL): event or modifier not valid on "
             "this CPU";
    case EMFILE:
    case ENFILE:
      return "out of file descriptors (ulimit -n)";
    case ENOSYS:
      return "perf_event_open is not available (kernel without CONFIG_PERF_EVENTS, or "
             "blocked by seccomp)";
    default:
      return std::string("perf_event_open failed: ") + std::strerror(err);
  }
}

std::string ColumnName(std::string_view event_name) {
  std::string out;
  for (char c : event_name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      out += static_cast<char>(std::tolower(u));
    } else if (!out.empty() && out.back() != '_') {
      out += '_';
    }
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

std::vector<std::string> ListSupportedEvents(const EventEncoder& encoder) {
  std::vector<std::string> lines;
#if SYSGATE_HAVE_LIBPFM
  if (encoder.HaveLibpfm()) {
    int pmu;
    pfm_for_all_pmus(pmu) {
      pfm_pmu_info_t pinfo;
      std::memset(&pinfo, 0, sizeof pinfo);
      pinfo.size = sizeof pinfo;
      if (pfm_get_pmu_info(static_cast<pfm_pmu_t>(pmu), &pinfo) != PFM_SUCCESS ||
          !pinfo.is_present) {
        continue;
      }
      for (int idx = pinfo.first_event; idx != -1; idx = pfm_get_event_next(idx)) {
        pfm_event_info_t einfo;
        std::memset(&einfo, 0, sizeof einfo);
        einfo.size = sizeof einfo;
        if (pfm_get_event_info(idx, PFM_OS_PERF_EVENT_EXT, &einfo) != PFM_SUCCESS) continue;
        std::string desc = einfo.desc ? einfo.desc : "";
        if (size_t nl = desc.find('\n'); nl != std::string::npos) desc.resize(nl);
        lines.push_back(std::string(pinfo.name) + "::" + einfo.name + "  " + desc);
      }
    }
  }
#endif
  if (lines.empty()) {
    for (const NativeEvent& native : kNativeEvents) {
      lines.push_back(std::string("perf::") + native.name + "  (perf-native)");
    }
  }
  lines.push_back("<subsystem>:<event>  any tracepoint under " +
                  std::string("/sys/kernel/tracing/events, e.g. raw_syscalls:sys_enter"));
  (void)encoder;
  return lines;
}

}  // namespace sysgate
