"""OpenMetrics text (https://github.com/OpenObservability/OpenMetrics, the 1.0 spec): one
gauge family per figure, a sample per path labelled path, mechanism, host and kernel,
ending with `# EOF`. Latencies are in seconds (the Prometheus base unit), changes are
ratios (0.05 = 5% slower).

It is also valid Prometheus text (`# UNIT` and `# EOF` read as comments there), so
node_exporter's textfile collector and GitLab's metrics report take it as it is. Written by
hand rather than with prometheus_client so that `run` and `compare` need no third-party
module for it; the tests read it back with prometheus_client's OpenMetrics parser.
Escaping (the spec's ABNF): a label value escapes backslash, double quote and line feed;
HELP text backslash and line feed; strings pass figures.printable first.
"""

from .figures import finite, measured, printable

PREFIX = "sysgate_"
NS = 1e-9


class Family:
    def __init__(self, name, unit, help_text):
        self.name = PREFIX + name + (f"_{unit}" if unit else "")
        self.unit, self.help, self.samples = unit, help_text, []

    def add(self, labels, value):
        if finite(value):
            self.samples.append((labels, float(value)))

    def lines(self):
        if not self.samples:
            return []
        lines = [f"# TYPE {self.name} gauge"]
        if self.unit:
            lines.append(f"# UNIT {self.name} {self.unit}")
        lines.append(f"# HELP {self.name} {_help(self.help)}")
        lines += [f"{self.name}{_labels(labels)} {_number(value)}"
                  for labels, value in self.samples]
        return lines


def _help(text):
    return printable(text).replace("\\", "\\\\")


def _label_value(value):
    return printable(value).replace("\\", "\\\\").replace('"', '\\"')


def _labels(labels):
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in labels.items()) + "}"


def _number(value):
    return repr(value)  # Python's shortest round-trip form is an OpenMetrics number


def text(families):
    lines = [line for family in families for line in family.lines()]
    return "\n".join(lines + ["# EOF"]) + "\n"


def _path_labels(path, host, kernel, **more):
    return {"path": path["name"], "mechanism": path["mechanism"] or "", "host": host,
            "kernel": kernel, **more}


def from_run(data):
    figure = Family("latency", "seconds", "path figure: mean of the fastest quarter of "
                    "the repetitions")
    low = Family("latency_low", "seconds", "lower end of the figure's 95% interval")
    high = Family("latency_high", "seconds", "upper end of the figure's 95% interval")
    for path in measured(data):
        labels = _path_labels(path, data["host"], data["kernel"])
        figure.add(labels, path["value"] * NS)
        if finite(path["low"]) and finite(path["high"]):
            low.add(labels, path["low"] * NS)
            high.add(labels, path["high"] * NS)
    return text([figure, low, high])


def from_comparison(data, page=None):
    host, kernel = data.get("new_host", ""), data.get("new_kernel", "")
    against = {"base_host": data.get("base_host", ""),
               "base_kernel": data.get("base_kernel", "")}
    families = {key: Family(*spec) for key, spec in _COMPARE_FAMILIES.items()}
    for row in data["rows"]:
        result = row.get("result")
        if not result:
            continue
        path = {"name": row["name"], "mechanism": row.get("mechanism")}
        for side, side_host, side_kernel in (
                ("base", against["base_host"], against["base_kernel"]),
                ("new", host, kernel)):
            labels = _path_labels(path, side_host, side_kernel, side=side)
            low, high = row.get(f"{side}_ci") or (None, None)
            families["latency"].add(labels, _ns(result.get(f"{side}_value")))
            families["latency_low"].add(labels, _ns(low))
            families["latency_high"].add(labels, _ns(high))
        labels = _path_labels(path, host, kernel, **against)
        for key in ("change", "ci_low", "ci_high", "raw_change", "p_value"):
            families[key].add(labels, result.get(key))
        families["verdict"].add({**labels, "verdict": result["verdict"]}, 1)
    labels = {"host": host, "kernel": kernel, **against}
    entry = data.get("kernel_entry")
    if entry:
        for key in ("delta_ns", "low_ns", "high_ns"):
            families[f"entry_{key}"].add(labels, _ns(entry.get(key)))
        families["entry_change"].add(labels, entry.get("change"))
        families["entry_verdict"].add({**labels, "verdict": entry["verdict"]}, 1)
    drift = data.get("drift")
    if drift:
        families["drift"].add(labels, drift.get("change"))
    families["exit_code"].add(labels, data.get("exit_code"))
    return text(families.values())


def _ns(value):
    return value * NS if finite(value) else None


_COMPARE_FAMILIES = {
    "latency": ("compare_latency", "seconds", "path figure of a side (label side): mean "
                "of the fastest quarter of the repetitions"),
    "latency_low": ("compare_latency_low", "seconds", "lower end of the figure's 95% "
                    "interval"),
    "latency_high": ("compare_latency_high", "seconds", "upper end of the figure's 95% "
                     "interval"),
    "change": ("compare_change", "ratio", "path change new/base - 1, the machine's drift "
               "taken out"),
    "ci_low": ("compare_change_low", "ratio", "lower end of the change's 95% interval"),
    "ci_high": ("compare_change_high", "ratio", "upper end of the change's 95% interval"),
    "raw_change": ("compare_raw_change", "ratio", "path change as measured"),
    "p_value": ("compare_p_value", "", "permutation-test p-value, Holm-adjusted over the "
                "paths"),
    "verdict": ("compare_verdict", "", "1 for the path's answer (label verdict)"),
    "entry_delta_ns": ("kernel_entry_delta", "seconds", "time a kernel entry gained, per "
                       "entry, the machine's drift taken out"),
    "entry_low_ns": ("kernel_entry_delta_low", "seconds", "lower end of its 95% interval"),
    "entry_high_ns": ("kernel_entry_delta_high", "seconds", "upper end of its 95% interval"),
    "entry_change": ("kernel_entry_change", "ratio", "the kernel entry's gain over the "
                     "cheapest syscall round trip"),
    "entry_verdict": ("kernel_entry_verdict", "", "1 for the kernel-entry answer (label "
                      "verdict)"),
    "drift": ("machine_drift", "ratio", "the machine's drift between the runs, from the "
              "paths that do not enter the kernel"),
    "exit_code": ("compare_exit_code", "", "compare's exit status: 0 no regression, 1 "
                  "regression, 3 inconclusive or not comparable"),
}
