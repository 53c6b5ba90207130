"""What `chat_overhead.py` prints: a table per level as it finishes, and at the end the
side-by-side summary tables (Markdown, to paste as they are). Not a benchmark of its own."""

import statistics
from dataclasses import dataclass, field

from streams import Results, percentile

PATHS = {"direct": "direct", "open_webui": "Open WebUI", "ours": "ours"}


@dataclass
class LevelFigures:
    level: int
    rounds: int
    results: dict[str, Results]
    rss: dict[str, float | None] = field(default_factory=dict)
    busy: dict[str, float] = field(default_factory=dict)  # longest busy after a round, s

    def median(self, path: str, name: str) -> float | None:
        found = self.results.get(path)
        values = found.values(name) if found else []
        return statistics.median(values) if values else None

    def p(self, path: str, name: str, share: float) -> float | None:
        found = self.results.get(path)
        return percentile(found.values(name), share) if found else None

    def gap(self, path: str, share: float) -> float | None:
        found = self.results.get(path)
        return percentile(found.gaps(), share) if found else None

    def added(self, path: str) -> float | None:
        """Median TTFT of `path` minus the direct median."""
        mine, direct = self.median(path, "ttft"), self.median("direct", "ttft")
        return None if mine is None or direct is None else mine - direct


def ms(seconds: float | None, width: int = 8) -> str:
    return f"{'-':>{width}}" if seconds is None else f"{seconds * 1000:{width}.1f}"


def ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b <= 0 else f"x{a / b:.2f}"


def errors_text(found: Results) -> str:
    if not found.errors:
        return "0"
    kinds = ", ".join(f"{kind}: {count}" for kind, count in found.errors.most_common())
    return f"{sum(found.errors.values())} ({kinds})"


def print_level(figures: LevelFigures) -> None:
    replies = {path: len(r.samples) + sum(r.errors.values())
               for path, r in figures.results.items()}
    print(f"\n== {figures.level} concurrent streams: {figures.rounds} round(s), "
          f"{max(replies.values(), default=0)} replies per path ==")
    print(f"{'':12}{'TTFT ms':>17}{'last token ms':>19}{'total ms':>19}"
          f"{'gap between tokens ms':>29}{'tok/s':>9}{'tokens':>8}  errors")
    print(f"{'':12}" + f"{'p50':>9}{'p95':>8}" * 3 + f"{'p50':>11}{'p95':>9}{'p99':>9}"
          f"{'all':>9}{'p50':>8}")
    for path, found in figures.results.items():
        cells = "".join(f" {ms(figures.median(path, n))}{ms(figures.p(path, n, 0.95))}  "
                        for n in ("ttft", "last_token", "total"))
        gaps = "".join(ms(figures.gap(path, share), 9) for share in (0.5, 0.95, 0.99))
        tokens = figures.median(path, "tokens")
        print(f"{PATHS[path]:<11}{cells}{gaps}{found.aggregate:9.0f}"
              f"{'-' if tokens is None else f'{tokens:.0f}':>8}  {errors_text(found)}")
        for kind, detail in found.examples.items():
            if detail:
                print(f"{'':11}  e.g. {kind}: {detail[:150]}")
    direct_ttft = figures.median("direct", "ttft")
    print(f"ours/direct: TTFT {ratio(figures.median('ours', 'ttft'), direct_ttft)}, "
          f"total {ratio(figures.median('ours', 'total'), figures.median('direct', 'total'))}; "
          f"done after last token p50 {ms(figures.median('ours', 'after_last'), 0)} ms, "
          f"p95 {ms(figures.p('ours', 'after_last', 0.95), 0)} ms")
    line = f"added TTFT (p50, over direct): ours {ms(figures.added('ours'), 0)} ms"
    if "open_webui" in figures.results:
        line += (f", Open WebUI {ms(figures.added('open_webui'), 0)} ms, ours/Open WebUI "
                 f"{ratio(figures.added('ours'), figures.added('open_webui'))}; Open WebUI/"
                 f"direct TTFT {ratio(figures.median('open_webui', 'ttft'), direct_ttft)}")
    print(line)
    memory = ", ".join(f"{PATHS[path]} {value:.0f} MiB" for path, value in figures.rss.items()
                       if value)
    busy = ", ".join(f"{PATHS[path]} {value:.1f} s" for path, value in figures.busy.items())
    print(f"peak RSS during the level: {memory or '-'}; busy after a round's last reply "
          f"(longest): {busy or '-'}")


def cell(figures: LevelFigures, path: str, name: str) -> str:
    if path not in figures.results:
        return "not measured"
    p50, p95 = figures.median(path, name), figures.p(path, name, 0.95)
    if p50 is None:
        return "no replies"
    return f"{p50 * 1000:.0f} / {p95 * 1000:.0f}"


def print_summary(levels: list[LevelFigures], heading: str) -> None:
    print(f"\n{heading}\n")
    print("| concurrent streams | direct TTFT | Open WebUI TTFT | ours TTFT | direct total "
          "| Open WebUI total | ours total (to `done`) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for f in levels:
        print(f"| {f.level} | {cell(f, 'direct', 'ttft')} | {cell(f, 'open_webui', 'ttft')} "
              f"| {cell(f, 'ours', 'ttft')} | {cell(f, 'direct', 'total')} "
              f"| {cell(f, 'open_webui', 'total')} | {cell(f, 'ours', 'total')} |")
    print("\nms, median / p95. Added TTFT is the median TTFT minus direct's.\n")
    print("| concurrent streams | ours/direct TTFT | ours/direct total | added TTFT ours "
          "| added TTFT Open WebUI | ours/Open WebUI added | done after last token p50 / p95 "
          "| gap p50 / p95 / p99 direct | gap p50 / p95 / p99 ours | peak RSS ours / Open WebUI "
          "| errors direct / Open WebUI / ours |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for f in levels:
        owui = "open_webui" in f.results
        errors = " / ".join(
            str(sum(f.results[p].errors.values())) if p in f.results else "-"
            for p in PATHS)
        gaps = [" / ".join(ms(f.gap(p, s), 0).strip() for s in (0.5, 0.95, 0.99))
                for p in ("direct", "ours")]
        rss = " / ".join(f"{f.rss[p]:.0f} MiB" if f.rss.get(p) else "-"
                         for p in ("ours", "open_webui"))
        print(f"| {f.level} "
              f"| {ratio(f.median('ours', 'ttft'), f.median('direct', 'ttft'))} "
              f"| {ratio(f.median('ours', 'total'), f.median('direct', 'total'))} "
              f"| {ms(f.added('ours'), 0).strip()} "
              f"| {ms(f.added('open_webui'), 0).strip() if owui else 'not measured'} "
              f"| {ratio(f.added('ours'), f.added('open_webui')) if owui else '-'} "
              f"| {ms(f.median('ours', 'after_last'), 0).strip()} / "
              f"{ms(f.p('ours', 'after_last', 0.95), 0).strip()} "
              f"| {gaps[0]} | {gaps[1]} | {rss} | {errors} |")
